"""KPI targets set by analysts, as rows: overall (no department) or per department.

This module reads and writes the ``targets`` table and nothing else; which target counts for a KPI
(a department's own, else the town's, else the catalogue's default) and which values may be set
are the metrics' rule, in :mod:`metrics.targets`. Values use the KPI's own unit: rates as fractions
(0.6 = 60%), days in working days, counts as counts.
"""

from __future__ import annotations

import duckdb

import clock
from store import audit
from store.db import Database


def set_rows(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, float]]:
    """Every target set here, as (kpi_id, department or None for the town, value)."""
    return cur.execute("SELECT kpi_id, department, value FROM targets").fetchall()


def list_targets(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every target set here (not the defaults), with who set it and when."""
    rel = cur.execute(
        "SELECT kpi_id, department, value, updated_by, updated_at FROM targets ORDER BY kpi_id, department NULLS FIRST"
    )
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def write_target(
    db: Database,
    kpi_id: str,
    value: float | None,
    *,
    department: str | None,
    by: str | None,
    default: float | None,
) -> None:
    """Replace (or, with ``value`` None, remove) one target row, audited in the same write.

    ``default``: the catalogue's default for the KPI, recorded in the audit entry. The value is not
    checked here: :func:`metrics.targets.set_target` checks it and then calls this.
    """
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
                "default": default,
            },
        )
