"""The calls that make each page, declared once, and the two queries only pages ask for.

:data:`PAGES` declares, per page, every call its default view makes, by name, as the metrics
function and its arguments for a :class:`Context` (the filters, and what the page's own widgets
chose). Every reader takes them from here:

- the page itself asks by name, ``calls("tiles")`` (:class:`ui.metrics_cache.PageCalls`), for the
  view the leader has chosen, through the pages' cache;
- :mod:`metrics.precomputed_views` computes them for the default view (the month chosen, nothing
  else: what a leader sees first) after each change of the data, and keeps them;
- ``bench`` times them;
- ``tests/test_page_queries.py`` opens each page's default view and checks that it makes exactly
  these calls, every one of them kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from metrics import adoption, bottlenecks, county, findings, journeys, kpis, timeliness
from metrics.catalog import JOURNEY_WINDOW_DAYS
from metrics.filters import Filters, default_month, where_clause
from metrics.targets import get_targets
from store.facets import filter_options
from store.towns import area_kind, towns_without_cases


def previous_kpis(cur: duckdb.DuckDBPyConnection, filters: Filters, ids: tuple[str, ...]) -> dict[str, kpis.KpiResult]:
    """The KPIs ``ids`` for the period before ``filters``' (the tiles' change), same dimensions."""
    previous = filters.previous_period()
    if previous is None:  # pages always filter a period with both ends
        raise ValueError("the period before an open-ended one is undefined")
    return kpis.compute_kpis(cur, previous, list(ids))


def cases_of(cur, filters: Filters, department: str | None, item: str | None, limit: int = 5000) -> pd.DataFrame:
    """The PII-free case list behind a drill-down (department → item → cases)."""
    narrowed = replace(
        filters,
        departments=(department,) if department else filters.departments,
        items=(item,) if item else filters.items,
    )
    where, params = where_clause(narrowed, alias="c")
    return cur.execute(
        f"""SELECT c.town, c.case_id, c.service_item, c.department, c.channel, c.submitted_at, c.completed_at, c.status,
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
    """A page's view: the filters, the department and item the adoption page's drill-down is on, the window."""

    filters: Filters
    drill_department: str | None = None
    drill_item: str | None = None
    #: The 一件事 page's window: days between two cases of one journey.
    window_days: int = JOURNEY_WINDOW_DAYS

    @property
    def department(self) -> str | None:
        """The one department chosen, whose targets the tiles are held to (else the town's)."""
        chosen = self.filters.departments
        return chosen[0] if len(chosen) == 1 else None


def twelve_months(filters: Filters) -> Filters:
    """The 12 months ending with the filtered month, same dimensions: the trend's window."""
    end = filters.end
    if end is None:  # pages always filter a period with both ends
        raise ValueError("a trend window needs the period's end")
    start = (pd.Timestamp(dt.date(end.year, end.month, 1)) - pd.DateOffset(months=11)).date()
    return replace(filters, start=start, end=end)


#: What every page asks first: the sidebar's choices, and whether the selection has cases (page_header).
FILTER_OPTIONS = Query(filter_options, lambda c: ())
CASE_COUNT = Query(kpis.compute_kpis, lambda c: (c.filters, ["cases"]))
#: And, in a county, the towns the month's figures leave out (no cases of it yet): the scope line says so.
TOWNS_MISSING = Query(towns_without_cases, lambda c: (f"{c.filters.start:%Y-%m}" if c.filters.start else "",))
_COMMON = {"filter_options": FILTER_OPTIONS, "case_count": CASE_COUNT, "towns_missing": TOWNS_MISSING}

#: Per page, its calls by the name the page asks for them with (``ui.metrics_cache.PageCalls``).
#: Every call a page makes on its default view is here; a call it makes only in another state (the
#: case-level table when the log has no events) is asked for directly.
PAGES: dict[str, dict[str, Query]] = {
    "overview": _COMMON
    | {
        "tiles": Query(kpis.compute_kpis, lambda c: (c.filters, OVERVIEW_TILES)),
        "previous": Query(previous_kpis, lambda c: (c.filters, tuple(OVERVIEW_TILES))),
        "targets": Query(get_targets, lambda c: (c.department,)),
        "town_targets": Query(get_targets, lambda c: (None,)),
        "calendar_warning": Query(timeliness.calendar_warning, lambda c: (c.filters,)),
        "trend": Query(kpis.kpi_series, lambda c: (twelve_months(c.filters), "month", ["cases", "online_rate"])),
        "weakest_departments": Query(kpis.weakest_departments, lambda c: (c.filters,)),
        "area": Query(area_kind, lambda c: (c.filters.towns,)),
        "findings": Query(findings.rank_bottlenecks, lambda c: (c.filters, TOP_FINDINGS)),
        "name_only": Query(adoption.name_only_items, lambda c: (c.filters,)),
        "at_risk": Query(timeliness.at_risk_cases, lambda c: (c.filters,)),
    },
    "adoption": _COMMON
    | {
        "targets": Query(get_targets, lambda c: (None,)),
        "by_department": Query(adoption.online_rate_by, lambda c: (c.filters, "department")),
        "by_item": Query(adoption.online_rate_by, lambda c: (c.filters, "service_item")),
        "channel_mix": Query(adoption.channel_mix, lambda c: (twelve_months(c.filters), "month")),
        "cases": Query(cases_of, lambda c: (c.filters, c.drill_department, c.drill_item)),
    },
    "timeliness": _COMMON
    | {
        "tiles": Query(kpis.compute_kpis, lambda c: (c.filters, TIMELINESS_IDS)),
        "targets": Query(get_targets, lambda c: (c.department,)),
        "previous": Query(previous_kpis, lambda c: (c.filters, tuple(TIMELINESS_IDS))),
        "by_item": Query(timeliness.processing_time_by_item, lambda c: (c.filters,)),
        "by_department": Query(timeliness.department_processing, lambda c: (c.filters,)),
        "overdue": Query(timeliness.open_overdue_cases, lambda c: (c.filters,)),
        "at_risk": Query(timeliness.at_risk_cases, lambda c: (c.filters,)),
    },
    "bottlenecks": _COMMON
    | {
        "findings": Query(findings.rank_bottlenecks, lambda c: (c.filters, TOP_FINDINGS)),
        "has_events": Query(bottlenecks.has_events, lambda c: (c.filters,)),
        "nodes": Query(bottlenecks.process_nodes, lambda c: (c.filters,)),
        "edges": Query(bottlenecks.directly_follows, lambda c: (c.filters,)),
        "waits": Query(bottlenecks.waiting_time, lambda c: (c.filters, "department")),
        "handovers": Query(bottlenecks.handovers, lambda c: (c.filters, "department")),
        "handover_matrix": Query(bottlenecks.handover_matrix, lambda c: (c.filters, "department")),
        "wip": Query(bottlenecks.work_in_progress, lambda c: (c.filters,)),
        "rework": Query(bottlenecks.rework_by_step, lambda c: (c.filters,)),
    },
    # 全县对比: every town the reader may see, whatever the town filter says (the page drops it before asking).
    "journeys": _COMMON
    | {
        "targets": Query(get_targets, lambda c: (None,)),
        "previous": Query(journeys.previous_journey_kpis, lambda c: (c.filters, c.window_days)),
        "summary": Query(journeys.page_summary, lambda c: (c.filters, c.window_days, journeys.shipped_bundle_spec())),
    },
    "county": _COMMON
    | {
        "towns": Query(county.town_kpis, lambda c: (county.all_towns(c.filters), county.COUNTY_IDS)),
        "county": Query(kpis.compute_kpis, lambda c: (county.all_towns(c.filters), OVERVIEW_TILES)),
        "targets": Query(get_targets, lambda c: (c.department,)),
        "months": Query(county.online_rate_by_town_month, lambda c: (twelve_months(county.all_towns(c.filters)),)),
        "county_months": Query(
            kpis.kpi_series, lambda c: (twelve_months(county.all_towns(c.filters)), "month", ["cases", "online_rate"])
        ),
        "published": Query(county.published_towns, lambda c: (f"{c.filters.start:%Y-%m}",)),
    },
}


#: What a page does to the sidebar's filters before it asks: the 一件事 page keeps the month and the towns (a journey
#: crosses departments, items and channels). The page and the bench both go through :func:`page_filters`.
PAGE_FILTERS: dict[str, Callable[[Filters], Filters]] = {"journeys": journeys.replace_dims}


def page_filters(page: str, filters: Filters) -> Filters:
    """The filters ``page`` asks its calls with, for the sidebar's ``filters``."""
    narrow = PAGE_FILTERS.get(page)
    return narrow(filters) if narrow else filters


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
    return Context(filters, drill_department=top[0] if top else None)
