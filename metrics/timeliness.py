"""办理时效: processing times against promised limits, on-time and overdue rates, cases about to breach.

Rates come from the KPI catalogue (via :func:`metrics.kpis.kpis_by`), so a department's on-time
rate here is the same number as on the overview; this module adds the distributions and the
case lists a leader acts on. Working days follow the calendar table (holidays and weekends do
not count, 调休 make-up workdays do).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from metrics import base
from metrics.catalog import AT_RISK_WORKDAYS
from metrics.filters import Filters, Params, where_clause
from metrics.kpis import kpis_by, to_wide

_DEPARTMENT_KPIS = (
    "cases", "median_processing_days", "p90_processing_days", "on_time_rate", "overdue_rate",
    "open_overdue_cases", "at_risk_cases", "speedup_rate",
)  # fmt: skip


def department_processing(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Per department: volume, processing time (working and natural days), on-time/overdue, open overdue.

    Columns: department, cases, completed, median/p90/mean_working_days, median/p90/mean/total_natural_days,
    total_working_days, share_of_processing_time (of all completed cases' natural processing time),
    with_due, on_time, overdue_completed, on_time_rate, overdue_rate, open_cases (open at the end of the
    as-of day), open_overdue, at_risk, speedup_rate.
    This is also the bottleneck view of case-level logs that have no events.
    """
    long = kpis_by(cur, filters, "department", _DEPARTMENT_KPIS, as_of=as_of)
    wide = to_wide(long, "department", with_counts=True)
    params = Params()
    sql = f"""
        WITH p AS ({base.period_cases(filters, params, "c.department")})
        SELECT g AS department,
               count(*) FILTER (WHERE is_completed) AS completed,
               avg(processing_days_working) FILTER (WHERE is_completed) AS mean_working_days,
               sum(processing_days_working) FILTER (WHERE is_completed) AS total_working_days,
               avg(processing_days_natural) FILTER (WHERE is_completed) AS mean_natural_days,
               sum(processing_days_natural) FILTER (WHERE is_completed) AS total_natural_days,
               sum(processing_days_natural) FILTER (WHERE is_completed)
                   / nullif(sum(sum(processing_days_natural) FILTER (WHERE is_completed)) OVER (), 0)
                   AS share_of_processing_time
        FROM p GROUP BY g
    """
    extra = base.frame(cur, sql, params)
    params = Params()
    backlog = base.backlog_cases(filters, params, base.asof_single(params, as_of or filters.as_of()), "c.department")
    open_cases = base.frame(cur, f"SELECT g AS department, count(*) AS open_cases FROM ({backlog}) GROUP BY g", params)
    columns = [
        "department", "cases", "completed", "median_working_days", "p90_working_days", "mean_working_days",
        "median_natural_days", "p90_natural_days", "mean_natural_days", "total_natural_days", "total_working_days",
        "share_of_processing_time", "with_due", "on_time", "overdue_completed", "on_time_rate", "overdue_rate",
        "open_cases", "open_overdue", "at_risk", "speedup_rate",
    ]  # fmt: skip
    if wide.empty:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "department": wide["department"],
            "cases": wide["cases"],
            "median_working_days": wide["median_processing_days"],
            "p90_working_days": wide["p90_processing_days"],
            "median_natural_days": wide["median_processing_days_natural"],
            "p90_natural_days": wide["p90_processing_days_natural"],
            "with_due": wide["on_time_rate_denominator"],
            "on_time": wide["on_time_rate_numerator"],
            "overdue_completed": wide["overdue_rate_numerator"],
            "on_time_rate": wide["on_time_rate"],
            "overdue_rate": wide["overdue_rate"],
            "open_overdue": wide["open_overdue_cases"],
            "at_risk": wide["at_risk_cases"],
            "speedup_rate": wide["speedup_rate"],
        }
    )
    frame = frame.merge(extra, on="department", how="left").merge(open_cases, on="department", how="left")
    for col in ("completed", "with_due", "on_time", "overdue_completed", "open_cases", "open_overdue", "at_risk"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame[columns]


timeliness_by_department = department_processing


def overdue_by_department(
    cur: duckdb.DuckDBPyConnection, filters: Filters, *, as_of: dt.date | None = None
) -> pd.DataFrame:
    """Per department, what the overdue findings weigh: completed cases with a due date and those finished late,
    cases open at the end of the as-of day and those past due — :func:`department_processing`'s columns of the
    same names, without its medians and shares (no quantile, three statements instead of five).

    Columns: department, with_due, overdue_completed, open_cases, open_overdue.
    """
    long = kpis_by(cur, filters, "department", ["overdue_rate", "open_overdue_cases"], as_of=as_of)
    wide = to_wide(long, "department", with_counts=True)
    columns = ["department", "with_due", "overdue_completed", "open_cases", "open_overdue"]
    if wide.empty:
        return pd.DataFrame(columns=columns)
    params = Params()
    backlog = base.backlog_cases(filters, params, base.asof_single(params, as_of or filters.as_of()), "c.department")
    open_cases = base.frame(cur, f"SELECT g AS department, count(*) AS open_cases FROM ({backlog}) GROUP BY g", params)
    frame = pd.DataFrame(
        {
            "department": wide["department"],
            "with_due": wide["overdue_rate_denominator"],
            "overdue_completed": wide["overdue_rate_numerator"],
            "open_overdue": wide["open_overdue_cases"],
        }
    ).merge(open_cases, on="department", how="left")
    for col in ("with_due", "overdue_completed", "open_cases", "open_overdue"):
        frame[col] = frame[col].fillna(0).astype(int)
    return frame[columns]


def processing_time_by_item(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Per service item: the distribution of processing time against the promised limit.

    Times are in the promised limit's unit (working days unless the item promises natural days);
    promised_days is the item's typical (lower median) promise.
    Columns: service_item, department, completed, promised_days, promised_unit, min/p25/median/p75/p90/max_days,
    within_promised (cases no longer than the promised time), within_promised_rate, speedup_rate,
    on_time_rate (by due date, from the catalogue definition). Ordered by volume.
    """
    params = Params()
    sql = f"""
        WITH p AS ({base.period_cases(filters, params, "c.service_item")})
        SELECT g AS service_item, mode(department) AS department,
               count(*) FILTER (WHERE is_completed AND days_in_promised_unit IS NOT NULL) AS completed,
               quantile_disc(promised_days, 0.5) AS promised_days,
               coalesce(mode(promised_unit), 'working') AS promised_unit,
               min(days_in_promised_unit) FILTER (WHERE is_completed) AS min_days,
               quantile_cont(days_in_promised_unit, 0.25) FILTER (WHERE is_completed) AS p25_days,
               quantile_cont(days_in_promised_unit, 0.5) FILTER (WHERE is_completed) AS median_days,
               quantile_cont(days_in_promised_unit, 0.75) FILTER (WHERE is_completed) AS p75_days,
               quantile_cont(days_in_promised_unit, 0.9) FILTER (WHERE is_completed) AS p90_days,
               max(days_in_promised_unit) FILTER (WHERE is_completed) AS max_days,
               count(*) FILTER (WHERE is_completed AND days_in_promised_unit <= promised_days) AS within_promised,
               count(*) FILTER (WHERE is_completed AND days_in_promised_unit <= promised_days)
                   / nullif(count(*) FILTER (WHERE is_completed AND promised_days IS NOT NULL
                                             AND days_in_promised_unit IS NOT NULL), 0) AS within_promised_rate
        FROM p GROUP BY g
    """
    frame = base.frame(cur, sql, params)
    rates = to_wide(kpis_by(cur, filters, "service_item", ["speedup_rate", "on_time_rate"]), "service_item")
    frame = frame.merge(rates, on="service_item", how="left")
    return frame.sort_values(["completed", "service_item"], ascending=[False, True]).reset_index(drop=True)


def processing_time_histogram(cur: duckdb.DuckDBPyConnection, filters: Filters, bin_days: float = 1.0) -> pd.DataFrame:
    """Completed cases per service item and processing-time bin (in the promised unit), with the limit.

    Columns: service_item, bin_start (days), bin_end, cases, promised_days — for a histogram with the
    promised time drawn as a line.
    """
    if bin_days <= 0:
        raise ValueError("bin_days must be positive")
    params = Params()
    width = params.add(float(bin_days), "bin")
    sql = f"""
        WITH p AS ({base.period_cases(filters, params, "c.service_item")})
        SELECT g AS service_item,
               floor(days_in_promised_unit / {width}) * {width} AS bin_start,
               floor(days_in_promised_unit / {width}) * {width} + {width} AS bin_end,
               count(*) AS cases,
               quantile_disc(promised_days, 0.5) AS promised_days
        FROM p WHERE is_completed AND days_in_promised_unit IS NOT NULL
        GROUP BY g, bin_start, bin_end
        ORDER BY service_item, bin_start
    """
    return base.frame(cur, sql, params)


_CASE_LIST_COLUMNS = """
    town, case_id, service_item, item_code, department, channel, submitted_at, accepted_at, due_at,
    promised_days, promised_unit, as_of_day AS as_of, workdays_overdue, workdays_left
"""


def _case_list(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    condition: str,
    order: str,
    as_of: dt.date | None,
    at_risk_workdays: int,
) -> pd.DataFrame:
    params = Params()
    day = as_of or filters.as_of()
    rel = base.asof_single(params, day)
    sql = f"""
        WITH b AS ({base.backlog_cases(filters, params, rel, at_risk_workdays=at_risk_workdays)})
        SELECT {_CASE_LIST_COLUMNS} FROM b WHERE {condition} ORDER BY {order}
    """
    return base.frame(cur, sql, params)


def open_overdue_cases(cur: duckdb.DuckDBPyConnection, filters: Filters, as_of: dt.date | None = None) -> pd.DataFrame:
    """Cases open at the end of ``as_of`` (default: period end) and past due, longest overdue first.

    No personal data: case id, item, department, channel, dates, and working days overdue.
    """
    return _case_list(cur, filters, "is_overdue", "due_at, case_id", as_of, AT_RISK_WORKDAYS)


def at_risk_cases(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    as_of: dt.date | None = None,
    within_workdays: int = AT_RISK_WORKDAYS,
) -> pd.DataFrame:
    """Open cases not yet overdue but due within ``within_workdays`` working days after ``as_of``."""
    return _case_list(cur, filters, "is_at_risk", "due_at, case_id", as_of, within_workdays)


def calendar_warning(cur: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, object] | None:
    """Years of the selection without an official (or uploaded) holiday schedule, said plainly.

    ``weekend_rule_years``: working days follow a plain Monday–Friday rule (holidays and 调休 ignored)
    until the year's schedule is loaded (``cli.py calendar FILE``); ``missing_years``: beyond the
    calendar, so working-day figures are unknown. Pages show the note next to the figures; None
    when everything is covered.
    """
    params = Params()
    where, _ = where_clause(filters, "c", params)
    sql = f"""
        SELECT DISTINCT year(t.ts) AS y, k.day IS NULL AS missing
        FROM (SELECT c.submitted_at AS ts FROM cases c WHERE {where}
              UNION ALL SELECT c.completed_at FROM cases c WHERE {where} AND c.completed_at IS NOT NULL) t
        LEFT JOIN calendar k ON k.day = t.ts::DATE
        WHERE t.ts IS NOT NULL AND (k.day IS NULL OR k.source = 'weekend_rule')
        ORDER BY y
    """
    rows = cur.execute(sql, params.values).fetchall()
    if not rows:
        return None
    missing = sorted({int(y) for y, m in rows if m})
    weekend = sorted({int(y) for y, m in rows if not m} - set(missing))
    zh, en = [], []
    if weekend:
        zh.append(f"{'、'.join(map(str, weekend))} 年的节假日安排尚未导入，工作日暂按周一至周五计算")
        en.append(f"no holiday schedule for {', '.join(map(str, weekend))}: working days assume Monday to Friday")
    if missing:
        zh.append(f"{'、'.join(map(str, missing))} 年超出日历范围，工作日无法计算")
        en.append(f"{', '.join(map(str, missing))} lies beyond the calendar: working days unknown")
    return {"weekend_rule_years": weekend, "missing_years": missing, "zh": "；".join(zh), "en": "; ".join(en)}
