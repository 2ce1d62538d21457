"""The upload page through AppTest, signed in as an analyst, as a user would use it.

A GBK CSV with a title row whose id column the automatic mapping cannot know, corrected in the
mapping form; an XLSX with a second sheet; the validation report; the load; the overview's figures
before and after; removal restoring them; refusals shown as messages, never as tracebacks.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import duckdb
import openpyxl
import pytest

import settings
from tests.apptest_support import (
    ROOT,
    button,
    demo_copy_with_users,
    errors,
    login,
    overview_figures,
    selectbox,
    start_app,
)

DATA = ROOT / "tests" / "data"
MONTH = "2026-10"  # the month of the five cases in the test fixtures


def gbk_csv_with_unknown_id_column() -> bytes:
    """The platform export fixture, but its 业务流水号 header renamed to one no alias knows."""
    text = (DATA / "cases_title_total_gbk.csv").read_bytes().decode("gbk")
    return text.replace("业务流水号", "统一收件码").encode("gbk")


def count(text: str) -> int:
    return int(str(text).replace(",", ""))


@pytest.fixture
def db_path(small_demo_db: Path, tmp_path: Path) -> Path:
    return demo_copy_with_users(small_demo_db, tmp_path)


@pytest.fixture
def analyst(db_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    at = start_app(db_path, monkeypatch, tmp_path)
    return login(at, "ana")


def open_upload_page(at):
    at.switch_page("views/upload.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "数据上传"
    return at


def drop(at, *files: tuple[str, bytes]):
    at.file_uploader(key="upload_files").set_value([(name, data, "application/octet-stream") for name, data in files])
    at.run()
    assert not at.exception, at.exception
    return at


def report(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_gbk_csv_with_title_row_mapping_corrected_then_loaded_and_shown(analyst, db_path, tmp_path):
    at = analyst
    before = overview_figures(at, MONTH)
    open_upload_page(at)
    drop(at, ("办件导出.csv", gbk_csv_with_unknown_id_column()))

    # The automatic mapping cannot find the case id: the page says so, in words, and offers the form.
    assert any("缺少必需的列：办件编号" in e and "统一收件码" in e for e in errors(at)), errors(at)
    assert not at.get("progress")
    id_field = selectbox(at, "办件编号 *")
    assert id_field.value == "__not_used__"
    assert selectbox(at, "申请时间 *").value == "收件时间"  # pre-filled by the automatic mapping
    id_field.set_value("统一收件码")
    at.text_input(key=next(t.key for t in at.text_input if t.label == "另存为映射（可选）")).input("省平台办件导出")
    button(at, "应用映射并重新校验").click().run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)

    # What was detected, and the validation report before anything is written.
    details = " ".join(m.value for m in at.markdown)
    assert "编码: GB18030" in details and "表头所在行: 2" in details and "文件类型: 办件" in details
    assert report(at) == {"数据行": "5", "可导入": "5", "拒收": "0", "跳过": "1"}
    assert (tmp_path / "mappings" / "省平台办件导出.toml").exists()
    assert "统一收件码" in (tmp_path / "mappings" / "省平台办件导出.toml").read_text(encoding="utf-8")
    con = duckdb.connect(str(db_path))  # the same in-process database the app holds open
    assert con.execute("SELECT count(*) FROM uploads").fetchone()[0] == 3  # previewing wrote nothing

    button(at, "导入").click().run()
    assert not at.exception, at.exception
    done = [s.value for s in at.success]
    assert any("已导入为上传" in s and "导入 5 行" in s for s in done), done
    history = at.dataframe[-1].value
    assert history.iloc[0]["文件"] == "办件导出.csv" and history.iloc[0]["导入人"] == "ana"

    # The overview shows the new cases at once: its caches follow the data version.
    after = overview_figures(at, MONTH)
    assert count(after["办件量"]) == count(before["办件量"]) + 5
    assert after != before

    row = con.execute(
        "SELECT actor, target, details->>'file_name' FROM audit WHERE action = 'upload' ORDER BY audit_id DESC LIMIT 1"
    ).fetchone()
    assert row[0] == "ana" and row[2] == "办件导出.csv"
    mapping = con.execute("SELECT mapping->>'case_id' FROM uploads WHERE upload_id = ?", [int(row[1])]).fetchone()
    assert mapping[0] == "统一收件码"


def test_saved_mapping_is_offered_and_applied(analyst, tmp_path):
    from ingest.mapping import apply_overrides, auto_map, save_mapping

    columns = gbk_csv_with_unknown_id_column().decode("gbk").splitlines()[1].split(",")
    settings.MAPPINGS_DIR.mkdir(parents=True, exist_ok=True)
    save_mapping(
        "统一收件码导出", apply_overrides(auto_map(columns, "cases"), columns, {"case_id": "统一收件码"}), columns
    )
    at = open_upload_page(analyst)
    drop(at, ("export.csv", gbk_csv_with_unknown_id_column()))
    assert errors(at)
    saved = at.selectbox(key=next(s.key for s in at.selectbox if s.label == "使用已保存的映射"))
    saved.set_value("统一收件码导出").run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert report(at)["可导入"] == "5"


def test_xlsx_sheet_chooser_and_an_overlapping_export_never_double_counts(analyst):
    at = analyst
    before = overview_figures(at, MONTH)
    open_upload_page(at)
    drop(at, ("办件明细.xlsx", (DATA / "cases_merged_title.xlsx").read_bytes()))
    sheet = selectbox(at, "工作表")
    assert sheet.options == ["办件明细", "说明"] and sheet.value == "办件明细"
    assert report(at) == {"数据行": "5", "可导入": "5", "拒收": "0", "跳过": "1"}
    assert "表头所在行: 2" in " ".join(m.value for m in at.markdown)

    sheet.set_value("说明").run()  # the notes sheet is no case list: a message, no traceback
    assert not at.exception, at.exception
    assert errors(at)
    selectbox(at, "工作表").set_value("办件明细").run()
    assert not errors(at), errors(at)
    button(at, "导入").click().run()
    assert not at.exception, at.exception
    assert any("已导入为上传" in s.value for s in at.success)
    after_xlsx = overview_figures(at, MONTH)
    assert count(after_xlsx["办件量"]) == count(before["办件量"]) + 5

    # The same five cases again, as the GBK CSV export: new versions of the same cases, not new cases.
    open_upload_page(at)
    drop(at, ("cases_title_total_gbk.csv", (DATA / "cases_title_total_gbk.csv").read_bytes()))
    button(at, "导入").click().run()
    assert not at.exception, at.exception
    assert overview_figures(at, MONTH)["办件量"] == after_xlsx["办件量"]


def test_removal_after_confirmation_restores_the_earlier_figures(analyst, db_path):
    at = analyst
    before = overview_figures(at, MONTH)
    open_upload_page(at)
    drop(at, ("办件明细.xlsx", (DATA / "cases_merged_title.xlsx").read_bytes()))
    button(at, "导入").click().run()
    assert overview_figures(at, MONTH) != before
    upload_id = int(duckdb.connect(str(db_path)).execute("SELECT max(upload_id) FROM uploads").fetchone()[0])

    at.switch_page("views/uploads.py").run()
    assert at.selectbox(key="uploads_remove_pick").value == upload_id  # the newest first
    button(at, "删除此上传…").click().run()
    assert any("确定删除上传" in w.value for w in at.warning)
    button(at, "取消").click().run()  # changing one's mind removes nothing
    assert overview_figures(at, MONTH) != before

    at.switch_page("views/uploads.py").run()
    button(at, "删除此上传…").click().run()
    button(at, "确认删除").click().run()
    assert not at.exception, at.exception
    assert any(f"已删除上传 #{upload_id}" in s.value for s in at.success)
    history = at.dataframe[0].value
    assert history["编号"].iloc[0] == upload_id  # the newest first
    assert history.loc[history["编号"] == upload_id, "状态"].item().startswith("已删除 ")  # with when
    assert overview_figures(at, MONTH) == before

    con = duckdb.connect(str(db_path))
    assert con.execute(
        "SELECT actor FROM audit WHERE action = 'remove_upload' AND target = ?", [str(upload_id)]
    ).fetchone() == ("ana",)


def test_validation_report_lists_rejects_by_reason_with_an_excel_download(analyst):
    rows = [
        "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间",
        "T1,最低生活保障申请,民政办,网上,2026-10-09 09:00,2026-10-12 16:00",
        "T2,临时救助申请,民政办,窗口,2026-10-10 09:30,2026-10-20 10:00",
        "T3,居住证申领,派出所户籍室,窗口,2026-10-11 09:30,2026-10-12 10:00",
        "T4,出生登记,派出所户籍室,网上,2026-10-13 10:00,2026-10-13 11:00",
        "T5,出生登记,派出所户籍室,网上,2026-13-45 10:00,",
        'T6,=HYPERLINK("http://x"),民政办,网上,2026-10-15 10:00,2026-10-01 10:00',
    ]
    at = open_upload_page(analyst)
    drop(at, ("report.csv", "\n".join(rows).encode("utf-8")))
    assert report(at) == {"数据行": "6", "可导入": "4", "拒收": "2", "跳过": "0"}
    reasons = at.dataframe[1].value
    assert set(reasons["拒收原因"]) == {"时间无法识别", "办结时间早于申请时间"}
    labels = [d.label for d in at.get("download_button")]
    assert "下载拒收行（Excel）" in labels
    assert not at.button(key=next(b.key for b in at.button if b.label == "导入")).disabled


def test_refused_files_are_explained_and_cannot_be_loaded(analyst):
    bad = ["办件编号,事项名称,申请时间"] + [f"B{i},出生登记,not a time" for i in range(6)] + ["B9,出生登记,2026-10-01"]
    at = open_upload_page(analyst)
    drop(
        at,
        ("mostly_bad.csv", "\n".join(bad).encode("utf-8")),
        ("broken.xlsx", b"PK\x03\x04 this is not really a workbook"),
    )
    messages = errors(at)
    assert any("超过一半，整个文件未导入" in m for m in messages), messages
    assert any("无法读取 Excel 文件" in m for m in messages), messages
    imports = [b for b in at.button if b.label == "导入"]
    assert len(imports) == 1 and imports[0].disabled  # only the readable file gets a button, disabled
    assert "Traceback" not in " ".join(messages)


def test_a_file_over_the_size_limit_is_refused_with_the_limit(analyst, monkeypatch):
    monkeypatch.setattr(settings, "MAX_UPLOAD_MB", 0)
    at = open_upload_page(analyst)
    drop(at, ("cases.csv", (DATA / "cases_title_total_gbk.csv").read_bytes()))
    assert any("超过上限 0 MB" in e for e in errors(at)), errors(at)
    assert not [b for b in at.button if b.label == "导入"]


def test_catalogue_uploads_the_same_way(analyst):
    from ingest.templates import catalog_template_xlsx

    at = open_upload_page(analyst)
    drop(at, ("事项目录.xlsx", catalog_template_xlsx()))
    assert "文件类型: 事项目录" in " ".join(m.value for m in at.markdown)
    assert report(at)["可导入"] == "1"
    button(at, "导入").click().run()
    assert not at.exception, at.exception
    assert at.dataframe[-1].value.iloc[0]["类型"] == "事项目录"


def test_shipped_config_binds_localhost_and_caps_uploads_like_settings():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "localhost"
    assert config["server"]["maxUploadSize"] == settings.MAX_UPLOAD_MB


def test_rejects_excel_neutralises_formulas():
    import pandas as pd

    from ingest.rejects import rejects_xlsx

    frame = pd.DataFrame(
        [
            {"row": 3, "reason": "bad_time", "column": "申请时间", "value": "=1+1", "fields": {"事项": "@SUM(A1)"}},
            {"row": 4, "reason": "missing_id", "column": None, "value": "-2", "fields": '{"事项": "+cmd"}'},
        ]
    )
    book = openpyxl.load_workbook(io.BytesIO(rejects_xlsx(frame, "zh")))
    sheet = book.active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["行号", "原因", "列", "值"]
    assert values[1][:4] == [3, "时间无法识别", "申请时间", "'=1+1"]
    assert values[1][4] == "'@SUM(A1)" and values[2][3] == "'-2" and values[2][4] == "'+cmd"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
