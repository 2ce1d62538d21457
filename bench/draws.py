"""The drawn views the bench times besides the default one: a fixed, seeded set of filters a leader might choose.

Each is drawn from the database itself (the k-th busiest department, item, channel or town of the default
month, k drawn with a fixed seed among the busiest few; a month counted back from the default one), so the
same database always gives the same views, and a database made by the same generator at another size
(the growth run) gives the same values. A view is kept as plain JSON (:func:`spec`), so the step that
timed the big database can hand its views to the one timing the small one.

A view is computed as its page computes it: through ``precomputed_views.call``, which serves kept figures
only for a default view (the latest months, nothing else chosen); every view here is another, so it is
computed live. Its :class:`~metrics.page_queries.Context` has the drill-down on the view's busiest
department, as the adoption page's selectbox opens on it.
"""

from __future__ import annotations

import random

from metrics.filters import Filters, where_clause
from metrics.page_queries import Context

#: The draws are the same for a given database (and for databases of one generator).
SEED = 20261202
#: k is drawn among the this many busiest values.
BUSIEST = 5
#: The month of the "older month" view: this many months before the default one (past the kept months).
OLDER = 6
_DIMENSIONS = ("departments", "items", "channels", "towns")


def _ranked(cur, column: str, month: str) -> list[str]:
    """The values of ``column`` in ``month``, busiest first (the facets kept at load time)."""
    rows = cur.execute(
        f"SELECT {column} FROM case_facets WHERE month = ? AND {column} IS NOT NULL "
        f"GROUP BY {column} ORDER BY sum(cases) DESC, {column}",
        [month],
    ).fetchall()
    return [r[0] for r in rows]


def drawn_views(cur, default_month: str, seed: int = SEED) -> list[dict]:
    """The views (name, month, and each dimension's chosen values) drawn for a database whose default is this month.

    A view whose values the database lacks (one town only, too few months) is left out.
    """
    rng = random.Random(seed)
    months = [r[0] for r in cur.execute(
        "SELECT DISTINCT month FROM case_facets WHERE month IS NOT NULL AND month < ? ORDER BY month DESC",
        [default_month],
    ).fetchall()]  # fmt: skip

    def pick(values: list[str], n: int = 1) -> list[str] | None:
        top = values[: max(BUSIEST, n)]
        return rng.sample(top, n) if len(top) >= n else None

    ranked = {
        "departments": _ranked(cur, "department", default_month),
        "items": _ranked(cur, "service_item", default_month),
        "channels": _ranked(cur, "channel", default_month),
        "towns": _ranked(cur, "town", default_month),
    }
    two_back = months[1] if len(months) > 1 else None
    older = months[min(OLDER, len(months)) - 1] if months else None
    # Every pick is made, in this order, whether or not its view can be formed: one view's absence (a
    # database of one town) does not move the others' draws.
    department, item, channel, town = (pick(ranked[k]) for k in ("departments", "items", "channels", "towns"))
    pair = {"departments": pick(ranked["departments"]), "channels": pick(ranked["channels"])}
    towns = pick(ranked["towns"], 2)
    older_item = pick(_ranked(cur, "service_item", two_back)) if two_back else None
    wanted = [
        ("a department", default_month, {"departments": department}),
        ("a service item", default_month, {"items": item}),
        ("a channel", default_month, {"channels": channel}),
        ("a town", default_month, {"towns": town if len(ranked["towns"]) > 1 else None}),
        (f"the month {OLDER} back", older, {}),
        ("a department and a channel", default_month, pair),
        ("two towns", default_month, {"towns": towns}),
        ("two months back, an item", two_back, {"items": older_item}),
    ]
    views = []
    for name, month, chosen in wanted:
        if month is None or any(v is None for v in chosen.values()):
            continue
        views.append({"name": name, "month": month, **{k: list(chosen.get(k) or ()) for k in _DIMENSIONS}})
    return views


def context(cur, view: dict) -> Context:
    """The page context of a drawn view: its filters, and the drill-down on its busiest department."""
    filters = Filters.month_as_seen(view["month"], **{k: view.get(k) or () for k in _DIMENSIONS})
    where, params = where_clause(filters, alias="c")
    top = cur.execute(
        f"SELECT c.department FROM cases c WHERE {where} AND c.department IS NOT NULL "
        "GROUP BY c.department ORDER BY count(*) DESC, c.department LIMIT 1",
        params,
    ).fetchone()
    return Context(filters, drill_department=top[0] if top else None)


def label(view: dict) -> str:
    """``a department: 民政办 (2026-09)``; ``the month 6 back (2026-03)``."""
    values = [v for k in _DIMENSIONS for v in view.get(k) or ()]
    return f"{view['name']}: {', '.join(values)} ({view['month']})" if values else f"{view['name']} ({view['month']})"
