"""Each page's default view makes exactly the calls ``metrics.page_queries.PAGES`` declares for it.

The declaration is what the pages ask for by name (``ui.metrics_cache.PageCalls``), what the kept
figures are computed from after every load (``metrics.precomputed_views``) and what the bench times
(``bench/steps.py``). Here every dashboard page is opened on the demo town as a leader first sees it
(the default month, nothing else chosen), every call it makes through the pages' cache is recorded —
the function and every argument — and compared with the declaration. A call a page makes directly,
outside the declaration (it would be computed live on every first view, and not timed), or a
declared one its default view no longer asks for, fails here; so does a declared call that the kept
figures do not hold.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics import precomputed_views
from metrics.page_queries import PAGES, call_name, default_context
from store.db import Database
from tests.apptest_support import run_as_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_path(small_demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the small demo town (``cli.py demo`` kept its figures), without users: local mode."""
    target = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, target)
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    return target


def declared_calls(path: Path) -> dict[str, set[tuple[str, str]]]:
    """Per page, the declared calls of the default view as (function, arguments); each one checked kept."""
    db = Database(path, read_only=True)
    try:
        cur = db.cursor()
        context = default_context(cur)
        out: dict[str, set[tuple[str, str]]] = {}
        for page, queries in PAGES.items():
            out[page] = set()
            for query in queries.values():
                args = query.args(context)
                out[page].add((query.name, precomputed_views.call_key(args, {})))
                if query.fn in precomputed_views.KEPT_FUNCTIONS:
                    found = precomputed_views.lookup(cur, query.fn, args)
                    assert found is not precomputed_views.MISSING, f"{page}: {query.name} is not kept"
    finally:
        db.close()
    return out


def test_each_page_default_view_makes_exactly_the_declared_calls(demo_path: Path, monkeypatch) -> None:
    from ui import metrics_cache

    expected = declared_calls(demo_path)
    made: list[tuple[str, str]] = []
    through_the_cache = metrics_cache.cached

    def recording(fn, *args, **kwargs):
        made.append((call_name(fn), precomputed_views.call_key(args, kwargs)))
        return through_the_cache(fn, *args, **kwargs)

    monkeypatch.setattr(metrics_cache, "cached", recording)  # the pages import it at every run
    monkeypatch.setenv("EGOV_DB", str(demo_path))
    run_as_server(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()  # the app opens on the overview
    for page in PAGES:
        if page != "overview":
            made.clear()
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        calls = set(made)
        assert calls == expected[page], (
            f"{page}: made but not declared {sorted(calls - expected[page])}; "
            f"declared but not made {sorted(expected[page] - calls)}"
        )
