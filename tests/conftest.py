"""Shared fixtures: a temporary database, the real app on a free port, and headless Chromium.

Browser tests (``@pytest.mark.browser``) drive Debian's Chromium (/usr/bin/chromium) through the
``playwright`` package; Playwright never downloads a browser of its own. Without that Chromium the
browser tests are skipped on a developer machine, and fail under CI (``CI=true``), where a missing
browser means the set-up is broken.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reports.pdf import CHROMIUM_HEADLESS_ARGS  # noqa: E402  (the repository is on sys.path from here)

# Logs of the programs under test go to a folder of the test run, not to the repository's data/logs.
os.environ.setdefault("EGOV_LOG_DIR", tempfile.mkdtemp(prefix="egov-test-logs-"))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = list(CHROMIUM_HEADLESS_ARGS)
SERVER_START_TIMEOUT = 60.0


def running_under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


#: For tests that publish a snapshot (its PDF is printed by Chromium): skipped without Chromium on a developer
#: machine, run (and so failed) under CI, like the browser tests. ``from tests.conftest import needs_chromium``.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and not running_under_ci(),
    reason="publishing prints the PDF with Debian's chromium (bash scripts/setup.sh)",
)


LOAD_REPORT = ROOT / "test-artefacts" / "load-test.json"
_STARTED = time.time()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The load test's page times, in the run's own output (its workers' prints are not shown)."""
    if not LOAD_REPORT.exists() or LOAD_REPORT.stat().st_mtime < _STARTED:
        return
    import json

    from bench.load import report

    terminalreporter.section("load test (tests/test_load.py): page times, not limited")
    terminalreporter.write_line(report(json.loads(LOAD_REPORT.read_text(encoding="utf-8"))))


#: The longest test files, longest first (from ``pytest --durations`` in CI, 2026-12-01: the journey file about
#: 250 s, the load test 180 s, the roles walk 135 s, …). The suite is spread over two workers file by file, in
#: collection order: a long file collected last keeps one worker busy while the other has nothing left to do.
LONGEST_FIRST = (
    "test_browser_journey.py", "test_load.py", "test_bench.py", "test_spark.py", "test_browser_roles_lock.py",
    "test_browser_publish.py", "test_browser_hostile_upload.py", "test_browser_upload.py", "test_properties.py",
    "test_monthly_quarter.py", "test_filter_property.py", "test_hostile_files.py", "test_snapshots_towns.py",
    "test_browser_dashboard.py", "test_spark_connect.py",
)  # fmt: skip


def pytest_collection_modifyitems(session, config, items) -> None:
    """Start the longest files first (see LONGEST_FIRST); the rest keep their order."""
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# --- paths and databases ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def artefacts_dir() -> Path:
    """``test-artefacts/`` at the repo root (git-ignored): screenshots and files worth a look."""
    path = ROOT / "test-artefacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def tmp_db(tmp_path: Path) -> Iterator:
    """A migrated :class:`store.db.Database` on a file of its own, closed afterwards."""
    from store.db import Database

    db = Database(tmp_path / "test.duckdb")
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def cur(db) -> Iterator:
    """A cursor of its own on the test module's ``db`` (a :class:`store.db.Database`), closed after the test.

    The metrics tests fill one database per module (:func:`conftest_metrics.database_fixture`) and read it here.
    """
    cursor = db.cursor()
    yield cursor
    cursor.close()


def database_at_version(path: Path, version: int):
    """A DuckDB connection on a new file migrated only to schema ``version``, as an older release left it: a test
    adds rows the old way, closes it, and opens the file with :class:`store.db.Database` to upgrade it."""
    import duckdb

    from store import schema

    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for step in range(1, version + 1):
        con.execute(schema.MIGRATIONS[step - 1])
        con.execute("INSERT INTO schema_version VALUES (?, current_localtimestamp())", [step])
    return con


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file filled once per session by ``python cli.py demo --db PATH --small``."""
    path = tmp_path_factory.mktemp("demo") / "egov.duckdb"
    proc = subprocess.run(
        [sys.executable, "cli.py", "demo", "--db", str(path), "--small"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"`cli.py demo --small` failed with exit code {proc.returncode}:\n{proc.stdout}\n{proc.stderr}",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def streamlit_db_path(small_demo_db: Path) -> Path:
    """The database the app under test reads (EGOV_DB). Override in a test module to serve another:

    .. code-block:: python

        @pytest.fixture(scope="module")
        def streamlit_db_path(tmp_path_factory):
            return tmp_path_factory.mktemp("empty") / "egov.duckdb"
    """
    return small_demo_db


# --- the app on a real server --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _streamlit_command() -> list[str]:
    """The venv's ``streamlit`` (``.venv/bin/streamlit`` under scripts/test.sh), else ``python -m``."""
    exe = Path(sys.executable).parent / "streamlit"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]


class StreamlitServer:
    """``streamlit run app.py`` in its own process group, logging to files (a full pipe would block it)."""

    def __init__(self, db_path: Path, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.db_path = Path(db_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = log_dir / f"streamlit-{self.port}.out"
        self.stderr_path = log_dir / f"streamlit-{self.port}.err"
        env = dict(os.environ, EGOV_DB=str(self.db_path), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **(env or {}))
        command = _streamlit_command() + [
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
        ]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True
            )

    def logs(self) -> str:
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"--- {path.name} ---\n{text[-6000:]}")
        return "\n".join(parts)

    def wait_healthy(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        """Return once ``/_stcore/health`` answers ``ok``; fail with the server's output otherwise."""
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"streamlit exited with code {self.process.returncode} before it was healthy\n{self.logs()}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    body = response.read().decode(errors="replace").strip()
                if body == "ok":
                    return
                last_error = f"health answered {body!r}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = str(exc)
            time.sleep(0.25)
        self.stop()
        pytest.fail(
            f"streamlit not healthy on {self.url} after {timeout:.0f} s ({last_error})\n{self.logs()}", pytrace=False
        )

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


class StreamlitServers:
    """One server per database file for the whole session, all stopped when the session ends."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._servers: dict[Path, StreamlitServer] = {}

    def url_for(self, db_path: Path) -> str:
        key = Path(db_path).resolve()
        server = self._servers.get(key)
        if server is None or server.process.poll() is not None:
            server = StreamlitServer(key, self.log_dir)
            self._servers[key] = server
            server.wait_healthy()
        return server.url

    def stop_all(self) -> None:
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


@pytest.fixture(scope="session")
def streamlit_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServers]:
    servers = StreamlitServers(tmp_path_factory.mktemp("streamlit-logs"))
    try:
        yield servers
    finally:
        servers.stop_all()


@pytest.fixture(scope="module")
def streamlit_server(streamlit_servers: StreamlitServers, streamlit_db_path: Path) -> str:
    """Base URL (``http://127.0.0.1:PORT``) of the real app serving ``streamlit_db_path``.

    The server is started once per database for the whole session (so modules that keep the
    default database share one), and stopped, with its process group, when the session ends.
    The server holds the DuckDB file open for writing, so a test must not open it itself meanwhile.
    """
    return streamlit_servers.url_for(streamlit_db_path)


# --- headless Chromium ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium, headless, driven by Playwright (one browser for the session)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: run `bash scripts/setup.sh dev` (installs Debian's chromium)"
        if running_under_ci():
            pytest.fail(f"{message}; under CI the browser tests must run", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A fresh browser context and page (Chinese locale, Shanghai time, a desktop-sized window)."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(90_000)  # generous: CI machines are shared and slow at times
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
