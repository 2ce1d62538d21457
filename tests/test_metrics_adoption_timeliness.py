"""Online adoption and timeliness tables on the hand-built October log (see conftest_metrics.py).

October period cases: C1 (A, X, online), C2 (A, X, mobile), C3 (B, Y, window), C4 (B, Y, window),
C5 (A, Z, window, open), C6 (A, Z, online, open), C9 (A, X, window, rejected). September: C7 (B, Y,
open backlog), C8 (A, X, completed). November: C10 (A, X, online).
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest_metrics import (
    OCTOBER,
    OCTOBER_CASES,
    A,
    B,
    X,
    Y,
    Z,
    database_fixture,
    fill_october,
    insert_cases,
    new_db,
)

from metrics import adoption, timeliness
from metrics.filters import Filters

db = database_fixture(fill_october)


def test_online_rate_by_department(cur) -> None:
    t = adoption.online_rate_by_department(cur, OCTOBER).set_index("department")
    # A: C1, C2, C5, C6, C9 -> online C1, C2, C6 = 3/5. Fully online: known channel and visits C1, C2, C6, C9
    # (C5 unknown) -> C1 (posted), C6 = 2/4 (C2 fetched the result at the window).
    assert t.loc[A, ["cases", "online_cases", "channel_known"]].tolist() == [5, 3, 5]
    assert t.loc[A, "online_rate"] == pytest.approx(0.6)
    assert t.loc[A, ["fully_online_cases", "fully_online_known"]].tolist() == [2, 4]
    assert t.loc[B, "online_rate"] == 0 and t.loc[B, "cases"] == 2


def test_online_rate_by_item_and_month(cur) -> None:
    items = adoption.online_rate_by_item(cur, OCTOBER).set_index("service_item")
    # X: C1, C2, C9 -> 2/3; Y: 0/2; Z: C6 of C5, C6 -> 1/2.
    assert items["online_rate"].to_dict() == pytest.approx({X: 2 / 3, Y: 0, Z: 0.5})
    months = adoption.online_rate_by_period(cur, Filters(dt.date(2026, 9, 1), dt.date(2026, 11, 30)))
    # September C7, C8 window; October 3/7; November C10 online.
    assert months["period_start"].tolist() == [dt.date(2026, m, 1) for m in (9, 10, 11)]
    assert months["online_cases"].tolist() == [0, 3, 1]
    assert months["channel_known"].tolist() == [2, 7, 1]


def test_channel_mix(cur) -> None:
    mix = adoption.channel_mix(cur, OCTOBER)
    got = {r.channel: (r.cases, r.share) for r in mix.itertuples()}
    assert got == {"window": (4, pytest.approx(4 / 7)), "online": (2, pytest.approx(2 / 7)),
                   "mobile": (1, pytest.approx(1 / 7))}  # fmt: skip
    assert set(mix["period_start"]) == {dt.date(2026, 10, 1)}


def test_name_only_items_with_catalogue(cur) -> None:
    flagged = adoption.name_only_items(cur, OCTOBER, min_cases=2)
    # Y: online-capable, 2 cases, none online. X: 2 of 3 online. Z: not online-capable.
    assert flagged["service_item"].tolist() == [Y]
    assert flagged.iloc[0][["cases", "online_cases", "online_share"]].tolist() == [2, 0, 0.0]
    every = adoption.name_only_items(cur, OCTOBER, min_cases=2, all_items=True).set_index("service_item")
    assert every["name_only"].to_dict() == {X: False, Y: True, Z: False}
    assert every["catalog_online_capable"].to_dict() == {X: True, Y: True, Z: False}
    # A threshold of 70%: X's 2/3 online share is below it too.
    assert set(adoption.name_only_items(cur, OCTOBER, threshold=0.7, min_cases=2)["service_item"]) == {X, Y}
    assert adoption.name_only_items(cur, OCTOBER).empty  # default: at least 10 cases


def test_name_only_items_without_catalogue() -> None:
    db = new_db()
    insert_cases(db, OCTOBER_CASES)
    flagged = adoption.name_only_items(db.cursor(), OCTOBER, min_cases=2)
    # Items with at least 2 cases and not one online case: Y only (X and Z have online cases).
    assert flagged["service_item"].tolist() == [Y]
    assert not flagged.iloc[0]["has_catalog"]
    db.close()


def test_department_processing(cur) -> None:
    t = timeliness.department_processing(cur, OCTOBER).set_index("department")
    # B: C3 8.25 / 10.25 days, C4 3.0416667 / 5.0416667, both late. Open at 10-31: C4, C7; C7 overdue, C4 at risk.
    b = t.loc[B]
    assert (b.cases, b.completed, b.with_due, b.overdue_completed, b.open_cases, b.open_overdue, b.at_risk) == (
        2, 2, 2, 2, 2, 1, 1,
    )  # fmt: skip
    assert b.median_working_days == pytest.approx((8.25 + 3 + 1 / 24) / 2)
    assert b.total_natural_days == pytest.approx(15 + 7 / 24)
    assert b.on_time_rate == 0 and b.overdue_rate == 1
    # A: completed C1 (3.0 natural days), C2 (0.25); C9 was rejected. Open at 10-31: C5 (overdue), C6.
    a = t.loc[A]
    assert (a.cases, a.completed, a.on_time, a.open_cases, a.open_overdue, a.at_risk) == (5, 2, 2, 2, 1, 0)
    assert a.mean_natural_days == pytest.approx(1.625)
    assert a.share_of_processing_time == pytest.approx(3.25 / (3.25 + 15 + 7 / 24))
    assert a.speedup_rate == pytest.approx((0.6 + 0.95) / 2)


def test_overdue_by_department_is_department_processing_in_short(cur) -> None:
    lean = timeliness.overdue_by_department(cur, OCTOBER).set_index("department")
    full = timeliness.department_processing(cur, OCTOBER).set_index("department")
    columns = ["with_due", "overdue_completed", "open_cases", "open_overdue"]
    assert lean[columns].to_dict() == full[columns].to_dict()
    assert tuple(lean.loc[B, columns]) == (2, 2, 2, 1)  # B: both completed late; C4, C7 open, C7 overdue


def test_processing_time_by_item(cur) -> None:
    t = timeliness.processing_time_by_item(cur, OCTOBER).set_index("service_item")
    # X: C1 2.0, C2 0.25 working days, both promised 5: median 1.125, p25 0.25 + 0.25 * 1.75 = 0.6875.
    x = t.loc[X]
    assert (x.completed, x.promised_days, x.promised_unit, x.within_promised) == (2, 5, "working", 2)
    assert (x.median_days, x.p25_days, x.max_days) == pytest.approx((1.125, 0.6875, 2.0))
    assert x.within_promised_rate == 1 and x.speedup_rate == pytest.approx(0.775) and x.on_time_rate == 1
    # Y: C3 8.25 > 5 promised; C4 3.0416667 > 2 promised -> none within.
    assert t.loc[Y, "within_promised"] == 0 and t.loc[Y, "within_promised_rate"] == 0
    hist = timeliness.processing_time_histogram(cur, OCTOBER, bin_days=1)
    got = {(r.service_item, r.bin_start): r.cases for r in hist.itertuples()}
    assert got == {(X, 0.0): 1, (X, 2.0): 1, (Y, 3.0): 1, (Y, 8.0): 1}


def test_case_lists_as_of(cur) -> None:
    overdue = timeliness.open_overdue_cases(cur, OCTOBER)
    # C7 due 10-09, C5 due 10-23. Working days overdue at 10-31: C7 10-10, 12..16, 19..23, 26..30 = 16;
    # C5 10-26..30 = 5.
    assert overdue["case_id"].tolist() == ["C7", "C5"]
    assert overdue["workdays_overdue"].tolist() == [16, 5]
    assert set(overdue.columns).isdisjoint({"applicant_key"})
    risk = timeliness.at_risk_cases(cur, OCTOBER)
    assert risk["case_id"].tolist() == ["C4"] and risk["workdays_left"].tolist() == [1]  # due Mon 11-02
    # Within 3 working days C6 (due 11-04) joins.
    assert timeliness.at_risk_cases(cur, OCTOBER, within_workdays=3)["case_id"].tolist() == ["C4", "C6"]
    # As of 10-22 (Thu): C5 (due 10-23) is at risk, C7 overdue, C3 (due 10-20, completed 10-23) overdue.
    early = timeliness.open_overdue_cases(cur, OCTOBER, as_of=dt.date(2026, 10, 22))
    assert early["case_id"].tolist() == ["C7", "C3"]
    assert timeliness.at_risk_cases(cur, OCTOBER, as_of=dt.date(2026, 10, 22))["case_id"].tolist() == ["C5"]


def test_calendar_warning() -> None:
    db = new_db()
    # The calendar holds official years, then 3 weekend-rule years, then nothing.
    last_official = db.cursor().execute("SELECT max(year(day)) FROM calendar WHERE source = 'official'").fetchone()[0]
    ahead, beyond = last_official + 1, last_official + 5
    insert_cases(
        db,
        [
            dict(case_id="in", submitted_at="2026-03-03 09:00", completed_at="2026-03-04 09:00"),
            dict(case_id="ahead", submitted_at=f"{ahead}-03-05 09:00"),
            dict(case_id="beyond", submitted_at=f"{beyond}-03-05 09:00", completed_at=f"{beyond}-03-06 09:00"),
        ],
    )
    cur = db.cursor()
    assert timeliness.calendar_warning(cur, Filters.month("2026-03")) is None
    warning = timeliness.calendar_warning(cur, Filters())
    assert (warning["weekend_rule_years"], warning["missing_years"]) == ([ahead], [beyond])
    assert f"{ahead} 年的节假日安排尚未导入" in warning["zh"] and str(beyond) in warning["en"]
    db.close()
