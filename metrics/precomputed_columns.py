"""Precomputed columns: whether the metrics may read the per-row figures the loader keeps (the fast paths).

At county scale (ten million events) a page cannot re-derive each event's predecessor and position
per view: ``ingest.write`` keeps them on the rows as it loads (see migration 3 -> 4 in
``store.schema``), and the metrics read them. Every fast path gives exactly the result of the
straightforward SQL it stands in for (``tests/test_fast_paths.py`` compares the two on the same
data), and it is taken only when every current row carries the kept figures: rows written any other
way (the metrics tests insert rows directly) send the metrics back to the straightforward SQL.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import duckdb

from store.rows import one

_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("egov_fast_paths", default=True)


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within the block, every metric takes the straightforward SQL (to compare, and for benchmarks)."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


def enabled() -> bool:
    return _enabled.get()


def ready(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the fast paths may be taken: enabled, and every current event and case has its kept figures.

    Cheap: DuckDB skips every block of rows whose statistics say the column holds no NULL.
    """
    if not _enabled.get():
        return False
    missing = one(
        cur.execute(
            """
        SELECT EXISTS (SELECT 1 FROM event_rows WHERE is_current AND (case_key IS NULL OR pos IS NULL))
            OR EXISTS (SELECT 1 FROM case_rows WHERE is_current AND case_key IS NULL)
        """
        )
    )[0]
    return not missing
