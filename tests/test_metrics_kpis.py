"""Every KPI of the catalogue on a small hand-built log, with the expected values worked out by hand.

The log (OCTOBER_CASES, OTHER_CASES, CATALOG) lives in conftest_metrics.py with the arithmetic of
each case's working days and due date in its comments. The calendar facts the arithmetic relies on (checked against chinese_calendar in
``test_calendar_facts``): 2026-10-01..07 are the National Day holidays, Saturday 2026-10-10 is a
make-up workday, 2026-09-25 (Fri) is the Mid-autumn holiday, Saturday 2026-10-31 and Sunday
2026-11-01 are rest days. Working time is counted on a 24-hour working-day clock: a working day
contributes the elapsed fraction of its 24 hours, rest days contribute nothing. A due date of N
working days is the end (23:59:59) of the N-th working day after the day of submission.
"""

from __future__ import annotations

import datetime as dt
import json

import chinese_calendar
import pytest
from conftest_metrics import (
    OCTOBER,
    A,
    B,
    X,
    Z,
    database_fixture,
    fill_october,
    insert_cases,
    new_db,
)

from metrics.catalog import KPI_IDS, KPIS, REASON_NOT_BY_CHANNEL, get
from metrics.filters import Filters, where_clause
from metrics.kpis import compute_kpis, kpi_series, kpis_by, to_wide

db = database_fixture(fill_october)


def test_calendar_facts() -> None:
    assert all(chinese_calendar.is_holiday(dt.date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(dt.date(2026, 10, 10))  # Saturday, make-up workday
    assert chinese_calendar.is_holiday(dt.date(2026, 9, 25))
    assert not chinese_calendar.is_workday(dt.date(2026, 10, 31))
    assert not chinese_calendar.is_workday(dt.date(2026, 11, 1))


def test_derived_due_dates_and_working_days(cur) -> None:
    rows = dict(
        (r[0], r[1:])
        for r in cur.execute(
            "SELECT case_id, due_at, processing_days_working, processing_days_natural FROM cases"
        ).fetchall()
    )
    assert rows["C1"][0] == dt.datetime(2026, 10, 15, 23, 59, 59)
    assert rows["C1"][1] == pytest.approx(2.0)
    assert rows["C3"][0] == dt.datetime(2026, 10, 20, 23, 59, 59)
    assert rows["C3"][1] == pytest.approx(8.25)
    assert rows["C4"][0] == dt.datetime(2026, 11, 2, 23, 59, 59)
    assert rows["C4"][1] == pytest.approx(3 + 1 / 24)
    assert rows["C7"][0] == dt.datetime(2026, 10, 9, 23, 59, 59)


def _rate(r: dict, num: float, den: float) -> None:
    assert r["numerator"] == pytest.approx(num)
    assert r["denominator"] == den
    assert r["value"] == pytest.approx(num / den)
    assert r["reason"] is None


def test_every_kpi_for_october(cur) -> None:
    k = compute_kpis(cur, OCTOBER, name_only_min_cases=2)
    assert list(k) == list(KPI_IDS)
    # Period cases: C1, C2, C3, C4, C5, C6, C9 (C7, C8 are September, C10 November).
    assert k["cases"] == {"value": 7, "reason": None}
    # online: C1 online, C2 mobile, C6 online; all 7 channels known.
    _rate(k["online_rate"], 3, 7)
    # Known channel and visits: all but C5 -> 6. Fully online: C1 (posted), C6 (no delivery info); C2 fetched
    # at the window.
    _rate(k["fully_online_rate"], 2, 6)
    # Catalogue: X, Y, W online-capable of 4.
    _rate(k["online_capable_rate"], 3, 4)
    # Known visits: C1 0, C2 0, C3 2, C4 1, C6 0, C9 1 -> zero 3/6, at most one 5/6.
    _rate(k["zero_visit_rate"], 3, 6)
    _rate(k["max_one_visit_rate"], 5, 6)
    # Completed: C1 2.0, C2 0.25, C3 8.25, C4 3.0416667 working days -> sorted 0.25, 2.0, 3.0417, 8.25.
    # Median (2.0 + 3.0416667) / 2 = 2.5208333; natural (3.0 + 5.0416667) / 2 = 4.0208333.
    med = k["median_processing_days"]
    assert med["value"] == pytest.approx((2.0 + 3 + 1 / 24) / 2)
    assert med["natural_value"] == pytest.approx((3.0 + 5 + 1 / 24) / 2)
    assert med["n"] == 4
    # p90 (linear): position 0.9 * 3 = 2.7 -> 3.0416667 + 0.7 * (8.25 - 3.0416667) = 6.6875;
    # natural 5.0416667 + 0.7 * (10.25 - 5.0416667) = 8.6875.
    assert k["p90_processing_days"]["value"] == pytest.approx(6.6875)
    assert k["p90_processing_days"]["natural_value"] == pytest.approx(8.6875)
    # Completed with a due date: C1, C2 on time; C3, C4 late.
    _rate(k["on_time_rate"], 2, 4)
    _rate(k["overdue_rate"], 2, 4)
    # Open at the end of 10-31: C4 (completed in November), C5, C6, C7 (September backlog). Overdue: C5, C7.
    assert k["open_overdue_cases"] == {"value": 2, "reason": None}
    # At risk: C4 (due Mon 11-02, the next working day); C6 is due on the 3rd working day.
    assert k["at_risk_cases"] == {"value": 1, "reason": None}
    # Speed-up: C1 1 - 2/5 = 0.6, C2 1 - 0.25/5 = 0.95, C3 1 - 8.25/5 = -0.65, C4 1 - 3.0416667/2 = -0.5208333.
    _rate(k["speedup_rate"], 0.6 + 0.95 - 0.65 - (3 + 1 / 24) / 2 + 1, 4)
    _rate(k["compression_rate"], 0.75 + 0.5, 2)
    # Completed with known resubmissions: C1 0, C2 0, C3 1, C4 0 -> 3/4; all known: + C6 0 -> 1 of 5 resubmitted.
    _rate(k["first_pass_rate"], 3, 4)
    _rate(k["resubmission_rate"], 1, 5)
    # Ratings: C1 5, C2 4, C3 2 -> good 2/3, bad 1, rated 3 of 4 completed.
    _rate(k["good_rating_rate"], 2, 3)
    assert k["bad_ratings"] == {"value": 1, "reason": None}
    _rate(k["rating_participation"], 3, 4)
    # 摆设 with min 2 cases: Y (online-capable, 2 cases, 0 online). X has 2 of 3 online; Z is not online-capable.
    assert k["name_only_items"] == {"value": 1, "reason": None}


def test_name_only_needs_real_volume(cur) -> None:
    assert compute_kpis(cur, OCTOBER, ["name_only_items"])["name_only_items"]["value"] == 0  # default min 10 cases


def test_json_serialisable_and_stable_shape(cur) -> None:
    k = compute_kpis(cur, OCTOBER)
    again = json.loads(json.dumps(k, ensure_ascii=False))
    assert again == k
    for kpi in KPIS:
        expected = {"rate": {"value", "numerator", "denominator", "reason"}, "count": {"value", "reason"},
                    "days": {"value", "natural_value", "n", "reason"}}[kpi.unit]  # fmt: skip
        assert set(k[kpi.id]) == expected, kpi.id


def test_filters_department_item_channel(cur) -> None:
    b = compute_kpis(cur, Filters.month("2026-10", departments=[B]))
    # B's October cases: C3, C4, both window.
    assert b["cases"]["value"] == 2
    _rate(b["online_rate"], 0, 2)
    # B's backlog at 10-31: C4 (at risk) and C7 (overdue).
    assert b["open_overdue_cases"]["value"] == 1
    assert b["at_risk_cases"]["value"] == 1
    # The catalogue is filtered by its own department: Y only.
    _rate(b["online_capable_rate"], 1, 1)
    by_code = compute_kpis(cur, Filters.month("2026-10", items=["Y01"]), ["cases", "online_rate"])
    assert by_code["cases"]["value"] == 2
    online = compute_kpis(cur, Filters.month("2026-10", channels=["online", "mobile"]), ["cases", "online_rate"])
    assert online["cases"]["value"] == 3  # C1, C2, C6
    _rate(online["online_rate"], 3, 3)
    # A date range across the month end: 10-29..11-02 holds C4, C6 (October) and C10 (November).
    span = compute_kpis(cur, Filters(dt.date(2026, 10, 29), dt.date(2026, 11, 2)), ["cases", "open_overdue_cases"])
    assert span["cases"]["value"] == 3
    # As of the end of 11-02: open C5 (overdue), C6 (due 11-04), C7 (overdue), C4 (due 11-02 23:59:59: overdue).
    assert span["open_overdue_cases"]["value"] == 3


def test_where_clause_binds_every_value() -> None:
    f = Filters.month("2026-10", departments=["x'; DROP TABLE cases; --"], items=["a"], channels=["online"])
    sql, params = where_clause(f, "c")
    assert "DROP" not in sql and "2026" not in sql and "online" not in sql
    assert len(params) == 5
    assert where_clause(Filters(), "c")[0] == "true"


def test_filters_helpers() -> None:
    f = Filters.month("2026-02")
    assert (f.start, f.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert f.previous_period() == Filters.month("2026-01")
    assert Filters.month("2026-03").previous_period() == f
    assert f.as_of() == dt.date(2026, 2, 28)
    assert f.label() == "2026-02"
    with pytest.raises(ValueError):
        Filters.month("2026-13")
    with pytest.raises(ValueError):
        Filters(dt.date(2026, 2, 2), dt.date(2026, 2, 1))
    assert Filters(departments=["a"]).departments == ("a",)


def test_kpis_by_department(cur) -> None:
    frame = kpis_by(cur, OCTOBER, "department", ["cases", "online_rate", "open_overdue_cases", "online_capable_rate"])
    wide = to_wide(frame, "department", with_counts=True).set_index("department")
    # A: C1, C2, C5, C6, C9 (online: C1, C2, C6); B: C3, C4. 卫健办 only appears in the catalogue.
    assert wide.loc[A, "cases"] == 5 and wide.loc[B, "cases"] == 2 and wide.loc["卫健办", "cases"] == 0
    assert (wide.loc[A, "online_rate_numerator"], wide.loc[A, "online_rate_denominator"]) == (3, 5)
    assert wide.loc[B, "online_rate"] == 0
    assert wide.loc["卫健办", "online_rate"] is None
    assert wide.loc[A, "open_overdue_cases"] == 1 and wide.loc[B, "open_overdue_cases"] == 1  # C5; C7
    # Catalogue by its department: A has X (yes) and Z (no); 卫健办 W (yes).
    assert (wide.loc[A, "online_capable_rate_numerator"], wide.loc[A, "online_capable_rate_denominator"]) == (1, 2)
    assert wide.loc["卫健办", "online_capable_rate"] == 1
    assert list(wide.index) == [A, B, "卫健办"]  # by period cases, largest first


def test_kpis_by_channel_says_catalogue_does_not_apply(cur) -> None:
    frame = kpis_by(cur, OCTOBER, "channel", ["cases", "online_capable_rate"])
    cases = frame[frame.kpi_id == "cases"].set_index("channel")["value"].to_dict()
    assert cases == {"window": 4, "online": 2, "mobile": 1}
    capable = frame[frame.kpi_id == "online_capable_rate"]
    assert capable["value"].isna().all()
    assert set(capable["reason_zh"]) == {REASON_NOT_BY_CHANNEL["zh"]}


def test_monthly_series_includes_every_month_and_as_of_each_month_end(cur) -> None:
    frame = kpi_series(
        cur,
        Filters(dt.date(2026, 9, 1), dt.date(2026, 12, 31)),
        "month",
        ["cases", "online_rate", "open_overdue_cases", "at_risk_cases", "online_capable_rate"],
    )
    wide = to_wide(frame, "period_start").set_index("period_start")
    months = [dt.date(2026, m, 1) for m in (9, 10, 11, 12)]
    assert list(wide.index) == months
    # cases: Sep C7, C8; Oct 7; Nov C10; Dec none (0, and the online rate unknown, not 0).
    assert list(wide["cases"]) == [2, 7, 1, 0]
    assert wide.loc[months[3], "online_rate"] is None
    assert wide.loc[months[2], "online_rate"] == 1.0
    # As of 09-30: C7 open, due 10-09 = 2 working days later (10-08, 10-09) -> at risk, not overdue.
    # As of 10-31: C5, C7 overdue; C4 at risk. As of 11-30: C5, C6, C7 open and overdue.
    assert list(wide["open_overdue_cases"]) == [0, 2, 3, 3]
    assert list(wide["at_risk_cases"]) == [1, 1, 0, 0]
    assert set(wide["online_capable_rate"]) == {0.75}  # the catalogue is the same every month
    dec = frame[(frame.period_start == months[3]) & (frame.kpi_id == "online_rate")].iloc[0]
    assert dec["reason_en"].startswith("no cases with a known channel")


def test_weekly_series_buckets_start_on_monday(cur) -> None:
    frame = kpi_series(cur, OCTOBER, "week", ["cases"])
    starts = list(frame["period_start"])
    assert starts[0] == dt.date(2026, 9, 28) and all(d.weekday() == 0 for d in starts)
    assert sum(frame["value"]) == 7
    # Week of 10-26: C4 (10-29), C6 (10-30).
    assert frame.set_index("period_start").loc[dt.date(2026, 10, 26), "value"] == 2
    assert frame.iloc[-1]["as_of"] == dt.date(2026, 10, 31)  # capped at the period end


def test_empty_period_is_no_data_not_zero(cur) -> None:
    k = compute_kpis(cur, Filters.month("2027-03"))
    assert k["cases"]["value"] == 0
    for kpi in KPIS:
        if kpi.unit in ("rate", "days") and kpi.scope == "period":
            assert k[kpi.id]["value"] is None and k[kpi.id]["reason"], kpi.id


def test_missing_fields_are_unknown_not_zero() -> None:
    db = new_db()
    # A bare export: no visits, ratings, resubmissions, promised times or due dates; no catalogue.
    insert_cases(db, [
        dict(case_id="M1", service_item=X, department=A, channel="window",
             submitted_at="2026-10-12 09:00", completed_at="2026-10-12 12:00"),
        dict(case_id="M2", service_item=X, department=A, channel="window", submitted_at="2026-10-13 09:00"),
    ])  # fmt: skip
    k = compute_kpis(db.cursor(), OCTOBER, name_only_min_cases=2)
    for kpi_id, word in [
        ("zero_visit_rate", "跑动次数"), ("max_one_visit_rate", "跑动次数"), ("fully_online_rate", "跑动次数"),
        ("good_rating_rate", "满意度"), ("bad_ratings", "满意度"), ("rating_participation", "满意度"),
        ("first_pass_rate", "补正"), ("resubmission_rate", "补正"), ("on_time_rate", "时限"),
        ("overdue_rate", "时限"), ("open_overdue_cases", "时限"), ("at_risk_cases", "时限"),
        ("speedup_rate", "承诺时限"), ("online_capable_rate", "事项目录"), ("compression_rate", "事项目录"),
    ]:  # fmt: skip
        assert k[kpi_id]["value"] is None, kpi_id
        assert word in k[kpi_id]["reason"]["zh"], (kpi_id, k[kpi_id]["reason"])
        assert k[kpi_id]["reason"]["en"]
    assert k["cases"]["value"] == 2
    _rate(k["online_rate"], 0, 2)
    # Without a catalogue: an item with cases (2 >= min 2) and no online case is 摆设.
    assert k["name_only_items"]["value"] == 1
    db.close()


def test_field_known_elsewhere_but_not_in_selection_is_unknown(cur) -> None:
    # B's October cases have visits, A's open C5 has none; filtering to C5's item leaves no known visit.
    k = compute_kpis(cur, Filters.month("2026-10", items=[Z]), ["zero_visit_rate", "rating_participation"])
    # Z: C5 (visits unknown), C6 (visits 0) -> 1/1 known. Ratings: no completed case -> unknown, not 0.
    _rate(k["zero_visit_rate"], 1, 1)
    assert k["rating_participation"]["value"] is None
    assert k["rating_participation"]["denominator"] == 0
    only_c5 = compute_kpis(cur, Filters(dt.date(2026, 10, 20), dt.date(2026, 10, 20)), ["zero_visit_rate"])
    assert only_c5["zero_visit_rate"]["value"] is None and only_c5["zero_visit_rate"]["denominator"] == 0


def test_spring_festival_case() -> None:
    """A case across the 2026 Spring Festival: 02-15..02-23 holidays, Saturday 02-14 a make-up workday."""
    assert chinese_calendar.is_workday(dt.date(2026, 2, 14))
    assert all(chinese_calendar.is_holiday(dt.date(2026, 2, d)) for d in range(15, 24))
    assert chinese_calendar.is_workday(dt.date(2026, 2, 24))
    db = new_db()
    insert_cases(db, [
        # Fri 02-13 10:00 -> Tue 02-24 10:00: working 14/24 + 1 (02-14) + 0 (02-15..23) + 10/24 = 2.0; natural 11.0.
        # Due 3 working days after 02-13: 02-14, 02-24, 02-25 -> on time. Speed-up 1 - 2/3.
        dict(case_id="S1", service_item=X, department=A, channel="window", promised_days=3,
             submitted_at="2026-02-13 10:00", completed_at="2026-02-24 10:00"),
        # Open, due 2 working days after Thu 02-12: 02-13, 02-14 -> 02-14 23:59:59.
        dict(case_id="S2", service_item=X, department=A, channel="window", promised_days=2,
             submitted_at="2026-02-12 09:00"),
        # Open, due 1 working day after Sat 02-14 (a workday): 02-24.
        dict(case_id="S3", service_item=X, department=A, channel="window", promised_days=1,
             submitted_at="2026-02-14 09:00"),
    ])  # fmt: skip
    cur = db.cursor()
    feb = Filters.month("2026-02")
    k = compute_kpis(cur, feb, ["median_processing_days", "on_time_rate", "speedup_rate"])
    assert k["median_processing_days"]["value"] == pytest.approx(2.0)
    assert k["median_processing_days"]["natural_value"] == pytest.approx(11.0)
    _rate(k["on_time_rate"], 1, 1)
    _rate(k["speedup_rate"], 1 - 2 / 3, 1)
    risk = lambda day: compute_kpis(cur, feb, ["open_overdue_cases", "at_risk_cases"], as_of=day)  # noqa: E731
    # End of 02-13: S2 due 02-14 (next working day) -> at risk; S1 open too but due 02-25 (3rd working day).
    assert (
        risk(dt.date(2026, 2, 13))["open_overdue_cases"]["value"],
        risk(dt.date(2026, 2, 13))["at_risk_cases"]["value"],
    ) == (0, 1)
    # End of 02-14: S2 overdue; S3 due 02-24, the next working day although 10 days away -> at risk; S1 due
    # 02-25 = 2nd working day -> at risk.
    r = risk(dt.date(2026, 2, 14))
    assert (r["open_overdue_cases"]["value"], r["at_risk_cases"]["value"]) == (1, 2)
    db.close()


def test_catalogue_declares_every_kpi_once() -> None:
    ids = [k.id for k in KPIS]
    assert len(ids) == len(set(ids)) == 25  # 20, and the five journey (一件事) KPIs of issue 18
    for kpi in KPIS:
        assert kpi.name.zh and kpi.name.en and kpi.definition.zh and kpi.definition.en
        assert kpi.unit in ("count", "rate", "days") and isinstance(kpi.higher_is_better, bool)
        assert kpi.requires
    assert get("online_capable_rate").default_target == 0.9
    assert get("overdue_rate").meets_target(0.01) is True and get("online_rate").meets_target(None) is None
