"""What the filters offer, kept small: months, departments, items and channels of the current cases.

The sidebar needs the distinct months, department/item pairs and channels (by volume) on every page;
reading them from ten million events and a million and a half cases took 0.2 s per page. They are
rewritten in the same transaction as every load and removal (a scan that costs a fraction of the
load), so a page reads a few hundred rows instead.
"""

from __future__ import annotations

import duckdb

import scope

#: What each kept table holds, as a SELECT over the cases and events (a lake's reader makes them views).
DERIVED = {
    "case_facets": """SELECT strftime(submitted_at, '%Y-%m') AS month, department, service_item, channel, town,
                             count(*) AS cases
                      FROM cases GROUP BY ALL""",
    "event_units": "SELECT DISTINCT department FROM events WHERE department IS NOT NULL",
}
#: Schema migration 4 -> 5 creates these and 8 -> 9 adds the town (store/schema.py); refresh() keeps them equal to the views.
REFRESH_SQL = f"""
    DELETE FROM case_facets;
    INSERT INTO case_facets (month, department, service_item, channel, town, cases) {DERIVED["case_facets"]};
    DELETE FROM event_units;
    INSERT INTO event_units {DERIVED["event_units"]};
"""


def refresh(cur: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the facets from the current cases and events (inside the writer's transaction)."""
    cur.execute(REFRESH_SQL)


def filter_options(cur: duckdb.DuckDBPyConnection) -> dict:
    """Months (newest first), departments, items (also by department), channels (by volume), all units.

    Within the run's town scope (:mod:`scope`), when there is one: a town user is offered only what their
    towns hold (the units of the events are then those of their towns' current events).
    """
    allowed = scope.current()
    where, params = ("true", []) if allowed is None else ("list_contains(?::VARCHAR[], town)", [list(allowed)])
    months = cur.execute(
        f"SELECT DISTINCT month FROM case_facets WHERE month IS NOT NULL AND {where} ORDER BY month DESC", params
    ).fetchall()
    pairs = cur.execute(
        "SELECT DISTINCT department, service_item FROM case_facets "
        f"WHERE department IS NOT NULL AND service_item IS NOT NULL AND {where}",
        params,
    ).fetchall()
    channels = cur.execute(
        f"SELECT channel FROM case_facets WHERE channel IS NOT NULL AND {where} "
        "GROUP BY channel ORDER BY sum(cases) DESC, channel",
        params,
    ).fetchall()
    units_sql = (
        "SELECT department FROM event_units"
        if allowed is None
        else "SELECT DISTINCT department FROM events WHERE department IS NOT NULL AND list_contains(?::VARCHAR[], town)"
    )
    units = cur.execute(
        f"SELECT department FROM case_facets WHERE department IS NOT NULL AND {where} UNION {units_sql}",
        params * 2,
    ).fetchall()
    towns = cur.execute(f"SELECT DISTINCT town FROM case_facets WHERE town IS NOT NULL AND {where}", params).fetchall()
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
