"""网办分析: how much is really handled online, where, and which "online" services are never used online.

Rates come from the KPI catalogue (so the department table and the overview tile agree);
this module shapes them for the adoption page and lists the 摆设 ("online in name only") items.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from metrics import base, cube
from metrics.catalog import NAME_ONLY_MIN_CASES, NAME_ONLY_THRESHOLD
from metrics.filters import Filters, Params
from metrics.kpis import kpi_series, kpis_by, to_wide

_ADOPTION_KPIS = ("cases", "online_rate", "fully_online_rate")


def _adoption_frame(wide: pd.DataFrame, key: str) -> pd.DataFrame:
    columns = [key, "cases", "online_cases", "channel_known", "online_rate", "fully_online_cases",
               "fully_online_known", "fully_online_rate"]  # fmt: skip
    if wide.empty:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(
        {
            key: wide[key],
            "cases": wide["cases"],
            "online_cases": wide["online_rate_numerator"],
            "channel_known": wide["online_rate_denominator"],
            "online_rate": wide["online_rate"],
            "fully_online_cases": wide["fully_online_rate_numerator"],
            "fully_online_known": wide["fully_online_rate_denominator"],
            "fully_online_rate": wide["fully_online_rate"],
        }
    )[columns]


def online_rate_by(cur: duckdb.DuckDBPyConnection, filters: Filters, dimension: str = "department") -> pd.DataFrame:
    """Online and fully online rate per department, service item or channel, with numerators and denominators."""
    wide = to_wide(kpis_by(cur, filters, dimension, _ADOPTION_KPIS), dimension, with_counts=True)
    return _adoption_frame(wide, dimension)


def online_rate_by_department(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    return online_rate_by(cur, filters, "department")


def online_rate_by_item(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    return online_rate_by(cur, filters, "service_item")


def online_rate_by_period(cur: duckdb.DuckDBPyConnection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """Online and fully online rate per month (or week, day); every bucket of the period appears."""
    wide = to_wide(kpi_series(cur, filters, grain, _ADOPTION_KPIS), "period_start", with_counts=True)
    return _adoption_frame(wide, "period_start")


def channel_mix(cur: duckdb.DuckDBPyConnection, filters: Filters, grain: str = "month") -> pd.DataFrame:
    """Cases per channel per time bucket and each channel's share of the bucket (unknown channel = None).

    Columns: period_start, channel, cases, share.
    """
    if grain not in ("day", "week", "month"):
        raise ValueError("grain must be day, week or month")
    keys = {"period_start": "c.month", "channel": "c.channel"}
    kept = cube.cell_sums(cur, filters, keys, {"cases": "sum(c.cases)::BIGINT"}) if grain == "month" else None
    if kept is not None:
        kept["share"] = kept["cases"] / kept.groupby("period_start")["cases"].transform("sum")
        order = kept.assign(_none=kept["channel"].isna()).sort_values(
            ["period_start", "cases", "_none", "channel"], ascending=[True, False, True, True]
        )
        return order.drop(columns="_none").reset_index(drop=True)
    params = Params()
    sql = f"""
        WITH p AS ({base.period_cases(filters, params, f"date_trunc('{grain}', c.submitted_at)::DATE")})
        SELECT g AS period_start, channel, count(*) AS cases,
               count(*) / sum(count(*)) OVER (PARTITION BY g) AS share
        FROM p GROUP BY g, channel
        ORDER BY period_start, cases DESC, channel
    """
    return base.frame(cur, sql, params)


def name_only_items(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    threshold: float = NAME_ONLY_THRESHOLD,
    min_cases: int = NAME_ONLY_MIN_CASES,
    *,
    all_items: bool = False,
) -> pd.DataFrame:
    """摆设 items: online-capable in the catalogue, real volume, online share below ``threshold``.

    Without a catalogue: items with at least ``min_cases`` cases and no online case at all. The
    rule is the one behind the ``name_only_items`` KPI (same SQL). Columns: service_item,
    item_code, department, cases, channel_known, online_cases, online_share,
    catalog_online_capable, has_catalog, name_only. ``all_items=True`` lists every item with its
    flag (for the adoption table), else only the flagged ones, by volume.
    """
    params = Params()
    sql = f"""
        WITH p AS ({base.period_cases(filters, params)}),
             items AS ({base.item_stats(params, "p", threshold, min_cases)})
        SELECT service_item, item_code, department, cases, channel_known, online_cases, online_share,
               catalog_online_capable, has_catalog, name_only
        FROM items
        {"" if all_items else "WHERE name_only"}
        ORDER BY name_only DESC, cases DESC, service_item
    """
    return base.frame(cur, sql, params)
