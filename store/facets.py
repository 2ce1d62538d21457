"""What the filters offer, kept small: months, departments, items and channels of the current cases.

The sidebar needs the distinct months, department/item pairs and channels (by volume) on every page;
reading them from ten million events and a million and a half cases took 0.2 s per page. They are
rewritten in the same transaction as every load and removal (a scan that costs a fraction of the
load), so a page reads a few hundred rows instead.
"""

from __future__ import annotations

import duckdb

#: Schema migration 4 -> 5 creates these and 8 -> 9 adds the town (store/schema.py); refresh() keeps them equal to the views.
REFRESH_SQL = """
    DELETE FROM case_facets;
    INSERT INTO case_facets (month, department, service_item, channel, town, cases)
        SELECT strftime(submitted_at, '%Y-%m'), department, service_item, channel, town, count(*)
        FROM cases GROUP BY ALL;
    DELETE FROM event_units;
    INSERT INTO event_units SELECT DISTINCT department FROM events WHERE department IS NOT NULL;
"""


def refresh(cur: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the facets from the current cases and events (inside the writer's transaction)."""
    cur.execute(REFRESH_SQL)


def filter_options(cur: duckdb.DuckDBPyConnection) -> dict:
    """Months (newest first), departments, items (also by department), channels (by volume), all units."""
    months = cur.execute(
        "SELECT DISTINCT month FROM case_facets WHERE month IS NOT NULL ORDER BY month DESC"
    ).fetchall()
    pairs = cur.execute(
        "SELECT DISTINCT department, service_item FROM case_facets "
        "WHERE department IS NOT NULL AND service_item IS NOT NULL"
    ).fetchall()
    channels = cur.execute(
        "SELECT channel FROM case_facets WHERE channel IS NOT NULL GROUP BY channel ORDER BY sum(cases) DESC, channel"
    ).fetchall()
    units = cur.execute(
        "SELECT department FROM case_facets WHERE department IS NOT NULL UNION SELECT department FROM event_units"
    ).fetchall()
    towns = cur.execute("SELECT DISTINCT town FROM case_facets WHERE town IS NOT NULL").fetchall()
    return options(months, pairs, channels, units, towns)


def options(
    months: list[tuple], pairs: list[tuple], channels: list[tuple], units: list[tuple], towns: list[tuple]
) -> dict:
    """The sidebar's lists from query rows: (month,), (department, item), (channel,), (unit,), (town,)."""
    by_dept: dict[str, list[str]] = {}
    for dept, item in pairs:
        by_dept.setdefault(dept, []).append(item)
    return {
        "months": [r[0] for r in months],
        "departments": sorted(by_dept),
        "items": sorted({i for items in by_dept.values() for i in items}),
        "items_by_department": {d: sorted(v) for d, v in by_dept.items()},
        "channels": [r[0] for r in channels],
        "all_units": sorted(r[0] for r in units),
        "towns": sorted(r[0] for r in towns),
    }
