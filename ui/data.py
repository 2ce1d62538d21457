"""Cached reads for the pages: every call is keyed by the database file and its data version.

Every committed write bumps the data version, so a new upload shows on the next page run without a
restart, while repeated views of the same filters cost nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import streamlit as st

from metrics import adoption, bottlenecks, kpis, timeliness
from metrics.filters import Filters
from ui.state import get_db


def _key() -> tuple[str, int]:
    db = get_db()
    return str(db.path), db.data_version()


@st.cache_data(show_spinner=False, max_entries=512)
def _call(db_path: str, version: int, fn_name: str, args: tuple, kwargs: tuple) -> object:
    fn = _FUNCTIONS[fn_name]
    cur = get_db().cursor()
    try:
        return fn(cur, *args, **dict(kwargs))
    finally:
        cur.close()


def cached(fn_name: str, *args: object, **kwargs: object):
    """Run a metrics function (by name) on a fresh cursor, cached on (database, data version, args)."""
    path, version = _key()
    return _call(path, version, fn_name, args, tuple(sorted(kwargs.items())))


def _filter_options(cur) -> dict:
    from store.facets import filter_options

    return filter_options(cur)


def _targets(cur, department: str | None = None) -> dict:
    from store.targets import get_targets

    return get_targets(cur, department)


def _previous(cur, filters: Filters, ids: tuple[str, ...]) -> dict:
    return kpis.compute_kpis(cur, filters.previous_period(), list(ids))


def _cases_of(cur, filters: Filters, department: str | None, item: str | None, limit: int = 5000) -> pd.DataFrame:
    """The PII-free case list behind a drill-down (department → item → cases)."""
    from metrics.filters import where_clause

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


_FUNCTIONS: dict[str, Callable] = {
    "compute_kpis": kpis.compute_kpis,
    "previous_kpis": _previous,
    "kpi_series": kpis.kpi_series,
    "kpis_by": kpis.kpis_by,
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
    "rank_bottlenecks": bottlenecks.rank_bottlenecks,
    "filter_options": _filter_options,
    "targets": _targets,
    "cases_of": _cases_of,
}


def filter_options() -> dict:
    return cached("filter_options")


def twelve_months(filters: Filters) -> Filters:
    """The 12 months ending with the filtered month, same dimensions: the trend's window."""
    end = filters.end
    start = (pd.Timestamp(dt.date(end.year, end.month, 1)) - pd.DateOffset(months=11)).date()
    return Filters(start, end, filters.departments, filters.items, filters.channels)
