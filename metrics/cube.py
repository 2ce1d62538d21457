"""The KPI cubes: the catalogue's counts and sums per cell, kept at load, so a page adds cells instead of cases.

Every numerator and denominator of the period KPIs is a count or a sum with a filter (``count(*) FILTER (WHERE
is_online)``, ``sum(1 - …) FILTER (…)``), so the figure of any selection of whole months, towns, departments,
items and channels is the sum of its cells. Two cubes:

- ``kpi_cube``: the period KPIs per (town, month of submission, department, service item, item code, channel);
- ``journey_cube``: the journey KPIs (一件事, the default window) per (town, month of the journey's first case):
  a journey crosses departments, items and channels, so a town and a month are all it is asked by;
- ``backlog_cube``: the open-case KPIs (overdue, at risk) as of the end of every month that is over, per (day,
  town, department, service item, item code, channel); ``backlog_days`` lists the days it holds (a day with no
  open case has no cell, and is still held).

:func:`maintain` keeps both in the same transaction as every write that changes cases
(``store.db.BEFORE_COMMIT``), from the (town, month) cells the write marked (``store.uploads.mark_changed``):
the period cells of those months, the journey cells of those towns from the first month no journey runs
across, the backlog of those towns as of every month end from the first marked month on; and the month ends
that have passed since the last write. :mod:`metrics.kpis` reads them
for such selections and computes live what a sum cannot give (the medians, the open cases as of a day, a
period that is not whole months, another window).

A cube is read only when it is current: made for this data version and from this definition (its columns follow
the catalogue, so a changed catalogue makes it again), and the fast paths are on
(:func:`metrics.precomputed_columns.disabled` switches it off with them, to compare).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

import clock
import scope
from metrics import base, precomputed_columns
from metrics.catalog import JOURNEY_WINDOW_DAYS, KPIS
from metrics.filters import Filters, Params, where_clause
from store import db as store_db
from store.rows import one

TABLE = "kpi_cube"
JOURNEY_TABLE = "journey_cube"
BACKLOG_TABLE = "backlog_cube"
BACKLOG_DAYS = "backlog_days"
#: In a province's database (``lake.province``): what its cube was read from. No case keeps such a cube.
FROM_LAKE = "cube_from_lake"
_ROLES = ("numerator", "denominator", "value", "n")


@dataclass(frozen=True)
class Kept:
    """A KPI expression (its role: numerator, denominator, value or n) as kept columns and how cells give it back.

    ``columns``: (name, aggregate over the rows of a cell); ``read``: SQL over the cells (alias ``c``).
    """

    kpi_id: str
    role: str
    columns: tuple[tuple[str, str], ...]
    read: str


def _split_call(sql: str) -> tuple[str, str, str] | None:
    """``name(args) rest`` → (name, args, rest); None when the text does not start with one call."""
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
                return name.strip().lower(), text[len(name) + 1 : i], text[i + 1 :].strip()
    return None


def _filter_clause(rest: str) -> str | None:
    """What may follow an aggregate: nothing, or one ``FILTER (WHERE …)``; None for anything else."""
    if not rest:
        return ""
    if not rest.upper().startswith("FILTER"):
        return None
    inner = _split_call("filter" + rest[len("FILTER") :])
    return rest if inner is not None and inner[2] == "" else None


def additive(sql: str) -> bool:
    """Whether an aggregate expression is one count or sum (with an optional FILTER): a sum of cells gives it."""
    call = _split_call(sql)
    return call is not None and call[0] in ("count", "sum") and _filter_clause(call[2]) is not None


def _kept_form(kpi_id: str, role: str, sql: str, first: int) -> Kept | None:
    """How a cube keeps ``sql`` (columns named from ``m{first}``), or None when cells cannot give it.

    One count or sum is summed; ``coalesce(<that>, 0)`` is summed, then 0 where no cell has a value; an average
    is kept as its sum and its count.
    """
    if additive(sql):
        return Kept(kpi_id, role, ((f"m{first}", sql),), f"sum(c.m{first})")
    call = _split_call(sql)
    if call is None:
        return None
    name, args, rest = call
    if name == "coalesce" and not rest:
        inner, _, fallback = args.rpartition(",")
        if additive(inner) and fallback.strip() == "0":
            return Kept(kpi_id, role, ((f"m{first}", inner.strip()),), f"coalesce(sum(c.m{first}), 0)")
    clause = _filter_clause(rest)
    if name == "avg" and clause is not None:
        total, count = f"m{first}", f"m{first + 1}"
        columns = ((total, f"sum({args}) {clause}".strip()), (count, f"count({args}) {clause}".strip()))
        return Kept(kpi_id, role, columns, f"sum(c.{total}) / nullif(sum(c.{count}), 0)")
    return None


def _kept(scope_name: str) -> list[Kept]:
    """Every expression of the catalogue's KPIs of ``scope_name`` a cube can keep, in catalogue order."""
    out: list[Kept] = []
    used = 0
    for kpi in KPIS:
        if kpi.scope != scope_name:
            continue
        for role in _ROLES:
            sql = getattr(kpi, role)
            kept = _kept_form(kpi.id, role, sql, used) if sql else None
            if kept is not None:
                out.append(kept)
                used += len(kept.columns)
    return out


PERIOD = _kept("period")
JOURNEYS = _kept("journeys")
BACKLOG = _kept("backlog")
_BY_ROLE = {(name, k.kpi_id, k.role): k for name, ks in (("period", PERIOD), ("journeys", JOURNEYS),
            ("backlog", BACKLOG)) for k in ks}  # fmt: skip


def kept(scope_name: str, kpi_id: str, role: str) -> Kept | None:
    """How the cube of ``scope_name`` (period, journeys) gives a KPI's numerator / denominator / value / n, if it does."""
    return _BY_ROLE.get((scope_name, kpi_id, role))


def _columns(kept: list[Kept]) -> str:
    return ",\n".join(f"{sql} AS {name}" for k in kept for name, sql in k.columns)


def _period_sql(params: Params, cells: str, within: Filters | None = None) -> str:
    """The period cells' SELECT over the current cases; ``cells`` restricts it to some (town, month) pairs (SQL),
    whose months lie ``within`` a period (so that the scan skips the other months' blocks)."""
    with scope.scoped(None):  # the cube is the county's, whoever's write keeps it
        period = base.period_cases(within or Filters(), params)
    return f"""
        SELECT town, date_trunc('month', submitted_at)::DATE AS month, department, service_item, item_code, channel,
               count(*) AS cases,
               {_columns(PERIOD)}
        FROM ({period}) p
        WHERE {cells}
        GROUP BY ALL
    """


def _journey_sql(params: Params, towns: tuple[str, ...] = (), since: dt.date | None = None) -> str:
    """The journey cells' SELECT: the journeys (default window) of ``towns`` (none: every town) that begin ``since``
    a day (None: all), by the month of their first case."""
    with scope.scoped(None):
        rows = base.journeys(Filters(start=since, towns=towns), params, window_days=JOURNEY_WINDOW_DAYS)
    return f"""
        SELECT town, date_trunc('month', first_at)::DATE AS month, {_columns(JOURNEYS)}
        FROM ({rows}) j
        GROUP BY ALL
    """


def _backlog_sql(params: Params, days: list[dt.date], towns: tuple[str, ...] = ()) -> str:
    """The backlog cells' SELECT: the cases of ``towns`` (none: every town) open at the end of each of ``days``."""
    with scope.scoped(None):
        rows = base.backlog_cases(Filters(towns=towns), params, base.asof_buckets(params, days, days))
    return f"""
        SELECT as_of_day, town, department, service_item, item_code, channel, {_columns(BACKLOG)}
        FROM ({rows}) b
        GROUP BY ALL
    """


def cells_sql(month_ends: list[dt.date]) -> dict[str, tuple[str, Params]]:
    """Each cube table's SELECT over every town's cases (and its parameters), the backlog as of ``month_ends``: what
    :func:`maintain` keeps cell by cell, one statement each, for a lake's cube build (``lake.cube_build``)."""
    period, journeys, backlog = Params(), Params(), Params()
    return {
        TABLE: (_period_sql(period, "true"), period),
        JOURNEY_TABLE: (_journey_sql(journeys), journeys),
        BACKLOG_TABLE: (_backlog_sql(backlog, month_ends), backlog),
    }


def column_names() -> dict[str, dict[str, dict[str, str]]]:
    """Per cube table, what each kept column holds: {column: {"kpi": id, "role": numerator|denominator|value|n,
    "sql": its aggregate}} (the lake's manifest carries it, so that a reader needs no copy of this module)."""
    return {
        table: {name: {"kpi": k.kpi_id, "role": k.role, "sql": sql} for k in kept for name, sql in k.columns}
        for table, kept in ((TABLE, PERIOD), (JOURNEY_TABLE, JOURNEYS), (BACKLOG_TABLE, BACKLOG))
    }


def definition() -> str:
    """A digest of what the cubes hold: their SQL (the catalogue's measures, the flags' definitions)."""
    params = Params()
    text = _period_sql(params, "true") + _journey_sql(params) + _backlog_sql(params, [dt.date(2000, 1, 31)])
    text += repr(sorted(params.values.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


DEFINITION = definition()
_CHANGED = (
    "EXISTS (SELECT 1 FROM case_changes d WHERE d.town IS NOT DISTINCT FROM p.town "
    "AND d.month IS NOT DISTINCT FROM date_trunc('month', p.submitted_at)::DATE)"
)


def maintain(cur: duckdb.DuckDBPyConnection) -> None:
    """Inside a write, before it commits: bring the cubes to this data (the marked cells, or all when needed)."""
    version = int(one(cur.execute("SELECT version FROM data_version"))[0])
    if from_lake(cur):
        # A province's cube read from Parquet: no case of this database keeps it; it stays as read, current.
        presence = one(cur.execute(f"SELECT presence FROM {FROM_LAKE}"))[0]
        cur.execute("DELETE FROM case_changes")
        cur.execute("UPDATE cube_state SET version = ?, definition = ?, case_rows = 0, presence = ?::JSON",
                    [version, DEFINITION, presence])  # fmt: skip
        return
    kept_version, kept_definition, kept_rows = one(cur.execute("SELECT version, definition, case_rows FROM cube_state"))
    rows = int(one(cur.execute("SELECT count(*) FROM case_rows"))[0])
    changed = bool(one(cur.execute("SELECT EXISTS (SELECT 1 FROM case_changes)"))[0])
    # Rows written past mark_changed (a test's INSERT) show as a changed row count with nothing marked.
    rebuild = kept_definition != DEFINITION or kept_version < 0 or (rows != kept_rows and not changed)
    if rebuild:
        params = Params()
        cur.execute(f"CREATE OR REPLACE TABLE {TABLE} AS {_period_sql(params, 'true')}", params.values)
        params = Params()
        cur.execute(f"CREATE OR REPLACE TABLE {JOURNEY_TABLE} AS {_journey_sql(params)} LIMIT 0", params.values)
        towns = tuple(r[0] for r in cur.execute("SELECT DISTINCT town FROM cases WHERE town IS NOT NULL").fetchall())
        _insert_journeys(cur, towns, None)
        params = Params()
        cur.execute(f"CREATE OR REPLACE TABLE {BACKLOG_TABLE} AS {_backlog_sql(params, [dt.date(2000, 1, 31)])} LIMIT 0",
                    params.values)  # fmt: skip
        cur.execute(f"CREATE OR REPLACE TABLE {BACKLOG_DAYS} (as_of_day DATE NOT NULL)")
    elif changed:
        _maintain_changed(cur)
    _maintain_backlog(cur)
    # Which fields the data has changes with a catalogue too (no case marked): worked out at every write.
    presence = json.dumps(base.live_field_presence(cur))
    cur.execute("DELETE FROM case_changes")
    cur.execute(
        "UPDATE cube_state SET version = ?, definition = ?, case_rows = ?, presence = ?::JSON",
        [version, DEFINITION, rows, presence],
    )


def _maintain_changed(cur: duckdb.DuckDBPyConnection) -> None:
    """The period cells of the marked (town, month)s made again, and each marked town's journey cells from its first
    month no journey runs across."""
    cur.execute(
        f"DELETE FROM {TABLE} c WHERE EXISTS (SELECT 1 FROM case_changes d "
        "WHERE d.town IS NOT DISTINCT FROM c.town AND d.month IS NOT DISTINCT FROM c.month)"
    )
    first, last, undated = one(cur.execute("SELECT min(month), max(month), bool_or(month IS NULL) FROM case_changes"))
    within = None if undated or first is None else Filters(first, _month_end(last))
    params = Params()
    cur.execute(f"INSERT INTO {TABLE} {_period_sql(params, _CHANGED, within)}", params.values)
    dated = "town IS NOT NULL AND month IS NOT NULL"  # a case without a submission time is in no journey
    marked = cur.execute(f"SELECT town, min(month) FROM case_changes WHERE {dated} GROUP BY town").fetchall()
    for town, earliest in marked:  # each town from its own first month no journey runs across
        since = _journeys_apart(cur, (town,), earliest)
        cur.execute(f"DELETE FROM {JOURNEY_TABLE} WHERE town = ? AND month >= ?", [town, since])
        _insert_journeys(cur, (town,), since)


def _insert_journeys(cur: duckdb.DuckDBPyConnection, towns: tuple[str, ...], since: dt.date | None) -> None:
    """The journey cells of ``towns`` from ``since`` on, one town at a time: a journey never leaves its town, and
    the windows over one town's cases sort a twentieth of the county's (at 10M events: 2.7 s and 0.3 GiB for
    the county, against 4.5 s and 0.8 GiB in one statement)."""
    for town in towns:
        params = Params()
        cur.execute(f"INSERT INTO {JOURNEY_TABLE} {_journey_sql(params, (town,), since)}", params.values)


def _journeys_apart(cur: duckdb.DuckDBPyConnection, towns: tuple[str, ...], changed: dt.date) -> dt.date:
    """The first of a month from which the journeys of ``towns`` can be counted again, the earlier ones left as kept.

    Changes lie in ``changed`` (a month's first day) or later. No journey may run across the day chosen, before or
    after the change: a month whose first day is at least the window before ``changed`` has no changed case within
    the window of it, so only the cases held now can join across it; while two cases of one applicant lie the
    window or less apart on both sides of it, the month before is taken.
    """
    window = float(JOURNEY_WINDOW_DAYS) * 86400.0
    since = (changed - dt.timedelta(days=JOURNEY_WINDOW_DAYS)).replace(day=1)
    while True:
        joined = one(
            cur.execute(
                """
            SELECT EXISTS (
                SELECT 1 FROM (
                    SELECT submitted_at,
                           lag(submitted_at) OVER (PARTITION BY town, applicant_key ORDER BY submitted_at, case_id) AS prev
                    FROM cases
                    WHERE list_contains($towns::VARCHAR[], town) AND applicant_key IS NOT NULL
                      AND submitted_at >= $day::TIMESTAMP - to_seconds($window)
                      AND submitted_at < $day::TIMESTAMP + to_seconds($window)
                ) pairs
                WHERE prev < $day::TIMESTAMP AND submitted_at >= $day::TIMESTAMP
                  AND epoch(submitted_at) - epoch(prev) <= $window
            )
            """,
                {"towns": list(towns), "day": since, "window": window},
            )
        )[0]
        if not joined:
            return since
        since = (since - dt.timedelta(days=1)).replace(day=1)


def _maintain_backlog(cur: duckdb.DuckDBPyConnection) -> None:
    """The backlog as of each month end that is over: again for the marked towns from their first marked month, and
    for every town as of a month end not held yet (one that has passed since the last write, or the first time)."""
    first_month = one(cur.execute("SELECT min(submitted_at)::DATE FROM case_rows WHERE is_current"))[0]
    if first_month is None:
        cur.execute(f"DELETE FROM {BACKLOG_TABLE}")
        cur.execute(f"DELETE FROM {BACKLOG_DAYS}")
        return
    ends = month_ends(first_month, clock.today())
    held = {r[0] for r in cur.execute(f"SELECT as_of_day FROM {BACKLOG_DAYS}").fetchall()}
    marks = "town IS NOT NULL AND month IS NOT NULL"
    towns = tuple(r[0] for r in cur.execute(f"SELECT DISTINCT town FROM case_changes WHERE {marks}").fetchall())
    if towns:
        earliest = one(cur.execute(f"SELECT min(month) FROM case_changes WHERE {marks}"))[0]
        again = sorted(e for e in held if e >= earliest)  # held ends, even before the first month still with data
        if again:
            cur.execute(
                f"DELETE FROM {BACKLOG_TABLE} WHERE list_contains(?::VARCHAR[], town) AND as_of_day >= ?",
                [list(towns), earliest],
            )
            params = Params()
            cur.execute(f"INSERT INTO {BACKLOG_TABLE} {_backlog_sql(params, again, towns)}", params.values)
    new = [e for e in ends if e not in held]
    if new:
        params = Params()
        cur.execute(f"INSERT INTO {BACKLOG_TABLE} {_backlog_sql(params, new)}", params.values)
        cur.executemany(f"INSERT INTO {BACKLOG_DAYS} VALUES (?)", [[e] for e in new])


def backlog_held(cur: duckdb.DuckDBPyConnection, days: list[dt.date]) -> bool:
    """Whether the backlog cube holds every one of ``days`` (and is current)."""
    if not days or not current(cur):
        return False
    held = one(cur.execute(f"SELECT count(*) FROM {BACKLOG_DAYS} WHERE list_contains(?::DATE[], as_of_day)",
                           [sorted(set(days))]))[0]  # fmt: skip
    return int(held) == len(set(days))


def month_ends(first: dt.date, today: dt.date) -> list[dt.date]:
    """The last day of every month from ``first``'s on that is over by ``today`` (the backlog cube's days)."""
    ends = []
    end = _month_end(first.replace(day=1))
    while end < today:
        ends.append(end)
        end = _month_end(end + dt.timedelta(days=1))
    return ends


def _month_end(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


if maintain not in store_db.BEFORE_COMMIT:
    store_db.BEFORE_COMMIT.append(maintain)


def current(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the cubes may be read: the fast paths on, and made for this data and this definition."""
    if not precomputed_columns.enabled():
        return False
    row = cur.execute(
        "SELECT s.version = v.version AND s.definition = ? FROM cube_state s, data_version v", [DEFINITION]
    ).fetchone()
    return bool(row and row[0])


def from_lake(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether this database is a province's cube read from Parquet (``lake.province``): cells, no cases."""
    return bool(one(cur.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [FROM_LAKE]))[0])


def serves(kpi_id: str) -> bool:
    """Whether the cubes give a KPI whole (each of its parts a sum of cells): what a province's cube can show."""
    kpi = next(k for k in KPIS if k.id == kpi_id)
    roles = [role for role in _ROLES if getattr(kpi, role)]
    return bool(roles) and all(kept(kpi.scope, kpi_id, role) is not None for role in roles)


def whole_months(filters: Filters) -> bool:
    """Whether the period is whole months (or open at an end): the cells then add up to it exactly."""
    starts = filters.start is None or filters.start.day == 1
    ends = filters.end is None or (filters.end + dt.timedelta(days=1)).day == 1
    return starts and ends


def cells_where(filters: Filters, params: Params, *, journeys: bool = False, backlog: bool = False) -> str:
    """The WHERE condition over a cube (alias ``c``) for ``filters``: the same as over the cases, by month.

    The journey cube has towns and months only (the caller asks it only when nothing else is filtered).
    """
    if journeys:
        where, _ = where_clause(
            filters, "c", params, date_column="month", department_column=None, item_columns=(), channel_column=None
        )
    elif backlog:  # open cases as of a day: no period (older backlog counts), the day is chosen by the caller
        where, _ = where_clause(filters, "c", params, period=False)
    else:
        where, _ = where_clause(filters, "c", params, date_column="month")
    return where


def cell_sums(
    cur: duckdb.DuckDBPyConnection, filters: Filters, keys: dict[str, str], sums: dict[str, str]
) -> pd.DataFrame | None:
    """The period cells of ``filters`` grouped by ``keys`` and summed by ``sums`` (output name -> SQL over the cells,
    alias ``c``: ``c.town``, ``sum(c.cases)``, a :class:`Kept`'s ``read``). None when the cube cannot serve."""
    if not whole_months(filters) or not current(cur):
        return None
    params = Params()
    where = cells_where(filters, params)
    select = ", ".join(f"{sql} AS {name}" for name, sql in (keys | sums).items())
    sql = f"SELECT {select} FROM {TABLE} c WHERE {where} GROUP BY ALL"
    return base.frame(cur, sql, params)
