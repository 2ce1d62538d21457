"""Data quality: field coverage, rejects over time, thin months and departments, missing keys; the page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import quality
from ingest.load import ingest_file
from tests.apptest_support import start_app

HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,跑动次数,满意度"


def month_rows(month: str, n: int, dept_name: str, start: int, **blank: bool) -> list[str]:
    rows = []
    for i in range(n):
        day = 1 + i % 27
        visits = "" if blank.get("visits") and i % 2 else "0"
        rating = "" if i % 4 else "满意"
        item = "" if blank.get("item") and i == 0 else "出生登记"
        dept = "" if blank.get("no_dept") and i == 0 else dept_name
        rows.append(
            f"Q{start + i:05d},{item},{dept},网上,{month}-{day:02d} 09:00,{month}-{day:02d} 15:00,{visits},{rating}"
        )
    return rows


@pytest.fixture
def quality_db(tmp_db, tmp_path: Path):
    """Six months: 民政办 steady at 20, 社保所 at 12 with one thin month; a gap in 2026-05; some blanks."""
    rows = [HEADER]
    counts = {"2026-01": 20, "2026-02": 20, "2026-03": 20, "2026-04": 20, "2026-05": 0, "2026-06": 20}
    start = 0
    for month, n in counts.items():
        rows += month_rows(month, n, "民政办", start, visits=month == "2026-02")
        start += n
        social = 2 if month == "2026-03" else (0 if month == "2026-05" else 12)
        rows += month_rows(month, social, "社保所", start, item=month == "2026-06", no_dept=month == "2026-04")
        start += social
    rows.append("Q99998,出生登记,民政办,网上,2026-13-01 09:00,,0,")  # rejected: bad time
    rows.append("Q99999,出生登记,民政办,网上,2026-06-10 09:00,2026-06-01 09:00,0,")  # rejected: order
    path = tmp_path / "quality.csv"
    path.write_text("\n".join(rows), encoding="utf-8")
    ingest_file(tmp_db, path, loaded_by="test")
    events = tmp_path / "events.csv"
    events.write_text(
        "办件编号,环节名称,办理部门,完成时间\nQ00000,受理,民政办,2026-01-01 09:30\nQ00000,办结,民政办,2026-01-01 15:00\n",
        encoding="utf-8",
    )
    ingest_file(tmp_db, events, loaded_by="test")
    return tmp_db


def test_field_coverage(quality_db):
    cov = quality.field_coverage(quality_db.cursor()).set_index("field")
    total = quality.case_count(quality_db.cursor())
    assert total == 20 * 5 + 12 * 4 + 2
    assert cov.loc["submitted_at", "share"] == 1.0
    assert cov.loc["visits", "filled"] == total - 10  # half of 民政办's February left blank
    assert cov.loc["department", "filled"] == total - 1
    assert cov.loc["service_item", "filled"] == total - 1
    assert cov.loc["events", "filled"] == 1
    assert cov.loc["due_at", "share"] == 0.0
    assert cov.loc["satisfaction", "basis_zh"] == "已办结办件"
    assert 0.2 < cov.loc["satisfaction", "share"] < 0.35  # one in four rated


def test_rejects_by_upload_month_and_reason(quality_db):
    frame = quality.rejects_by_month(quality_db.cursor())
    assert set(frame["reason"]) == {"bad_time", "completed_before_submitted"}
    assert set(frame["reason_zh"]) == {"时间无法识别", "办结时间早于申请时间"}
    assert frame["rows"].sum() == 2 and frame["month"].nunique() == 1


def test_thin_months_include_gaps_and_mark_the_latest(quality_db):
    months = quality.thin_months(quality_db.cursor())
    assert list(months["month"]) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    flagged = months[months["flagged"]]
    assert list(flagged["month"]) == ["2026-05"]  # the month nothing was loaded for
    assert flagged["cases"].item() == 0
    assert months["latest"].tolist() == [False] * 5 + [True]


def test_thin_department_months_compare_each_department_with_itself(quality_db):
    frame = quality.thin_department_months(quality_db.cursor())
    found = set(zip(frame["department"], frame["month"], strict=True))
    assert ("社保所", "2026-03") in found  # 2 against a median of 12
    assert ("社保所", "2026-05") in found and ("民政办", "2026-05") in found
    assert not any(d == "民政办" and m != "2026-05" for d, m in found)


def test_cases_without_department_or_item(quality_db):
    missing = quality.missing_keys(quality_db.cursor())
    assert missing["no_department"] == 1 and missing["no_item"] == 1 and missing["neither"] == 0
    by_upload = quality.missing_keys_by_upload(quality_db.cursor())
    assert by_upload["file_name"].tolist() == ["quality.csv"]
    sample = quality.missing_keys_sample(quality_db.cursor())
    assert len(sample) == 2 and set(sample.columns) >= {"case_id", "submitted_at", "file_name", "source_row"}


def test_empty_database_gives_empty_frames(tmp_db):
    cur = tmp_db.cursor()
    assert quality.case_count(cur) == 0
    assert quality.thin_months(cur).empty and quality.thin_department_months(cur).empty
    assert quality.rejects_by_month(cur).empty
    assert quality.field_coverage(cur)["share"].isna().all()


def test_data_quality_page_draws_on_demo_and_on_crafted_data(small_demo_db, quality_db, tmp_path, monkeypatch):
    at = start_app(Path(quality_db.path), monkeypatch)  # local mode: no users
    at.switch_page("views/data_quality.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "数据质量"
    assert [s.value for s in at.main.subheader] == [
        "字段覆盖率",
        "拒收行（按上传月份与原因）",
        "办件量异常偏少的月份与部门",
        "缺少部门或事项的办件",
        "不在事项目录中的事项与部门",
    ]
    assert any("2026-05" in str(v) for v in at.dataframe[2].value.iloc[:, 0])
    assert {m.label: m.value for m in at.metric} == {"缺少部门": "1", "缺少事项": "1", "两者皆缺": "0"}
    assert any(i.value.startswith("尚未导入事项目录，无法检查") for i in at.info)  # no catalogue: said, not listed

    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copy(small_demo_db, demo / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", demo / "secret.key")
    at = start_app(demo / "egov.duckdb", monkeypatch)
    at.switch_page("views/data_quality.py").run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1  # the demo has no rejects: only the months chart


def test_the_page_lists_fields_left_empty_on_loaded_rows(tmp_path, monkeypatch):
    """跑动次数 -3 and 满意度 6 cost the field, not the case: the page says which field, why, and how often."""
    from ingest.load import ingest_file
    from store.db import Database

    path = tmp_path / "cases.csv"
    path.write_text(
        "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,跑动次数,满意度\n"
        "W1,临时救助申请,民政办,窗口,2026-11-02 09:00,2026-11-04 10:00,-3,5\n"
        "W2,临时救助申请,民政办,窗口,2026-11-02 09:30,2026-11-03 10:00,1,6\n"
        "W3,临时救助申请,民政办,窗口,2026-11-02 10:30,2026-11-03 10:00,-1,5\n",
        encoding="utf-8",
    )
    db = Database(tmp_path / "egov.duckdb")
    assert ingest_file(db, path).rows_loaded == 3
    db.close()
    at = start_app(tmp_path / "egov.duckdb", monkeypatch)
    at.switch_page("views/data_quality.py").run()
    assert not at.exception, at.exception
    assert "已载入但字段置空的行" in [s.value for s in at.main.subheader]
    table = next(d.value for d in at.dataframe if "字段" in d.value.columns and "涉及上传" in d.value.columns)
    assert sorted(zip(table["字段"], table["行数"], strict=True)) == [("满意度", 1), ("跑动次数", 2)]
