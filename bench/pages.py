"""The queries behind every dashboard page, as the pages run them for the default view.

Each page (``views/``) calls ``ui.data.cached(name, *args)``; here the same functions are called through the same
table (``ui.data._FUNCTIONS``), uncached, with the arguments the page passes when nothing but the
month is chosen (the latest month: what a leader sees first). Every page also draws the sidebar
(``filter_options``) and checks that the selection has cases (``page_header``).
``tests/test_bench.py`` checks that every ``cached(...)`` call of the pages is listed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from metrics.filters import Filters

#: views/overview.py TILE_ROWS and the tiles beside them; views/timeliness.py ids.
OVERVIEW_TILES = [
    "cases", "online_rate", "fully_online_rate", "max_one_visit_rate",
    "on_time_rate", "open_overdue_cases", "median_processing_days", "bad_ratings",
    "rating_participation", "at_risk_cases",
]  # fmt: skip
TIMELINESS_IDS = [
    "median_processing_days", "p90_processing_days", "on_time_rate", "speedup_rate", "open_overdue_cases",
    "at_risk_cases",
]  # fmt: skip


@dataclass(frozen=True)
class Query:
    name: str  # the ui.data function name
    args: Callable[[Context], tuple]


@dataclass(frozen=True)
class Context:
    filters: Filters
    top_department: str | None


def _twelve_months(filters: Filters) -> Filters:
    end = filters.end
    year, month = end.year, end.month - 11
    while month < 1:
        year, month = year - 1, month + 12
    return Filters(dt.date(year, month, 1), end, filters.departments, filters.items, filters.channels)


_COMMON = [
    Query("filter_options", lambda c: ()),
    Query("compute_kpis", lambda c: (c.filters, ["cases"])),
]

PAGES: dict[str, list[Query]] = {
    "overview": _COMMON
    + [
        Query("compute_kpis", lambda c: (c.filters, OVERVIEW_TILES)),
        Query("previous_kpis", lambda c: (c.filters, tuple(OVERVIEW_TILES))),
        Query("targets", lambda c: (None,)),
        Query("calendar_warning", lambda c: (c.filters,)),
        Query("kpi_series", lambda c: (_twelve_months(c.filters), "month", ["cases", "online_rate"])),
        Query("rank_bottlenecks", lambda c: (c.filters, 5)),
        Query("name_only_items", lambda c: (c.filters,)),
        Query("at_risk_cases", lambda c: (c.filters,)),
    ],
    "adoption": _COMMON
    + [
        Query("targets", lambda c: (None,)),
        Query("online_rate_by", lambda c: (c.filters, "department")),
        Query("online_rate_by", lambda c: (c.filters, "service_item")),
        Query("channel_mix", lambda c: (_twelve_months(c.filters), "month")),
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


def functions() -> dict[str, Callable]:
    """The pages' function table (importing ui.data needs Streamlit, but runs nothing of it)."""
    from ui import data

    return data._FUNCTIONS


def default_context(cur: duckdb.DuckDBPyConnection) -> Context:
    """The view a page opens with: the latest month with cases, no other filter."""
    month = cur.execute("SELECT strftime(max(submitted_at), '%Y-%m') FROM cases").fetchone()[0]
    filters = Filters.month(month)
    top = cur.execute(
        "SELECT department FROM cases WHERE submitted_at >= ? AND submitted_at < ? + INTERVAL 1 DAY "
        "GROUP BY department ORDER BY count(*) DESC, department LIMIT 1",
        [filters.start, filters.end],
    ).fetchone()
    return Context(filters, top[0] if top else None)
