"""The KPI cube: every count and sum of the catalogue per (town, month, department, item, channel), kept at load.

A leader who picks a department, an item, a channel, a town or another month asks for figures no kept view
holds. Every numerator, denominator and count of the catalogue's period KPIs but the quantiles is a count or a
sum with a filter, so it adds up: over any selection of whole months its value is the sum of the cube's cells
in it. The measures are read from the catalogue (:data:`MEASURES`), never written twice.

Kept in the writer's transaction of each load, removal and calendar change (``store.derived``), for the
(town, month) cells that change: a cost in proportion to the new data. :mod:`metrics.kpis` reads it when the
cube holds the data as it is now (:func:`usable`: the same fingerprint and the same measures), the period is
whole months and the grouping is one the cube has; anything else (quantiles, a week's trend, a month to date,
the backlog, the catalogue) is computed from the cases.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb

import scope
from metrics import base
from metrics.catalog import KPIS, Kpi
from metrics.filters import Filters, Params, where_clause
from store import derived
from store.rows import one

#: The cube's cells: the filters' dimensions and the month of submission (its first day).
DIMENSIONS = ("town", "month_start", "department", "service_item", "item_code", "channel")
TABLE = "kpi_cube"
STATE = "kpi_cube_state"


def additive(expression: str) -> bool:
    """Whether ``expression`` is one ``count(…)`` or ``sum(…)``, with at most a FILTER: its total is the sum
    of its parts. (A quantile, a ratio of aggregates or a CASE over aggregates is not.)"""
    text = expression.strip()
    for head in ("count(", "sum("):
        if text.startswith(head):
            end = _closing(text, len(head) - 1)
            rest = text[end + 1 :].strip() if end is not None else None
            if rest == "":
                return True
            if rest is not None and rest.startswith("FILTER ("):
                start = len(text) - len(rest) + len("FILTER ")
                return _closing(text, start) == len(text) - 1
    return False


def _closing(text: str, opening: int) -> int | None:
    """The index of the parenthesis closing the one at ``opening`` (None if it never closes)."""
    depth = 0
    for i in range(opening, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def _parts(kpi: Kpi) -> list[str]:
    return [e for e in (kpi.value, kpi.numerator, kpi.denominator, kpi.natural_value, kpi.n) if e]


#: expression -> its cube column, for every additive expression of a period KPI (and the case count).
MEASURES: dict[str, str] = {}
for _expression in ["count(*)", *(e for k in KPIS if k.scope == "period" for e in _parts(k))]:
    if additive(_expression) and _expression not in MEASURES:
        MEASURES[_expression] = f"m{len(MEASURES)}"
#: What the table is made of: a cube of other measures or dimensions is rebuilt, not read.
DIGEST = hashlib.sha256(repr((DIMENSIONS, sorted(MEASURES.items()))).encode()).hexdigest()[:16]


def _select(where: str) -> tuple[str, dict[str, object]]:
    """The cube's rows of the cases that ``where`` keeps (over ``p``, the period rows of every case)."""
    params = Params()
    rows = base.period_cases(Filters(), params)
    measures = ", ".join(f"{expression} AS {column}" for expression, column in MEASURES.items())
    sql = (
        f"SELECT p.town, date_trunc('month', p.submitted_at)::DATE AS month_start, p.department, p.service_item, "
        f"p.item_code, p.channel, {measures} FROM ({rows}) p WHERE {where} GROUP BY ALL"
    )
    return sql, params.values


def refresh(cur: duckdb.DuckDBPyConnection, cells_only: bool) -> None:
    """Bring the cube up to the cases (inside the writer's transaction): the cells in ``store.derived.CELLS``,
    or everything when asked, when the cube is missing or its measures changed."""
    state = _state(cur)
    with scope.scoped(None):  # the cube is the county's, whoever's load it follows
        if not cells_only or state is None or state[0] != DIGEST:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            sql, values = _select("true")
            cur.execute(f"CREATE TABLE {TABLE} AS {sql}", values)
        else:
            cur.execute(
                f"""DELETE FROM {TABLE} t WHERE EXISTS (SELECT 1 FROM {derived.CELLS} c
                    WHERE c.town IS NOT DISTINCT FROM t.town AND c.month_start IS NOT DISTINCT FROM t.month_start)"""
            )
            sql, values = _select(
                f"EXISTS (SELECT 1 FROM {derived.CELLS} c WHERE c.town IS NOT DISTINCT FROM p.town "
                "AND c.month_start IS NOT DISTINCT FROM date_trunc('month', p.submitted_at)::DATE)"
            )
            cur.execute(f"INSERT INTO {TABLE} {sql}", values)
        cur.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (digest VARCHAR, fingerprint VARCHAR)")
        cur.execute(f"DELETE FROM {STATE}")
        cur.execute(f"INSERT INTO {STATE} VALUES (?, {derived.FINGERPRINT_SQL})", [DIGEST])


derived.keep(refresh)


def _state(cur: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    exists = one(
        cur.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary AND database_name = "
            "current_database()",
            [STATE],
        )
    )[0]
    if not exists:
        return None
    row = cur.execute(f"SELECT digest, fingerprint FROM {STATE}").fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def usable(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the cube holds the data as it is now, with today's measures."""
    state = _state(cur)
    return state is not None and state[0] == DIGEST and state[1] == derived.fingerprint(cur)


def whole_months(filters: Filters) -> bool:
    """Whether the period is whole months (or open): what the cube's cells can add up to exactly."""
    starts = filters.start is None or filters.start.day == 1
    ends = filters.end is None or (filters.end + dt.timedelta(days=1)).day == 1
    return starts and ends


def source(filters: Filters, params: Params, group_sql: str) -> str:
    """The cube's cells of the selection, with the group key ``g`` (``group_sql`` over the alias ``c``)."""
    where, _ = where_clause(filters, "c", params, date_column="month_start")
    return f"SELECT {group_sql} AS g, c.* FROM {TABLE} c WHERE {where}"


def column(expression: str) -> str | None:
    """The cube column that holds ``expression`` summed per cell (None when it does not add up)."""
    return MEASURES.get(expression)
