"""KPI targets: which one counts, and which may be set.

The rule: a department's own target, else the town's (set on the targets page), else
``metrics.catalog``'s default. The pages, the reports and the targets page ask
:func:`get_targets`; :func:`set_target` checks a new value against the KPI (known, a number, not
negative, a rate within 0–100%) before :mod:`store.targets` writes the row. Values use the KPI's
own unit: rates as fractions (0.6 = 60%), days in working days, counts as counts.
"""

from __future__ import annotations

import math

import duckdb

import scope
from errors import BilingualError
from metrics import catalog
from store import targets as target_rows
from store.db import Database


class TargetError(BilingualError, ValueError):
    """A target that cannot be set; carries a Chinese and an English message."""


def get_targets(cur: duckdb.DuckDBPyConnection, department: str | None = None) -> dict[str, float | None]:
    """kpi_id -> effective target for ``department`` (None: the whole town), for every KPI."""
    overall: dict[str, float] = {}
    own: dict[str, float] = {}
    for kpi_id, dept, value in target_rows.set_rows(cur):
        if dept is None:
            overall[kpi_id] = value
        elif department is not None and dept == department:
            own[kpi_id] = value
    return {k.id: own.get(k.id, overall.get(k.id, k.default_target)) for k in catalog.KPIS}


def target_for(cur: duckdb.DuckDBPyConnection, kpi_id: str, department: str | None = None) -> float | None:
    return get_targets(cur, department).get(kpi_id)


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
    """Set (or, with ``value`` None, clear back to the default) one target, audited in the same write.

    Targets are the county's (there are no per-town targets): within a town scope (:mod:`scope`) refused.
    """
    if scope.current() is not None:
        raise TargetError(
            "目标值是全县统一的：限定乡镇的用户不能修改",
            "targets are the county's: a user limited to towns cannot change them",
        )
    kpi = _check(kpi_id, value)
    department = (department or "").strip() or None
    target_rows.write_target(db, kpi_id, value, department=department, by=by, default=kpi.default_target)
