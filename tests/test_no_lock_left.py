"""No connection outlives a page run: after any page visit by any role the database file is free.

The app shares the file with the command-line jobs (ingest, backup, the 06:00 snapshot), which wait
``EGOV_DB_LOCK_TIMEOUT`` for it. One cursor kept past a run (at a page's top level, in a closure of
a download button) kept the file locked for minutes after a single visit to 月度快照. Two checks:

* by the code: nothing in ``views/``, ``ui/`` or ``app.py`` takes a connection except through
  ``Database.reading()`` (closed at the block's end) — the page-run scope of ``Database.hold()``
  closes anything else, but a deferred callback runs outside it;
* by use: every page, as every role, then another process opens the file at once.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apptest_support import PASSWORDS, demo_copy_with_users, login, start_app

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(p.name for p in (ROOT / "views").glob("*.py"))
OPEN_AT_ONCE = (
    "import duckdb, sys\n"
    "try:\n    duckdb.connect(sys.argv[1]).close()\nexcept duckdb.IOException as exc:\n"
    "    print(exc); sys.exit(3)\n"
)


def _ui_sources() -> list[Path]:
    return [ROOT / "app.py", *sorted((ROOT / "views").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


def test_views_and_ui_take_connections_only_in_blocks_that_close_them():
    found = []
    for path in _ui_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr == "cursor" or (node.func.attr == "connect" and _is_duckdb(node.func.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()")
    assert found == [], "use `with db.reading() as cur:` instead:\n" + "\n".join(found)


def _is_duckdb(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "duckdb"


def test_the_page_run_closes_the_cursors_a_page_left_open(tmp_path):
    """The mechanism itself: a cursor kept in a variable past the run is closed when the run's hold ends."""
    from store.db import Database

    db = Database(tmp_path / "egov.duckdb", shared=True, lock_timeout=1)
    kept = []
    with db.hold():
        kept.append(db.cursor())  # never closed by its taker
        kept[0].execute("SELECT 1").fetchall()
    assert _free(tmp_path / "egov.duckdb") == ""
    with pytest.raises(Exception, match="(?i)closed"):
        kept[0].execute("SELECT 1")
    leaked = db.cursor()  # outside a run: the taker's to close, which is why views use reading()
    assert _free(tmp_path / "egov.duckdb") != ""
    leaked.close()
    assert _free(tmp_path / "egov.duckdb") == ""


def _free(path: Path) -> str:
    """'' when another process can open the file read-write at once, else DuckDB's refusal."""
    proc = subprocess.run([sys.executable, "-c", OPEN_AT_ONCE, str(path)], capture_output=True, text=True, timeout=60)
    return "" if proc.returncode == 0 else (proc.stdout + proc.stderr).strip() or f"exit {proc.returncode}"


@pytest.fixture(scope="module")
def with_users(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_copy_with_users(small_demo_db, tmp_path_factory.mktemp("no-lock"))


@pytest.mark.parametrize("name", sorted(PASSWORDS))
def test_after_every_page_as_every_role_the_file_is_free(with_users, tmp_path, monkeypatch, name):
    shutil.copy(with_users, tmp_path / "egov.duckdb")
    shutil.copy(with_users.parent / "secret.key", tmp_path / "secret.key")
    db = tmp_path / "egov.duckdb"
    at = login(start_app(db, monkeypatch, tmp_path), name)
    held = {}
    for page in PAGES:
        at.switch_page(f"views/{page}").run()
        assert not at.exception, (page, at.exception)
        refusal = _free(db)
        if refusal:
            held[page] = refusal
    assert held == {}, f"{name}: the file stayed locked after these pages: {held}"


def test_the_kept_figures_refresh_gives_way_to_a_waiting_job(small_demo_db, tmp_path):
    """After an upload the app keeps the pages' figures in the background, reading for seconds: a command-line
    job that waits for the file (its marker beside it) gets it at the next query, not at the end."""
    from metrics import precomputed_views
    from store.db import Database

    shutil.copy(small_demo_db, tmp_path / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    db = Database(tmp_path / "egov.duckdb", shared=True, lock_timeout=5)
    db._announce_waiting()  # what a waiting job writes: this live process's id and start time
    try:
        assert db.job_waiting()
        done = precomputed_views.refresh(db)
        assert done["gave_way"] and done["kept"] == 0
        assert _free(tmp_path / "egov.duckdb") == ""
    finally:
        db._waiting_marker.unlink()
    assert not db.job_waiting()
    done = precomputed_views.refresh(db)
    assert not done.get("gave_way") and done["kept"] > 0
