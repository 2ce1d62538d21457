"""Towns: every case, event and upload belongs to one (a county database holds many).

A town is named by its own words (沙堰镇, 柳林街道); a case is (town, case id), because each town's
platform numbers its cases itself. An installation with one town never shows the word: the town
appears in filters, tables and file names only once a second town holds data.
"""

from __future__ import annotations

import duckdb

import scope
import settings

#: What a county-wide record (the county's own snapshot) names as its town: never a town's name (no slash).
COUNTY = "/county"

#: Longest town name accepted (the longest 乡镇/街道 names are about a dozen characters).
MAX_TOWN_CHARS = 40


def clean_town(name: str | None) -> str | None:
    """A town name as typed (a form, ``--town``): trimmed, or None when it is blank or not a name.

    Not a name: longer than :data:`MAX_TOWN_CHARS`, or holding a control character or a path separator.
    """
    text = (name or "").strip()
    if not text or len(text) > MAX_TOWN_CHARS:
        return None
    if any(ord(ch) < 32 or ch in "/\\\x7f" for ch in text):
        return None
    return text


def towns(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The towns that hold current cases, by name; the default town when there are none yet.

    Within a town scope (:mod:`scope`) only the scope's towns: a town user never learns another's name here.
    """
    found = [
        r[0] for r in cur.execute("SELECT DISTINCT town FROM case_facets WHERE town IS NOT NULL ORDER BY 1").fetchall()
    ]
    allowed = scope.current()
    if allowed is not None:
        return scope.limit(found) or list(allowed)
    return found or [settings.DEFAULT_TOWN]


def area_kind(cur: duckdb.DuckDBPyConnection, chosen: tuple[str, ...]) -> str:
    """What "the whole" of a view is: ``town`` (one town chosen, or the only town), ``county`` (every town of
    several), ``towns`` (some of them) — so that a figure says 全镇, 全县 or 所选乡镇 truthfully."""
    if len(chosen) == 1:
        return "town"
    if chosen:
        return "towns"
    return "county" if len(towns(cur)) > 1 else "town"


def holds_several(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds more than one town's cases, whoever asks (the shape of the data, no name):
    what makes it a county's, for file names and the choices a page offers."""
    row = cur.execute("SELECT count(DISTINCT town) > 1 FROM case_facets").fetchone()
    return bool(row and row[0])


def towns_without_cases(cur: duckdb.DuckDBPyConnection, month: str) -> list[str]:
    """The towns (this run may see) that hold cases but none submitted in ``month`` (YYYY-MM): most likely their
    export is not uploaded yet, so a county figure of that month leaves them out and must say so."""
    rows = cur.execute(
        "SELECT town FROM case_facets WHERE town IS NOT NULL GROUP BY town "
        "HAVING count(*) FILTER (WHERE month = ?) = 0 ORDER BY town",
        [month],
    ).fetchall()
    return scope.limit(r[0] for r in rows)
