"""Helpers for AppTest tests that sign in: users in a private database copy, login, overview figures.

Why the navigation shim: with a ``pages/`` folder beside the entry script, Streamlit 1.67 starts in its old
multipage mode (``PagesManager.uses_pages_directory``), in which a deep link runs ``pages/NAME.py`` *without*
``app.py`` (no login, no filters) until ``st.navigation`` has run once in the process. The pages therefore
live in ``views/``, and that mode never starts (tests/test_roles.py fails should the folder appear); AppTest
still resets ``PagesManager.uses_pages_directory`` before every run, and :func:`run_as_server` keeps
it off as the running server does (a no-op safeguard should a ``pages/`` folder ever come back).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

PASSWORDS = {"zhang": "admin-pass-1", "ana": "analyst-pass-1", "boss": "viewer-pass-1"}
ROLES = {"zhang": "admin", "ana": "analyst", "boss": "viewer"}


def run_as_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep Streamlit's old pages-folder mode off, as ``st.navigation`` does on the real server."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def demo_copy_with_users(
    small_demo_db: Path, target_dir: Path, names: tuple[str, ...] = ("zhang", "ana", "boss")
) -> Path:
    """A private copy of the small demo database with the named test users (admin first)."""
    from store import users
    from store.db import Database

    target = target_dir / "egov.duckdb"
    shutil.copy(small_demo_db, target)
    shutil.copy(small_demo_db.parent / "secret.key", target_dir / "secret.key")
    db = Database(target)
    try:
        for name in names:
            users.add_user(db, name, ROLES[name], PASSWORDS[name], by="test")
    finally:
        db.close()
    return target


def start_app(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path | None = None, lang: str | None = None
) -> AppTest:
    """The app on ``db_path`` (saved mappings under ``tmp_path``), as the server runs it; first run done."""
    import settings

    monkeypatch.setenv("EGOV_DB", str(db_path))
    if tmp_path is not None:
        monkeypatch.setattr(settings, "MAPPINGS_DIR", tmp_path / "mappings")
    run_as_server(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    """The (form submit) button with this label; fails with the labels present."""
    for b in at.button:
        if b.label == label:
            return b
    raise AssertionError(f"no button {label!r}; buttons: {[b.label for b in at.button]}")


def selectbox(at: AppTest, label: str):
    for s in at.selectbox:
        if s.label == label:
            return s
    raise AssertionError(f"no selectbox {label!r}; selectboxes: {[s.label for s in at.selectbox]}")


def login(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(PASSWORDS[name] if password is None else password)
    button(at, "登录").click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def overview_figures(at: AppTest, month: str) -> dict[str, str]:
    """The overview's tiles for ``month`` (YYYY-MM): label (without colour marks) -> shown value."""
    at.switch_page("views/overview.py").run()
    assert not at.exception, at.exception
    chooser = None
    for key in ("f_month", "overview_month"):
        try:
            chooser = at.selectbox(key=key)
            break
        except KeyError:
            continue
    assert chooser is not None, "the overview has no month chooser"
    assert any(str(o).startswith(month) for o in chooser.options), chooser.options
    chooser.set_value(month).run()
    assert not at.exception, at.exception
    figures = {}
    for metric in at.metric:
        label = metric.label.split("]", 1)[-1].strip() if metric.label.startswith(":") else metric.label
        figures[label] = metric.value
    return figures
