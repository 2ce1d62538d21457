"""The pages' cache of metrics calls: every call is keyed by the database file and its data version.

Every committed write bumps the data version, so a new upload shows on the next page run without a
restart, while repeated views of the same filters cost nothing. The day is part of the key too: the
running month counts as of today, so a server left running overnight does not show yesterday's
open-overdue and at-risk figures. A call the database keeps figures
for (``metrics.precomputed_views``: recent months' default views) is read from there instead of computed.

A page asks for the calls ``metrics.page_queries.PAGES`` declares for it by name
(``calls = PageCalls("overview", filters)``, then ``calls("tiles")``), so what it draws and what is
kept and benched are one declaration; a call outside its default view passes the metrics function
itself (``cached(bottlenecks.bottleneck_table, filters, "department")``). Either way the cache keys
the function by its qualified name (``metrics.page_queries.call_name``), as the kept figures do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st

import scope
from metrics import precomputed_views
from metrics.filters import Filters
from metrics.page_queries import FILTER_OPTIONS, PAGES, Context, Query, call_name
from ui.state import get_db


def _key() -> tuple[str, int]:
    db = get_db()
    return str(db.path), db.data_version()


@st.cache_data(show_spinner=False, max_entries=16)
def _fingerprint(db_path: str, version: int) -> str:
    """What the data is, for the kept figures: read once per data version."""
    with get_db().reading() as cur:
        return precomputed_views.fingerprint(cur)


@st.cache_data(show_spinner=False, max_entries=512)
def _call(
    db_path: str,
    version: int,
    today: str,
    towns: tuple[str, ...] | None,
    name: str,
    args: tuple,
    kwargs: tuple,
    _fn: Callable,
) -> object:
    """``_fn`` (not hashed: a leading underscore) is the function ``name`` names; ``towns`` is the run's scope.

    The scope is part of the key (a county user's figures are never served to a town user, nor the other
    way), and it is set again around the call, so the cached function computes within it whichever thread
    runs it.
    """
    seen = _fingerprint(db_path, version)
    with scope.scoped(towns), get_db().reading() as cur:
        return precomputed_views.call(cur, _fn, args, dict(kwargs), seen=seen)


def cached(fn: Callable, *args: object, **kwargs: object):
    """``fn(cursor, *args, **kwargs)`` on a fresh cursor, cached on (database, data version, day, town scope, fn,
    args)."""
    path, version = _key()
    today = Filters().as_of().isoformat()  # today in the town's time zone
    return _call(path, version, today, scope.current(), call_name(fn), args, tuple(sorted(kwargs.items())), _fn=fn)


def ask(query: Query, context: Context) -> Any:
    """One declared call for a view, through the cache."""
    return cached(query.fn, *query.args(context))


class PageCalls:
    """A page's declared calls (``PAGES[page]``) for the view its filters and widgets chose, by name."""

    def __init__(self, page: str, filters: Filters) -> None:
        self.queries = PAGES[page]
        self.context = Context(filters)

    def __call__(self, name: str, **chosen: Any) -> Any:
        """The call ``name``; ``chosen`` are the page's own widgets' choices (``drill_department=…``)."""
        return ask(self.queries[name], replace(self.context, **chosen) if chosen else self.context)


def filter_options() -> dict:
    return ask(FILTER_OPTIONS, Context(Filters()))
