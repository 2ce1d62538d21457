"""The calls that make each page's default view, declared once, and the two queries only pages ask for.

A page asks for every figure by reference, through the pages' cache:
``cached(kpis.compute_kpis, filters, ids)`` (:mod:`ui.metrics_cache`). :data:`PAGES` declares, per
page, the calls its default view makes (the month chosen, nothing else: what a leader sees first),
as the function and its arguments for a :class:`Context`. Three readers take them from here:
:mod:`metrics.precomputed_views` computes them after each change of the data and keeps them,
``bench`` times them, and ``tests/test_page_queries.py`` opens each page's default view and checks
that it makes exactly these calls, every one of them kept.
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


def previous_kpis(cur: duckdb.DuckDBPyConnection, filters: Filters, ids: tuple[str, ...]) -> dict[str, kpis.KpiResult]:
    """The KPIs ``ids`` for the period before ``filters``' (the tiles' change), same dimensions."""
    previous = filters.previous_period()
    if previous is None:  # pages always filter a period with both ends
        raise ValueError("the period before an open-ended one is undefined")
    return kpis.compute_kpis(cur, previous, list(ids))


def cases_of(cur, filters: Filters, department: str | None, item: str | None, limit: int = 5000) -> pd.DataFrame:
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

#: How many findings the overview and the bottleneck page list.
TOP_FINDINGS = 5


@dataclass(frozen=True)
class Query:
    """One call of a page: the metrics function, and its arguments (after the cursor) for a view."""

    fn: Callable
    args: Callable[[Context], tuple]

    @property
    def name(self) -> str:
        return call_name(self.fn)


def call_name(fn: Callable) -> str:
    """What the pages' cache and the kept figures know a call's function by: its qualified name."""
    return f"{fn.__module__}.{fn.__qualname__}"


@dataclass(frozen=True)
class Context:
    """A page's view: the filters, and the department the adoption page's drill-down opens on."""

    filters: Filters
    top_department: str | None


def twelve_months(filters: Filters) -> Filters:
    """The 12 months ending with the filtered month, same dimensions: the trend's window."""
    end = filters.end
    if end is None:  # pages always filter a period with both ends
        raise ValueError("a trend window needs the period's end")
    start = (pd.Timestamp(dt.date(end.year, end.month, 1)) - pd.DateOffset(months=11)).date()
    return Filters(start, end, filters.departments, filters.items, filters.channels)


#: Every page's first metrics call (page_header: does the selection have cases?).
CASE_COUNT = Query(kpis.compute_kpis, lambda c: (c.filters, ["cases"]))

_COMMON = [Query(filter_options, lambda c: ()), CASE_COUNT]

PAGES: dict[str, list[Query]] = {
    "overview": _COMMON
    + [
        Query(kpis.compute_kpis, lambda c: (c.filters, OVERVIEW_TILES)),
        Query(previous_kpis, lambda c: (c.filters, tuple(OVERVIEW_TILES))),
        Query(get_targets, lambda c: (None,)),
        Query(timeliness.calendar_warning, lambda c: (c.filters,)),
        Query(kpis.kpi_series, lambda c: (twelve_months(c.filters), "month", ["cases", "online_rate"])),
        Query(kpis.weakest_departments, lambda c: (c.filters,)),
        Query(findings.rank_bottlenecks, lambda c: (c.filters, TOP_FINDINGS)),
        Query(adoption.name_only_items, lambda c: (c.filters,)),
        Query(timeliness.at_risk_cases, lambda c: (c.filters,)),
    ],
    "adoption": _COMMON
    + [
        Query(get_targets, lambda c: (None,)),
        Query(adoption.online_rate_by, lambda c: (c.filters, "department")),
        Query(adoption.online_rate_by, lambda c: (c.filters, "service_item")),
        Query(adoption.channel_mix, lambda c: (twelve_months(c.filters), "month")),
        Query(cases_of, lambda c: (c.filters, c.top_department, None)),
    ],
    "timeliness": _COMMON
    + [
        Query(kpis.compute_kpis, lambda c: (c.filters, TIMELINESS_IDS)),
        Query(get_targets, lambda c: (None,)),
        Query(previous_kpis, lambda c: (c.filters, tuple(TIMELINESS_IDS))),
        Query(timeliness.processing_time_by_item, lambda c: (c.filters,)),
        Query(timeliness.department_processing, lambda c: (c.filters,)),
        Query(timeliness.open_overdue_cases, lambda c: (c.filters,)),
        Query(timeliness.at_risk_cases, lambda c: (c.filters,)),
    ],
    "bottlenecks": _COMMON
    + [
        Query(findings.rank_bottlenecks, lambda c: (c.filters, TOP_FINDINGS)),
        Query(bottlenecks.has_events, lambda c: (c.filters,)),
        Query(bottlenecks.process_nodes, lambda c: (c.filters,)),
        Query(bottlenecks.directly_follows, lambda c: (c.filters,)),
        Query(bottlenecks.waiting_time, lambda c: (c.filters, "department")),
        Query(bottlenecks.handovers, lambda c: (c.filters, "department")),
        Query(bottlenecks.handover_matrix, lambda c: (c.filters, "department")),
        Query(bottlenecks.work_in_progress, lambda c: (c.filters,)),
        Query(bottlenecks.rework_by_step, lambda c: (c.filters,)),
    ],
}


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
