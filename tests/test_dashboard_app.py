"""The dashboard pages through AppTest: demo data, an empty database, and every filter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.cli_support import cli_kpis

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["views/overview.py", "views/adoption.py", "views/timeliness.py", "views/bottlenecks.py", "views/journeys.py"]
MONTH = "2026-10"


@pytest.fixture(scope="module")
def demo_dir(small_demo_db: Path, tmp_path_factory) -> Path:
    """A private copy of the small demo database (the live test server may hold the original)."""
    target = tmp_path_factory.mktemp("dash")
    shutil.copy(small_demo_db, target / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", target / "secret.key")
    cli_dir = target / "cli"
    cli_dir.mkdir()
    shutil.copy(small_demo_db, cli_dir / "egov.duckdb")
    return target


def app(db_path: Path, monkeypatch, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("EGOV_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def on_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def metric_values(at: AppTest) -> dict[str, str]:
    """Tile label (without the traffic-light markup) -> shown value."""
    return {m.label.split("] ", 1)[-1]: m.value for m in at.metric}


@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_demo_data(demo_dir, monkeypatch, page):
    at = on_page(app(demo_dir / "egov.duckdb", monkeypatch, {"month": MONTH}), page)
    assert at.title
    assert not at.error
    text = " ".join(str(getattr(e, "value", "")) for e in at.main)
    assert "Traceback" not in text


@pytest.mark.parametrize("page", PAGES)
def test_every_page_on_an_empty_database(tmp_path, monkeypatch, page):
    at = on_page(app(tmp_path / "empty.duckdb", monkeypatch), page)
    assert any("cli.py ingest" in i.value for i in at.info)
    assert not at.metric


def test_overview_tiles_equal_the_cli(demo_dir, monkeypatch):
    at = app(demo_dir / "egov.duckdb", monkeypatch, {"month": MONTH})
    shown = metric_values(at)
    expected = cli_kpis(demo_dir / "cli" / "egov.duckdb", "--month", MONTH)
    assert shown["办件量"] == f"{expected['cases']['value']:,}"
    assert shown["网办率"] == f"{expected['online_rate']['value'] * 100:.1f}%"
    assert shown["全程网办率"] == f"{expected['fully_online_rate']['value'] * 100:.1f}%"
    assert shown["按时办结率"] == f"{expected['on_time_rate']['value'] * 100:.1f}%"
    assert shown["在办超期件"] == f"{expected['open_overdue_cases']['value']:,}"
    assert shown["差评数"] == f"{expected['bad_ratings']['value']:,}"


def test_each_filter_narrows_the_figures(demo_dir, monkeypatch):
    at = app(demo_dir / "egov.duckdb", monkeypatch, {"month": MONTH})
    total = int(metric_values(at)["办件量"].replace(",", ""))
    cli_db = demo_dir / "cli" / "egov.duckdb"
    for widget_key, value, cli_args in [
        ("f_dept", ["民政办"], ["--department", "民政办"]),
        ("f_channel", ["window"], ["--channel", "window"]),
        ("f_item", ["居民身份证申领"], ["--item", "居民身份证申领"]),
    ]:
        at = app(demo_dir / "egov.duckdb", monkeypatch, {"month": MONTH})
        at.sidebar.multiselect(key=widget_key).set_value(value).run()
        assert not at.exception
        shown = int(metric_values(at)["办件量"].replace(",", ""))
        expected = cli_kpis(cli_db, "--month", MONTH, *cli_args)["cases"]["value"]
        assert shown == expected < total, widget_key
        for page in PAGES[1:]:
            on_page(at, page)
    at = app(demo_dir / "egov.duckdb", monkeypatch, {"month": MONTH})
    at.sidebar.selectbox(key="f_month").set_value("2026-09").run()
    assert int(metric_values(at)["办件量"].replace(",", "")) == cli_kpis(cli_db, "--month", "2026-09")["cases"]["value"]


def test_filters_come_from_the_url(demo_dir, monkeypatch):
    """A link restores the filters (that changes go back into the URL is shown in the browser test)."""
    at = app(demo_dir / "egov.duckdb", monkeypatch, {"month": "2026-09", "dept": "社保所", "channel": "mobile"})
    assert at.sidebar.selectbox(key="f_month").value == "2026-09"
    assert at.sidebar.multiselect(key="f_dept").value == ["社保所"]
    assert at.sidebar.multiselect(key="f_channel").value == ["mobile"]
    # Unknown values in a link are ignored, not an error.
    at = app(demo_dir / "egov.duckdb", monkeypatch, {"month": "1999-01", "dept": "不存在的部门"})
    assert at.sidebar.multiselect(key="f_dept").value == []


def test_the_default_month_moves_on_a_chosen_one_stays(demo_dir, monkeypatch):
    """A leader left on the default (last month) sees the new month when it completes; one who chose a month keeps
    it; both in the same session, without signing in again."""
    monkeypatch.setenv("EGOV_TODAY", "2026-11-15")
    at = app(demo_dir / "egov.duckdb", monkeypatch)
    assert at.sidebar.selectbox(key="f_month").value == "2026-10"
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01")  # November is over: it is the month to read now
    at.run()
    assert at.sidebar.selectbox(key="f_month").value == "2026-11"
    monkeypatch.setenv("EGOV_TODAY", "2026-11-15")
    chosen = app(demo_dir / "egov.duckdb", monkeypatch)
    chosen.sidebar.selectbox(key="f_month").set_value("2026-09").run()
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01")
    chosen.run()
    assert chosen.sidebar.selectbox(key="f_month").value == "2026-09"


def test_bottleneck_statistic_switch(demo_dir, monkeypatch):
    """Median / p90 / mean redraw the process map; the department ranking keeps the findings' one measure."""
    monkeypatch.setenv("EGOV_DB", str(demo_dir / "egov.duckdb"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state["f_month"] = MONTH
    at.run()
    drawn, rankings = {}, set()
    for stat in ("median", "p90", "mean"):
        at.session_state["bottleneck_stat"] = stat
        on_page(at, "views/bottlenecks.py")
        charts = at.get("plotly_chart")
        ranking = json.loads(charts[1].proto.spec)
        assert ranking["layout"]["title"]["text"].startswith("各部门占全部办理时间的比例")
        rankings.add(json.dumps(ranking["data"][0]["x"]))
        drawn[stat] = charts[0].proto.spec  # the process map
    assert len(set(drawn.values())) == 3
    assert len(rankings) == 1


def test_case_level_data_only(tmp_path, monkeypatch):
    """Without events the bottleneck page explains itself and still ranks departments from cases."""
    from ingest.load import ingest_file
    from store.db import Database

    db_path = tmp_path / "cases_only.duckdb"
    with Database(db_path) as db:
        ingest_file(db, ROOT / "data" / "sample" / "cases_export.csv")
    at = on_page(app(db_path, monkeypatch, {"month": MONTH}), "views/bottlenecks.py")
    assert any("只导入了办件表" in i.value for i in at.info)
    assert at.dataframe
