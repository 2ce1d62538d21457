"""Figures derived from a case's own fields, kept on the row at load time so views stay cheap.

- ``due_at`` when the file gives none: from acceptance (else submission) plus the promised time —
  N working days on the working-day calendar (the day of acceptance does not count; the deadline is
  the end of the N-th working day after it), or N natural days.
- ``processing_days_natural`` and ``processing_days_working`` for completed cases: natural days,
  and working days by the calendar's working clock (holidays and weekends do not count, 调休
  make-up days do).
"""

from __future__ import annotations

import duckdb

from store.calendar import working_clock

END_OF_DAY = "INTERVAL 86399 SECOND"


def fill_derived(cur: duckdb.DuckDBPyConnection, upload_id: int | None = None) -> None:
    """Compute due dates and processing times on ``case_rows`` (of one upload, or all rows)."""
    scope = "AND r.upload_id = ?" if upload_id is not None else ""
    params = [upload_id] if upload_id is not None else []
    cur.execute(
        f"""
        UPDATE case_rows SET due_at = d.due_at, due_at_source = 'computed'
        FROM (
            SELECT r.rowid AS rid,
                   CASE WHEN r.promised_unit = 'natural'
                        THEN (coalesce(r.accepted_at, r.submitted_at)::DATE
                              + CAST(ceil(r.promised_days) AS INTEGER))::TIMESTAMP + {END_OF_DAY}
                        ELSE c2.day::TIMESTAMP + {END_OF_DAY}
                   END AS due_at
            FROM case_rows r
            JOIN calendar c ON c.day = coalesce(r.accepted_at, r.submitted_at)::DATE
            LEFT JOIN calendar c2
                   ON c2.is_workday AND c2.workday_index = c.workday_index + CAST(ceil(r.promised_days) AS INTEGER)
            WHERE r.due_at IS NULL AND r.promised_days IS NOT NULL {scope}
        ) d
        WHERE case_rows.rowid = d.rid
        """,
        params,
    )
    cur.execute(
        f"""
        UPDATE case_rows SET
            processing_days_natural = d.natural_days,
            processing_days_working = d.working_days
        FROM (
            SELECT r.rowid AS rid,
                   epoch(r.completed_at - r.submitted_at) / 86400.0 AS natural_days,
                   {working_clock("r.completed_at", "ce")} - {working_clock("r.submitted_at", "cs")}
                       AS working_days
            FROM case_rows r
            LEFT JOIN calendar cs ON cs.day = r.submitted_at::DATE
            LEFT JOIN calendar ce ON ce.day = r.completed_at::DATE
            WHERE r.completed_at IS NOT NULL AND r.submitted_at IS NOT NULL {scope}
        ) d
        WHERE case_rows.rowid = d.rid
        """,
        params,
    )
