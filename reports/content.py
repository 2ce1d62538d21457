"""Freeze a month: everything a monthly report shows, computed once, as plain JSON-ready data.

:func:`collect` asks the same metric functions the pages and ``cli.py kpis`` use (the KPI figures
are exactly ``compute_kpis(cur, Filters.month(M))``), and returns a dict of Python scalars, lists
and dicts only, so that it can be stored as JSON and every report file can be rendered from it
alone. :func:`case_list` is the month's PII-free case list (no applicant data of any kind).

With ``town=T`` every figure is the town's alone (``Filters(..., towns=(T,))`` everywhere: KPIs, trend,
departments, items, channels, bottlenecks, overdue lists, the case list, the uploads listed).

Call both on one read cursor inside one transaction (:func:`consistent_cursor`): DuckDB then
shows every query the same committed state, so the figures, the case list and the recorded data
version agree even while an analyst uploads.
"""

from __future__ import annotations

import calendar as _calendar
import contextlib
import datetime as dt
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import duckdb
import pandas as pd

import settings
from errors import BilingualError
from metrics import adoption, bottlenecks, findings, journeys, timeliness
from metrics.catalog import (
    AT_RISK_WORKDAYS,
    JOURNEY_MIN_APPLICANTS,
    JOURNEY_WINDOW_DAYS,
    KPIS,
    NAME_ONLY_MIN_CASES,
    NAME_ONLY_THRESHOLD,
)
from metrics.filters import Filters
from metrics.kpis import compute_kpis, kpi_series, to_wide
from metrics.targets import get_targets
from store.db import Database
from store.rows import one

#: Version of the content layout; renderers check it so an old snapshot is never misread.
CONTENT_FORMAT = 1
DEFAULT_TOWN = settings.DEFAULT_TOWN
TREND_MONTHS = 12
TREND_KPIS = ("cases", "online_rate", "fully_online_rate", "on_time_rate", "median_processing_days")

#: The PII-free case list: what a case is and how it went, never who applied.
CASE_COLUMNS: tuple[str, ...] = (
    "case_id", "service_item", "item_code", "department", "channel", "submitted_at", "accepted_at",
    "completed_at", "due_at", "status", "promised_days", "promised_unit", "processing_days_working",
    "processing_days_natural", "visits", "resubmissions",
)  # fmt: skip


class NoDataForMonth(BilingualError, ValueError):
    """The month has no case: there is nothing to freeze."""

    def __init__(self, month: str, lo: dt.date | None, hi: dt.date | None) -> None:
        self.month = month
        if lo is None:
            super().__init__(
                f"{month} 没有办件数据：数据库中还没有任何办件，请先导入",
                f"no cases in {month}: the database has no cases yet; load data first",
            )
        else:
            super().__init__(
                f"{month} 没有办件数据；现有数据的申请日期为 {lo} 至 {hi}",
                f"no cases submitted in {month}; the data covers {lo} to {hi}",
            )


def town_name() -> str:
    """The town on the report's cover: ``$EGOV_TOWN``, else the demo town."""
    return os.environ.get("EGOV_TOWN", "").strip() or DEFAULT_TOWN


def scoped(f: Filters, town: str | None) -> Filters:
    """``f`` limited to one town (unchanged for ``None``: the whole database)."""
    return replace(f, towns=(town,)) if town else f


def check_month(month: str) -> Filters:
    """``Filters.month`` for ``YYYY-MM`` (raises ValueError with a plain message otherwise)."""
    text = (month or "").strip()
    if len(text) != 7 or text[4] != "-":
        raise ValueError(f"月份应为 YYYY-MM 格式 (month must be YYYY-MM), got {month!r}")
    return Filters.month(text)


def previous_month(month: str) -> str:
    first = check_month(month).start
    assert first is not None
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


@contextmanager
def consistent_cursor(db: Database) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read cursor inside one transaction: every query sees the same committed data."""
    cur = db.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        yield cur
    finally:
        try:
            cur.execute("ROLLBACK")
        finally:
            cur.close()


def _town_sql(town: str | None) -> tuple[str, list[object]]:
    return (" AND town = ?", [town]) if town else ("", [])


def months_with_data(cur: duckdb.DuckDBPyConnection, town: str | None = None) -> list[dict[str, object]]:
    """Months with cases (of ``town``, when given), newest first: ``[{"month": "2026-10", "cases": 157}, ...]``."""
    where, params = _town_sql(town)
    rows = cur.execute(
        f"""
        SELECT strftime(submitted_at, '%Y-%m') AS month, count(*) AS cases
        FROM cases WHERE submitted_at IS NOT NULL{where}
        GROUP BY 1 ORDER BY 1 DESC
        """,
        params,
    ).fetchall()
    return [{"month": m, "cases": int(n)} for m, n in rows]


def month_has_data(cur: duckdb.DuckDBPyConnection, month: str, town: str | None = None) -> None:
    """Raise :class:`NoDataForMonth` unless a case (of ``town``, when given) was submitted in ``month``."""
    f = check_month(month)
    assert f.end is not None  # a month has both ends
    end = f.end + dt.timedelta(days=1)
    where, params = _town_sql(town)
    n = one(
        cur.execute(
            "SELECT count(*) FROM cases WHERE submitted_at >= ?::TIMESTAMP AND submitted_at < ?::TIMESTAMP" + where,
            [f.start, end, *params],
        )
    )[0]
    if not n:
        sql = "SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM cases WHERE true" + where
        lo, hi = one(cur.execute(sql, params))
        raise NoDataForMonth(month, lo, hi)


# --- JSON-ready values ------------------------------------------------------------------------------


def plain(value: object) -> object:
    """A JSON-ready Python scalar: numpy -> Python, NaN/NaT -> None, dates -> ISO text."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().isoformat()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(frame: pd.DataFrame, columns: list[str] | tuple[str, ...] | None = None) -> list[dict[str, object]]:
    """Rows of ``frame`` (only ``columns``, in that order) as JSON-ready dicts."""
    if frame is None or frame.empty:
        return []
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    return [{c: plain(v) for c, v in zip(cols, row, strict=True)} for row in frame[cols].itertuples(index=False)]


# --- the pieces -----------------------------------------------------------------------------------


def _catalogue() -> list[dict[str, object]]:
    """The KPI definitions in force at publication (口径说明 travels with the figures it explains)."""
    return [
        {
            "id": k.id, "name_zh": k.name.zh, "name_en": k.name.en, "definition_zh": k.definition.zh,
            "definition_en": k.definition.en, "unit": k.unit, "higher_is_better": k.higher_is_better,
            "default_target": k.default_target,
        }
        for k in KPIS
    ]  # fmt: skip


def _targets(cur: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The town's effective targets (set on the targets page, else the catalogue defaults), as stored: 0 stays 0."""
    try:
        return {k: plain(v) for k, v in get_targets(cur).items()}
    except duckdb.CatalogException:
        return {k.id: k.default_target for k in KPIS}


def _trend(cur: duckdb.DuckDBPyConnection, month: str, town: str | None = None) -> list[dict[str, object]]:
    end = check_month(month).end
    assert end is not None
    first = end.replace(day=1)
    for _ in range(TREND_MONTHS - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    series = kpi_series(cur, scoped(Filters(first, end), town), "month", TREND_KPIS)
    wide = to_wide(series, "period_start", with_counts=True)
    out = []
    for row in records(wide):
        start = dt.date.fromisoformat(str(row.pop("period_start")))
        out.append({"month": start.strftime("%Y-%m"), **row})
    return out


def _departments(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[dict[str, object]]:
    online = adoption.online_rate_by(cur, f, "department")
    processing = timeliness.department_processing(cur, f)
    if processing.empty:
        return records(online)
    merged = processing.merge(online.drop(columns=["cases"]), on="department", how="left")
    return records(
        merged,
        [
            "department", "cases", "online_cases", "channel_known", "online_rate", "fully_online_cases",
            "fully_online_rate", "completed", "median_working_days", "p90_working_days", "median_natural_days",
            "with_due", "on_time", "overdue_completed", "on_time_rate", "overdue_rate", "open_cases",
            "open_overdue", "at_risk", "speedup_rate", "share_of_processing_time",
        ],
    )  # fmt: skip


def _items(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[dict[str, object]]:
    flags = adoption.name_only_items(cur, f, all_items=True)
    times = timeliness.processing_time_by_item(cur, f)
    online = adoption.online_rate_by(cur, f, "service_item")
    if flags.empty:
        return []
    frame = flags.merge(
        online[["service_item", "fully_online_rate"]], on="service_item", how="left"
    ).merge(
        times[["service_item", "completed", "median_days", "promised_days", "promised_unit", "on_time_rate"]],
        on="service_item", how="left",
    )  # fmt: skip
    frame = frame.sort_values(["cases", "service_item"], ascending=[False, True])
    return records(
        frame,
        [
            "service_item", "item_code", "department", "cases", "channel_known", "online_cases", "online_share",
            "fully_online_rate", "completed", "median_days", "promised_days", "promised_unit", "on_time_rate",
            "catalog_online_capable", "name_only",
        ],
    )  # fmt: skip


def _channels(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[dict[str, object]]:
    return records(adoption.channel_mix(cur, f, "month"), ["channel", "cases", "share"])


def _bottlenecks(cur: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, object]:
    table = bottlenecks.bottleneck_table(cur, f, "department")
    source = str(table["source"].iloc[0]) if not table.empty else None
    return {
        "source": source,
        "findings": plain(findings.rank_bottlenecks(cur, f, top=5)),
        "departments": records(
            table,
            [
                "department",
                "count",
                "cases",
                "median_wait_hours",
                "p90_wait_hours",
                "total_wait_hours",
                "share_of_case_time",
                "median_wait_workdays",
                "rework_rate",
            ],
        ),  # fmt: skip
    }


def comparable_previous(previous: dict[str, Any], f: Filters) -> dict[str, Any]:
    """Last month's figures to compare with, without the journey KPIs while this month's journeys may still grow.

    Published on the 1st, the month's late journeys have had no time to take their next cases, while last
    month's have: the change would show a fall that is only the calendar. Until the month settles
    (:func:`metrics.journeys.settles_on`) the report shows no change for them ("—").
    """
    if journeys.is_settled(f):
        return previous
    return {k: v for k, v in previous.items() if k not in journeys.JOURNEY_KPIS}


def _journeys(cur: duckdb.DuckDBPyConnection, f: Filters) -> dict[str, object]:
    """一件事 of the month: the page's figures with the default window and small-cell floor, frozen.

    A bundles file that cannot be read leaves the bundles out (the dashboard says why), not the report.
    """
    summary = journeys.journey_summary(cur, f, bundles=journeys.usable_bundles())
    frozen = plain({k: v for k, v in summary.items() if k != "kpis"})  # the KPIs are the report's own
    assert isinstance(frozen, dict)
    return {
        **frozen,
        "settled": journeys.is_settled(f),
        "window_days": JOURNEY_WINDOW_DAYS,
        "min_applicants": JOURNEY_MIN_APPLICANTS,
        "settles_on": plain(journeys.settles_on(f)),
    }


_CASE_LIST = ["case_id", "service_item", "item_code", "department", "channel", "submitted_at", "accepted_at",
              "due_at", "promised_days", "promised_unit", "workdays_overdue", "workdays_left"]  # fmt: skip


def _overdue(cur: duckdb.DuckDBPyConnection, f: Filters, departments: list[dict[str, object]]) -> dict[str, object]:
    overdue = timeliness.open_overdue_cases(cur, f)
    at_risk = timeliness.at_risk_cases(cur, f)
    by_department = [
        {k: d.get(k) for k in ("department", "open_cases", "open_overdue", "at_risk", "overdue_completed", "with_due")}
        for d in departments
        if d.get("open_overdue") or d.get("at_risk") or d.get("overdue_completed")
    ]
    return {
        "as_of": f.as_of().isoformat(),
        "at_risk_workdays": AT_RISK_WORKDAYS,
        "open_overdue": records(overdue, _CASE_LIST),
        "at_risk": records(at_risk, _CASE_LIST),
        "by_department": by_department,
    }


def _uploads(cur: duckdb.DuckDBPyConnection, town: str | None = None) -> list[dict[str, object]]:
    """The uploads whose rows the figures were computed from (the loaded ones, oldest first); for a town, those
    loaded into it or holding its cases or events (a file with a 乡镇 column may hold several towns)."""
    where, params = "", []
    if town:
        where = """ AND (town = ? OR upload_id IN (SELECT upload_id FROM case_rows WHERE town = ?)
                         OR upload_id IN (SELECT upload_id FROM case_spans WHERE town = ?))"""
        params = [town, town, town]
    rows = cur.execute(
        f"""
        SELECT upload_id, file_name, kind, sha256, loaded_at, loaded_by, rows_loaded
        FROM uploads WHERE status = 'loaded'{where} ORDER BY upload_id
        """,
        params,
    ).fetchall()
    names = ["upload_id", "file_name", "kind", "sha256", "loaded_at", "loaded_by", "rows_loaded"]
    return [{n: plain(v) for n, v in zip(names, r, strict=True)} for r in rows]


def _all_units(cur: duckdb.DuckDBPyConnection) -> list[str] | None:
    """Every department and unit in the data, as the dashboard's colour palette is given them
    (``store.facets.filter_options()["all_units"]``), so a department keeps its page colour in the report."""
    try:
        from store.facets import filter_options

        return [str(u) for u in filter_options(cur)["all_units"]]
    except (ImportError, KeyError, duckdb.Error):  # an older database without the facet tables
        return None


#: The report content: JSON-ready data (what the snapshot stores as text and every renderer reads back).
Content = dict[str, Any]


def collect(
    cur: duckdb.DuckDBPyConnection, month: str, *, town: str | None = None, cover: str | None = None
) -> Content:
    """All figures of month ``M`` for the report, as JSON-ready data (raises NoDataForMonth).

    ``town``: the figures of that town only (None: the whole database). ``cover``: the name on the cover
    (default: the town, else :func:`town_name`).
    """
    f = scoped(check_month(month), town)
    month_has_data(cur, month, town)
    prev = previous_month(month)
    departments = _departments(cur, f)
    start, end = f.start, f.end
    assert start is not None and end is not None
    return {
        "format": CONTENT_FORMAT,
        "month": month,
        "town": (cover or "").strip() or town or town_name(),
        "period": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "as_of": f.as_of().isoformat(),
            "days": _calendar.monthrange(start.year, start.month)[1],
        },  # fmt: skip
        "data_version": int(one(cur.execute("SELECT version FROM data_version"))[0]),
        "uploads": _uploads(cur, town),
        "kpis": plain(compute_kpis(cur, f)),
        "previous_month": prev,
        "previous_kpis": plain(comparable_previous(compute_kpis(cur, scoped(Filters.month(prev), town)), f)),
        "targets": _targets(cur),
        "catalogue": _catalogue(),
        "rules": {
            "name_only_threshold": NAME_ONLY_THRESHOLD,
            "name_only_min_cases": NAME_ONLY_MIN_CASES,
            "at_risk_workdays": AT_RISK_WORKDAYS,
            "has_catalog": bool(one(cur.execute("SELECT count(*) FROM service_items"))[0]),
        },
        "trend": _trend(cur, month, town),
        "channels": _channels(cur, f),
        "departments": departments,
        "items": _items(cur, f),
        "name_only_items": _items_flagged(cur, f),
        "bottlenecks": _bottlenecks(cur, f),
        "overdue": _overdue(cur, f, departments),
        "journeys": _journeys(cur, f),
        "calendar_warning": plain(timeliness.calendar_warning(cur, f)),
        "all_units": _all_units(cur),
    }


def _items_flagged(cur: duckdb.DuckDBPyConnection, f: Filters) -> list[dict[str, object]]:
    return records(
        adoption.name_only_items(cur, f),
        ["service_item", "item_code", "department", "cases", "channel_known", "online_cases", "online_share",
         "catalog_online_capable", "has_catalog"],
    )  # fmt: skip


def case_list(cur: duckdb.DuckDBPyConnection, month: str, town: str | None = None) -> pd.DataFrame:
    """The cases submitted in ``month`` (of ``town``, when given), PII-free (see CASE_COLUMNS), ordered by
    submission time and id."""
    f = check_month(month)
    assert f.end is not None  # a month has both ends
    end = f.end + dt.timedelta(days=1)
    columns = ", ".join(CASE_COLUMNS)
    where, params = _town_sql(town)
    return cur.execute(
        f"""
        SELECT {columns} FROM cases
        WHERE submitted_at >= ?::TIMESTAMP AND submitted_at < ?::TIMESTAMP{where}
        ORDER BY submitted_at, case_id
        """,
        [f.start, end, *params],
    ).df()
