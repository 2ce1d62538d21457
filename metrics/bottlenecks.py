"""Where cases wait: step- and department-level analysis of the event log, in the manner of pm4py/Disco.

Attribution rule (shared by every function here, so their figures add up): events of a case are
ordered by completion time, then by their order in the file (``seq``). With completion times
only, the time from the previous event's completion to this event's completion is this event's
*waiting* time and belongs to the step and department that *receives* the case. Where
``started_at`` is present, that span is split: waiting = start − previous completion (never
negative: an overlapping start waits 0), service = completion − start. The first event of a case
has no waiting time. A case's duration is its last completion minus its first start (or first
completion), so without start times the waiting times of a case add up exactly to its duration.

Case-level logs without events still get department processing time and overdue rankings
(from :mod:`metrics.timeliness`). The top bottlenecks written as sentences are :mod:`metrics.findings`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from metrics import base, precomputed_columns, timeliness
from metrics.filters import Filters, Params, town_condition, where_clause
from store.calendar import working_clock
from store.rows import one

#: Group-by columns for each unit of analysis.
UNITS: dict[str, tuple[str, ...]] = {
    "step": ("step",),
    "department": ("department",),
    "handler": ("handler",),
    "department_step": ("department", "step"),
}
#: Step names of 补正 (resubmission) loops: the applicant had to submit material again.
RESUBMISSION_STEP_PATTERN = r"补正|补齐|补件|补充材料|退回|resubmi"


def _has_filters(filters: Filters) -> bool:
    return bool(
        filters.start or filters.end or filters.departments or filters.items or filters.channels or filters.towns
    )


def event_ctes(filters: Filters, params: Params, *, backlog: bool = False) -> list[tuple[str, str]]:
    """CTEs ``ev`` (events of the filtered cases), ``w`` (with lag columns), ``t`` (with timings), ``cd``.

    Events are selected through their case, so the period and dimension filters mean the same
    cases as on every other page. ``backlog=True`` also keeps cases submitted before the period
    (for work in progress, where older open cases count).
    """
    if _has_filters(filters):
        where, _ = where_clause(filters, "c", params, start=not backlog)
        scope = f"(e.town, e.case_id) IN (SELECT c.town, c.case_id FROM cases c WHERE {where})"
    else:
        scope = "true"
    ev = f"""
        SELECT e.town, e.case_id, e.step, e.department, e.handler, e.started_at, e.completed_at, e.seq,
               (e.town, e.case_id) AS case_ref
        FROM events e WHERE {scope}
    """
    w = """
        SELECT ev.*,
               row_number() OVER win AS pos,
               count(*) OVER (PARTITION BY town, case_id) AS n_events,
               lag(completed_at) OVER win AS prev_completed_at,
               lag(step) OVER win AS prev_step,
               lag(department) OVER win AS prev_department,
               row_number() OVER (PARTITION BY town, case_id, step ORDER BY completed_at, seq) AS step_occurrence
        FROM ev
        WINDOW win AS (PARTITION BY town, case_id ORDER BY completed_at, seq)
    """
    t = _TIMINGS_SQL
    cd = """
        SELECT town, case_id, count(*) AS events,
               min(coalesce(least(started_at, completed_at), completed_at)) AS first_at,
               max(completed_at) AS last_at,
               epoch(max(completed_at) - min(coalesce(least(started_at, completed_at), completed_at))) / 3600.0
                   AS duration_hours
        FROM ev GROUP BY town, case_id
    """
    return [("ev", ev), ("w", w), ("t", t), ("cd", cd)]


#: ``t``: the events of ``w`` with their waiting and service time (shared by both ways of getting ``w``).
_TIMINGS_SQL = f"""
        SELECT x.*,
               epoch(x.wait_end - x.prev_completed_at) / 3600.0 AS wait_hours,
               CASE WHEN x.prev_completed_at IS NOT NULL
                    THEN greatest({working_clock("x.wait_end", "c1")} - {working_clock("x.prev_completed_at", "c0")}, 0)
                    END AS wait_workdays,
               CASE WHEN x.started_at IS NOT NULL
                    THEN epoch(x.completed_at - least(x.started_at, x.completed_at)) / 3600.0 END AS service_hours
        FROM (
            SELECT w.*, greatest(coalesce(w.started_at, w.completed_at), w.prev_completed_at) AS wait_end
            FROM w
        ) x
        LEFT JOIN calendar c0 ON c0.day = x.prev_completed_at::DATE
        LEFT JOIN calendar c1 ON c1.day = x.wait_end::DATE
    """


def _case_keys(filters: Filters, params: Params, *, backlog: bool = False) -> str | None:
    """A query of the filtered cases' ``case_key`` (None without filters: every case)."""
    if not _has_filters(filters):
        return None
    where, _ = where_clause(filters, "c", params, start=not backlog)
    return f"SELECT c.case_key FROM case_rows c WHERE c.is_current AND {where}"


def _event_ctes(
    cur: duckdb.DuckDBPyConnection, filters: Filters, params: Params, *, backlog: bool = False
) -> list[tuple[str, str]]:
    """:func:`event_ctes`, read from the figures kept at load time where they are (same rows, same figures).

    Each event already carries its position, its case's event count, its predecessor and its step's
    occurrence (``ingest.load``), and each case its span (``case_spans``), so no window runs per view;
    the filtered cases select their events by ``case_key``, which also skips the other months' blocks.
    ``w`` has no ``prev_department`` here (nothing reads it), and ``ev.case_id`` is the case's key.
    """
    if not precomputed_columns.ready(cur):
        return event_ctes(filters, params, backlog=backlog)
    keys = _case_keys(filters, params, backlog=backlog)
    events_scope = f"e.case_key IN ({keys})" if keys else "true"
    spans_scope = f"s.case_key IN ({keys})" if keys else "true"
    # ``case_id`` here is the case's integer key: the analyses only count distinct cases with it (the same
    # counts, far cheaper than comparing id strings); ``cd`` gives the ids themselves. A case is (town, case_id)
    # on both paths (the key is one per town and id already).
    ev = f"""
        SELECT e.town, e.case_key AS case_id, e.step, e.department, e.handler, e.started_at, e.completed_at, e.seq,
               e.case_key AS case_ref, e.case_key, e.pos, e.n_events, e.prev_completed_at, e.prev_step, e.step_occurrence,
               e.prev_known_department, e.prev_known_completed_at
        FROM event_rows e WHERE e.is_current AND {events_scope}
    """
    cd = f"""
        SELECT s.town, s.case_id, s.events::BIGINT AS events, s.first_at, s.last_at,
               epoch(s.last_at - s.first_at) / 3600.0 AS duration_hours
        FROM case_spans s WHERE s.is_current AND {spans_scope}
    """
    return [("ev", ev), ("w", "SELECT * FROM ev"), ("t", _TIMINGS_SQL), ("cd", cd)]


def _with(ctes: list[tuple[str, str]]) -> str:
    return "WITH " + ",\n".join(f"{name} AS ({body})" for name, body in ctes)


def _frame(cur: duckdb.DuckDBPyConnection, sql: str, params: Params) -> pd.DataFrame:
    return base.frame(cur, sql, params)


def has_events(cur: duckdb.DuckDBPyConnection, filters: Filters) -> bool:
    """Whether the filtered cases have any events (else analyses fall back to case-level data)."""
    params = Params()
    sql = f"{_with(_event_ctes(cur, filters, params)[:1])} SELECT count(*) > 0 FROM ev"
    return bool(one(cur.execute(sql, params.values))[0])


def case_durations(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Per case: events, first_at, last_at, duration_hours (last completion − first start/completion)."""
    params = Params()
    ctes = _event_ctes(cur, filters, params)
    sql = f"{_with([c for c in ctes if c[0] in ('ev', 'cd')])} SELECT * FROM cd ORDER BY town, case_id"
    return _frame(cur, sql, params)


def waiting_time(
    cur: duckdb.DuckDBPyConnection, filters: Filters, by: str = "department", *, rework: bool = True
) -> pd.DataFrame:
    """Per step, department, handler or (department, step): counts, waiting/service statistics, share, rework.

    Columns: the unit column(s), count (events), cases, waits (events with a waiting time),
    median/p90/mean/total_wait_hours, median/p90_wait_workdays (working days by the calendar),
    services, median/mean/total_service_hours (None without start times), total_time_hours
    (waiting + service), share_of_case_time (of the summed case durations), rework_cases (cases in
    which the unit handled a repeated step) and rework_rate. Ordered by total time, largest first.
    ``rework=False`` leaves out the rework columns (the findings do not read them).

    Distinct cases per step are the step's first occurrences (each case has one), and cases that
    repeated it are its second occurrences: counts instead of distinct counts, the same numbers.
    """
    return waiting_times(cur, filters, (by,), rework=rework)[by]


#: What :func:`waiting_times` leaves out when asked ``lean``: the findings weigh waits by their median and total.
_LEAN_OMITS = (
    "p90_wait_hours", "mean_wait_hours", "p90_wait_workdays", "services", "median_service_hours",
    "mean_service_hours", "total_service_hours",
)  # fmt: skip


def waiting_times(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    bys: tuple[str, ...],
    *,
    rework: bool = True,
    lean: bool = False,
    overall: bool = False,
) -> dict[str, pd.DataFrame]:
    """:func:`waiting_time` for each grouping of ``bys``, from one pass over the events (GROUPING SETS).

    The findings ask for (department, step) and for department: the events' waits are worked out once.
    "step" counts its cases by first occurrences, so it is asked for alone. ``lean`` leaves out the columns of
    ``_LEAN_OMITS`` (each quantile costs a sort of the events); ``overall`` adds ``"all"``, one row over every
    event of the selection (its median wait is :func:`overall_median_wait_hours`).
    """
    units = {by: _unit_columns(by) for by in bys}
    if "step" in bys and len(bys) > 1:
        raise ValueError("waiting time by step counts cases its own way: ask for it alone")
    every = list(dict.fromkeys(c for cols in units.values() for c in cols))
    params = Params()
    group = ", ".join(every)
    if bys == ("step",):
        cases, reworked = "count(*) FILTER (WHERE step_occurrence = 1)", "count(*) FILTER (WHERE step_occurrence = 2)"
    else:
        cases = "count(DISTINCT case_ref)"
        reworked = "count(DISTINCT case_ref) FILTER (WHERE step_occurrence > 1)"
    rework_sql = (
        f""",
               {reworked} AS rework_cases,
               {reworked} / {cases} AS rework_rate"""
        if rework
        else ""
    )
    sets = ", ".join(f"({', '.join(cols)})" for cols in [*units.values(), *([()] if overall else [])])
    columns = {
        "median_wait_hours": "quantile_cont(wait_hours, 0.5)",
        "p90_wait_hours": "quantile_cont(wait_hours, 0.9)",
        "mean_wait_hours": "avg(wait_hours)",
        "total_wait_hours": "coalesce(sum(wait_hours), 0)",
        "median_wait_workdays": "quantile_cont(wait_workdays, 0.5)",
        "p90_wait_workdays": "quantile_cont(wait_workdays, 0.9)",
        "services": "count(service_hours)",
        "median_service_hours": "quantile_cont(service_hours, 0.5)",
        "mean_service_hours": "avg(service_hours)",
        "total_service_hours": "sum(service_hours)",
    }
    chosen = ",\n".join(f"{sql} AS {name}" for name, sql in columns.items() if not (lean and name in _LEAN_OMITS))
    sql = f"""
        {_with(_event_ctes(cur, filters, params))}
        SELECT {group}, GROUPING({group}) AS grouping_set,
               count(*) AS count,
               {cases} AS cases,
               count(wait_hours) AS waits,
               {chosen},
               coalesce(sum(wait_hours), 0) + coalesce(sum(service_hours), 0) AS total_time_hours,
               (coalesce(sum(wait_hours), 0) + coalesce(sum(service_hours), 0))
                   / nullif((SELECT sum(duration_hours) FROM cd), 0) AS share_of_case_time{rework_sql}
        FROM t
        GROUP BY GROUPING SETS ({sets})
        ORDER BY grouping_set, total_time_hours DESC, count DESC, {group}
    """
    frame = _frame(cur, sql, params)
    out = {}
    measures = [c for c in frame.columns if c not in every and c != "grouping_set"]
    for by, cols in [*units.items(), *([("all", ())] if overall else [])]:
        # GROUPING() sets a bit, first column highest, for each column the set does not group by
        mask = sum(1 << (len(every) - 1 - i) for i, c in enumerate(every) if c not in cols)
        part = frame[frame["grouping_set"] == mask]
        out[by] = part[[*cols, *measures]].reset_index(drop=True)
    return out


def _unit_columns(by: str) -> tuple[str, ...]:
    if by not in UNITS:
        raise ValueError(f"by must be one of {', '.join(UNITS)}")
    return UNITS[by]


def waiting_time_by_step(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    return waiting_time(cur, filters, "step")


def waiting_time_by_department(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    return waiting_time(cur, filters, "department")


def rework_by_step(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Per step: cases with the step, cases repeating it, rework_rate, repeat_events, is_resubmission_step."""
    params = Params()
    pattern = params.add(RESUBMISSION_STEP_PATTERN, "resub")
    sql = f"""
        {_with(_event_ctes(cur, filters, params))}
        SELECT step,
               count(*) FILTER (WHERE step_occurrence = 1) AS cases,
               count(*) FILTER (WHERE step_occurrence = 2) AS cases_repeated,
               count(*) FILTER (WHERE step_occurrence = 2) / count(*) FILTER (WHERE step_occurrence = 1) AS rework_rate,
               count(*) FILTER (WHERE step_occurrence > 1) AS repeat_events,
               regexp_matches(lower(step), {pattern}) AS is_resubmission_step
        FROM w
        GROUP BY step
        ORDER BY cases_repeated DESC, rework_rate DESC, step
    """
    return _frame(cur, sql, params)


def cases_with_events(cur: duckdb.DuckDBPyConnection, filters: Filters) -> int:
    """How many of the filtered cases have events (``rework_summary``'s ``cases``): one span each."""
    params = Params()
    sql = f"{_with(_event_ctes(cur, filters, params))} SELECT count(*) FROM cd"
    return int(one(cur.execute(sql, params.values))[0])


def rework_summary(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, object]:
    """Cases with events, cases with any repeated step, the rework rate, and cases with a 补正 step."""
    params = Params()
    pattern = params.add(RESUBMISSION_STEP_PATTERN, "resub")
    sql = f"""
        {_with(_event_ctes(cur, filters, params))}
        SELECT count(DISTINCT case_ref),
               count(DISTINCT case_ref) FILTER (WHERE step_occurrence > 1),
               count(DISTINCT case_ref) FILTER (WHERE regexp_matches(lower(step), {pattern}))
        FROM w
    """
    cases, repeated, resub = one(cur.execute(sql, params.values))
    return {
        "cases": int(cases),
        "cases_with_rework": int(repeated),
        "rework_rate": repeated / cases if cases else None,
        "cases_with_resubmission_step": int(resub),
    }


def _handover_ctes(
    filters: Filters, params: Params, unit: str, cur: duckdb.DuckDBPyConnection | None = None
) -> list[tuple[str, str]]:
    """Events with a known ``unit`` (department or handler) and the unit before them in the case.

    Events whose unit is unknown are skipped, so A → (unknown) → B counts as one handover A → B.
    """
    if unit not in ("department", "handler"):
        raise ValueError("unit must be department or handler")
    h = f"""
        SELECT town, case_id, case_ref, {unit} AS unit, completed_at, started_at,
               lag({unit}) OVER hw AS prev_unit,
               lag(completed_at) OVER hw AS prev_completed_at
        FROM ev WHERE {unit} IS NOT NULL
        WINDOW hw AS (PARTITION BY town, case_id ORDER BY completed_at, seq)
    """
    ho = """
        SELECT town, case_id, case_ref, prev_unit AS from_unit, unit AS to_unit,
               epoch(greatest(coalesce(started_at, completed_at), prev_completed_at) - prev_completed_at) / 3600.0
                   AS delay_hours
        FROM h WHERE prev_unit IS NOT NULL AND prev_unit <> unit
    """
    ctes = event_ctes(filters, params) if cur is None else _event_ctes(cur, filters, params)
    if unit == "department" and "prev_known_department" in ctes[0][1]:
        # Each event keeps the last earlier event of its case that names a department (fast path).
        h = """
            SELECT town, case_id, case_ref, department AS unit, completed_at, started_at,
                   prev_known_department AS prev_unit,
                   CASE WHEN prev_known_department IS NOT NULL
                        THEN coalesce(prev_known_completed_at, prev_completed_at) END AS prev_completed_at
            FROM ev WHERE department IS NOT NULL
        """
    return ctes + [("h", h), ("ho", ho)]


def handovers(cur: duckdb.DuckDBPyConnection, filters: Filters, unit: str = "department") -> dict[str, object]:
    """部门壁垒 in numbers: handovers between departments (or handlers), their delay, handovers per case."""
    params = Params()
    sql = f"""
        {_with(_handover_ctes(filters, params, unit, cur))}
        SELECT (SELECT count(DISTINCT case_ref) FROM ev),
               count(*), count(DISTINCT case_ref),
               quantile_cont(delay_hours, 0.5), quantile_cont(delay_hours, 0.9), avg(delay_hours),
               coalesce(sum(delay_hours), 0),
               (SELECT sum(duration_hours) FROM cd)
        FROM ho
    """
    cases, count, cases_with, median, p90, mean, total, case_time = one(cur.execute(sql, params.values))
    return {
        "unit": unit,
        "cases": int(cases),
        "handovers": int(count),
        "cases_with_handover": int(cases_with),
        "handovers_per_case": count / cases if cases else None,
        "median_delay_hours": median,
        "p90_delay_hours": p90,
        "mean_delay_hours": mean,
        "total_delay_hours": float(total),
        "share_of_case_time": total / case_time if case_time else None,
    }


def handover_matrix(cur: duckdb.DuckDBPyConnection, filters: Filters, unit: str = "department") -> pd.DataFrame:
    """From unit × to unit: count, cases, median/mean/total delay hours, share of case time."""
    params = Params()
    sql = f"""
        {_with(_handover_ctes(filters, params, unit, cur))}
        SELECT from_unit, to_unit, count(*) AS count, count(DISTINCT case_ref) AS cases,
               quantile_cont(delay_hours, 0.5) AS median_delay_hours,
               avg(delay_hours) AS mean_delay_hours,
               sum(delay_hours) AS total_delay_hours,
               sum(delay_hours) / nullif((SELECT sum(duration_hours) FROM cd), 0) AS share_of_case_time
        FROM ho
        GROUP BY from_unit, to_unit
        ORDER BY count DESC, total_delay_hours DESC, from_unit, to_unit
    """
    return _frame(cur, sql, params)


def directly_follows(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Edges of the process map: source step → target step with frequency and times.

    ``median/mean/p90_hours`` are the waiting times of the target (as in pm4py's performance DFG,
    which with start times measures from the source's completion to the target's start);
    ``median/mean_flow_hours`` are completion to completion (the same when there are no start times).
    """
    params = Params()
    sql = f"""
        {_with(_event_ctes(cur, filters, params))}
        SELECT prev_step AS source, step AS target, count(*) AS count, count(DISTINCT case_ref) AS cases,
               quantile_cont(wait_hours, 0.5) AS median_hours,
               avg(wait_hours) AS mean_hours,
               quantile_cont(wait_hours, 0.9) AS p90_hours,
               quantile_cont(epoch(completed_at - prev_completed_at) / 3600.0, 0.5) AS median_flow_hours,
               avg(epoch(completed_at - prev_completed_at) / 3600.0) AS mean_flow_hours
        FROM t
        WHERE prev_completed_at IS NOT NULL
        GROUP BY prev_step, step
        ORDER BY count DESC, source, target
    """
    return _frame(cur, sql, params)


def process_nodes(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Nodes of the process map: step, events, cases, how often it starts and ends a case."""
    params = Params()
    sql = f"""
        {_with(_event_ctes(cur, filters, params))}
        SELECT step, count(*) AS count, count(*) FILTER (WHERE step_occurrence = 1) AS cases,
               count(*) FILTER (WHERE pos = 1) AS start_count,
               count(*) FILTER (WHERE pos = n_events) AS end_count,
               quantile_cont(wait_hours, 0.5) AS median_wait_hours
        FROM t GROUP BY step ORDER BY count DESC, step
    """
    return _frame(cur, sql, params)


def _day_range(cur: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[dt.date, dt.date] | None:
    start, end = filters.start, filters.end
    if start is None or end is None:
        towns, values = town_condition(filters, "x")  # never another town's dates
        lo, hi = one(
            cur.execute(
                f"""
            SELECT least((SELECT min(submitted_at) FROM cases x WHERE {towns}),
                         (SELECT min(completed_at) FROM events x WHERE {towns}))::DATE,
                   greatest((SELECT max(coalesce(completed_at, submitted_at)) FROM cases x WHERE {towns}),
                            (SELECT max(completed_at) FROM events x WHERE {towns}))::DATE
            """,
                values,
            )
        )
        start, end = start or lo, end or hi
    if start is None or end is None or start > end:
        return None
    return start, end


def work_in_progress(cur: duckdb.DuckDBPyConnection, filters: Filters, source: str = "auto") -> pd.DataFrame:
    """Cases open at each day's end, per department: columns day, department, open_cases.

    From events, a case sits between two events in the department of the next one (the one that
    receives it), and an open case after its last event in that event's department. From cases
    only (``source='cases'``, or no events), a case sits in its own department from submission to
    completion. Days run over the period (else the data's range); days with no open case are absent.
    """
    span = _day_range(cur, filters)
    if span is None:
        return pd.DataFrame(columns=["day", "department", "open_cases"])
    if source == "auto":
        source = "events" if has_events(cur, filters) else "cases"
    if source == "events" and precomputed_columns.ready(cur):
        return _work_in_progress_kept(cur, filters, span)
    params = Params()
    first, last = params.add(span[0], "d0"), params.add(span[1], "d1")
    days = f"SELECT unnest(range({first}::DATE, {last}::DATE + 1, INTERVAL 1 DAY))::DATE AS day"
    if source == "events":
        ctes = event_ctes(filters, params, backlog=True) + [
            (
                "seg",
                """
                SELECT department, prev_completed_at AS seg_start, completed_at AS seg_end
                FROM w WHERE prev_completed_at IS NOT NULL
                UNION ALL
                SELECT w.department, w.completed_at, NULL
                FROM w JOIN cases c ON c.case_id = w.case_id AND c.town = w.town
                WHERE w.pos = w.n_events AND c.completed_at IS NULL AND coalesce(c.status, 'open') = 'open'
                """,
            )
        ]
    else:
        where, _ = where_clause(filters, "c", params, start=False)
        ctes = [
            (
                "seg",
                f"""
                SELECT c.department, c.submitted_at AS seg_start,
                       CASE WHEN c.completed_at IS NOT NULL THEN c.completed_at
                            WHEN coalesce(c.status, 'open') = 'open' THEN NULL
                            ELSE c.submitted_at END AS seg_end
                FROM cases c WHERE {where}
                """,
            )
        ]
    ctes.append(("days", days))
    sql = f"""
        {_with(ctes)}
        SELECT d.day, s.department, count(*) AS open_cases
        FROM days d JOIN seg s
          ON s.seg_start < (d.day + 1)::TIMESTAMP AND (s.seg_end IS NULL OR s.seg_end >= (d.day + 1)::TIMESTAMP)
        GROUP BY d.day, s.department
        ORDER BY d.day, open_cases DESC, s.department
    """
    return _frame(cur, sql, params)


def _work_in_progress_kept(
    cur: duckdb.DuckDBPyConnection, filters: Filters, span: tuple[dt.date, dt.date]
) -> pd.DataFrame:
    """:func:`work_in_progress` from events, by counting instead of joining every day with every segment.

    A segment (a case waiting for its next event, or an open case after its last) is open at the end
    of day d when it started on or before d and ends after d: so it is open on the days from its
    start day to the day before its end day. Only segments overlapping the period matter; each adds
    +1 on its first day in the period and -1 on the day after its last, and a running sum per
    department gives the open cases of every day (the same counts as the straightforward join).
    """
    params = Params()
    first, last = params.add(span[0], "d0"), params.add(span[1], "d1")
    ctes = _event_ctes(cur, filters, params, backlog=True)[:1] + [
        (
            "seg",
            f"""
            SELECT department, prev_completed_at AS seg_start, completed_at AS seg_end
            FROM ev
            WHERE prev_completed_at IS NOT NULL AND prev_completed_at < ({last}::DATE + 1)::TIMESTAMP
              AND completed_at >= ({first}::DATE + 1)::TIMESTAMP
            UNION ALL
            SELECT ev.department, ev.completed_at, NULL
            FROM ev JOIN case_rows c ON c.case_key = ev.case_key AND c.is_current
            WHERE ev.pos = ev.n_events AND c.completed_at IS NULL AND coalesce(c.status, 'open') = 'open'
              AND ev.completed_at < ({last}::DATE + 1)::TIMESTAMP
            """,
        ),
        (
            "spans",
            f"""
            SELECT department, greatest(seg_start::DATE, {first}::DATE) AS lo,
                   least(coalesce(seg_end::DATE - 1, {last}::DATE), {last}::DATE) AS hi
            FROM seg
            """,
        ),
        (
            "daily",
            f"""
            SELECT department, day, sum(delta) AS delta FROM (
                SELECT department, lo AS day, 1 AS delta FROM spans WHERE lo <= hi
                UNION ALL
                SELECT department, hi + 1, -1 FROM spans WHERE lo <= hi AND hi < {last}::DATE
            ) GROUP BY department, day
            """,
        ),
        ("days", f"SELECT unnest(range({first}::DATE, {last}::DATE + 1, INTERVAL 1 DAY))::DATE AS day"),
    ]
    sql = f"""
        {_with(ctes)}
        SELECT day, department, open_cases::BIGINT AS open_cases FROM (
            SELECT g.day, g.department,
                   sum(coalesce(x.delta, 0)) OVER (PARTITION BY g.department ORDER BY g.day) AS open_cases
            FROM (SELECT days.day, u.department FROM days, (SELECT DISTINCT department FROM daily) u) g
            LEFT JOIN daily x ON x.department IS NOT DISTINCT FROM g.department AND x.day = g.day
        )
        WHERE open_cases > 0
        ORDER BY day, open_cases DESC, department
    """
    return _frame(cur, sql, params)


# --- the table behind `cli.py bottlenecks`, and the town's median wait the findings compare with ---------

TABLE_COLUMNS = (
    "count", "cases", "median_wait_hours", "p90_wait_hours", "mean_wait_hours", "total_wait_hours",
    "total_time_hours", "share_of_case_time", "median_wait_workdays", "rework_rate",
)  # fmt: skip


def bottleneck_table(cur: duckdb.DuckDBPyConnection, filters: Filters, by: str = "department") -> pd.DataFrame:
    """The bottleneck rows for ``by`` (department or step), with ``unit`` naming the row and ``source``.

    Without events, by department falls back to cases: count = completed cases, waiting = the
    whole processing time (submission to completion) spent in the case's department.
    """
    if has_events(cur, filters):
        frame = waiting_time(cur, filters, by)
        frame.insert(0, "unit", frame[by])
        frame["source"] = "events"
        return frame[["unit", by, *TABLE_COLUMNS, "source"]]
    if by != "department":
        return pd.DataFrame(columns=["unit", by, *TABLE_COLUMNS, "source"])
    dept = timeliness.department_processing(cur, filters)
    frame = pd.DataFrame(
        {
            "unit": dept["department"],
            "department": dept["department"],
            "count": dept["completed"],
            "cases": dept["cases"],
            "median_wait_hours": dept["median_natural_days"] * 24,
            "p90_wait_hours": dept["p90_natural_days"] * 24,
            "mean_wait_hours": dept["mean_natural_days"] * 24,
            "total_wait_hours": dept["total_natural_days"] * 24,
            "total_time_hours": dept["total_natural_days"] * 24,
            "share_of_case_time": dept["share_of_processing_time"],
            "median_wait_workdays": dept["median_working_days"],
            "rework_rate": None,
            "source": "cases",
        }
    )
    return frame.sort_values("total_time_hours", ascending=False, na_position="last").reset_index(drop=True)


def overall_median_wait_hours(cur: duckdb.DuckDBPyConnection, filters: Filters) -> float | None:
    """The median of all waiting times of the selection (pass the period alone for the town's)."""
    params = Params()
    sql = f"{_with(_event_ctes(cur, filters, params))} SELECT quantile_cont(wait_hours, 0.5) FROM t"
    return one(cur.execute(sql, params.values))[0]
