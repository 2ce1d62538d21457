"""KPI targets set by analysts: overall, optionally per department; the catalogue's default otherwise.

The dashboard asks :func:`get_targets` for the effective target of every KPI (a department's own
target, else the overall one set here, else ``metrics.catalog``'s default). Values use the KPI's
own unit: rates as fractions (0.6 = 60%), days in working days, counts as counts.
"""

from __future__ import annotations

import math

import duckdb

import clock
from errors import BilingualError
from metrics import catalog
from store import audit
from store.db import Database


class TargetError(BilingualError, ValueError):
    """A target that cannot be set; carries a Chinese and an English message."""


def _set_rows(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, float]]:
    return cur.execute("SELECT kpi_id, department, value FROM targets").fetchall()


def get_targets(cur: duckdb.DuckDBPyConnection, department: str | None = None) -> dict[str, float | None]:
    """kpi_id -> effective target for ``department`` (None: the whole town), for every KPI."""
    overall: dict[str, float] = {}
    own: dict[str, float] = {}
    for kpi_id, dept, value in _set_rows(cur):
        if dept is None:
            overall[kpi_id] = value
        elif department is not None and dept == department:
            own[kpi_id] = value
    return {k.id: own.get(k.id, overall.get(k.id, k.default_target)) for k in catalog.KPIS}


def target_for(cur: duckdb.DuckDBPyConnection, kpi_id: str, department: str | None = None) -> float | None:
    return get_targets(cur, department).get(kpi_id)


def list_targets(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every target set here (not the defaults), with who set it and when."""
    rel = cur.execute(
        "SELECT kpi_id, department, value, updated_by, updated_at FROM targets ORDER BY kpi_id, department NULLS FIRST"
    )
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def _check(kpi_id: str, value: float | None) -> catalog.Kpi:
    if kpi_id not in catalog.KPI_BY_ID:
        raise TargetError(f"未知指标：{kpi_id}", f"unknown KPI {kpi_id!r}")
    kpi = catalog.KPI_BY_ID[kpi_id]
    if value is None:
        return kpi
    if not isinstance(value, int | float) or math.isnan(value) or math.isinf(value):
        raise TargetError("目标值必须是数字", "a target must be a number")
    if value < 0:
        raise TargetError("目标值不能为负数", "a target cannot be negative")
    if kpi.unit == "rate" and value > 1:
        raise TargetError("比率目标应在 0% 到 100% 之间", "a rate target lies between 0% and 100%")
    return kpi


def set_target(
    db: Database,
    kpi_id: str,
    value: float | None,
    *,
    department: str | None = None,
    by: str | None = None,
) -> None:
    """Set (or, with ``value`` None, clear back to the default) one target, audited in the same write."""
    kpi = _check(kpi_id, value)
    department = (department or "").strip() or None
    with db.write() as cur:
        old = cur.execute(
            "SELECT value FROM targets WHERE kpi_id = ? AND department IS NOT DISTINCT FROM ?", [kpi_id, department]
        ).fetchone()
        cur.execute("DELETE FROM targets WHERE kpi_id = ? AND department IS NOT DISTINCT FROM ?", [kpi_id, department])
        if value is not None:
            cur.execute(
                "INSERT INTO targets VALUES (?, ?, ?, ?, ?)",
                [kpi_id, department, float(value), by, clock.now()],
            )
        audit.record(
            cur,
            by,
            "target_set",
            kpi_id,
            {
                "department": department,
                "from": old[0] if old else None,
                "to": None if value is None else float(value),
                "default": kpi.default_target,
            },
        )
