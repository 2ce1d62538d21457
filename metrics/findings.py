"""Findings: the top bottlenecks written as short zh/en sentences with their evidence, for leaders.

:func:`rank_bottlenecks` takes its candidates from the analyses in :mod:`metrics.bottlenecks` (waits,
handovers, rework) and :mod:`metrics.timeliness` (slow and overdue departments), scores each as the
share of a whole it accounts for, picks a few of every kind, and writes each as a sentence in
Chinese and English (``text_zh``, ``text_en``) beside the figures it rests on (``evidence``). Every
duration of one list is written in one unit (hours, or natural days when all are a day or more).
"""

from __future__ import annotations

import datetime as dt
from typing import NotRequired, TypedDict

import duckdb
import pandas as pd

import numfmt
import settings
from metrics import bottlenecks, timeliness
from metrics.filters import Filters
from store.towns import area_kind
from text import Text


class Finding(TypedDict):
    """One bottleneck as :func:`rank_bottlenecks` returns it (JSON-ready: pages and the report read it).

    ``kind``: wait, department_wait, handover, rework, overdue or slow_department; ``unit`` says what
    ``score`` is a share of; ``evidence`` holds the figures the sentence rests on (Python scalars).
    """

    kind: str
    unit: str
    score: float
    text_zh: str
    text_en: str
    evidence: dict[str, object]


class _Candidate(Finding):
    """A finding whose durations (hours) still wait for the list's one unit (:func:`_write_units` removes them)."""

    _durations: NotRequired[dict[str, float | None]]


def _pct(share: float) -> str:
    """Rates with one decimal, as everywhere: "84.0%", "8.7%"."""
    return f"{share * 100:.1f}%"


def _num(x: float) -> str:
    return numfmt.fixed(x, 1)


def _slot(name: str) -> str:
    """A place in a finding's text where a duration goes once the list's one unit is known."""
    return f"\x00{name}\x00"


def _duration(hours: float | None, in_days: bool) -> tuple[str, str]:
    """A duration in the list's unit: natural days (天) when every duration of the list is a day or more, else hours."""
    if hours is None or pd.isna(hours):
        return "未知", "unknown"
    if in_days:
        return f"{_num(hours / 24)} 天", f"{_num(hours / 24)} days"
    return f"{_num(hours)} 小时", f"{_num(hours)} hours"


def _finding(
    kind: str,
    unit: str,
    score: float,
    zh: str,
    en: str,
    evidence: dict[str, object],
    durations: dict[str, float | None] | None = None,
) -> _Candidate:
    """A candidate; ``durations`` (hours) fill the text's slots when the list is written (:func:`_write_units`)."""
    clean = {k: (None if v is None or (isinstance(v, float) and pd.isna(v)) else _py(v)) for k, v in evidence.items()}
    return {
        "kind": kind, "unit": unit, "score": float(score), "text_zh": zh, "text_en": en, "evidence": clean,
        "_durations": durations or {},
    }  # fmt: skip


def _write_units(findings: list[_Candidate]) -> None:
    """Fill every duration of the list in one unit, so no list reads "17.8 小时" beside "1.7 个工作日"."""
    hours = [h for f in findings for h in f.get("_durations", {}).values() if h is not None and not pd.isna(h)]
    in_days = bool(hours) and min(hours) >= 24  # else a short wait would read "0.0 天"
    for f in findings:
        for name, value in f.pop("_durations", {}).items():
            zh, en = _duration(value, in_days)
            f["text_zh"] = f["text_zh"].replace(_slot(name), zh)
            f["text_en"] = f["text_en"].replace(_slot(name), en)


def _py(v: object) -> object:
    if hasattr(v, "item"):
        return v.item()  # numpy scalar
    return v


def rank_bottlenecks(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    top: int = 5,
    *,
    min_count: int | None = None,
    per_kind: int = 2,
    as_of: dt.date | None = None,
) -> list[Finding]:
    """The top bottlenecks as short sentences (zh, en) with their evidence, biggest impact first.

    Candidates, each scored as the share of a whole it accounts for:

    - ``wait``: waiting at a department's step (share of all case time);
    - ``department_wait``: all waiting at a department whose median wait is above the median of
      all waits — slow, not merely busy (share of all case time);
    - ``handover``: handovers from one department to another (share of case time spent in them);
    - ``rework``: a repeated step (share of cases reworked);
    - ``overdue``: a department's late completions (share of all completed cases with a due
      date) and its open overdue cases (share of all cases open at the as-of day);
    - ``slow_department``, for case-level logs: a department's share of all processing time.

    Candidates need at least ``min_count`` events or cases (default ``settings.MIN_SAMPLE``): one slow
    event is no bottleneck. Comparisons with "the town" use the whole town's figure for the period,
    whatever department, item or channel is chosen. Every duration of the list is written in one unit.
    So that a leader sees every kind of
    problem, the best candidate of each kind is taken first, then the rest by score with at most
    ``per_kind`` of a kind, then any left; the result is ordered by score.
    """
    min_count = settings.MIN_SAMPLE if min_count is None else min_count
    candidates: list[_Candidate] = []
    if bottlenecks.has_events(cur, filters):
        # The yardstick is the median wait of the period's towns: of the same events when nothing else is chosen.
        whole = Filters(filters.start, filters.end, towns=filters.towns)
        waits = bottlenecks.waiting_times(
            cur, filters, ("department_step", "department"), rework=False, lean=True, overall=filters == whole
        )
        if "all" in waits:
            medians = waits["all"]["median_wait_hours"]
            overall = None if medians.empty or pd.isna(medians.iloc[0]) else float(medians.iloc[0])
        else:
            overall = bottlenecks.overall_median_wait_hours(cur, whole)
        candidates += _wait_findings(waits["department_step"], min_count)
        candidates += _department_wait_findings(cur, filters, waits["department"], min_count, overall)
        candidates += _handover_findings(cur, filters, min_count)
        candidates += _rework_findings(cur, filters, min_count)
    else:
        candidates += _slow_department_findings(cur, filters, min_count)
    candidates += _overdue_findings(cur, filters, as_of, min_count)
    candidates.sort(key=lambda f: -f["score"])
    chosen: list[_Candidate] = []
    taken: dict[str, int] = {}
    for f in candidates:  # the best of each kind
        if len(chosen) < top and f["kind"] not in taken:
            chosen.append(f)
            taken[f["kind"]] = 1
    for capped in (True, False):  # then by score, at most per_kind of a kind; then whatever is left
        for f in candidates:
            if len(chosen) >= top:
                break
            if f not in chosen and (not capped or taken[f["kind"]] < per_kind):
                chosen.append(f)
                taken[f["kind"]] += 1
    chosen.sort(key=lambda f: -f["score"])
    _write_units(chosen)
    written: list[Finding] = list(chosen)  # the durations are written: plain findings now
    return written


def _wait_findings(frame: pd.DataFrame, min_count: int) -> list[_Candidate]:
    """``frame``: :func:`metrics.bottlenecks.waiting_time` by (department, step)."""
    out = []
    for r in frame.itertuples(index=False):
        if r.waits < min_count or pd.isna(r.share_of_case_time) or not r.share_of_case_time:
            continue
        share = float(r.share_of_case_time)
        where_zh = f"{r.department} 的{r.step}环节" if r.department is not None else f"{r.step}环节"
        where_en = f"{r.step} at {r.department}" if r.department is not None else f"{r.step}"
        out.append(
            _finding(
                "wait", f"{r.department} / {r.step}" if r.department is not None else str(r.step), share,
                f"{where_zh}中位等待 {_slot('wait')}，占全部办理时间的 {_pct(share)}",
                f"{where_en}: median wait {_slot('wait')}, {_pct(share)} of all case time",
                {"department": r.department, "step": r.step, "count": r.count, "cases": r.cases,
                 "median_wait_hours": r.median_wait_hours, "median_wait_workdays": r.median_wait_workdays,
                 "total_wait_hours": r.total_wait_hours, "share_of_case_time": share},
                {"wait": r.median_wait_hours},
            )
        )  # fmt: skip
    return out


#: The yardstick's name in a finding, by what the view covers (store.towns.area_kind).
_WHOLE = {
    "town": Text("全镇", "whole town"),
    "county": Text("全县", "whole county"),
    "towns": Text("所选乡镇", "chosen towns"),
}


def _department_wait_findings(
    cur: duckdb.DuckDBPyConnection, filters: Filters, frame: pd.DataFrame, min_count: int, overall: float | None
) -> list[_Candidate]:
    """``frame``: :func:`metrics.bottlenecks.waiting_time` by department; ``overall``: the median wait of the whole
    town for the period, whatever else is chosen ("全镇" means the town; the county, or the chosen towns, when the
    view holds several)."""
    whole = _WHOLE[area_kind(cur, filters.towns)]
    out = []
    for r in frame.itertuples(index=False):
        if r.department is None or r.waits < min_count or overall is None or pd.isna(r.share_of_case_time):
            continue
        if pd.isna(r.median_wait_hours) or r.median_wait_hours <= overall or not r.share_of_case_time:
            continue
        share = float(r.share_of_case_time)
        out.append(
            _finding(
                "department_wait", str(r.department), share,
                f"{r.department} 经手的环节中位等待 {_slot('wait')}（{whole.zh}中位 {_slot('town')}），"
                f"合计占全部办理时间的 {_pct(share)}",
                f"{r.department}: median wait {_slot('wait')} ({whole.en}: {_slot('town')}), "
                f"{_pct(share)} of all case time",
                {"department": r.department, "count": r.count, "cases": r.cases,
                 "median_wait_hours": r.median_wait_hours, "median_wait_workdays": r.median_wait_workdays,
                 "overall_median_wait_hours": overall, "total_time_hours": r.total_time_hours,
                 "share_of_case_time": share},
                {"wait": r.median_wait_hours, "town": overall},
            )
        )  # fmt: skip
    return out


def _handover_findings(cur: duckdb.DuckDBPyConnection, filters: Filters, min_count: int) -> list[_Candidate]:
    frame = bottlenecks.handover_matrix(cur, filters, "department")
    out = []
    for r in frame.itertuples(index=False):
        if r.count < min_count or pd.isna(r.share_of_case_time) or not r.share_of_case_time:
            continue
        share = float(r.share_of_case_time)
        out.append(
            _finding(
                "handover", f"{r.from_unit} → {r.to_unit}", share,
                f"{r.from_unit} → {r.to_unit} 移交 {r.count:,} 次，中位耗时 {_slot('delay')}，"
                f"占全部办理时间的 {_pct(share)}",
                f"Handover {r.from_unit} → {r.to_unit}: {r.count:,} times, median {_slot('delay')}, "
                f"{_pct(share)} of all case time",
                {"from": r.from_unit, "to": r.to_unit, "count": r.count, "cases": r.cases,
                 "median_delay_hours": r.median_delay_hours, "total_delay_hours": r.total_delay_hours,
                 "share_of_case_time": share},
                {"delay": r.median_delay_hours},
            )
        )  # fmt: skip
    return out


def _rework_findings(cur: duckdb.DuckDBPyConnection, filters: Filters, min_count: int) -> list[_Candidate]:
    frame = bottlenecks.rework_by_step(cur, filters)
    total = bottlenecks.cases_with_events(cur, filters)
    out = []
    for r in frame.itertuples(index=False):
        if r.cases_repeated == 0 or r.cases < min_count or not total:
            continue
        score = r.cases_repeated / total
        rate = float(r.rework_rate)
        out.append(
            _finding(
                "rework", str(r.step), score,
                f"{r.step}环节在 {r.cases:,} 件中有 {r.cases_repeated:,} 件重复办理（返工率 {_pct(rate)}）",
                f"{r.step} was repeated in {r.cases_repeated:,} of {r.cases:,} cases (rework rate {_pct(rate)})",
                {"step": r.step, "cases": r.cases, "cases_repeated": r.cases_repeated, "rework_rate": rate,
                 "repeat_events": r.repeat_events, "is_resubmission_step": bool(r.is_resubmission_step)},
            )
        )  # fmt: skip
    return out


def _slow_department_findings(cur: duckdb.DuckDBPyConnection, filters: Filters, min_count: int) -> list[_Candidate]:
    frame = timeliness.department_processing(cur, filters)
    out = []
    for r in frame.itertuples(index=False):
        if r.department is None or r.completed < min_count or pd.isna(r.share_of_processing_time):
            continue
        share = float(r.share_of_processing_time)
        out.append(
            _finding(
                "slow_department", str(r.department), share,
                f"{r.department} 办件中位办理 {_slot('time')}（{r.completed:,} 件），占全部办理时间的 {_pct(share)}",
                f"{r.department}: median processing {_slot('time')} ({r.completed:,} cases), "
                f"{_pct(share)} of all processing time",
                {"department": r.department, "completed": r.completed,
                 "median_working_days": r.median_working_days, "median_natural_days": r.median_natural_days,
                 "share_of_processing_time": share},
                {"time": None if pd.isna(r.median_natural_days) else r.median_natural_days * 24},
            )
        )  # fmt: skip
    return out


def _overdue_findings(
    cur: duckdb.DuckDBPyConnection, filters: Filters, as_of: dt.date | None, min_count: int
) -> list[_Candidate]:
    frame = timeliness.overdue_by_department(cur, filters, as_of=as_of)
    out = []
    with_due_total = frame["with_due"].sum()
    open_total = frame["open_cases"].sum()
    day = as_of or filters.as_of()
    for r in frame.itertuples(index=False):
        if r.department is None:
            continue
        if r.overdue_completed and with_due_total and r.with_due >= min_count:
            rate = r.overdue_completed / r.with_due if r.with_due else None
            rate_zh = f"（超期率 {_pct(rate)}）" if rate is not None else ""
            rate_en = f" (overdue rate {_pct(rate)})" if rate is not None else ""
            out.append(
                _finding(
                    "overdue", str(r.department), float(r.overdue_completed / with_due_total),
                    f"{r.department} 办结 {r.with_due:,} 件中超期 {r.overdue_completed:,} 件{rate_zh}",
                    f"{r.department}: {r.overdue_completed:,} of {r.with_due:,} completed cases finished late{rate_en}",
                    {"department": r.department, "overdue_completed": r.overdue_completed,
                     "completed_with_due": r.with_due, "overdue_rate": rate},
                )
            )  # fmt: skip
        if r.open_overdue and open_total:
            out.append(
                _finding(
                    "overdue", str(r.department), float(r.open_overdue / open_total),
                    f"{r.department} 有 {r.open_overdue:,} 件在办件已超期（截至 {day:%Y-%m-%d}）",
                    f"{r.department} has {r.open_overdue:,} open cases past due (as of {day:%Y-%m-%d})",
                    {"department": r.department, "open_overdue": r.open_overdue, "open_cases": r.open_cases,
                     "as_of": day.isoformat()},
                )
            )  # fmt: skip
    return out
