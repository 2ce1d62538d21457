"""Bottleneck analytics on a hand-built event log; every expected number is worked out in the comments.

Attribution: the time from the previous event's completion to this event's completion belongs to
the step and department that receive the case.

Log (October 2026; 10-17/18 are a weekend):

E1  收件 窗口 10-12 09:00 | 受理 窗口 10:00 (+1 h) | 审核 自然资源所 10-14 10:00 (+48 h) | 补正 窗口 10-14 16:00 (+6 h)
    | 审核 自然资源所 10-16 10:00 (+42 h, the 2nd 审核: rework) | 办结 窗口 10-16 12:00 (+2 h)      duration 99 h
E2  收件 窗口 10-13 09:00 | 受理 窗口 09:30 (+0.5 h) | 审核 民政办 15:30 (+6 h) | 办结 窗口 10-14 09:30 (+18 h)  24.5 h
E3  收件 窗口 10-15 09:00 | 受理 窗口 11:00 (+2 h) | 审核 自然资源所 10-19 11:00 (+96 h), still open            98 h

All case time: 99 + 24.5 + 98 = 221.5 h.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest_metrics import database_fixture, insert_cases, insert_events, new_db

from metrics import bottlenecks as bn
from metrics.filters import Filters
from metrics.findings import rank_bottlenecks

W, N, M = "便民服务中心综合窗口", "自然资源所", "民政办"
EVENTS = [
    ("E1", "收件", W, "2026-10-12 09:00"), ("E1", "受理", W, "2026-10-12 10:00"),
    ("E1", "审核", N, "2026-10-14 10:00"), ("E1", "补正", W, "2026-10-14 16:00"),
    ("E1", "审核", N, "2026-10-16 10:00"), ("E1", "办结", W, "2026-10-16 12:00"),
    ("E2", "收件", W, "2026-10-13 09:00"), ("E2", "受理", W, "2026-10-13 09:30"),
    ("E2", "审核", M, "2026-10-13 15:30"), ("E2", "办结", W, "2026-10-14 09:30"),
    ("E3", "收件", W, "2026-10-15 09:00"), ("E3", "受理", W, "2026-10-15 11:00"),
    ("E3", "审核", N, "2026-10-19 11:00"),
]  # fmt: skip
CASES = [
    dict(case_id="E1", service_item="宅基地审批", department=N, channel="window",
         submitted_at="2026-10-12 09:00", completed_at="2026-10-16 12:00"),
    dict(case_id="E2", service_item="低保申请", department=M, channel="window",
         submitted_at="2026-10-13 09:00", completed_at="2026-10-14 09:30"),
    dict(case_id="E3", service_item="宅基地审批", department=N, channel="online", submitted_at="2026-10-15 09:00"),
]  # fmt: skip
TOTAL = 99 + 24.5 + 98
F = Filters(dt.date(2026, 10, 12), dt.date(2026, 10, 20))


def fill_shuffled(database) -> None:
    # Insert the events in a shuffled file order: the analysis must order by time, not by row.
    shuffled = EVENTS[::2] + EVENTS[1::2]
    insert_events(database, [dict(case_id=c, step=s, department=d, completed_at=t) for c, s, d, t in shuffled])
    insert_cases(database, CASES)


db = database_fixture(fill_shuffled)


def test_case_durations(cur) -> None:
    d = bn.case_durations(cur, F).set_index("case_id")["duration_hours"].to_dict()
    assert d == pytest.approx({"E1": 99.0, "E2": 24.5, "E3": 98.0})


def test_waiting_by_step(cur) -> None:
    s = bn.waiting_time(cur, F, "step").set_index("step")
    # 审核: waits 48, 42 (E1), 6 (E2), 96 (E3) -> sorted 6, 42, 48, 96: median 45, mean 48, total 192,
    # p90 = 48 + 0.7 * (96 - 48) = 81.6 (position 0.9 * 3 = 2.7).
    r = s.loc["审核"]
    assert (r["count"], r["cases"], r["waits"]) == (4, 3, 4)
    assert (r.median_wait_hours, r.mean_wait_hours, r.total_wait_hours, r.p90_wait_hours) == pytest.approx(
        (45, 48, 192, 81.6)
    )
    assert r.share_of_case_time == pytest.approx(192 / TOTAL)
    # 受理: 1, 0.5, 2 -> median 1, p90 1 + 0.8 * (2 - 1) = 1.8, total 3.5.
    assert (s.loc["受理"].median_wait_hours, s.loc["受理"].p90_wait_hours, s.loc["受理"].total_wait_hours) == (
        pytest.approx((1, 1.8, 3.5))
    )
    # 收件 opens every case: counted, but no waiting time.
    assert s.loc["收件"]["count"] == 3 and s.loc["收件"].waits == 0 and s.loc["收件"].total_wait_hours == 0
    # 办结: 2 and 18 -> median 10.
    assert s.loc["办结"].median_wait_hours == pytest.approx(10)
    # Without start times there is no service time, and all waiting adds up to all case time.
    assert s["services"].sum() == 0
    assert s["total_time_hours"].sum() == pytest.approx(TOTAL)
    assert s["share_of_case_time"].sum() == pytest.approx(1.0)
    assert list(s.index[:1]) == ["审核"]  # largest total first


def test_waiting_by_department(cur) -> None:
    d = bn.waiting_time(cur, F, "department").set_index("department")
    # 窗口: 9 events; waits 1, 6, 2 (E1), 0.5, 18 (E2), 2 (E3) -> total 29.5, sorted 0.5 1 2 2 6 18: median 2.
    assert d.loc[W, "count"] == 9
    assert (d.loc[W, "total_wait_hours"], d.loc[W, "median_wait_hours"]) == pytest.approx((29.5, 2))
    assert d.loc[W, "mean_wait_hours"] == pytest.approx(29.5 / 6)
    # 自然资源所: 48, 42, 96 -> total 186, median 48; 民政办: 6.
    assert (d.loc[N, "total_wait_hours"], d.loc[N, "median_wait_hours"]) == pytest.approx((186, 48))
    assert d.loc[M, "total_wait_hours"] == pytest.approx(6)
    assert d.loc[N, "share_of_case_time"] == pytest.approx(186 / TOTAL)
    # Working days (calendar): 48 h Mon 10:00 -> Wed 10:00 = 2.0; 42 h Wed 16:00 -> Fri 10:00 = 8/24 + 1 + 10/24
    # = 1.75; 96 h Thu 11:00 -> Mon 11:00 = 13/24 + 1 + 0 + 0 + 11/24 = 2.0 -> median 2.0.
    assert d.loc[N, "median_wait_workdays"] == pytest.approx(2.0)
    # Rework: 自然资源所 handled the repeated 审核 in E1, of its 2 cases (E1, E3).
    assert (d.loc[N, "rework_cases"], d.loc[N, "rework_rate"]) == (1, pytest.approx(0.5))


def test_two_groupings_in_one_pass_are_the_two_alone(cur) -> None:
    """The findings' one statement (GROUPING SETS) gives each grouping exactly as asked for on its own."""
    both = bn.waiting_times(cur, F, ("department_step", "department"), rework=False)
    for by in ("department_step", "department"):
        alone = bn.waiting_time(cur, F, by, rework=False)
        pd.testing.assert_frame_equal(both[by], alone, check_dtype=False)
    assert list(both["department"].columns[:2]) == ["department", "count"]
    assert both["department"].set_index("department").loc[N, "total_wait_hours"] == pytest.approx(186)
    with pytest.raises(ValueError):
        bn.waiting_times(cur, F, ("step", "department"))


def test_rework(cur) -> None:
    r = bn.rework_by_step(cur, F).set_index("step")
    assert (r.loc["审核", "cases"], r.loc["审核", "cases_repeated"], r.loc["审核", "repeat_events"]) == (3, 1, 1)
    assert r.loc["审核", "rework_rate"] == pytest.approx(1 / 3)
    assert bool(r.loc["补正", "is_resubmission_step"]) and not bool(r.loc["审核", "is_resubmission_step"])
    assert bn.rework_summary(cur, F) == {
        "cases": 3, "cases_with_rework": 1, "rework_rate": pytest.approx(1 / 3), "cases_with_resubmission_step": 1,
    }  # fmt: skip


def test_handovers(cur) -> None:
    # E1: 窗口→自然资源 (48), 自然资源→窗口 (6), 窗口→自然资源 (42), 自然资源→窗口 (2); E2: 窗口→民政 (6),
    # 民政→窗口 (18); E3: 窗口→自然资源 (96). 7 handovers in 3 cases; delays sorted 2 6 6 18 42 48 96 -> median 18.
    h = bn.handovers(cur, F)
    assert (h["handovers"], h["cases"], h["cases_with_handover"]) == (7, 3, 3)
    assert h["handovers_per_case"] == pytest.approx(7 / 3)
    assert h["median_delay_hours"] == pytest.approx(18)
    assert h["total_delay_hours"] == pytest.approx(218)
    m = bn.handover_matrix(cur, F).set_index(["from_unit", "to_unit"])
    assert m["count"].to_dict() == {(W, N): 3, (N, W): 2, (W, M): 1, (M, W): 1}
    assert m.loc[(W, N), "median_delay_hours"] == pytest.approx(48)
    assert m.loc[(N, W), "median_delay_hours"] == pytest.approx(4)


def test_directly_follows(cur) -> None:
    e = bn.directly_follows(cur, F).set_index(["source", "target"])
    assert e["count"].to_dict() == {
        ("收件", "受理"): 3, ("受理", "审核"): 3, ("审核", "办结"): 2, ("审核", "补正"): 1, ("补正", "审核"): 1,
    }  # fmt: skip
    # 受理→审核: 48, 6, 96 -> median 48; 审核→办结: 2, 18 -> 10; 收件→受理: 1, 0.5, 2 -> 1.
    assert e.loc[("受理", "审核"), "median_hours"] == pytest.approx(48)
    assert e.loc[("审核", "办结"), "median_hours"] == pytest.approx(10)
    assert e.loc[("收件", "受理"), "median_flow_hours"] == pytest.approx(1)
    nodes = bn.process_nodes(cur, F).set_index("step")
    assert nodes.loc["收件", "start_count"] == 3
    assert (nodes.loc["办结", "end_count"], nodes.loc["审核", "end_count"]) == (2, 1)


def test_work_in_progress_from_events(cur) -> None:
    wip = bn.work_in_progress(cur, F)
    got = {(r.day, r.department): r.open_cases for r in wip.itertuples()}
    d = lambda n: dt.date(2026, 10, n)  # noqa: E731
    # Day ends: 10-12 E1 waits for 自然资源所 (until 10-14 10:00). 10-13 E1 there, E2 back at the window (15:30 ->
    # 10-14 09:30). 10-14 E1 at 自然资源所 again (16:00 -> 10-16). 10-15 E1 and E3 at 自然资源所. From 10-16 on,
    # E3 (open; after its last event it stays with 自然资源所).
    expected = {(d(12), N): 1, (d(13), N): 1, (d(13), W): 1, (d(14), N): 1, (d(15), N): 2}
    expected.update({(d(n), N): 1 for n in range(16, 21)})
    assert got == expected


def test_work_in_progress_counts_older_open_cases(cur) -> None:
    # From 10-16 on, only E3 (submitted 10-15) is open; a window starting 10-17 still sees it.
    wip = bn.work_in_progress(cur, Filters(dt.date(2026, 10, 17), dt.date(2026, 10, 18)))
    assert [(r.day, r.department, r.open_cases) for r in wip.itertuples()] == [
        (dt.date(2026, 10, 17), N, 1),
        (dt.date(2026, 10, 18), N, 1),
    ]


def test_work_in_progress_from_cases(cur) -> None:
    wip = bn.work_in_progress(cur, F, source="cases")
    got = {(r.day, r.department): r.open_cases for r in wip.itertuples()}
    d = lambda n: dt.date(2026, 10, n)  # noqa: E731
    # Case rows: E1 自然资源所 10-12 09:00 .. 10-16 12:00; E2 民政办 10-13 09:00 .. 10-14 09:30; E3 自然资源所 open.
    expected = {(d(12), N): 1, (d(13), N): 1, (d(13), M): 1, (d(14), N): 1, (d(15), N): 2}
    expected.update({(d(n), N): 1 for n in range(16, 21)})
    assert got == expected


def test_filters_select_events_through_their_cases(cur) -> None:
    only_online = bn.waiting_time(cur, Filters(channels=["online"]), "step").set_index("step")
    assert only_online["count"].sum() == 3  # E3 only
    assert only_online.loc["审核", "total_wait_hours"] == pytest.approx(96)
    assert bn.waiting_time(cur, Filters.month("2026-11"), "step").empty


def test_rank_bottlenecks_names_the_slow_step(cur) -> None:
    findings = rank_bottlenecks(cur, F, min_count=1)
    top = findings[0]
    # 自然资源所 审核: 48 + 42 + 96 = 186 h of 221.5 h = 84%; median 48 h. The list has durations under a day
    # (the town's median, 6 h), so every duration of the list is written in hours.
    assert top["kind"] == "wait"
    assert top["text_zh"] == "自然资源所 的审核环节中位等待 48.0 小时，占全部办理时间的 84.0%"
    assert top["text_en"] == "审核 at 自然资源所: median wait 48.0 hours, 84.0% of all case time"
    assert top["evidence"]["total_wait_hours"] == pytest.approx(186)
    assert top["score"] == pytest.approx(186 / TOTAL)
    kinds = [f["kind"] for f in findings]
    assert len(findings) == 5 and kinds.count("wait") <= 2
    # The handover 窗口 → 自然资源所: 3 times, 186 h.
    handover = next(f for f in findings if f["kind"] == "handover")
    assert handover["text_zh"].startswith(f"{W} → {N} 移交 3 次")
    assert all(f["text_zh"] and f["text_en"] for f in findings)
    # Department level: all waits sorted 0.5 1 2 2 6 6 18 42 48 96 -> median 6 h; only 自然资源所 (48 h) is above it
    # (窗口 2 h, 民政办 6 h are not).
    dept = [f for f in findings if f["kind"] == "department_wait"]
    assert [f["text_zh"] for f in dept] == [
        "自然资源所 经手的环节中位等待 48.0 小时（全镇中位 6.0 小时），合计占全部办理时间的 84.0%"
    ]
    assert bn.overall_median_wait_hours(cur, F) == pytest.approx(6)
    units = {w for f in findings for w in ("小时", "天", "个工作日") if w in f["text_zh"]}
    assert len(units) == 1, units


def test_town_in_a_department_finding_is_the_whole_town(cur) -> None:
    """With one department chosen, "全镇中位" is the town's median wait, not the selection's own."""
    chosen = Filters(F.start, F.end, departments=[N])
    findings = rank_bottlenecks(cur, chosen, min_count=1)
    dept = next(f for f in findings if f["kind"] == "department_wait")
    # The town's waits (all departments) sorted 0.5 1 2 2 6 6 18 42 48 96: median 6 h. 自然资源所's own: 48 h.
    town = cur.execute(
        "SELECT quantile_cont(wait_hours, 0.5) FROM ("
        " SELECT epoch(completed_at - lag(completed_at) OVER (PARTITION BY case_id ORDER BY completed_at)) / 3600"
        " AS wait_hours FROM events) WHERE wait_hours IS NOT NULL"
    ).fetchone()[0]
    assert town == pytest.approx(6)
    assert dept["evidence"]["overall_median_wait_hours"] == pytest.approx(town)
    assert "（全镇中位 6.0 小时）" in dept["text_zh"]
    assert "(whole town: 6.0 hours)" in dept["text_en"]


def test_findings_need_a_minimum_sample(cur) -> None:
    """One slow step is no bottleneck: below the minimum, nothing of it is ranked."""
    few = rank_bottlenecks(cur, F, min_count=4)
    # 自然资源所 审核 has 3 waits: not enough for 4.
    assert not [f for f in few if f["kind"] == "wait" and f["evidence"]["step"] == "审核"]
    assert rank_bottlenecks(cur, F, min_count=1)[0]["evidence"]["step"] == "审核"


def test_wait_and_service_split_with_start_times() -> None:
    db = new_db()
    insert_events(db, [
        # service 10 min
        dict(case_id="S", step="收件", department=W, started_at="2026-10-12 09:00", completed_at="2026-10-12 09:10"),
        # waits 09:10 -> 10:00 = 50 min, service 2 h
        dict(case_id="S", step="审核", department=N, started_at="2026-10-12 10:00", completed_at="2026-10-12 12:00"),
        # starts 11:30 before 审核 completes (12:00): waits 0, service 1.5 h
        dict(case_id="S", step="办结", department=W, started_at="2026-10-12 11:30", completed_at="2026-10-12 13:00"),
    ])  # fmt: skip
    cur = db.cursor()
    s = bn.waiting_time(cur, Filters(), "step").set_index("step")
    assert s.loc["审核", "total_wait_hours"] == pytest.approx(50 / 60)
    assert s.loc["审核", "total_service_hours"] == pytest.approx(2)
    assert s.loc["办结", "total_wait_hours"] == pytest.approx(0)
    assert s.loc["办结", "total_service_hours"] == pytest.approx(1.5)
    assert s.loc["收件", "total_service_hours"] == pytest.approx(1 / 6)
    # Duration 09:00 -> 13:00 = 4 h; 审核 contributes 50 min + 2 h.
    assert bn.case_durations(cur, Filters())["duration_hours"].tolist() == pytest.approx([4.0])
    assert s.loc["审核", "share_of_case_time"] == pytest.approx((50 / 60 + 2) / 4)
    assert bn.directly_follows(cur, Filters()).set_index("target").loc["审核", "median_hours"] == pytest.approx(50 / 60)
    db.close()


def test_case_level_log_falls_back_to_department_processing() -> None:
    from conftest_metrics import OCTOBER, OCTOBER_CASES, OTHER_CASES

    db = new_db()
    insert_cases(db, OCTOBER_CASES + OTHER_CASES)
    cur = db.cursor()
    assert not bn.has_events(cur, OCTOBER)
    t = bn.bottleneck_table(cur, OCTOBER, "department").set_index("unit")
    # Completed October cases: A C1 (3.0 natural days), C2 (0.25); B C3 (10.25), C4 (5.0416667).
    # B: median (10.25 + 5.0416667) / 2 * 24 = 183.5 h, total 15.2916667 d = 367 h; share 15.29 / 18.54.
    assert set(t["source"]) == {"cases"}
    assert t.loc["自然资源所", "count"] == 2
    assert t.loc["自然资源所", "median_wait_hours"] == pytest.approx(183.5)
    assert t.loc["自然资源所", "total_wait_hours"] == pytest.approx(367)
    assert t.loc["自然资源所", "share_of_case_time"] == pytest.approx((10.25 + 5 + 1 / 24) / (3.25 + 15 + 7 / 24))
    assert t.loc["自然资源所", "median_wait_workdays"] == pytest.approx((8.25 + 3 + 1 / 24) / 2)
    assert bn.bottleneck_table(cur, OCTOBER, "step").empty
    findings = rank_bottlenecks(cur, OCTOBER, min_count=1)
    texts = [f["text_zh"] for f in findings]
    # B finished both completed cases late; A has C5 and B has C7 open past due as of 10-31.
    assert "自然资源所 办结 2 件中超期 2 件（超期率 100.0%）" in texts
    # Scores: B's processing time 15.29 / 18.54 = 0.82; B's late cases 2 of the 4 completed with a due date = 0.5;
    # open overdue: A's C5 and B's C7, each 1 of the 4 cases open at 10-31 (C4..C7) = 0.25; A's processing 0.18.
    assert [f["kind"] for f in findings] == ["slow_department", "overdue", "overdue", "overdue", "slow_department"]
    assert [f["score"] for f in findings][:3] == pytest.approx([15.2916667 / 18.5416667, 0.5, 0.25])
    # (10.25 + 5.04) / 2 natural days; every duration of this list is over a day, so all read in days.
    assert any(t.startswith("自然资源所 办件中位办理 7.6 天（2 件）") for t in texts)
    assert "派出所户籍室 有 1 件在办件已超期（截至 2026-10-31）" in texts
    wip = bn.work_in_progress(cur, OCTOBER)  # cases only: by case department
    assert wip.set_index(["day", "department"]).loc[(dt.date(2026, 10, 31), "自然资源所"), "open_cases"] == 2  # C4, C7
    db.close()
