"""Uploads as the model keeps them: their history, which version of a case counts, and removal.

A case may be held in several versions (overlapping exports, a case file and a step file); which one
counts is decided by the data, not the load order (:data:`CASE_VERSION_ORDER`), so that loading in any
order, or removing an upload, gives the same current cases. The load (``ingest``) writes through these
rules; nothing here reads a file.
"""

from __future__ import annotations

import duckdb

import clock
import scope
from store import facets
from store.rows import one

#: The order in which versions of one case win (first wins), whatever order the uploads came in:
#: a case-level record over one derived from events; then the later last-known state — a finished case
#: (completed / rejected / withdrawn) over an open one, a later completion over an earlier one, more of
#: the file's own timestamps filled over fewer; ties go to the later load.
CASE_VERSION_ORDER = """CASE source WHEN 'case_file' THEN 2 ELSE 1 END DESC,
                       CASE WHEN status IN ('completed', 'rejected', 'withdrawn') THEN 1 ELSE 0 END DESC,
                       completed_at DESC NULLS LAST,
                       (submitted_at IS NOT NULL)::INTEGER + (accepted_at IS NOT NULL)::INTEGER
                           + (completed_at IS NOT NULL)::INTEGER + (due_at_source = 'given')::INTEGER DESC,
                       upload_id DESC"""

#: The same for the events of a case, which count per upload (all of one upload's events or none): the upload
#: whose events reach later wins, then the one with more events; ties go to the later load.
EVENT_VERSION_ORDER = "last_at DESC, events DESC, upload_id DESC"


def mark_changed(cur: duckdb.DuckDBPyConnection, where_sql: str = "true", params: list | None = None) -> None:
    """Note the (town, month of submission) of the case rows matching ``where_sql`` as changed.

    Every write that changes which cases count or what they hold says so here, before the rows go (a removal) or
    after they come (a load); before the write commits, the kept aggregates of those cells are brought up to date
    (``metrics.cube``). ``where_sql`` is our own SQL over ``case_rows``, never user input.
    """
    cur.execute(
        "INSERT INTO case_changes SELECT DISTINCT town, date_trunc('month', submitted_at)::DATE FROM case_rows "
        f"WHERE {where_sql}",
        params or [],
    )


def refresh_current_cases(cur: duckdb.DuckDBPyConnection, touched: str = "_touched") -> None:
    """Mark the version that counts for each case (town, case id) in ``_touched``, by :data:`CASE_VERSION_ORDER`.

    The data decides, not the load order: loading an older export after a newer one (or removing an upload)
    gives the same current cases as loading them in order. ``touched`` names another table of case ids to
    use instead (a fixed name from this module).
    """
    mark_changed(cur, f"(town, case_id) IN (SELECT town, case_id FROM {touched})")
    # Joined on the case, the winner told by its upload, not on rowid: DuckDB 2.0.0 can update the wrong rows (or
    # corrupt the file) with ``WHERE t.rowid = w.rid`` after a DELETE of the same table (a removal, then a load).
    cur.execute(
        f"""
        UPDATE case_rows SET is_current = (case_rows.upload_id = m.winner)
        FROM (
            SELECT town, case_id, first(upload_id ORDER BY {CASE_VERSION_ORDER}) AS winner
            FROM case_rows WHERE (town, case_id) IN (SELECT town, case_id FROM {touched})
            GROUP BY town, case_id
        ) m
        WHERE case_rows.town = m.town AND case_rows.case_id = m.case_id
          AND case_rows.is_current <> (case_rows.upload_id = m.winner)
        """
    )


def refresh_current_events(cur: duckdb.DuckDBPyConnection, touched: str = "_touched") -> None:
    """For each case in ``_touched`` (or the table ``touched``) only the events of one upload count: the
    first by :data:`EVENT_VERSION_ORDER`, read from ``case_spans`` (one row per upload and case)."""
    winners = f"""(SELECT town, case_id, arg_min(upload_id, rank) AS winner
                   FROM (SELECT town, case_id, upload_id,
                                row_number() OVER (PARTITION BY town, case_id ORDER BY {EVENT_VERSION_ORDER}) AS rank
                         FROM case_spans WHERE (town, case_id) IN (SELECT town, case_id FROM {touched}))
                   GROUP BY town, case_id) m"""
    cur.execute(
        f"""
        UPDATE event_rows SET is_current = (event_rows.upload_id = m.winner)
        FROM {winners}
        WHERE event_rows.case_id = m.case_id AND event_rows.town = m.town
          AND event_rows.is_current <> (event_rows.upload_id = m.winner)
        """
    )
    cur.execute(
        f"""
        UPDATE case_spans SET is_current = (case_spans.upload_id = m.winner)
        FROM {winners}
        WHERE case_spans.case_id = m.case_id AND case_spans.town = m.town
          AND case_spans.is_current <> (case_spans.upload_id = m.winner)
        """
    )


#: An upload a town user may see (``?``: their towns): one into their towns, one whose rows (or, once removed,
#: rejected rows) are of them, and the catalogue (the county's, which their figures use too).
VISIBLE = """(u.kind = 'catalog' OR list_contains(?::VARCHAR[], u.town)
               OR EXISTS (SELECT 1 FROM case_rows r WHERE r.upload_id = u.upload_id AND list_contains(?::VARCHAR[], r.town))
               OR EXISTS (SELECT 1 FROM event_rows r WHERE r.upload_id = u.upload_id
                          AND list_contains(?::VARCHAR[], r.town)))"""
#: An upload a town user may remove: into their towns, and nothing it brought is of another town.
_REMOVABLE = """(u.kind <> 'catalog' AND list_contains(?::VARCHAR[], u.town)
                 AND NOT EXISTS (SELECT 1 FROM case_rows r WHERE r.upload_id = u.upload_id
                                 AND NOT list_contains(?::VARCHAR[], r.town))
                 AND NOT EXISTS (SELECT 1 FROM event_rows r WHERE r.upload_id = u.upload_id
                                 AND NOT list_contains(?::VARCHAR[], r.town)))"""


def _scoped(condition: str) -> tuple[str, list]:
    """``condition`` with the run's towns bound (:mod:`scope`), or ``true`` without a scope."""
    allowed = scope.current()
    if allowed is None:
        return "true", []
    return condition, [list(allowed)] * condition.count("?")


def visible(cur: duckdb.DuckDBPyConnection, upload_id: int) -> bool:
    """Whether the run's user may see the upload (always, without a town scope)."""
    where, params = _scoped(VISIBLE)
    return (
        one(cur.execute(f"SELECT count(*) FROM uploads u WHERE upload_id = ? AND {where}", [upload_id, *params]))[0] > 0
    )


def removable(cur: duckdb.DuckDBPyConnection, upload_id: int) -> bool:
    """Whether the run's user may remove the upload (always, without a town scope)."""
    where, params = _scoped(_REMOVABLE)
    return (
        one(cur.execute(f"SELECT count(*) FROM uploads u WHERE upload_id = ? AND {where}", [upload_id, *params]))[0] > 0
    )


def list_uploads(cur: duckdb.DuckDBPyConnection, include_removed: bool = True) -> list[dict]:
    """The upload history, oldest first; within a town scope only the uploads :func:`visible` to it."""
    where, params = _scoped(VISIBLE)
    if not include_removed:
        where += " AND status = 'loaded'"
    rel = cur.execute(
        f"""SELECT upload_id, file_name, kind, rows_total, rows_loaded, rows_rejected, rows_skipped, cases_loaded,
                   events_loaded, encoding, sheet, header_row, loaded_by, loaded_at, status, removed_at, sha256, town
            FROM uploads u WHERE {where} ORDER BY upload_id""",
        params,
    )
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def upload_status(cur: duckdb.DuckDBPyConnection, upload_id: int) -> str | None:
    """``loaded`` or ``removed``; None when there is no such upload."""
    row = cur.execute("SELECT status FROM uploads WHERE upload_id = ?", [upload_id]).fetchone()
    return None if row is None else str(row[0])


def remove(cur: duckdb.DuckDBPyConnection, upload_id: int, removed_by: str | None = None) -> dict[str, int]:
    """Inside the writer's transaction: delete what a loaded upload brought, let the earlier versions of its
    cases count again, and mark it removed. Returns the rows deleted per table."""
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _touched AS
           SELECT town, case_id FROM case_rows WHERE upload_id = ?
           UNION SELECT town, case_id FROM event_rows WHERE upload_id = ?""",
        [upload_id, upload_id],
    )
    mark_changed(cur, "upload_id = ?", [upload_id])
    removed = {}
    for table in ("case_rows", "event_rows", "service_item_rows", "rejected_rows"):
        removed[table] = one(cur.execute(f"DELETE FROM {table} WHERE upload_id = ?", [upload_id]))[0]
    cur.execute("DELETE FROM case_spans WHERE upload_id = ?", [upload_id])
    cur.execute("DELETE FROM field_warnings WHERE upload_id = ?", [upload_id])
    refresh_current_events(cur)
    refresh_current_cases(cur)
    facets.refresh(cur)
    cur.execute(
        "UPDATE uploads SET status = 'removed', removed_at = ?, removed_by = ? WHERE upload_id = ?",
        [clock.now(), removed_by, upload_id],
    )
    cur.execute("DROP TABLE IF EXISTS _touched")
    return removed
