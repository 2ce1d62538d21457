"""What loading a previewed file would change, worked out before anything is written.

An analyst about to load an export needs to know more than how many rows are valid: which months it
covers, how many of its cases are new and how many the database already holds (and of those, how many
the file's version will replace and how many are older than what is held and will not count, by the
conflict rule :data:`store.uploads.CASE_VERSION_ORDER`), the monthly case counts before and after, and
which departments and items the service catalogue does not list.

:func:`compute` answers that from the normalised rows the preview left in the temp view ``_norm``, in a
few SQL statements on the preview's own cursor (temp tables only: the database file is not touched). The
file's case versions are built with the loader's own SQL (``CASE_SELECT``, ``with_derived``, and for an
event file ``aggregate_event_cases``), then ranked with every version held for the same cases by the
loader's own order: the prediction is what the load then does, not an estimate of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from ingest.derive import with_derived
from ingest.mapping import Mapping
from ingest.validate import VALID
from ingest.write import CASE_SELECT, aggregate_event_cases
from store.rows import one
from store.uploads import CASE_VERSION_ORDER, EVENT_VERSION_ORDER

#: The upload id the load will take, for the ranking: later than every upload held (ids come from a
#: sequence), and the conflict rule's last tie-break is the later upload.
NEXT_UPLOAD = 2_147_483_647

#: At most this many names per list (unlisted items, departments, catalogue changes): the counts are exact.
MAX_NAMES = 100

_TEMP = ("_impact_file", "_impact_versions", "_impact_held", "_impact_items", "_impact_catalog")


@dataclass(frozen=True)
class Named:
    """A department or item with the file's cases that name it."""

    name: str
    cases: int


@dataclass(frozen=True)
class MonthChange:
    """One month of submission: current cases before and after the load, and why they change."""

    month: str | None  # YYYY-MM (None: cases without a submission time)
    before: int
    after: int
    in_file: int  # the file's cases submitted in this month (by the file's version)
    new: int  # of those, cases the database does not hold yet
    updated: int  # held cases of this month (as held now) that the file's version will replace
    older: int  # held cases of this month whose version in the file is older than the one held

    @property
    def change(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class CatalogChange:
    """A catalogue upload replaces the catalogue: which items are new, changed, unchanged or dropped."""

    items: int
    new: int
    changed: int
    unchanged: int
    dropped: int
    new_names: tuple[str, ...] = ()
    changed_names: tuple[str, ...] = ()
    dropped_names: tuple[str, ...] = ()
    #: Current cases whose item the catalogue does not list, now (None: no catalogue yet) and after the load.
    cases_unlisted_before: int | None = None
    cases_unlisted_after: int = 0


@dataclass(frozen=True)
class Impact:
    """What a load of the previewed file would change; every number is what the load then produces."""

    kind: str
    cases: int = 0  # distinct cases in the file's valid rows
    first_submitted: dt.datetime | None = None  # town time, as stored
    last_submitted: dt.datetime | None = None
    new_cases: int = 0
    held_cases: int = 0
    wins: int = 0  # held cases whose version in the file will count
    older: int = 0  # held cases whose version in the file is older than the one held: kept, not counted
    months: tuple[MonthChange, ...] = ()
    catalog_loaded: bool = False
    unlisted_departments: tuple[Named, ...] = ()
    unlisted_department_count: int = 0
    unlisted_department_cases: int = 0
    unlisted_items: tuple[Named, ...] = ()
    unlisted_item_count: int = 0
    unlisted_item_cases: int = 0
    #: Event files: the valid events, and those (and their cases) that will not count because the events held
    #: for the case reach later (:data:`store.uploads.EVENT_VERSION_ORDER`).
    events: int = 0
    events_older: int = 0
    cases_events_older: int = 0
    catalog: CatalogChange | None = None

    @property
    def overlap(self) -> tuple[MonthChange, ...]:
        """Months the file has cases in where the database already holds cases."""
        return tuple(m for m in self.months if m.before > 0 and m.in_file > 0)

    @property
    def changed_months(self) -> tuple[MonthChange, ...]:
        return tuple(m for m in self.months if m.change)


def compute(cur: duckdb.DuckDBPyConnection, kind: str, mapped: Mapping | None = None) -> Impact:
    """The impact of loading the valid rows of ``_norm`` (left by the preview on ``cur``) of a ``kind`` file.

    ``mapped`` is the file's mapping (an event file's case attributes depend on it). Reads the database,
    writes temp tables of ``cur`` only, and drops them.
    """
    try:
        if kind == "catalog":
            return Impact(kind, catalog_loaded=_has_catalog(cur), catalog=_catalog_change(cur))
        return _case_impact(cur, kind, mapped)
    finally:
        for table in _TEMP:
            cur.execute(f"DROP TABLE IF EXISTS {table}")


def _has_catalog(cur: duckdb.DuckDBPyConnection) -> bool:
    return bool(one(cur.execute("SELECT EXISTS (SELECT 1 FROM service_items)"))[0])


def _case_impact(cur: duckdb.DuckDBPyConnection, kind: str, mapped: Mapping | None) -> Impact:
    if kind == "events":
        aggregate_event_cases(cur, mapped)  # _case_agg, as the load derives it
        versions = f"SELECT {CASE_SELECT}, 'events' AS source FROM _case_agg"
    else:
        versions = f"SELECT {CASE_SELECT}, 'case_file' AS source FROM _norm WHERE {VALID}"
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE _impact_file AS
            SELECT town, case_id, service_item, item_code, department, submitted_at, accepted_at, completed_at, status,
                   due_at_source, source, strftime(submitted_at, '%Y-%m') AS month,
                   (town, case_id) IN (SELECT town, case_id FROM case_rows) AS held
            FROM ({with_derived(versions)})"""
    )
    # The cases held: every version of them, those held and the file's own, ranked as refresh_current_cases does
    # (a case not held has one version, the file's, which counts: nothing to rank).
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _impact_versions AS
        SELECT town, case_id, month, is_file, is_current,
               row_number() OVER (PARTITION BY town, case_id ORDER BY {CASE_VERSION_ORDER}) AS rank
        FROM (
            SELECT town, case_id, strftime(submitted_at, '%Y-%m') AS month, submitted_at, accepted_at, completed_at,
                   status, due_at_source, source, upload_id, is_current, false AS is_file
            FROM case_rows WHERE (town, case_id) IN (SELECT town, case_id FROM _impact_file WHERE held)
            UNION ALL
            SELECT town, case_id, month, submitted_at, accepted_at, completed_at, status, due_at_source, source,
                   {NEXT_UPLOAD}, false, true
            FROM _impact_file WHERE held
        )
        """
    )
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _impact_held AS
           SELECT town, case_id, bool_or(is_file AND rank = 1) AS file_wins FROM _impact_versions
           GROUP BY town, case_id"""
    )
    cases, new, held, first, last = one(
        cur.execute(
            """SELECT count(*), count(*) FILTER (WHERE NOT held), count(*) FILTER (WHERE held),
                  min(submitted_at), max(submitted_at)
           FROM _impact_file"""
        )
    )
    wins = one(cur.execute("SELECT count(*) FILTER (WHERE file_wins) FROM _impact_held"))[0]
    older = held - wins
    events = _event_versions(cur) if kind == "events" else (0, 0, 0)
    has_catalog = _has_catalog(cur)
    departments, items = _unlisted(cur) if has_catalog else (((), 0, 0), ((), 0, 0))
    return Impact(
        kind,
        cases=int(cases),
        first_submitted=first,
        last_submitted=last,
        new_cases=int(new),
        held_cases=int(held),
        wins=int(wins),
        older=int(older),
        months=_months(cur),
        catalog_loaded=has_catalog,
        unlisted_departments=departments[0],
        unlisted_department_count=departments[1],
        unlisted_department_cases=departments[2],
        unlisted_items=items[0],
        unlisted_item_count=items[1],
        unlisted_item_cases=items[2],
        events=events[0],
        events_older=events[1],
        cases_events_older=events[2],
    )


def _months(cur: duckdb.DuckDBPyConnection) -> tuple[MonthChange, ...]:
    """Per month of submission: the current cases of the file's towns now, and after the load (exact).

    After = now − the versions counted now of the file's cases + the versions that will count (one per case):
    an updated case may move month, a version that loses changes nothing.
    """
    rows = cur.execute(
        """
        WITH d AS (
            SELECT month, sum(gained) AS gained, sum(lost) AS lost, sum(in_file) AS in_file, sum(new) AS new,
                   sum(updated) AS updated, sum(older) AS older
            FROM (
                SELECT month, count(*) AS gained, 0 AS lost, count(*) AS in_file, count(*) AS new, 0 AS updated,
                       0 AS older
                FROM _impact_file WHERE NOT held GROUP BY month
                UNION ALL
                SELECT v.month, count(*) FILTER (WHERE v.rank = 1), count(*) FILTER (WHERE v.is_current),
                       count(*) FILTER (WHERE v.is_file), 0, count(*) FILTER (WHERE v.is_current AND h.file_wins),
                       count(*) FILTER (WHERE v.is_current AND NOT h.file_wins)
                FROM _impact_versions v JOIN _impact_held h USING (town, case_id) GROUP BY v.month
            )
            GROUP BY month
        ),
        b AS (
            SELECT month, count(*) AS before
            FROM (SELECT strftime(submitted_at, '%Y-%m') AS month FROM cases
                  WHERE town IN (SELECT DISTINCT town FROM _impact_file))  -- the file's towns only
            WHERE month IN (SELECT month FROM d)
               OR (month IS NULL AND (SELECT bool_or(month IS NULL) FROM d))
            GROUP BY month
        )
        SELECT d.month, coalesce(b.before, 0) AS before, coalesce(b.before, 0) - d.lost + d.gained AS after,
               d.in_file, d.new, d.updated, d.older
        FROM d LEFT JOIN b ON b.month IS NOT DISTINCT FROM d.month
        WHERE d.in_file > 0 OR d.gained > 0 OR d.lost > 0
        ORDER BY d.month NULLS LAST
        """
    ).fetchall()
    return tuple(MonthChange(r[0], *(int(v) for v in r[1:])) for r in rows)


def _event_versions(cur: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """(valid events, events that will not count, their cases): per case the events of one upload count,
    the first by EVENT_VERSION_ORDER among the uploads held (``case_spans``) and this one."""
    row = one(
        cur.execute(
            f"""
        SELECT coalesce(sum(events), 0), coalesce(sum(events) FILTER (WHERE rank > 1), 0),
               count(*) FILTER (WHERE rank > 1)
        FROM (
            SELECT *, row_number() OVER (PARTITION BY town, case_id ORDER BY {EVENT_VERSION_ORDER}) AS rank
            FROM (
                SELECT town, case_id, upload_id, events, last_at, false AS is_file
                FROM case_spans WHERE (town, case_id) IN (SELECT town, case_id FROM _case_agg)
                UNION ALL
                SELECT town, case_id, {NEXT_UPLOAD}, events, last_at, true FROM _case_agg
            )
        )
        WHERE is_file
        """
        )
    )
    return int(row[0]), int(row[1]), int(row[2])


#: A case's item is listed when the catalogue has its item code, else its item name (as metrics/base.py matches).
#: Two equality tests rather than one join on ``code = code OR name = name``, so that both are hash joins.
_LISTED = """(coalesce({t}.item_code IN (SELECT item_code FROM {catalog} WHERE item_code IS NOT NULL), false)
              OR coalesce({t}.service_item IN (SELECT item_name FROM {catalog} WHERE item_name IS NOT NULL), false))"""


def _unlisted(cur: duckdb.DuckDBPyConnection) -> tuple[tuple, tuple]:
    """Departments and items of the file's cases that will count (new, or newer than the version held) that the
    service catalogue does not list, with their cases: ((names, how many, their cases), …) for departments, then
    items — the numbers the data-quality page then shows for them. Cases are grouped first: the catalogue is
    compared with the distinct values, not with every case."""
    counting = "(NOT held OR (town, case_id) IN (SELECT town, case_id FROM _impact_held WHERE file_wins))"
    departments = _named(
        cur,
        f"""SELECT department AS name, count(*) AS n FROM _impact_file
           WHERE department IS NOT NULL AND {counting}
             AND NOT coalesce(department IN (SELECT department FROM service_items WHERE department IS NOT NULL), false)
           GROUP BY department""",
    )
    items = _named(
        cur,
        f"""SELECT coalesce(p.service_item, p.item_code) AS name, sum(p.n) AS n
            FROM (SELECT service_item, item_code, count(*) AS n FROM _impact_file
                  WHERE coalesce(service_item, item_code) IS NOT NULL AND {counting} GROUP BY ALL) p
            WHERE NOT {_LISTED.format(t="p", catalog="service_items")}
            GROUP BY 1""",
    )
    return departments, items


def _named(cur: duckdb.DuckDBPyConnection, sql: str) -> tuple[tuple[Named, ...], int, int]:
    """The first MAX_NAMES of (name, n) rows, most cases first, with the number of names and their cases."""
    rows = cur.execute(
        f"""SELECT name, n, count(*) OVER () AS names, sum(n) OVER () AS cases
            FROM ({sql}) ORDER BY n DESC, name LIMIT {MAX_NAMES}"""
    ).fetchall()
    if not rows:
        return (), 0, 0
    return tuple(Named(str(r[0]), int(r[1])) for r in rows), int(rows[0][2]), int(rows[0][3])


_ITEM_FIELDS = (
    "item_name", "department", "online_capable", "fully_online_capable", "promised_days", "promised_unit",
    "statutory_days", "statutory_unit", "max_visits",
)  # fmt: skip


def _catalog_change(cur: duckdb.DuckDBPyConnection) -> CatalogChange:
    """The file's items against the catalogue in use (a load replaces it): an item is the same item when its
    code is, else when its name is (as cases match the catalogue), so that re-coded items read as changed."""
    fields = ", ".join(("item_code", *_ITEM_FIELDS))
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE _impact_items AS
            SELECT {fields}, row_number() OVER () AS fid FROM _norm WHERE {VALID}"""
    )
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE _impact_catalog AS
            SELECT {fields}, row_number() OVER () AS sid FROM service_items"""
    )
    # Pairs by code, then by name among the items left; one partner each.
    pairs = """
        WITH by_code AS (SELECT f.fid, s.sid FROM _impact_items f JOIN _impact_catalog s ON f.item_code = s.item_code),
        by_name AS (
            SELECT fid, sid FROM (
                SELECT f.fid, s.sid, row_number() OVER (PARTITION BY f.fid ORDER BY s.sid) AS rf,
                       row_number() OVER (PARTITION BY s.sid ORDER BY f.fid) AS rs
                FROM _impact_items f JOIN _impact_catalog s ON f.item_name = s.item_name
                WHERE f.fid NOT IN (SELECT fid FROM by_code) AND s.sid NOT IN (SELECT sid FROM by_code))
            WHERE rf = 1 AND rs = 1)
        SELECT fid, sid FROM (SELECT *, row_number() OVER (PARTITION BY fid ORDER BY sid) AS rf,
                                        row_number() OVER (PARTITION BY sid ORDER BY fid) AS rs FROM by_code)
        WHERE rf = 1 AND rs = 1
        UNION ALL SELECT fid, sid FROM by_name"""
    every = ("item_code", *_ITEM_FIELDS)
    compare = f"row({', '.join(f'f.{c}' for c in every)}) IS DISTINCT FROM row({', '.join(f's.{c}' for c in every)})"
    # Paired items, then the file's others (new), then the catalogue's others (dropped).
    joined = f"""SELECT CASE WHEN s.sid IS NULL THEN 'new' WHEN f.fid IS NULL THEN 'dropped'
                             WHEN {compare} THEN 'changed' ELSE 'unchanged' END AS status,
                        coalesce(f.item_name, s.item_name) AS name
                 FROM ({pairs}) q
                 FULL JOIN _impact_items f ON f.fid = q.fid
                 FULL JOIN _impact_catalog s ON s.sid = q.sid"""
    counts = dict(cur.execute(f"SELECT status, count(*) FROM ({joined}) GROUP BY status").fetchall())
    names: dict[str, list[str]] = {"new": [], "changed": [], "dropped": []}
    for status, name in cur.execute(
        f"""SELECT status, name FROM (
                SELECT status, name, row_number() OVER (PARTITION BY status ORDER BY name) AS rn
                FROM ({joined}) WHERE status <> 'unchanged')
            WHERE rn <= {MAX_NAMES} ORDER BY status, name"""
    ).fetchall():
        names[status].append(str(name))
    before, after = one(
        cur.execute(
            f"""SELECT sum(n) FILTER (WHERE NOT {_LISTED.format(t="p", catalog="service_items")}),
                   sum(n) FILTER (WHERE NOT {_LISTED.format(t="p", catalog="_impact_items")})
            FROM (SELECT service_item, item_code, count(*) AS n FROM cases
                  WHERE coalesce(service_item, item_code) IS NOT NULL GROUP BY ALL) p"""
        )
    )
    return CatalogChange(
        items=sum(counts.get(s, 0) for s in ("new", "changed", "unchanged")),
        new=counts.get("new", 0),
        changed=counts.get("changed", 0),
        unchanged=counts.get("unchanged", 0),
        dropped=counts.get("dropped", 0),
        new_names=tuple(names["new"]),
        changed_names=tuple(names["changed"]),
        dropped_names=tuple(names["dropped"]),
        cases_unlisted_before=int(before or 0) if _has_catalog(cur) else None,
        cases_unlisted_after=int(after or 0),
    )


# --- the command line's lines (Chinese, then English in brackets, as its other lines) ---------------------------


def _when(value: dt.datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _names(named: tuple[Named, ...], total: int) -> str:
    shown = "，".join(f"{n.name} {n.cases}" for n in named)
    return shown + ("，…" if total > len(named) else "")


def report_lines(impact: Impact | None) -> list[str]:
    """What ``cli.py ingest --dry-run`` prints about the impact: one line each, Chinese (English)."""
    if impact is None:
        return []
    if impact.kind == "catalog":
        return _catalog_lines(impact.catalog) if impact.catalog else []
    out = [
        f"本文件覆盖 {_when(impact.first_submitted)} 至 {_when(impact.last_submitted)}（申请时间） "
        f"(covers {_when(impact.first_submitted)} to {_when(impact.last_submitted)}, by submission time)",
        f"办件 {impact.cases} 件：新办件 {impact.new_cases}，更新已有办件 {impact.held_cases}"
        f"（其中 {impact.older} 件比库中已有的记录旧，不计入） "
        f"({impact.cases} cases: {impact.new_cases} new, {impact.held_cases} already held, of which {impact.older} "
        "are older than what is held and will not count)",
    ]
    if impact.kind == "events":
        out.append(
            f"环节 {impact.events} 条，其中 {impact.events_older} 条（{impact.cases_events_older} 件办件）比库中已有的"
            f"环节旧，不计入 ({impact.events} events, {impact.events_older} of them ({impact.cases_events_older} cases) "
            "older than the events held: they will not count)"
        )
    out.append("各月办件（按申请月份）导入前 → 导入后 (cases per month of submission, before -> after):")
    for m in impact.months:
        out.append(
            f"  {m.month or '无申请时间 (no submission time)'}: {m.before} → {m.after} ({m.change:+d})  "
            f"新办件 {m.new}，更新 {m.updated}，较旧不计入 {m.older} (new {m.new}, updated {m.updated}, older {m.older})"
        )
    if not impact.catalog_loaded:
        out.append(
            "尚未导入事项目录，未核对部门和事项 (no service catalogue loaded: departments and items not checked)"
        )
    elif not impact.unlisted_department_count and not impact.unlisted_item_count:
        out.append("部门和事项都在事项目录中 (every department and item is in the service catalogue)")
    else:
        if impact.unlisted_department_count:
            n, cases = impact.unlisted_department_count, impact.unlisted_department_cases
            out.append(
                f"事项目录中没有的部门 {n} 个（共 {cases} 件） (departments not in the service catalogue: {n}, "
                f"{cases} cases): {_names(impact.unlisted_departments, n)}"
            )
        if impact.unlisted_item_count:
            n, cases = impact.unlisted_item_count, impact.unlisted_item_cases
            out.append(
                f"事项目录中没有的事项 {n} 个（共 {cases} 件） (items not in the service catalogue: {n}, "
                f"{cases} cases): {_names(impact.unlisted_items, n)}"
            )
    if impact.overlap:
        months = "、".join(str(m.month) for m in impact.overlap)
        out.append(
            f"! 本文件与已导入的月份重叠：{months}（各月更新与新增见上表）；同一办件只计一次 "
            f"(the file overlaps months already loaded: {months.replace('、', ', ')} (updates and additions per month "
            "above); a case counts once)"
        )
    return out


def _catalog_lines(c: CatalogChange) -> list[str]:
    out = [
        f"事项目录 {c.items} 个事项：新增 {c.new}，有变动 {c.changed}，未变 {c.unchanged}；现有目录中 {c.dropped} 个"
        f"事项不在本文件中，导入后不再列出 (catalogue of {c.items} items: {c.new} new, {c.changed} changed, "
        f"{c.unchanged} unchanged; {c.dropped} items of the catalogue in use are not in the file and will no longer "
        "be listed)"
    ]
    for zh, en, names, total in (
        ("新增", "new", c.new_names, c.new),
        ("有变动", "changed", c.changed_names, c.changed),
        ("不再列出", "no longer listed", c.dropped_names, c.dropped),
    ):
        if names:
            out.append(f"  {zh} ({en}): {'，'.join(names)}{'，…' if total > len(names) else ''}")
    before = "—" if c.cases_unlisted_before is None else str(c.cases_unlisted_before)
    out.append(
        f"导入后，库中 {c.cases_unlisted_after} 件办件的事项不在目录中（导入前 {before} 件） "
        f"(after the load {c.cases_unlisted_after} cases have an item the catalogue does not list; now {before})"
    )
    return out
