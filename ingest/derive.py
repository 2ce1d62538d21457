"""Figures derived from a case's own fields, kept on the row at load time so views stay cheap.

- ``due_at`` when the file gives none: from acceptance (else submission) plus the promised time —
  N working days on the working-day calendar (the day of acceptance does not count; the deadline is
  the end of the N-th working day after it), or N natural days (the end of the N-th day after it). A
  natural limit that is not a whole number of days — one given in hours (5小时 is 5/24 of a day) —
  runs on the clock instead: the deadline is acceptance plus exactly that time.
- ``processing_days_natural`` and ``processing_days_working`` for completed cases: natural days,
  and working days by the calendar's working clock (holidays and weekends do not count, 调休
  make-up days do).

The loader computes them as it inserts the rows (:func:`with_derived`); :func:`fill_derived`
computes them for rows inserted otherwise and writes only the rows whose figures change.
"""

from __future__ import annotations

import duckdb

from store.calendar import working_clock
from store.uploads import mark_changed

END_OF_DAY = "INTERVAL 86399 SECOND"

#: The computed due time of case ``{r}`` with calendar rows ``{c}`` (its start day) and ``{c2}``.
#: (The loader bounds the promised days; TRY_CAST keeps any other value from aborting a load: no due date.)
_DUE_SQL = """CASE WHEN {r}.promised_unit = 'natural' AND {r}.promised_days <> floor({r}.promised_days)
                   THEN coalesce({r}.accepted_at, {r}.submitted_at)
                        + to_seconds(TRY_CAST(round({r}.promised_days * 86400) AS BIGINT))
                   WHEN {r}.promised_unit = 'natural'
                   THEN (coalesce({r}.accepted_at, {r}.submitted_at)::DATE
                         + TRY_CAST(ceil({r}.promised_days) AS INTEGER))::TIMESTAMP + {eod}
                   ELSE {c2}.day::TIMESTAMP + {eod}
              END"""
_DUE_JOINS = """JOIN calendar {c} ON {c}.day = coalesce({r}.accepted_at, {r}.submitted_at)::DATE
            LEFT JOIN calendar {c2}
                   ON {c2}.is_workday AND {c2}.workday_index = {c}.workday_index + TRY_CAST(ceil({r}.promised_days) AS INTEGER)"""
_NATURAL_SQL = "epoch({r}.completed_at - {r}.submitted_at) / 86400.0"


def with_derived(select_sql: str) -> str:
    """``select_sql`` (case rows without derived figures, with ``due_at_source``) with the figures filled in.

    The same figures as :func:`fill_derived` computes, in the statement that inserts the rows.
    """
    due = _DUE_SQL.format(r="x", c2="c2", eod=END_OF_DAY)
    computes_due = "x.due_at IS NULL AND x.promised_days IS NOT NULL AND c.day IS NOT NULL"
    done = "x.completed_at IS NOT NULL AND x.submitted_at IS NOT NULL"
    working = f"{working_clock('x.completed_at', 'ce')} - {working_clock('x.submitted_at', 'cs')}"
    return f"""
        SELECT x.* REPLACE (
                   CASE WHEN {computes_due} THEN {due} ELSE x.due_at END AS due_at,
                   CASE WHEN {computes_due} THEN 'computed' ELSE x.due_at_source END AS due_at_source,
                   CASE WHEN {done} THEN {_NATURAL_SQL.format(r="x")} END AS processing_days_natural,
                   CASE WHEN {done} THEN {working} END AS processing_days_working)
        FROM ({select_sql}) x
        LEFT JOIN calendar c ON c.day = coalesce(x.accepted_at, x.submitted_at)::DATE
        LEFT JOIN calendar c2
               ON c2.is_workday AND c2.workday_index = c.workday_index + TRY_CAST(ceil(x.promised_days) AS INTEGER)
        LEFT JOIN calendar cs ON cs.day = x.submitted_at::DATE
        LEFT JOIN calendar ce ON ce.day = x.completed_at::DATE
    """


def fill_derived(
    cur: duckdb.DuckDBPyConnection, upload_id: int | None = None, *, calendar_changed: bool = False
) -> None:
    """Compute due dates and processing times on ``case_rows`` (of one upload, or all rows).

    ``calendar_changed``: the working-day calendar was changed (a holiday schedule imported), so due
    dates computed earlier are computed again too; working-day times always are. Only rows whose
    figures change are written (an UPDATE is the costly part at scale).
    """
    scope = "AND r.upload_id = ?" if upload_id is not None else ""
    due_missing = "(r.due_at IS NULL OR r.due_at_source = 'computed')" if calendar_changed else "r.due_at IS NULL"
    params = [upload_id] if upload_id is not None else []
    mark_changed(cur, "upload_id = ?" if upload_id is not None else "true", params)
    # Rows are told by (upload, town, case id), one version of a case per upload, never by rowid: DuckDB 2.0.0
    # can update the wrong rows with ``WHERE t.rowid = …`` after a DELETE of the same table (store/uploads.py).
    cur.execute(
        f"""
        UPDATE case_rows SET due_at = d.due_at, due_at_source = 'computed'
        FROM (
            SELECT r.upload_id, r.town, r.case_id, {_DUE_SQL.format(r="r", c2="c2", eod=END_OF_DAY)} AS due_at
            FROM case_rows r
            {_DUE_JOINS.format(r="r", c="c", c2="c2")}
            WHERE {due_missing} AND r.promised_days IS NOT NULL {scope}
        ) d
        WHERE case_rows.upload_id = d.upload_id AND case_rows.town = d.town AND case_rows.case_id = d.case_id
          AND (case_rows.due_at IS DISTINCT FROM d.due_at OR case_rows.due_at_source IS DISTINCT FROM 'computed')
        """,
        params,
    )
    cur.execute(
        f"""
        UPDATE case_rows SET
            processing_days_natural = d.natural_days,
            processing_days_working = d.working_days
        FROM (
            SELECT r.upload_id, r.town, r.case_id,
                   {_NATURAL_SQL.format(r="r")} AS natural_days,
                   {working_clock("r.completed_at", "ce")} - {working_clock("r.submitted_at", "cs")}
                       AS working_days
            FROM case_rows r
            LEFT JOIN calendar cs ON cs.day = r.submitted_at::DATE
            LEFT JOIN calendar ce ON ce.day = r.completed_at::DATE
            WHERE r.completed_at IS NOT NULL AND r.submitted_at IS NOT NULL {scope}
        ) d
        WHERE case_rows.upload_id = d.upload_id AND case_rows.town = d.town AND case_rows.case_id = d.case_id
          AND (case_rows.processing_days_natural IS DISTINCT FROM d.natural_days
               OR case_rows.processing_days_working IS DISTINCT FROM d.working_days)
        """,
        params,
    )
