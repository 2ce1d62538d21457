"""Compute catalogue KPIs for any filter, grouped by nothing, by a dimension or by time bucket.

One engine serves :func:`compute_kpis` (the tiles), :func:`kpis_by` (tables by department, item
or channel) and :func:`kpi_series` (trends): it evaluates the catalogue's SQL with at most one
statement per row set (period cases, backlog, catalogue, items, journeys), so every figure on every page
comes from the same expressions. A KPI is unknown (value None, with a reason in zh and en) when
the data has no value of a field it needs, or when its denominator is empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NotRequired, TypedDict

import duckdb
import pandas as pd

import settings
from metrics import base, cube
from metrics.catalog import (
    AT_RISK_WORKDAYS,
    JOURNEY_WINDOW_DAYS,
    KPIS,
    NAME_ONLY_MIN_CASES,
    NAME_ONLY_THRESHOLD,
    REASON_JOURNEYS_NOT_SPLIT,
    REASON_NOT_BY_CHANNEL,
    Kpi,
    Reason,
    get,
    reason_empty_denominator,
    reason_missing_field,
)
from metrics.filters import Filters, Params, town_condition
from store.rows import one

DIMENSIONS = ("department", "service_item", "channel", "town")


class KpiResult(TypedDict):
    """One KPI's figures for a selection, as :func:`compute_kpis` returns it: Python scalars, JSON as they are.

    Every unit has ``value`` and ``reason`` (None when the value is known); rates add ``numerator`` and
    ``denominator``; days (``value`` in working days) add ``natural_value`` and ``n`` (cases measured).
    Pages, reports and the precomputed views read and serialise it.
    """

    value: float | None
    reason: Reason | None
    numerator: NotRequired[float | None]
    denominator: NotRequired[float | None]
    natural_value: NotRequired[float | None]
    n: NotRequired[float | None]


#: A group's aggregate row: column alias -> value (``g`` is the group key).
_Row = dict[str, object]
GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class _Grouping:
    """How each row set is grouped; None for a scope means 'not applicable to this grouping'."""

    period: str
    backlog: str
    catalog: str | None
    replicate_catalog: bool = False  # time buckets: the catalogue is the same for every bucket
    #: Journeys cross departments, items and channels: by those they are not applicable (None).
    journeys: str | None = "NULL::VARCHAR"


_TOTAL = _Grouping("NULL::VARCHAR", "NULL::VARCHAR", "NULL::VARCHAR")
_BY_DIMENSION = {
    "department": _Grouping("c.department", "c.department", "s.department", journeys=None),
    "service_item": _Grouping("c.service_item", "c.service_item", "s.item_name", journeys=None),
    "channel": _Grouping("c.channel", "c.channel", None, journeys=None),
    # The service catalogue is the county's: every town has the same catalogue figures.
    "town": _Grouping("c.town", "c.town", "NULL::VARCHAR", replicate_catalog=True, journeys="j.town"),
}


def _bucket_sql(grain: str) -> _Grouping:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}")
    return _Grouping(
        f"date_trunc('{grain}', c.submitted_at)::DATE", "a.bucket", "NULL::VARCHAR", True,
        journeys=f"date_trunc('{grain}', j.first_at)::DATE",
    )  # fmt: skip


def _journeys_apply(filters: Filters, grouping: _Grouping) -> bool:
    """Journey KPIs need whole journeys: not per department, item or channel, nor under such a filter."""
    return grouping.journeys is not None and not (filters.departments or filters.items or filters.channels)


def _select_ids(ids: Iterable[str] | None) -> list[Kpi]:
    return list(KPIS) if ids is None else [get(i) for i in ids]


def _columns(kpi: Kpi, i: int) -> list[tuple[str, str]]:
    """The (alias, expression) pairs a KPI contributes to its scope's aggregate query."""
    if kpi.unit == "rate":
        assert kpi.numerator is not None and kpi.denominator is not None  # Kpi.__post_init__ checks rates
        return [(f"k{i}_num", kpi.numerator), (f"k{i}_den", kpi.denominator)]
    assert kpi.value is not None  # Kpi.__post_init__ checks counts and days
    cols = [(f"k{i}_val", kpi.value)]
    if kpi.unit == "days":
        assert kpi.natural_value is not None and kpi.n is not None
        cols += [(f"k{i}_nat", kpi.natural_value), (f"k{i}_n", kpi.n)]
    return cols


def _aggregate(
    cur: duckdb.DuckDBPyConnection,
    ctes: list[tuple[str, str]],
    source: str,
    kpis: list[tuple[int, Kpi]],
    params: Params,
) -> dict[object, _Row]:
    """Run one GROUP BY g query over ``source`` computing every given KPI's expressions."""
    cols = [c for i, k in kpis for c in _columns(k, i)]
    select = ",\n".join(f"{expr} AS {alias}" for alias, expr in cols)
    with_sql = "WITH " + ",\n".join(f"{name} AS ({body})" for name, body in ctes)
    sql = f"{with_sql}\nSELECT g, {select} FROM {source} GROUP BY g"
    rows = cur.execute(sql, params.values).fetchall()
    names = ["g"] + [alias for alias, _ in cols]
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


#: A KPI column's alias suffix (:func:`_columns`) -> the catalogue field it computes.
_ROLE_OF_SUFFIX = {"num": "numerator", "den": "denominator", "val": "value", "nat": "natural_value", "n": "n"}


def _kept_columns(kpi: Kpi, i: int) -> list[tuple[str, str]] | None:
    """(alias, SQL over the cube's cells) of every column of a KPI, or None when the cube cannot give them all."""
    out = []
    for alias, _ in _columns(kpi, i):
        kept = cube.kept(kpi.scope, kpi.id, _ROLE_OF_SUFFIX[alias.rsplit("_", 1)[1]])
        if kept is None:
            return None
        out.append((alias, kept.read))
    return out


def _cube_group(grouping: _Grouping) -> str | None:
    """The grouping over the cube's cells (alias ``c``), or None when cells cannot be grouped so (days, weeks)."""
    if grouping.period.startswith("date_trunc("):
        return "c.month" if grouping.period.startswith("date_trunc('month'") else None
    return grouping.period  # NULL (the whole), or a dimension the cells carry under the cases' own name


def _cube_serves(cur: duckdb.DuckDBPyConnection, filters: Filters, grouping: _Grouping) -> str | None:
    """The cube's grouping when it may serve this selection (whole months, a grouping it has, current), else None."""
    group = _cube_group(grouping)
    if group is None or not cube.whole_months(filters) or not cube.current(cur):
        return None
    return group


def _period_rows(
    cur: duckdb.DuckDBPyConnection, filters: Filters, grouping: _Grouping, scoped: list[tuple[int, Kpi]]
) -> dict[object, _Row]:
    """The period KPIs' aggregate rows: sums of the cube's cells where it serves, the rest over the cases."""
    group = _cube_serves(cur, filters, grouping)
    kept = {i: cols for i, k in scoped if group is not None and (cols := _kept_columns(k, i)) is not None}
    live = [(i, k) for i, k in scoped if i not in kept]
    out: dict[object, _Row] = {}
    if live:
        params = Params()
        out = _aggregate(cur, [("p", base.period_cases(filters, params, grouping.period))], "p", live, params)
    if kept and group is not None:
        _add_cells(cur, out, cube.TABLE, group, cube.cells_where(filters, params := Params()), params, kept)
    return out


def _add_cells(
    cur: duckdb.DuckDBPyConnection,
    out: dict[object, _Row],
    table: str,
    group: str,
    where: str,
    params: Params,
    kept: dict[int, list[tuple[str, str]]],
) -> None:
    """Add to ``out`` the KPI columns ``kept`` ((alias, SQL over cells) per KPI) summed from a cube's cells."""
    select = ", ".join(f"{sql} AS {alias}" for cols in kept.values() for alias, sql in cols)
    result = cur.execute(f"SELECT {group} AS g, {select} FROM {table} c WHERE {where} GROUP BY g", params.values)
    names = [d[0] for d in result.description]
    for row in result.fetchall():
        out.setdefault(row[0], {"g": row[0]}).update(zip(names[1:], row[1:], strict=True))


def _backlog_rows(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    grouping: _Grouping,
    scoped: list[tuple[int, Kpi]],
    asof_rel: tuple[list[dt.date], list[dt.date]] | dt.date,
    at_risk_workdays: int,
) -> dict[object, _Row]:
    """The open-case KPIs' rows: from the backlog cube when it holds every as-of day, else from the cases."""
    days = [asof_rel] if isinstance(asof_rel, dt.date) else list(asof_rel[1])
    kept = {i: cols for i, k in scoped if (cols := _kept_columns(k, i)) is not None}
    group = {"NULL::VARCHAR": "NULL::VARCHAR", "a.bucket": "c.as_of_day"}.get(grouping.backlog, grouping.backlog)
    if (
        at_risk_workdays != AT_RISK_WORKDAYS
        or len(kept) < len(scoped)
        or len(set(days)) < len(days)
        or not cube.backlog_held(cur, days)
    ):
        params = Params()
        if isinstance(asof_rel, dt.date):
            rel = base.asof_single(params, asof_rel)
        else:
            rel = base.asof_buckets(params, *asof_rel)
        ctes = [("b", base.backlog_cases(filters, params, rel, grouping.backlog, at_risk_workdays))]
        return _aggregate(cur, ctes, "b", scoped, params)
    params = Params()
    where = cube.cells_where(filters, params, backlog=True)
    where += f" AND list_contains({params.add(days, 'days')}::DATE[], c.as_of_day)"
    out: dict[object, _Row] = {}
    _add_cells(cur, out, cube.BACKLOG_TABLE, group, where, params, kept)
    if grouping.backlog == "a.bucket":  # cells are by as-of day; trends key them by their bucket's first day
        assert not isinstance(asof_rel, dt.date)
        bucket_of: dict[object, object] = dict(zip(asof_rel[1], asof_rel[0], strict=True))
        out = {bucket_of[day]: {**row, "g": bucket_of[day]} for day, row in out.items()}
    return out


def _journey_rows(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    grouping: _Grouping,
    scoped: list[tuple[int, Kpi]],
    window_days: int,
) -> dict[object, _Row]:
    """The journey KPIs' rows: from the journey cube (the default window, whole months, by town or month), else live."""
    assert grouping.journeys is not None  # _journeys_apply checks it
    group = {"NULL::VARCHAR": "NULL::VARCHAR", "j.town": "c.town", "date_trunc('month', j.first_at)::DATE": "c.month"}
    cells = group.get(grouping.journeys)
    kept = {i: cols for i, k in scoped if (cols := _kept_columns(k, i)) is not None}
    if (
        cells is None
        or window_days != JOURNEY_WINDOW_DAYS
        or len(kept) < len(scoped)
        or not cube.whole_months(filters)
        or not cube.current(cur)
    ):
        params = Params()
        ctes = [("jr", base.journeys(filters, params, grouping.journeys, window_days))]
        return _aggregate(cur, ctes, "jr", scoped, params)
    out: dict[object, _Row] = {}
    where = cube.cells_where(filters, params := Params(), journeys=True)
    _add_cells(cur, out, cube.JOURNEY_TABLE, cells, where, params, kept)
    return out


def _empty_value(alias: str) -> object:
    """What an aggregate over no rows gives: 0 for numerators, denominators and counts, None for quantiles."""
    return 0 if alias.endswith(("_num", "_den", "_n")) else None


def _result(kpi: Kpi, i: int, row: _Row | None, presence: dict[str, bool], na_reason: Reason | None) -> KpiResult:
    """The JSON-ready result of one KPI from its aggregate row (None row = no rows in this group)."""

    def col(suffix: str) -> object:
        alias = f"k{i}_{suffix}"
        if row is None:
            if kpi.unit == "count" and suffix == "val":
                return 0 if "count(" in (kpi.value or "") else None
            return _empty_value(alias)
        return row.get(alias)

    missing = next((f for f in kpi.requires if not presence.get(f, False)), None)
    reason = na_reason or (reason_missing_field(missing) if missing else None)
    if kpi.scope == "journeys" and kpi.unit == "count" and not reason and (row is None or col("val") is None):
        # no journey in this group (no case with an applicant key): unknown, never 0
        return {"value": None, "reason": reason_empty_denominator(kpi)}
    if kpi.unit == "rate":
        if reason:
            return {"value": None, "numerator": None, "denominator": None, "reason": reason}
        num, den = _plain(col("num")), _plain(col("den"))
        if not den:
            return {"value": None, "numerator": num or 0, "denominator": 0, "reason": reason_empty_denominator(kpi)}
        num = num if num is not None else 0
        return {"value": num / den, "numerator": num, "denominator": den, "reason": None}
    if kpi.unit == "days":
        if reason:
            return {"value": None, "natural_value": None, "n": None, "reason": reason}
        n = _plain(col("n")) or 0
        if not n:
            return {"value": None, "natural_value": None, "n": 0, "reason": reason_empty_denominator(kpi)}
        return {"value": _plain(col("val")), "natural_value": _plain(col("nat")), "n": n, "reason": None}
    if reason:
        return {"value": None, "reason": reason}
    return {"value": _plain(col("val")), "reason": None}


def _plain(v: Any) -> float | None:  # a value as DuckDB returns it
    """Python scalars only, so results serialise to JSON as they are."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    try:
        return float(v)  # Decimal, numpy scalars
    except (TypeError, ValueError):
        return v


def _evaluate(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    kpis: list[Kpi],
    grouping: _Grouping,
    asof_rel: tuple[list[dt.date], list[dt.date]] | dt.date,
    *,
    name_only_threshold: float,
    name_only_min_cases: int,
    at_risk_workdays: int,
    journey_window_days: int = JOURNEY_WINDOW_DAYS,
    required_keys: Sequence[object] = (),
) -> tuple[list[object], dict[object, dict[str, KpiResult]]]:
    """Evaluate KPIs per group; returns the group keys and {key: {kpi_id: result}}.

    ``required_keys`` appear even when no row falls into them (the whole selection, every bucket).
    """
    presence = base.field_presence(cur)
    indexed = list(enumerate(kpis))
    by_scope: dict[str, list[tuple[int, Kpi]]] = {}
    for i, k in indexed:
        by_scope.setdefault(k.scope, []).append((i, k))

    rows: dict[str, dict[object, _Row]] = {}
    if "period" in by_scope:
        rows["period"] = _period_rows(cur, filters, grouping, by_scope["period"])
    if "items" in by_scope:
        params = Params()
        ctes = [
            ("p", base.period_cases(filters, params, grouping.period)),
            ("items", base.item_stats(params, "p", name_only_threshold, name_only_min_cases)),
        ]
        rows["items"] = _aggregate(cur, ctes, "items", by_scope["items"], params)
    if "backlog" in by_scope:
        rows["backlog"] = _backlog_rows(cur, filters, grouping, by_scope["backlog"], asof_rel, at_risk_workdays)
    if "catalog" in by_scope and grouping.catalog is not None:
        params = Params()
        ctes = [("s", base.catalog_items(filters, params, grouping.catalog))]
        rows["catalog"] = _aggregate(cur, ctes, "s", by_scope["catalog"], params)
    journeys_apply = _journeys_apply(filters, grouping)
    if "journeys" in by_scope and journeys_apply:
        rows["journeys"] = _journey_rows(cur, filters, grouping, by_scope["journeys"], journey_window_days)

    keys: list[object] = list(required_keys)
    for scope, scoped in rows.items():
        if grouping.replicate_catalog and scope == "catalog":
            continue
        for key in scoped:
            if key not in keys:
                keys.append(key)

    out: dict[object, dict[str, KpiResult]] = {}
    for key in keys:
        out[key] = _results_for(key, indexed, rows, grouping, presence, journeys_apply)
    return keys, out


def _results_for(
    key: object,
    indexed: list[tuple[int, Kpi]],
    rows: dict[str, dict[object, _Row]],
    grouping: _Grouping,
    presence: dict[str, bool],
    journeys_apply: bool = True,
) -> dict[str, KpiResult]:
    results: dict[str, KpiResult] = {}
    for i, k in indexed:
        na: Reason | None = None
        if k.scope == "journeys" and not journeys_apply:
            na, row = REASON_JOURNEYS_NOT_SPLIT, None
        elif k.scope == "catalog":
            if grouping.catalog is None:
                na = REASON_NOT_BY_CHANNEL
                row = None
            elif grouping.replicate_catalog:
                row = rows.get("catalog", {}).get(None)
            else:
                row = rows.get("catalog", {}).get(key)
        else:
            row = rows.get(k.scope, {}).get(key)
        results[k.id] = _result(k, i, row, presence, na)
    return results


def compute_kpis(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    ids: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    name_only_threshold: float = NAME_ONLY_THRESHOLD,
    name_only_min_cases: int = NAME_ONLY_MIN_CASES,
    at_risk_workdays: int = AT_RISK_WORKDAYS,
    journey_window_days: int = JOURNEY_WINDOW_DAYS,
) -> dict[str, KpiResult]:
    """All (or the given) KPIs for the filtered selection, keyed by id in catalogue order.

    Rates: ``{"value", "numerator", "denominator", "reason"}``; counts: ``{"value", "reason"}``;
    days: ``{"value" (working days), "natural_value", "n", "reason"}``. ``reason`` is None when
    the value is known, else ``{"zh": ..., "en": ...}``. Open-case figures are as of ``as_of``
    (default: the period end, else today). Journeys (一件事) go on while cases follow within
    ``journey_window_days``.
    """
    kpis = _select_ids(ids)
    day = as_of or filters.as_of()
    _, out = _evaluate(
        cur, filters, kpis, _TOTAL, day,
        name_only_threshold=name_only_threshold, name_only_min_cases=name_only_min_cases,
        at_risk_workdays=at_risk_workdays, journey_window_days=journey_window_days, required_keys=[None],
    )  # fmt: skip
    return out[None]


_FRAME_COLUMNS = ["kpi_id", "value", "numerator", "denominator", "natural_value", "n", "reason_zh", "reason_en"]


def _frame_rows(results: Mapping[str, KpiResult]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for kpi_id, r in results.items():
        reason = r["reason"]
        rows.append(
            {
                "kpi_id": kpi_id,
                "value": r.get("value"),
                "numerator": r.get("numerator"),
                "denominator": r.get("denominator"),
                "natural_value": r.get("natural_value"),
                "n": r.get("n"),
                "reason_zh": reason["zh"] if reason else None,
                "reason_en": reason["en"] if reason else None,
            }
        )
    return rows


def kpis_by(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    dimension: str = "department",
    ids: Sequence[str] | None = None,
    *,
    as_of: dt.date | None = None,
    name_only_threshold: float = NAME_ONLY_THRESHOLD,
    name_only_min_cases: int = NAME_ONLY_MIN_CASES,
    at_risk_workdays: int = AT_RISK_WORKDAYS,
) -> pd.DataFrame:
    """KPIs per department, service item or channel: a long frame, one row per (group, KPI).

    Columns: ``<dimension>``, kpi_id, value, numerator, denominator, natural_value, n, reason_zh,
    reason_en. Groups are ordered by their period case count (largest first), then name.
    Catalogue KPIs group by the catalogue's own department / item name; by channel they are unknown.
    """
    if dimension not in _BY_DIMENSION:
        raise ValueError(f"dimension must be one of {DIMENSIONS}")
    kpis = _select_ids(ids)
    keys, out = _evaluate(
        cur, filters, kpis, _BY_DIMENSION[dimension], as_of or filters.as_of(),
        name_only_threshold=name_only_threshold, name_only_min_cases=name_only_min_cases,
        at_risk_workdays=at_risk_workdays,
    )  # fmt: skip
    counts = _period_counts(cur, filters, _BY_DIMENSION[dimension])
    keys = sorted(keys, key=lambda k: (-counts.get(k, 0), k is None, str(k)))
    rows = [{dimension: key, **r} for key in keys for r in _frame_rows(out[key])]
    return pd.DataFrame(rows, columns=[dimension, *_FRAME_COLUMNS])


def _period_counts(cur: duckdb.DuckDBPyConnection, filters: Filters, grouping: _Grouping) -> dict[object, int]:
    params = Params()
    group = _cube_serves(cur, filters, grouping)
    if group is not None:
        where = cube.cells_where(filters, params)
        sql = f"SELECT {group} AS g, sum(c.cases) FROM {cube.TABLE} c WHERE {where} GROUP BY g"
    else:
        sql = f"SELECT g, count(*) FROM ({base.period_cases(filters, params, grouping.period)}) GROUP BY g"
    return {g: int(n) for g, n in cur.execute(sql, params.values).fetchall()}


def _bucket_start(day: dt.date, grain: str) -> dt.date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "week":
        return day - dt.timedelta(days=day.weekday())
    return day


def _next_bucket(day: dt.date, grain: str) -> dt.date:
    if grain == "month":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day + dt.timedelta(days=7 if grain == "week" else 1)


def buckets(cur: duckdb.DuckDBPyConnection, filters: Filters, grain: str) -> list[tuple[dt.date, dt.date]]:
    """The (first day, last day) of each bucket in the period; open ends are taken from the data."""
    start, end = filters.start, filters.end
    if start is None or end is None:  # the chosen towns' own data (and only the scope's: no other town's dates)
        towns, values = town_condition(filters, "c")
        lo, hi = one(
            cur.execute(f"SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM cases c WHERE {towns}", values)
        )
        start = start or lo
        end = end or hi
    if start is None or end is None or start > end:
        return []
    out = []
    day = _bucket_start(start, grain)
    while day <= end:
        nxt = _next_bucket(day, grain)
        out.append((day, nxt - dt.timedelta(days=1)))
        day = nxt
    return out


def kpi_series(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    grain: str = "month",
    ids: Sequence[str] | None = None,
    *,
    name_only_threshold: float = NAME_ONLY_THRESHOLD,
    name_only_min_cases: int = NAME_ONLY_MIN_CASES,
    at_risk_workdays: int = AT_RISK_WORKDAYS,
) -> pd.DataFrame:
    """KPIs per day, ISO week (Monday first) or month: a long frame, one row per (bucket, KPI).

    Columns: period_start, period_end, as_of, kpi_id, value, numerator, denominator,
    natural_value, n, reason_zh, reason_en. Every bucket of the period appears, even without cases
    (then cases = 0 and rates are unknown), so trends never silently skip a month. Open-case
    figures are as of each bucket's last day (capped at the period end and at today: nobody knows yet which open
    case will be overdue at the end of a month still running).
    """
    grouping = _bucket_sql(grain)
    kpis = _select_ids(ids)
    spans = buckets(cur, filters, grain)
    if not spans:
        return pd.DataFrame(columns=["period_start", "period_end", "as_of", *_FRAME_COLUMNS])
    starts = [s for s, _ in spans]
    as_ofs = [min(e, filters.as_of()) for _, e in spans]  # capped at the period end and at today, as the tiles
    _, out = _evaluate(
        cur, filters, kpis, grouping, (starts, as_ofs),
        name_only_threshold=name_only_threshold, name_only_min_cases=name_only_min_cases,
        at_risk_workdays=at_risk_workdays, required_keys=starts,
    )  # fmt: skip
    rows = []
    for (start, end), as_of in zip(spans, as_ofs, strict=True):
        results = out[start]
        rows += [{"period_start": start, "period_end": end, "as_of": as_of, **r} for r in _frame_rows(results)]
    return pd.DataFrame(rows, columns=["period_start", "period_end", "as_of", *_FRAME_COLUMNS])


def to_wide(frame: pd.DataFrame, key: str, *, with_counts: bool = False) -> pd.DataFrame:
    """Pivot a long KPI frame to one row per ``key`` and a value column per KPI id (for charts and tables).

    ``with_counts`` adds ``<id>_numerator`` and ``<id>_denominator`` columns for rates and ``<id>_n``
    for days, so a table can show what each rate is made of.
    """
    if frame.empty:
        return pd.DataFrame(columns=[key])
    order = list(dict.fromkeys(frame["kpi_id"]))
    keys = list(dict.fromkeys(frame[key]))
    out = pd.DataFrame({key: keys})
    for kpi_id in order:
        part = frame[frame["kpi_id"] == kpi_id].set_index(key)
        unit = get(kpi_id).unit
        out[kpi_id] = _objects(out[key].map(part["value"]), integral=unit == "count")
        if with_counts and unit == "rate":
            out[f"{kpi_id}_numerator"] = _objects(out[key].map(part["numerator"]), integral=None)
            out[f"{kpi_id}_denominator"] = _objects(out[key].map(part["denominator"]), integral=True)
        elif with_counts and unit == "days":
            out[f"{kpi_id}_natural"] = _objects(out[key].map(part["natural_value"]), integral=False)
            out[f"{kpi_id}_n"] = _objects(out[key].map(part["n"]), integral=True)
    return out


def _objects(series: pd.Series, integral: bool | None) -> pd.Series:
    """Python values with None for missing; counts as ints (long frames store them as floats).

    ``integral=None``: ints only when every value is a whole number (numerators of mean-type rates are not).
    """
    values = [None if v is None or pd.isna(v) else float(v) for v in series]
    if integral is None:
        integral = all(v is None or v.is_integer() for v in values)
    return pd.Series(
        [None if v is None else (int(v) if integral else v) for v in values], index=series.index, dtype=object
    )


def weakest_departments(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    ids: Sequence[str] = ("online_rate", "on_time_rate"),
    n: int = 3,
    min_sample: int | None = None,
) -> dict[str, dict[str, list]]:
    """The town's departments to press: per KPI the ``n`` worst, among departments with enough cases.

    Ranked over the whole town (the department filter is ignored; item and channel filters apply), worst
    first. A department whose denominator is under ``min_sample`` (default ``settings.MIN_SAMPLE``) is
    not ranked but named under ``too_few``: one late case is no verdict on an office.
    """
    min_sample = settings.MIN_SAMPLE if min_sample is None else min_sample
    town = replace(filters, departments=())
    frame = kpis_by(cur, town, "department", list(ids))
    out: dict[str, dict[str, list]] = {}
    for kpi_id in ids:
        kpi = get(kpi_id)
        part = frame[(frame["kpi_id"] == kpi_id) & frame["department"].notna() & frame["value"].notna()]
        enough = part[part["denominator"].fillna(0) >= min_sample]
        few = part[part["denominator"].fillna(0) < min_sample]
        ranked = enough.sort_values(["value", "department"], ascending=[kpi.higher_is_better, True]).head(n)
        out[kpi_id] = {
            "rows": [
                {
                    "department": r.department,
                    "value": float(r.value),
                    "numerator": _plain(r.numerator),
                    "denominator": _plain(r.denominator),
                }
                for r in ranked.itertuples(index=False)
            ],
            "too_few": sorted(str(d) for d in few["department"]),
        }
    return out
