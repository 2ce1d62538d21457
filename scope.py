"""The towns the signed-in user may see and change, fixed for one page run or one command.

A user may be limited to some towns (``users.towns``; NULL: the whole county). The app sets the scope
before any page code runs and resets it after (app.py, ``ui.auth.run_scoped``); the command line sets it
for ``--user NAME`` of a town user. Every reader that can leak another town asks :func:`current`:
:func:`metrics.filters.where_clause` ANDs ``town IN scope`` whatever the filters say, the filter options,
the upload history, the audit log and the data-quality checks keep to it, and loads and removals refuse a
town outside it. With no scope set (local mode, a county user, the CLI without a town user, the tests)
nothing changes.

A :class:`contextvars.ContextVar`, so it is per thread (Streamlit runs each session's script in its own
thread) and never leaks into another session; a background thread starts with no scope and computes
county-wide figures, which is what the kept figures are.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_SCOPE: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar("egov_town_scope", default=None)


def normalise(towns: Iterable[str] | None) -> tuple[str, ...] | None:
    """None stays None (the county); anything else becomes a sorted tuple (possibly empty: no town at all)."""
    if towns is None:
        return None
    return tuple(sorted({t for t in towns if t}))


def current() -> tuple[str, ...] | None:
    """The towns of this run, or None for the whole county."""
    return _SCOPE.get()


def set_scope(towns: Iterable[str] | None) -> contextvars.Token:
    """Fix the scope (keep the token for :func:`reset`)."""
    return _SCOPE.set(normalise(towns))


def reset(token: contextvars.Token) -> None:
    _SCOPE.reset(token)


@contextmanager
def scoped(towns: Iterable[str] | None) -> Iterator[tuple[str, ...] | None]:
    """Run a block limited to ``towns`` (None: the county)."""
    token = set_scope(towns)
    try:
        yield current()
    finally:
        reset(token)


def allows(town: str | None) -> bool:
    """Whether this run may see or change ``town`` (always, without a scope)."""
    towns = current()
    return towns is None or (town is not None and town in towns)


def limit(towns: Iterable[str]) -> list[str]:
    """The given towns this run may see, in their order (all of them without a scope)."""
    allowed = current()
    return [t for t in towns if allowed is None or t in allowed]
