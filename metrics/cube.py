"""The KPI cube: the catalogue's counts and sums per (town, month, department, item, channel), kept at load.

Every numerator and denominator of the period KPIs is a count or a sum with a filter (``count(*) FILTER (WHERE
is_online)``, ``sum(1 - …) FILTER (…)``), so the figure of any selection of whole months, towns, departments,
items and channels is the sum of its cells. :func:`maintain` keeps the cells in the same transaction as every
write that changes cases (``store.db.BEFORE_COMMIT``), rebuilding only the (town, month) cells the write marked
(``store.uploads.mark_changed``): the cost follows the new data, not all of it. :mod:`metrics.kpis` reads the
cube for such selections and computes live what a sum cannot give (the medians, the open cases as of a day, the
journeys, a period that is not whole months).

The cube is read only when it is current: made for this data version and from this definition (its columns
follow the catalogue, so a changed catalogue makes it again), and the fast paths are on
(:func:`metrics.precomputed_columns.disabled` switches it off with them, to compare).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

import scope
from metrics import base, precomputed_columns
from metrics.catalog import KPIS
from metrics.filters import Filters, Params, where_clause
from store import db as store_db
from store.rows import one

#: The cells' keys: the dimensions a page filters and groups by (the month is of submission).
DIMENSIONS = ("town", "month", "department", "service_item", "item_code", "channel")
TABLE = "kpi_cube"
_ROLES = ("numerator", "denominator", "value", "n")


@dataclass(frozen=True)
class Measure:
    """One kept column: a KPI's expression (its role: numerator, denominator, value or n) summed over cells."""

    kpi_id: str
    role: str
    sql: str
    column: str


def _split_call(sql: str) -> tuple[str, str] | None:
    """``name(args) [FILTER (WHERE …)]`` → (name, what follows the call); None when the text is not one call."""
    text = sql.strip()
    name, paren, _ = text.partition("(")
    if not paren or not name.strip().isidentifier():
        return None
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return name.strip().lower(), text[i + 1 :].strip()
    return None


def additive(sql: str) -> bool:
    """Whether an aggregate expression is one count or sum (with an optional FILTER): a sum of cells gives it."""
    call = _split_call(sql)
    if call is None or call[0] not in ("count", "sum"):
        return False
    rest = call[1]
    if not rest:
        return True
    if not rest.upper().startswith("FILTER"):
        return False
    inner = _split_call("filter" + rest[len("FILTER") :])
    return inner is not None and inner[1] == ""


def measures() -> list[Measure]:
    """Every additive expression of the period KPIs, in catalogue order, each with its column name."""
    out: list[Measure] = []
    for kpi in KPIS:
        if kpi.scope != "period":
            continue
        for role in _ROLES:
            sql = getattr(kpi, role)
            if sql and additive(sql):
                out.append(Measure(kpi.id, role, sql, f"m{len(out)}"))
    return out


MEASURES = measures()
_BY_ROLE = {(m.kpi_id, m.role): m for m in MEASURES}


def measure(kpi_id: str, role: str) -> Measure | None:
    """The kept column of a KPI's numerator / denominator / value / n, if the cube keeps it."""
    return _BY_ROLE.get((kpi_id, role))


def _build_sql(params: Params, cells: str, within: Filters | None = None) -> str:
    """The cells' SELECT over the current cases; ``cells`` restricts it to some (town, month) pairs (SQL), whose
    months lie ``within`` a period (so that the scan skips the other months' blocks)."""
    with scope.scoped(None):  # the cube is the county's, whoever's write keeps it
        period = base.period_cases(within or Filters(), params)
    columns = ",\n".join(f"{m.sql} AS {m.column}" for m in MEASURES)
    return f"""
        SELECT town, date_trunc('month', submitted_at)::DATE AS month, department, service_item, item_code, channel,
               count(*) AS cases,
               {columns}
        FROM ({period}) p
        WHERE {cells}
        GROUP BY ALL
    """


def definition() -> str:
    """A digest of what the cube holds: its SQL (the catalogue's measures, the flags' definitions)."""
    params = Params()
    text = _build_sql(params, "true") + repr(sorted(params.values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


DEFINITION = definition()
_CHANGED = (
    "EXISTS (SELECT 1 FROM case_changes d WHERE d.town IS NOT DISTINCT FROM p.town "
    "AND d.month IS NOT DISTINCT FROM date_trunc('month', p.submitted_at)::DATE)"
)


def maintain(cur: duckdb.DuckDBPyConnection) -> None:
    """Inside a write, before it commits: bring the cube to this data (the marked cells, or all when needed)."""
    version = int(one(cur.execute("SELECT version FROM data_version"))[0])
    kept_version, kept_definition, kept_rows = one(cur.execute("SELECT version, definition, case_rows FROM cube_state"))
    rows = int(one(cur.execute("SELECT count(*) FROM case_rows"))[0])
    changed = bool(one(cur.execute("SELECT EXISTS (SELECT 1 FROM case_changes)"))[0])
    # Rows written past mark_changed (a test's INSERT) show as a changed row count with nothing marked.
    rebuild = kept_definition != DEFINITION or kept_version < 0 or (rows != kept_rows and not changed)
    params = Params()
    if rebuild:
        cur.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {_build_sql(params, 'true')}", params.values)
    elif changed:
        cur.execute(
            f"DELETE FROM {TABLE} c WHERE EXISTS (SELECT 1 FROM case_changes d "
            "WHERE d.town IS NOT DISTINCT FROM c.town AND d.month IS NOT DISTINCT FROM c.month)"
        )
        first, last, undated = one(
            cur.execute("SELECT min(month), max(month), bool_or(month IS NULL) FROM case_changes")
        )
        within = None if undated else Filters(first, _month_end(last))
        cur.execute(f"INSERT INTO {TABLE} {_build_sql(params, _CHANGED, within)}", params.values)
    # Which fields the data has changes with a catalogue too (no case marked): worked out at every write.
    presence = json.dumps(base.live_field_presence(cur))
    cur.execute("DELETE FROM case_changes")
    cur.execute(
        "UPDATE cube_state SET version = ?, definition = ?, case_rows = ?, presence = ?::JSON",
        [version, DEFINITION, rows, presence],
    )


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


if maintain not in store_db.BEFORE_COMMIT:
    store_db.BEFORE_COMMIT.append(maintain)


def current(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the cube may be read: the fast paths on, and made for this data and this definition."""
    if not precomputed_columns.enabled():
        return False
    row = cur.execute(
        "SELECT s.version = v.version AND s.definition = ? FROM cube_state s, data_version v", [DEFINITION]
    ).fetchone()
    return bool(row and row[0])


def whole_months(filters: Filters) -> bool:
    """Whether the period is whole months (or open at an end): the cells then add up to it exactly."""
    starts = filters.start is None or filters.start.day == 1
    ends = filters.end is None or (filters.end + dt.timedelta(days=1)).day == 1
    return starts and ends


def cells_where(filters: Filters, params: Params) -> str:
    """The WHERE condition over the cube (alias ``c``) for ``filters``: the same as over the cases, by month."""
    where, _ = where_clause(filters, "c", params, date_column="month")
    return where


def cell_sums(
    cur: duckdb.DuckDBPyConnection, filters: Filters, keys: tuple[str, ...], sums: dict[str, str]
) -> pd.DataFrame | None:
    """The cells of ``filters`` summed per ``keys`` (cube columns): ``sums`` maps an output name to a kept column
    (``cases``, or a measure's). None when the cube cannot serve the selection (not current, not whole months)."""
    if not whole_months(filters) or not current(cur):
        return None
    params = Params()
    where = cells_where(filters, params)
    group = ", ".join(f"c.{k}" for k in keys)
    select = ", ".join(f"sum(c.{column})::BIGINT AS {name}" for name, column in sums.items())
    sql = f"SELECT {group}, {select} FROM {TABLE} c WHERE {where} GROUP BY {group}"
    return base.frame(cur, sql, params)
