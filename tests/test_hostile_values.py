"""Hostile values (issue 13, parts 3–6): no value aborts an upload, none is silently misread, no time lies in the
future, and conflicting exports are resolved by their data, whatever the order they are loaded in.

Expected values are worked out by hand on the 2026 calendar: 国庆 1–7 October off, Saturday 10 October a
调休 make-up workday, 11 October (Sunday) off.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import clock
from ingest.load import ingest_file, remove_upload
from ingest.preview import preview_file
from ingest.reasons import REASONS, WARNING_REASONS

D = dt.datetime
#: "Now" for every test here: the loader's future check reads clock.now().
NOW = D(2026, 11, 20, 12, 0, 0)
HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,受理时间,办结时间,承诺时限,跑动次数,满意度"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("EGOV_TODAY", NOW.date().isoformat())
    monkeypatch.setattr(clock, "now", lambda: NOW)


def write(tmp_path: Path, name: str, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good(n: int, prefix: str = "OK") -> list[str]:
    return [f"{prefix}{i},临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,5个工作日,1,5" for i in range(n)]


def case(db, case_id: str, *columns: str):
    cols = ", ".join(columns)
    return db.cursor().execute(f"SELECT {cols} FROM cases WHERE case_id = ?", [case_id]).fetchone()


def warnings_of(db, upload_id: int) -> list[tuple]:
    return (
        db.cursor()
        .execute(
            "SELECT row_number, reason, column_name, value FROM field_warnings WHERE upload_id = ? ORDER BY row_number",
            [upload_id],
        )
        .fetchall()
    )


# --- part 3: a value that overflows never aborts the upload ------------------------------------------------


def test_integer_overflow_in_the_promised_limit_is_a_warning_not_an_abort(tmp_path, tmp_db):
    rows = [
        *good(5),
        "BIG,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,99999999999天,1,5",  # line 7
        "BIGV,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,5个工作日,99999999999,5",  # line 8
    ]
    result = ingest_file(tmp_db, write(tmp_path, "overflow.csv", rows))
    assert (result.rows_loaded, result.rows_rejected, result.rows_warned) == (7, 0, 2)
    assert result.warned_by_reason == {"bad_promised_limit": 1, "bad_visits": 1}
    assert case(tmp_db, "BIG", "promised_days", "promised_unit", "due_at", "visits") == (None, None, None, 1)
    assert case(tmp_db, "BIGV", "visits", "due_at") == (None, D(2026, 10, 19, 23, 59, 59))
    assert warnings_of(tmp_db, result.upload_id) == [
        (7, "bad_promised_limit", "promised", "99999999999天"),
        (8, "bad_visits", "visits", "99999999999"),
    ]
    assert any("2 行有字段无法识别" in w for w in result.warnings)


# --- part 4: no silent misreads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "accepted", "days", "unit", "due"),
    [
        # 30 Sep (Wed) + 3 working days: 8 Oct, 9 Oct, 10 Oct (Saturday, 调休 workday) -> end of 10 Oct.
        ("三个工作日", "2026-09-30 10:00", 3.0, "working", D(2026, 10, 10, 23, 59, 59)),
        # 9 Oct (Fri) + 15 working days: 10, 12–16, 19–23, 26–29 Oct -> end of 29 Oct.
        ("十五个工作日", "2026-10-09 10:00", 15.0, "working", D(2026, 10, 29, 23, 59, 59)),
        # 9 Oct + 20 natural days -> end of 29 Oct.
        ("二十个自然日", "2026-10-09 10:00", 20.0, "natural", D(2026, 10, 29, 23, 59, 59)),
        # 一百零五 = 105 natural days from 9 Oct -> 22 Jan 2027.
        ("一百零五天", "2026-10-09 10:00", 105.0, "natural", D(2027, 1, 22, 23, 59, 59)),
        # Hours run on the clock: 12 Oct 09:30 + 5 h = 14:30 the same day (5/24 of a natural day).
        ("5小时", "2026-10-12 09:30", 5 / 24, "natural", D(2026, 10, 12, 14, 30)),
        # Within the bound (365 working days) is read as written.
        ("两个工作日", "2026-10-09 10:00", 2.0, "working", D(2026, 10, 12, 23, 59, 59)),
    ],
)
def test_time_limits_in_words_and_hours_give_the_due_date(tmp_path, tmp_db, limit, accepted, days, unit, due):
    rows = [*good(3), f"L1,临时救助申请,民政办,窗口,{accepted},{accepted},,{limit},1,5"]
    result = ingest_file(tmp_db, write(tmp_path, "limits.csv", rows))
    assert (result.rows_loaded, result.rows_warned) == (4, 0)
    got_days, got_unit, got_due = case(tmp_db, "L1", "promised_days", "promised_unit", "due_at")
    assert (got_days, got_unit, got_due) == (pytest.approx(days), unit, due)


@pytest.mark.parametrize(
    "limit",
    ["-5", "1年", "99999个工作日", "366个工作日", "731天", "五年", "一周两天"],
)
def test_unreadable_or_out_of_range_limits_are_counted_warnings(tmp_path, tmp_db, limit):
    rows = [*good(3), f"L2,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,{limit},1,5"]  # line 5
    result = ingest_file(tmp_db, write(tmp_path, "bad_limit.csv", rows))
    assert (result.rows_loaded, result.rows_rejected, result.warned_by_reason) == (4, 0, {"bad_promised_limit": 1})
    # Kept, with no time limit and no due date: never 5 days for -5, one day for 1年 or 5 working days for 5小时.
    assert case(tmp_db, "L2", "promised_days", "promised_unit", "due_at", "status") == (None, None, None, "open")
    assert warnings_of(tmp_db, result.upload_id) == [(5, "bad_promised_limit", "promised", limit)]


def test_visits_and_satisfaction_out_of_range_are_counted_warnings(tmp_path, tmp_db):
    rows = [
        *good(6),
        "V1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-13 10:00,5个工作日,-3,满意",  # line 8
        "V2,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-13 10:00,5个工作日,999999,6",  # line 9
        "V3,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-13 10:00,5个工作日,两次,满意满意",
        "V4,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-13 10:00,5个工作日,50,未评价",
        "V5,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-13 10:00,5个工作日,3.5,基本满意",
    ]
    result = ingest_file(tmp_db, write(tmp_path, "visits.csv", rows))
    assert (result.rows_loaded, result.rows_rejected, result.rows_warned) == (11, 0, 4)
    assert result.warned_by_reason == {"bad_visits": 3, "bad_satisfaction": 2}
    assert case(tmp_db, "V1", "visits", "satisfaction") == (None, 4)
    assert case(tmp_db, "V2", "visits", "satisfaction") == (None, None)
    assert case(tmp_db, "V3", "visits", "satisfaction") == (2, None)
    assert case(tmp_db, "V4", "visits", "satisfaction") == (50, None)  # 未评价: not rated, no warning
    assert case(tmp_db, "V5", "visits", "satisfaction") == (None, 3)
    assert warnings_of(tmp_db, result.upload_id) == [
        (8, "bad_visits", "visits", "-3"),
        (9, "bad_visits", "visits", "999999"),
        (9, "bad_satisfaction", "satisfaction", "6"),
        (10, "bad_satisfaction", "satisfaction", "满意满意"),
        (12, "bad_visits", "visits", "3.5"),
    ]
    # -3 visits no longer counts as "at most one visit": 6 good rows (1 visit) + V3 (2) + V4 (50) are known.
    known, at_most_one = (
        tmp_db.cursor().execute("SELECT count(visits), count(*) FILTER (WHERE visits <= 1) FROM cases").fetchone()
    )
    assert (known, at_most_one) == (8, 6)


def test_warnings_show_in_the_preview_and_go_with_the_upload(tmp_path, tmp_db):
    rows = [*good(3), "P1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,-5,-3,6"]
    path = write(tmp_path, "preview.csv", rows)
    preview = preview_file(tmp_db, path)
    assert preview.validation.warned == 1
    assert preview.validation.warned_by_reason == {"bad_promised_limit": 1, "bad_satisfaction": 1, "bad_visits": 1}
    assert list(preview.warnings["row"]) == [5, 5, 5] and set(preview.warnings["reason"]) <= set(WARNING_REASONS)
    assert preview.rejects.empty
    result = ingest_file(tmp_db, path)
    assert len(warnings_of(tmp_db, result.upload_id)) == 3
    remove_upload(tmp_db, result.upload_id)
    assert warnings_of(tmp_db, result.upload_id) == []


def test_catalogue_limits_and_visits_are_read_the_same_way(tmp_path, tmp_db):
    header = "事项编码,事项名称,实施部门,是否网上可办,承诺时限,法定时限,最多跑动次数"
    rows = ["C1,低保,民政办,是,三个工作日,二十个工作日,1", "C2,救助,民政办,是,-5,20,-1", "C3,登记,社保所,否,1年,30,0"]
    result = ingest_file(tmp_db, write(tmp_path, "catalog.csv", rows, header), kind="catalog")
    assert result.warned_by_reason == {"bad_promised_limit": 2, "bad_visits": 1}
    got = (
        tmp_db.cursor()
        .execute("SELECT item_code, promised_days, statutory_days, max_visits FROM service_items ORDER BY item_code")
        .fetchall()
    )
    assert got == [("C1", 3.0, 20.0, 1), ("C2", None, 20.0, None), ("C3", None, 30.0, 0)]


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        ("2026-10-12 09:00:00+99:99", None),  # four days off if read: rejected
        ("2026-10-12 09:00:00-14:30", None),
        ("2026-10-12 09:00:00+08:60", None),
        ("2026-10-12 12:00:00+14:00", D(2026, 10, 12, 6, 0)),  # the furthest real offset: 22:00 UTC on the 11th
        ("2026-10-12T01:00:00Z", D(2026, 10, 12, 9, 0)),
    ],
)
def test_impossible_offsets_are_rejected_real_ones_respected(tmp_path, tmp_db, submitted, expected):
    rows = [*good(3), f"Z1,临时救助申请,民政办,窗口,{submitted},,,5个工作日,1,5"]  # line 5
    result = ingest_file(tmp_db, write(tmp_path, "offsets.csv", rows))
    if expected is None:
        assert result.rejected_by_reason == {"bad_offset": 1}
        got = tmp_db.cursor().execute("SELECT row_number, reason, column_name, value FROM rejected_rows").fetchall()
        assert got == [(5, "bad_offset", "submitted_at", submitted)]
    else:
        assert result.rows_rejected == 0 and case(tmp_db, "Z1", "submitted_at") == (expected,)


def test_every_code_has_words():
    for code in WARNING_REASONS + ("bad_offset", "future_time"):
        zh, en = REASONS[code].zh, REASONS[code].en
        assert zh and en and zh != en


# --- part 5: future times -----------------------------------------------------------------------------------


def test_times_after_now_are_rejected_as_future(tmp_path, tmp_db):
    rows = [
        *good(8),
        "F1,临时救助申请,民政办,窗口,2027-11-02 09:00,,,5个工作日,1,5",  # line 10: next year
        "F2,临时救助申请,民政办,窗口,2026-11-20 12:11,,,5个工作日,1,5",  # line 11: 11 minutes ahead
        "F3,临时救助申请,民政办,窗口,2026-11-20 12:09,,,5个工作日,1,5",  # within the 10 minutes' tolerance
        "F4,临时救助申请,民政办,窗口,2026-11-19 09:00,2026-11-19 09:30,2026-12-01 09:00,5个工作日,1,5",  # line 13
        "F5,临时救助申请,民政办,窗口,2026-11-19 09:00,2026-11-21 09:30,,5个工作日,1,5",  # line 14: accepted
        "F6,临时救助申请,民政办,窗口,1999-12-31 09:00,,,5个工作日,1,5",  # line 15: before 2000
    ]
    result = ingest_file(tmp_db, write(tmp_path, "future.csv", rows))
    assert result.rejected_by_reason == {"future_time": 4, "time_out_of_range": 1}
    got = (
        tmp_db.cursor()
        .execute("SELECT row_number, reason, column_name, value FROM rejected_rows ORDER BY row_number")
        .fetchall()
    )
    assert got == [
        (10, "future_time", "submitted_at", "2027-11-02 09:00"),
        (11, "future_time", "submitted_at", "2026-11-20 12:11"),
        (13, "future_time", "completed_at", "2026-12-01 09:00"),
        (14, "future_time", "accepted_at", "2026-11-21 09:30"),
        (15, "time_out_of_range", "submitted_at", "1999-12-31 09:00"),
    ]
    # The dashboard's latest month is this one, not 2027-11; the words say what happened.
    assert tmp_db.cursor().execute("SELECT max(submitted_at) FROM cases").fetchone()[0] == D(2026, 11, 20, 12, 9)
    assert "未来" in REASONS["future_time"].zh and "未来" not in REASONS["time_out_of_range"].zh


def test_future_event_times_are_rejected(tmp_path, tmp_db):
    header = "办件编号,环节名称,办理部门,开始时间,完成时间"
    rows = [f"E{i},受理,民政办,2026-10-12 09:00,2026-10-12 10:00" for i in range(6)] + [
        "E9,受理,民政办,2026-10-12 09:00,2026-12-12 10:00",  # line 8: event time
        "E9,审核,民政办,2026-12-12 09:00,2026-12-12 10:00",  # line 9: both; the event time is named first
    ]
    result = ingest_file(tmp_db, write(tmp_path, "events.csv", rows, header))
    assert (result.events_loaded, result.rejected_by_reason) == (6, {"future_time": 2})
    got = tmp_db.cursor().execute("SELECT row_number, column_name FROM rejected_rows ORDER BY 1").fetchall()
    assert got == [(8, "event_time"), (9, "event_time")]


# --- part 6: conflicting exports: the data decides, not the load order ------------------------------------

CASE_COLUMNS = "case_id, status, submitted_at, accepted_at, completed_at, department, due_at, visits"

#: The newer export: A1 completed, A2 rejected, A3 accepted (still open), A5 completed later, A6 as in the old.
NEW = [
    "A1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-14 15:00,3个工作日,1,5",
    "A2,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-13 15:00,3个工作日,1,",
    "A3,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,3个工作日,1,",
    "A5,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-20 15:00,3个工作日,2,4",
    "A6,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,3个工作日,1,",
]
#: The older export of the same cases (A4 only here): each row is an earlier state of its case.
OLD = [
    "A1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,3个工作日,1,",
    "A2,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,3个工作日,1,",
    "A3,临时救助申请,民政办,窗口,2026-10-12 09:00,,,3个工作日,1,",
    "A4,临时救助申请,民政办,窗口,2026-10-12 09:00,,,3个工作日,1,",
    "A5,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,2026-10-15 15:00,3个工作日,1,4",
    "A6,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,3个工作日,1,",
]
STATUS_HEADER = HEADER + ",办件状态"


def export(rows: list[str], rejected: str | None = None) -> list[str]:
    return [r + ("," + (rejected if rejected and r.startswith("A2,") else "")) for r in rows]


def current_cases(db) -> list[tuple]:
    return db.cursor().execute(f"SELECT {CASE_COLUMNS} FROM cases ORDER BY case_id").fetchall()


def load_pair(tmp_path, db, order: str):
    new = write(tmp_path, "new.csv", export(NEW, "不予受理"), STATUS_HEADER)
    old = write(tmp_path, "old.csv", export(OLD), STATUS_HEADER)
    first, second = (new, old) if order == "new_first" else (old, new)
    return ingest_file(db, first), ingest_file(db, second)


def test_an_older_export_loaded_after_a_newer_one_changes_nothing(tmp_path, tmp_db):
    r_new, r_old = load_pair(tmp_path, tmp_db, "new_first")
    # A1 (completed > open), A2 (rejected > open), A3 (accepted > not), A5 (completed 20 Oct > 15 Oct): 4 rows older.
    # A6 is the same in both (a tie: the later load counts, nothing older); A4 is new.
    assert (r_new.rows_superseded, r_old.rows_superseded) == (0, 4)
    assert any("4 行比库中已有的记录旧" in w for w in r_old.warnings)
    got = {row[0]: row for row in current_cases(tmp_db)}
    assert got["A1"][1:5] == ("completed", D(2026, 10, 12, 9), D(2026, 10, 12, 9, 30), D(2026, 10, 14, 15))
    assert got["A2"][1] == "rejected"
    assert got["A3"][3] == D(2026, 10, 12, 9, 30)
    assert got["A5"][4] == D(2026, 10, 20, 15) and got["A5"][7] == 2
    assert got["A4"][1] == "open"
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 6
    winners = dict(cur.execute("SELECT case_id, upload_id FROM cases").fetchall())
    assert winners == {
        "A1": r_new.upload_id, "A2": r_new.upload_id, "A3": r_new.upload_id, "A5": r_new.upload_id,
        "A4": r_old.upload_id, "A6": r_old.upload_id,
    }  # fmt: skip


def test_either_order_gives_the_same_current_cases(tmp_path, tmp_db):
    from store.db import Database

    load_pair(tmp_path, tmp_db, "new_first")

    other = Database(tmp_path / "other.duckdb")
    try:
        r_old, r_new = load_pair(tmp_path, other, "old_first")
        assert (r_old.rows_superseded, r_new.rows_superseded) == (0, 0)
        assert current_cases(other) == current_cases(tmp_db)
    finally:
        other.close()


def test_removing_an_upload_recomputes_by_the_same_rule(tmp_path, tmp_db):
    r_new, r_old = load_pair(tmp_path, tmp_db, "new_first")
    before = current_cases(tmp_db)
    # Removing the older export changes nothing but A4 (only it had A4) and A6 (its tie goes back to the new one).
    remove_upload(tmp_db, r_old.upload_id)
    after = {row[0]: row for row in current_cases(tmp_db)}
    assert set(after) == {"A1", "A2", "A3", "A5", "A6"}
    assert [after[row[0]] for row in before if row[0] != "A4"] == [row for row in before if row[0] != "A4"]
    # Removing the newer one instead leaves the older export's states, the only ones left.
    ingest_file(tmp_db, tmp_path / "old.csv")
    remove_upload(tmp_db, r_new.upload_id)
    got = {row[0]: row for row in current_cases(tmp_db)}
    assert got["A1"][1] == "open" and got["A1"][4] is None
    assert got["A5"][4] == D(2026, 10, 15, 15)


def test_an_older_step_export_does_not_replace_the_newer_events(tmp_path, tmp_db):
    header = "办件编号,环节名称,办理部门,完成时间"
    new = [
        "S1,受理,民政办,2026-10-12 09:00",
        "S1,审核,民政办,2026-10-13 09:00",
        "S1,办结,民政办,2026-10-14 09:00",
        *[f"T{i},受理,民政办,2026-10-12 09:00" for i in range(3)],
    ]
    old = [
        "S1,受理,民政办,2026-10-12 09:00",
        "S1,审核,民政办,2026-10-13 09:00",
        "T0,受理,民政办,2026-10-12 09:00",
        "U1,受理,民政办,2026-10-12 09:00",  # a case finished in this file: it uses completion steps too
        "U1,办结,民政办,2026-10-12 10:00",
    ]
    r_new = ingest_file(tmp_db, write(tmp_path, "steps_new.csv", new, header))
    r_old = ingest_file(tmp_db, write(tmp_path, "steps_old.csv", old, header))
    # S1's two older events lose to its three newer ones; T0's one event ties (same last time, same count): later load.
    assert r_old.rows_superseded == 2
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*) FROM events WHERE case_id = 'S1'").fetchone()[0] == 3
    assert cur.execute("SELECT status, completed_at FROM cases WHERE case_id = 'S1'").fetchone() == (
        "completed",
        D(2026, 10, 14, 9),
    )
    assert cur.execute("SELECT upload_id FROM events WHERE case_id = 'T0'").fetchone()[0] == r_old.upload_id
    remove_upload(tmp_db, r_new.upload_id)
    assert cur.execute("SELECT count(*) FROM events WHERE case_id = 'S1'").fetchone()[0] == 2


def test_field_warnings_are_listed_for_the_quality_page(tmp_path, tmp_db):
    from ingest.quality import field_warnings_by_reason, field_warnings_of_upload
    from ingest.rejects import rejects_table

    rows = [*good(3), "Q1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-12 09:30,,-5,-3,6"]  # line 5
    result = ingest_file(tmp_db, write(tmp_path, "quality.csv", rows))
    cur = tmp_db.cursor()
    by_reason = field_warnings_by_reason(cur)
    assert sorted(zip(by_reason["reason"], by_reason["column_name"], by_reason["rows"], strict=True)) == [
        ("bad_promised_limit", "promised", 1),
        ("bad_satisfaction", "satisfaction", 1),
        ("bad_visits", "visits", 1),
    ]
    table = rejects_table(field_warnings_of_upload(cur, result.upload_id), "zh")
    assert list(table["行号"]) == [5, 5, 5] and list(table["值"]) == ["-5", "6", "-3"]
    assert table["原因"].iloc[0] == REASONS["bad_promised_limit"].zh
    remove_upload(tmp_db, result.upload_id)
    assert field_warnings_by_reason(cur).empty
