"""The queries behind every dashboard page: one table of them by name, and the calls each page makes.

Pages call ``ui.data.cached(name, *args)``; :data:`FUNCTIONS` maps each name to its metrics function.
:data:`PAGES` lists, per page, the calls it makes for its default view (the month chosen, nothing
else: what a leader sees first). ``metrics.precomputed_views`` computes those calls after each load and keeps
them; ``bench`` times them. ``tests/test_bench.py`` checks that every ``cached(...)`` call of the
pages is listed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pandas as pd

from metrics import adoption, bottlenecks, findings, kpis, timeliness
from metrics.filters import Filters, default_month, where_clause
from metrics.targets import get_targets
from store.facets import filter_options


def _previous(cur, filters: Filters, ids: tuple[str, ...]) -> dict:
    return kpis.compute_kpis(cur, filters.previous_period(), list(ids))


def _cases_of(cur, filters: Filters, department: str | None, item: str | None, limit: int = 5000) -> pd.DataFrame:
    """The PII-free case list behind a drill-down (department → item → cases)."""
    narrowed = Filters(
        filters.start,
        filters.end,
        (department,) if department else filters.departments,
        (item,) if item else filters.items,
        filters.channels,
    )
    where, params = where_clause(narrowed, alias="c")
    return cur.execute(
        f"""SELECT c.case_id, c.service_item, c.department, c.channel, c.submitted_at, c.completed_at, c.status,
                   c.due_at, round(c.processing_days_working, 2) AS processing_days_working, c.visits,
                   c.resubmissions, c.satisfaction
            FROM cases c WHERE {where} ORDER BY c.submitted_at DESC LIMIT {int(limit)}""",
        params,
    ).df()


FUNCTIONS: dict[str, Callable] = {
    "compute_kpis": kpis.compute_kpis,
    "previous_kpis": _previous,
    "kpi_series": kpis.kpi_series,
    "kpis_by": kpis.kpis_by,
    "weakest_departments": kpis.weakest_departments,
    "online_rate_by": adoption.online_rate_by,
    "channel_mix": adoption.channel_mix,
    "name_only_items": adoption.name_only_items,
    "processing_time_by_item": timeliness.processing_time_by_item,
    "processing_time_histogram": timeliness.processing_time_histogram,
    "department_processing": timeliness.department_processing,
    "open_overdue_cases": timeliness.open_overdue_cases,
    "at_risk_cases": timeliness.at_risk_cases,
    "calendar_warning": timeliness.calendar_warning,
    "has_events": bottlenecks.has_events,
    "waiting_time": bottlenecks.waiting_time,
    "bottleneck_table": bottlenecks.bottleneck_table,
    "handover_matrix": bottlenecks.handover_matrix,
    "handovers": bottlenecks.handovers,
    "directly_follows": bottlenecks.directly_follows,
    "process_nodes": bottlenecks.process_nodes,
    "work_in_progress": bottlenecks.work_in_progress,
    "rework_by_step": bottlenecks.rework_by_step,
    "rework_summary": bottlenecks.rework_summary,
    "rank_bottlenecks": findings.rank_bottlenecks,
    "filter_options": filter_options,
    "targets": get_targets,
    "cases_of": _cases_of,
}


#: views/overview.py TILE_ROWS and the figure beside them; views/timeliness.py ids (with 办件量, which says
#: whether last month has data to compare with).
OVERVIEW_TILES = [
    "cases", "online_rate", "fully_online_rate", "max_one_visit_rate", "bad_ratings",
    "on_time_rate", "median_processing_days", "resubmission_rate", "open_overdue_cases", "at_risk_cases",
    "rating_participation",
]  # fmt: skip
TIMELINESS_IDS = [
    "median_processing_days", "p90_processing_days", "on_time_rate", "speedup_rate", "open_overdue_cases",
    "at_risk_cases", "cases",
]  # fmt: skip


@dataclass(frozen=True)
class Query:
    name: str  # the ui.data function name
    args: Callable[[Context], tuple]


@dataclass(frozen=True)
class Context:
    filters: Filters
    top_department: str | None


def twelve_months(filters: Filters) -> Filters:
    """The 12 months ending with the filtered month, same dimensions: the trend's window."""
    end = filters.end
    start = (pd.Timestamp(dt.date(end.year, end.month, 1)) - pd.DateOffset(months=11)).date()
    return Filters(start, end, filters.departments, filters.items, filters.channels)


#: Every page's first metrics call (page_header: does the selection have cases?).
CASE_COUNT = Query("compute_kpis", lambda c: (c.filters, ["cases"]))

_COMMON = [Query("filter_options", lambda c: ()), CASE_COUNT]

PAGES: dict[str, list[Query]] = {
    "overview": _COMMON
    + [
        Query("compute_kpis", lambda c: (c.filters, OVERVIEW_TILES)),
        Query("previous_kpis", lambda c: (c.filters, tuple(OVERVIEW_TILES))),
        Query("targets", lambda c: (None,)),
        Query("calendar_warning", lambda c: (c.filters,)),
        Query("kpi_series", lambda c: (twelve_months(c.filters), "month", ["cases", "online_rate"])),
        Query("weakest_departments", lambda c: (c.filters,)),
        Query("rank_bottlenecks", lambda c: (c.filters, 5)),
        Query("name_only_items", lambda c: (c.filters,)),
        Query("at_risk_cases", lambda c: (c.filters,)),
    ],
    "adoption": _COMMON
    + [
        Query("targets", lambda c: (None,)),
        Query("online_rate_by", lambda c: (c.filters, "department")),
        Query("online_rate_by", lambda c: (c.filters, "service_item")),
        Query("channel_mix", lambda c: (twelve_months(c.filters), "month")),
        Query("cases_of", lambda c: (c.filters, c.top_department, None)),
    ],
    "timeliness": _COMMON
    + [
        Query("compute_kpis", lambda c: (c.filters, TIMELINESS_IDS)),
        Query("targets", lambda c: (None,)),
        Query("previous_kpis", lambda c: (c.filters, tuple(TIMELINESS_IDS))),
        Query("processing_time_by_item", lambda c: (c.filters,)),
        Query("department_processing", lambda c: (c.filters,)),
        Query("open_overdue_cases", lambda c: (c.filters,)),
        Query("at_risk_cases", lambda c: (c.filters,)),
    ],
    "bottlenecks": _COMMON
    + [
        Query("rank_bottlenecks", lambda c: (c.filters, 5)),
        Query("has_events", lambda c: (c.filters,)),
        Query("process_nodes", lambda c: (c.filters,)),
        Query("directly_follows", lambda c: (c.filters,)),
        Query("waiting_time", lambda c: (c.filters, "department")),
        Query("handovers", lambda c: (c.filters, "department")),
        Query("handover_matrix", lambda c: (c.filters, "department")),
        Query("work_in_progress", lambda c: (c.filters,)),
        Query("rework_by_step", lambda c: (c.filters,)),
    ],
}


#: Calls a page makes only in another situation than the default view (here: a log without events).
NOT_IN_DEFAULT_VIEW = {"bottlenecks": {"bottleneck_table"}}


def default_month_of(cur: duckdb.DuckDBPyConnection) -> str | None:
    """The month pages and commands open on for this data: the last complete month with cases."""
    months = [r[0] for r in cur.execute(
        "SELECT DISTINCT strftime(submitted_at, '%Y-%m') FROM cases WHERE submitted_at IS NOT NULL"
    ).fetchall()]  # fmt: skip
    return default_month(months)


def default_context(cur: duckdb.DuckDBPyConnection, month: str | None = None) -> Context:
    """The view a page opens with: the month (by default the last complete one with cases), no other filter."""
    if month is None:
        month = default_month_of(cur)
    filters = Filters.month_as_seen(month) if month else Filters()
    top = cur.execute(
        "SELECT department FROM cases WHERE submitted_at >= ? AND submitted_at < ? + INTERVAL 1 DAY "
        "GROUP BY department ORDER BY count(*) DESC, department LIMIT 1",
        [filters.start, filters.end],
    ).fetchone()
    return Context(filters, top[0] if top else None)
