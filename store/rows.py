"""Typed reading of query results.

DuckDB types ``fetchone()`` as ``tuple | None``. An aggregate (``count(*)``, ``min``, ``max``) or a
lookup of a row the caller has just written always returns a row; :func:`one` says so and checks it.
"""

from __future__ import annotations

from typing import Any

import duckdb


def one(result: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The first row of an executed query that always returns one (``one(cur.execute(sql))[0]``)."""
    row = result.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row
