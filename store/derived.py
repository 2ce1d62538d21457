"""Tables derived from the current cases, kept in the same transaction as every change of them.

The layers above declare what they keep (``metrics.cube``: the KPI cube); the store knows only when the cases
change — a load, a removal, a new calendar — and calls every keeper then, inside the writer's transaction,
with the (town, month) cells that changed (``None``: all of them). Each kept table records the
:data:`FINGERPRINT_SQL` of the data it reflects; a reader that finds another fingerprint (a change made by a
process that never declared the keeper) reads the cases instead, so a kept table is never wrong, only, at
worst, not used until it is rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

#: What the data was, for everything computed from it: the uploads (the last one, the removals) and the
#: working-day calendar. Read in the same statement as a lookup; a targets or users edit leaves it alone.
FINGERPRINT_SQL = """
    (SELECT coalesce(max(upload_id), 0) || '.' || count(*) FILTER (WHERE status = 'removed') FROM uploads)
    || '/' || (SELECT md5(string_agg(CASE WHEN is_workday THEN '1' ELSE '0' END, '' ORDER BY day)) || '.' || min(day)
               FROM calendar)
"""

#: The temporary table of changed cells a keeper reads: (town, month_start) — month_start the first day of the
#: month of submission (NULL for cases without a submission time).
CELLS = "_changed_cells"

#: A keeper: given a cursor in the writer's transaction and whether only :data:`CELLS` changed (False: all).
Keeper = Callable[[duckdb.DuckDBPyConnection, bool], None]
_KEEPERS: list[Keeper] = []


def keep(keeper: Keeper) -> Keeper:
    """Declare a derived table's keeper (once per process; declaring it again changes nothing)."""
    if keeper not in _KEEPERS:
        _KEEPERS.append(keeper)
    return keeper


def mark_cells(cur: duckdb.DuckDBPyConnection, cases: str | None) -> None:
    """Fill :data:`CELLS` with the (town, month) of every version of the cases in the table ``cases`` (town,
    case_id): before a removal deletes rows, or after a load added some (a fixed table name of the store's).
    ``None``: no case changed (a catalogue upload), only the fingerprint moves."""
    where = "false" if cases is None else f"(town, case_id) IN (SELECT town, case_id FROM {cases})"
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE {CELLS} AS
            SELECT DISTINCT town, date_trunc('month', submitted_at)::DATE AS month_start FROM case_rows
            WHERE {where}"""
    )


def changed(cur: duckdb.DuckDBPyConnection, *, everything: bool = False) -> None:
    """Call every keeper: for the cells in :data:`CELLS` (filled by :func:`mark_cells`), or for all."""
    for keeper in _KEEPERS:
        keeper(cur, not everything)
    cur.execute(f"DROP TABLE IF EXISTS {CELLS}")


def fingerprint(cur: duckdb.DuckDBPyConnection) -> str:
    row = cur.execute(f"SELECT {FINGERPRINT_SQL}").fetchone()
    return "" if row is None else str(row[0])
