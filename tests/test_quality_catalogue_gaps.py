"""Cases whose item or department the service catalogue does not know; the upload history newest first.

A hand-made database of eleven cases and a three-item catalogue, each case written for one reason (known
by code, by name, unknown item, unknown department, a placeholder "—" or "无" that is no value at all), so
every expected count below is read off the rows, not computed by the code under test. The pages are
driven through AppTest, signed in as a viewer (leaders read both pages) and as an analyst (the upload page).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from ingest import quality
from ingest.load import ingest_file, remove_upload
from store.db import Database
from tests.apptest_support import PASSWORDS, ROLES, login, start_app

CASES = """办件编号,事项编码,事项名称,实施部门,申请渠道,申请时间,办结时间
K1,C001,出生登记,民政办,网上,2026-09-03 09:00,2026-09-04 09:00
K2,,出生登记,民政办,窗口,2026-10-03 09:00,2026-10-04 09:00
K3,C002,养老保险待遇申领,社保所,网上,2026-10-05 09:00,2026-10-06 09:00
K4,X77,出生登记,民政办,窗口,2026-10-06 09:00,2026-10-07 09:00
U1,C999,改名的事项,民政办,窗口,2026-10-08 09:00,2026-10-09 09:00
U2,,未知事项甲,城管办,窗口,2026-08-05 09:00,2026-08-06 09:00
U3,,未知事项甲,城管办,窗口,2026-10-07 09:00,2026-10-08 09:00
U4,,未知事项乙,社保所,网上,2026-10-09 09:00,2026-10-10 09:00
M1,,出生登记,—,网上,2026-10-10 09:00,2026-10-11 09:00
M2,,无,社保所,网上,2026-10-11 09:00,2026-10-12 09:00
D1,C002,养老保险,综治中心,窗口,2026-09-12 09:00,2026-09-13 09:00
"""
# K1 code and name known · K2 name known · K3 code known (name spelt otherwise) · K4 name known (code not)
# U1 code and name unknown · U2/U3 unknown item, unknown department 城管办 · U4 unknown item, known department
# M1 department "—" = none · M2 item "无" = none (both counted as missing, not as catalogue gaps)
# D1 item known by code, department 综治中心 unknown
CATALOG = """事项编码,事项名称,实施部门,是否网上可办
C001,出生登记,民政办,是
C002,养老保险,社保所,是
C003,低保申请,民政办,否
"""

#: By hand from the rows above.
GAPS = {
    "catalog_items": 3,
    "catalog_departments": 2,  # 民政办, 社保所
    "cases_with_item": 10,  # all but M2
    "items": 3,  # 改名的事项, 未知事项甲, 未知事项乙
    "item_cases": 4,  # U1, U2, U3, U4
    "cases_with_department": 10,  # all but M1
    "departments": 2,  # 城管办, 综治中心
    "department_cases": 3,  # U2, U3, D1
}
ITEMS = [
    ("未知事项甲", None, "城管办", 2, "2026-08", "2026-10"),
    ("改名的事项", "C999", "民政办", 1, "2026-10", "2026-10"),
    ("未知事项乙", None, "社保所", 1, "2026-10", "2026-10"),
]
DEPARTMENTS = [("城管办", 1, 2, "2026-08", "2026-10"), ("综治中心", 1, 1, "2026-09", "2026-09")]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def add_users(db: Database, *names: str) -> None:
    from store import users

    for name in names:
        users.add_user(db, name, ROLES[name], PASSWORDS[name], by="test")


def item_rows(frame: pd.DataFrame) -> list[tuple]:
    """The unknown-items frame as tuples, a missing item code as None."""
    return [
        (r.service_item, None if pd.isna(r.item_code) else r.item_code, r.department, int(r.cases), r.first_month,
         r.last_month)
        for r in frame.itertuples()
    ]  # fmt: skip


@pytest.fixture
def gap_db(tmp_db: Database, tmp_path: Path) -> Database:
    ingest_file(tmp_db, write(tmp_path, "办件.csv", CASES), loaded_by="test")
    ingest_file(tmp_db, write(tmp_path, "事项目录.csv", CATALOG), kind="catalog", loaded_by="test")
    return tmp_db


def test_gaps_counted_by_hand(gap_db):
    cur = gap_db.cursor()
    assert quality.case_count(cur) == 11
    assert quality.catalog_gaps(cur) == GAPS
    assert item_rows(quality.catalog_gap_items(cur)) == ITEMS
    departments = quality.catalog_gap_departments(cur)
    assert [tuple(r) for r in departments.itertuples(index=False)] == DEPARTMENTS


def test_placeholders_are_missing_keys_not_catalogue_gaps(gap_db):
    cur = gap_db.cursor()
    assert quality.missing_keys(cur) == {"cases": 11, "no_department": 1, "no_item": 1, "neither": 0}
    assert sorted(quality.missing_keys_sample(cur)["case_id"]) == ["M1", "M2"]
    assert quality.missing_keys_by_upload(cur)[["no_department", "no_item"]].values.tolist() == [[1, 1]]
    cov = quality.field_coverage(cur).set_index("field")
    assert (cov.loc["department", "filled"], cov.loc["service_item", "filled"]) == (10, 10)


def test_the_list_is_bounded_and_the_counts_are_not(gap_db):
    cur = gap_db.cursor()
    assert item_rows(quality.catalog_gap_items(cur, limit=1)) == ITEMS[:1]
    assert len(quality.catalog_gap_departments(cur, limit=1)) == 1
    assert quality.catalog_gaps(cur)["items"] == 3


def test_the_current_catalogue_counts_and_removal_brings_the_earlier_back(gap_db, tmp_path):
    newer = CATALOG + "C010,未知事项甲,城管办,否\n"
    result = ingest_file(gap_db, write(tmp_path, "事项目录2.csv", newer), kind="catalog")
    cur = gap_db.cursor()
    gaps = quality.catalog_gaps(cur)
    # 未知事项甲 (U2, U3) and 城管办 are known now: left are U1, U4 and 综治中心 (D1).
    assert (gaps["catalog_items"], gaps["items"], gaps["item_cases"]) == (4, 2, 2)
    assert (gaps["departments"], gaps["department_cases"]) == (1, 1)
    remove_upload(gap_db, result.upload_id, removed_by="test")
    assert quality.catalog_gaps(gap_db.cursor()) == GAPS


def test_without_a_catalogue_nothing_is_listed(tmp_db, tmp_path):
    ingest_file(tmp_db, write(tmp_path, "办件.csv", CASES))
    cur = tmp_db.cursor()
    gaps = quality.catalog_gaps(cur)
    assert gaps["catalog_items"] == 0 and gaps["items"] is None and gaps["departments"] is None
    assert quality.catalog_gap_items(cur).empty and quality.catalog_gap_departments(cur).empty


def test_a_catalogue_without_departments_checks_items_only(tmp_db, tmp_path):
    ingest_file(tmp_db, write(tmp_path, "办件.csv", CASES))
    catalog = "事项编码,事项名称,是否网上可办\nC001,出生登记,是\nC002,养老保险,是\n"
    ingest_file(tmp_db, write(tmp_path, "目录.csv", catalog), kind="catalog")
    cur = tmp_db.cursor()
    gaps = quality.catalog_gaps(cur)
    assert (gaps["items"], gaps["item_cases"], gaps["catalog_departments"]) == (3, 4, 0)
    assert gaps["departments"] is None and gaps["department_cases"] is None
    assert quality.catalog_gap_departments(cur).empty


# --- the data-quality page ----------------------------------------------------------------------


@pytest.fixture
def gap_app_db(gap_db: Database) -> Path:
    add_users(gap_db, "zhang", "boss")
    path = Path(gap_db.path)
    gap_db.close()
    return path


def quality_page(at):
    at.switch_page("views/data_quality.py").run()
    assert not at.exception, at.exception
    return at


def test_the_page_counts_the_gaps_in_chinese(gap_app_db, monkeypatch, tmp_path):
    at = quality_page(login(start_app(gap_app_db, monkeypatch, tmp_path), "boss"))
    assert "不在事项目录中的事项与部门" in [s.value for s in at.main.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert {
        k: metrics[k] for k in ("不在目录的事项", "事项不在目录的办件", "不在目录的部门", "部门不在目录的办件")
    } == {
        "不在目录的事项": "3",
        "事项不在目录的办件": "4",
        "不在目录的部门": "2",
        "部门不在目录的办件": "3",
    }
    assert (metrics["缺少部门"], metrics["缺少事项"]) == ("1", "1")  # M1 "—", M2 "无"
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("3 个事项不在事项目录中，涉及 4 件办件（占有事项办件的 40.0%）") for w in warnings)
    assert any(w.startswith("2 个部门不在事项目录中，涉及 3 件办件（占有部门办件的 30.0%）") for w in warnings)
    assert not any("所有办件都填写了部门和事项" in s.value for s in at.success)  # M1 and M2 lack one
    assert not any("都在事项目录中" in s.value for s in at.success)
    assert any("办件最多的不在目录事项（列出 3 项，共 3 项）" in m.value for m in at.markdown)
    items = next(d.value for d in at.dataframe if "事项编码" in d.value.columns)
    assert list(items.columns) == ["事项", "事项编码", "部门", "办件量", "最早月份", "最近月份"]
    assert [tuple(r) for r in items.itertuples(index=False)] == [
        (item, code or "—", dept, n, first, last) for item, code, dept, n, first, last in ITEMS
    ]
    departments = next(d.value for d in at.dataframe if "事项数" in d.value.columns)
    assert [tuple(r) for r in departments.itertuples(index=False)] == DEPARTMENTS
    assert any("核对依据：当前事项目录（3 个事项、2 个部门）" in c.value for c in at.caption)


def test_the_page_counts_the_gaps_in_english(gap_app_db, monkeypatch, tmp_path):
    at = login(start_app(gap_app_db, monkeypatch, tmp_path), "boss")
    at.sidebar.radio(key="lang").set_value("en").run()
    at = quality_page(at)
    assert at.title[0].value == "Data quality"
    assert "Items and departments not in the service catalogue" in [s.value for s in at.main.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Items not in catalogue"], metrics["Cases with such an item"]) == ("3", "4")
    assert (metrics["Departments not in catalogue"], metrics["Cases with such a department"]) == ("2", "3")
    warnings = [w.value for w in at.warning]
    assert any(
        w.startswith("3 item(s) are not in the service catalogue, with 4 case(s) (40.0% of the cases with an item)")
        for w in warnings
    )
    assert any("2 department(s) are not in the service catalogue, with 3 case(s)" in w for w in warnings)
    items = next(d.value for d in at.dataframe if "Item code" in d.value.columns)
    assert list(items["Item"]) == [i[0] for i in ITEMS] and list(items["Cases"]) == [2, 1, 1]


def test_the_page_says_plainly_when_there_is_no_catalogue(tmp_path, monkeypatch):
    db = Database(tmp_path / "egov.duckdb")
    ingest_file(db, write(tmp_path, "好的办件.csv", CASES.replace(",—,", ",民政办,").replace(",无,", ",出生登记,")))
    add_users(db, "zhang", "ana")
    db.close()
    at = quality_page(login(start_app(tmp_path / "egov.duckdb", monkeypatch, tmp_path), "ana"))
    info = [i.value for i in at.info]
    assert any(i.startswith("尚未导入事项目录，无法检查办件的事项和部门是否在目录中") for i in info)
    assert not any("不在目录" in m.label for m in at.metric)
    assert not any("事项编码" in d.value.columns for d in at.dataframe)  # no list of every item
    # Every case has both now, and the sentence says so.
    assert any(s.value == "所有办件都填写了部门和事项。" for s in at.success)


def test_the_page_says_when_everything_is_known(tmp_path, monkeypatch):
    db = Database(tmp_path / "egov.duckdb")
    known = "\n".join(line for line in CASES.splitlines() if line[:1] in ("办", "K")) + "\n"
    ingest_file(db, write(tmp_path, "已知.csv", known))
    ingest_file(db, write(tmp_path, "目录.csv", CATALOG), kind="catalog")
    db.close()
    at = quality_page(start_app(tmp_path / "egov.duckdb", monkeypatch, tmp_path))  # local mode
    assert any(s.value == "所有办件的事项和部门都在事项目录中。" for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["不在目录的事项"], metrics["部门不在目录的办件"]) == ("0", "0")


# --- the upload history, newest first with its status ---------------------------------------------


def history_db(tmp_path: Path, uploads: int) -> tuple[Path, list[int]]:
    """``uploads`` case files of one case each; the second removed at 2026-12-30 09:05, the third 2027-01-04 10:15."""
    db = Database(tmp_path / "egov.duckdb")
    ids = []
    for n in range(1, uploads + 1):
        text = f"办件编号,事项名称,实施部门,申请渠道,申请时间\nH{n},出生登记,民政办,网上,2026-10-{n:02d} 09:00\n"
        ids.append(ingest_file(db, write(tmp_path, f"第{n}批.csv", text)).upload_id)
    removals = {ids[1]: dt.datetime(2026, 12, 30, 9, 5), ids[2]: dt.datetime(2027, 1, 4, 10, 15)}
    for upload_id, when in removals.items():
        remove_upload(db, upload_id, removed_by="test")
        with db.write() as cur:
            cur.execute("UPDATE uploads SET removed_at = ? WHERE upload_id = ?", [when, upload_id])
    add_users(db, "zhang", "ana", "boss")
    db.close()
    return tmp_path / "egov.duckdb", ids


def test_the_history_page_lists_newest_first_with_the_status(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOV_TODAY", "2027-01-05")  # the page is read in January 2027
    path, ids = history_db(tmp_path, 4)
    at = login(start_app(path, monkeypatch, tmp_path), "boss")
    at.switch_page("views/uploads.py").run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert list(frame["编号"]) == ids[::-1]
    assert list(frame["文件"]) == ["第4批.csv", "第3批.csv", "第2批.csv", "第1批.csv"]
    # This year's removal without the year, last year's with it.
    assert list(frame["状态"]) == ["已导入", "已删除 01-04 10:15", "已删除 2026-12-30 09:05", "已导入"]

    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert list(frame["Status"]) == ["imported", "removed 01-04 10:15", "removed 2026-12-30 09:05", "imported"]


def test_the_upload_page_shows_the_five_newest_first(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOV_TODAY", "2027-01-05")
    path, ids = history_db(tmp_path, 6)
    at = login(start_app(path, monkeypatch, tmp_path), "ana")
    at.switch_page("views/upload.py").run()
    assert not at.exception, at.exception
    recent = next(d.value for d in at.dataframe if "状态" in d.value.columns)
    assert list(recent["编号"]) == ids[:0:-1]  # 6, 5, 4, 3, 2: the oldest one is left to the history page
    assert list(recent["状态"]) == ["已导入", "已导入", "已导入", "已删除 01-04 10:15", "已删除 2026-12-30 09:05"]
