"""The app shell through AppTest: navigation, language switch, first overview on demo and empty data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.cli_support import cli_kpis

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo_copy(small_demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the small demo database (the live test server may hold the original)."""
    target = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, target)
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    return target


def run_app(db_path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("EGOV_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_the_latest_month_from_the_database(demo_copy, monkeypatch):
    # The CLI reads its own copy: the app process holds the database file open.
    cli_copy = demo_copy.parent / "cli" / "egov.duckdb"
    cli_copy.parent.mkdir()
    shutil.copy(demo_copy, cli_copy)
    at = run_app(demo_copy, monkeypatch)
    assert at.title[0].value == "一网通办效能监测看板"
    month = at.sidebar.selectbox(key="f_month").value
    metrics = {m.label.split("] ", 1)[-1]: m.value for m in at.metric}
    assert {"办件量", "网办率", "办理时长中位数"} <= set(metrics)
    # The figures come from the database: the same as the CLI's for that month, formatted.
    expected = cli_kpis(cli_copy, "--month", month)
    assert metrics["办件量"] == f"{expected['cases']['value']:,}"
    assert metrics["网办率"] == f"{expected['online_rate']['value'] * 100:.1f}%"
    assert metrics["办理时长中位数"] == f"{expected['median_processing_days']['value']:.1f} 工作日"


def test_language_switch_to_english(demo_copy, monkeypatch):
    at = run_app(demo_copy, monkeypatch)
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "E-Gov Service Monitor"
    labels = {m.label.split("] ", 1)[-1] for m in at.metric}
    assert {"Cases", "Online rate", "Median processing time"} <= labels


def test_uploads_page_lists_the_history(demo_copy, monkeypatch):
    at = run_app(demo_copy, monkeypatch)
    at.switch_page("views/uploads.py").run()
    assert not at.exception
    frame = at.dataframe[0].value
    # Newest first: the demo loads the catalogue, then the cases, then the events.
    assert list(frame["文件"]) == ["events_export.csv", "cases_export.csv", "service_catalog.xlsx"]


def test_empty_database_explains_itself(tmp_path, monkeypatch):
    at = run_app(tmp_path / "empty.duckdb", monkeypatch)
    assert "cli.py ingest" in at.info[0].value
    assert not at.metric


def _busy_sidebar(monkeypatch, times: int) -> list[int]:
    """The sidebar finds the database held by another program ``times`` times, then free."""
    import settings
    from store.db import DatabaseBusy
    from ui import filters

    calls = []
    original = filters.sidebar

    def sidebar() -> None:
        calls.append(1)
        if len(calls) <= times:
            raise DatabaseBusy(Path("egov.duckdb"), 30)
        original()

    monkeypatch.setattr(filters, "sidebar", sidebar)
    monkeypatch.setattr(settings, "BUSY_RETRY_SECONDS", 0.0)
    monkeypatch.setattr(settings, "BUSY_RETRIES", 3)
    return calls


def test_a_busy_database_is_retried_by_the_page_itself(demo_copy, monkeypatch):
    calls = _busy_sidebar(monkeypatch, times=2)
    at = run_app(demo_copy, monkeypatch)
    assert len(calls) == 3  # two busy runs, each followed by a rerun of its own, then the page
    assert at.title[0].value == "一网通办效能监测看板"
    assert not [w.value for w in at.warning if "占用" in w.value]
    assert at.session_state["_busy_tries"] == 0


def test_a_database_busy_for_long_says_so_after_the_retries(demo_copy, monkeypatch):
    calls = _busy_sidebar(monkeypatch, times=100)
    at = run_app(demo_copy, monkeypatch)
    assert len(calls) == 4  # the first try and three retries
    shown = [w.value for w in at.warning if "占用" in w.value]
    assert len(shown) == 1 and "已多次重试，请稍后刷新页面" in shown[0], shown
    assert not at.error
