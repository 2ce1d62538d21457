"""The dashboard in headless Chromium against the real server: pages draw, tiles equal the CLI, links keep filters."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser_support import tiles
from tests.cli_support import cli_kpis

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"
PAGES = {"": "一网通办效能监测看板", "adoption": "网办分析", "timeliness": "办理时效", "bottlenecks": "部门瓶颈"}


@pytest.fixture(scope="module")
def cli_db(small_demo_db: Path, tmp_path_factory) -> Path:
    """A copy for the CLI, taken before the app server holds the original open."""
    target = tmp_path_factory.mktemp("cli") / "egov.duckdb"
    shutil.copy(small_demo_db, target)
    return target


def wait_drawn(page, charts: int) -> None:
    page.locator(".js-plotly-plot .main-svg").nth(charts - 1).wait_for()
    page.wait_for_timeout(500)


@pytest.mark.parametrize(("path", "title"), list(PAGES.items()))
def test_each_page_draws(cli_db, streamlit_server, page, artefacts_dir, path, title):
    page.goto(f"{streamlit_server}/{path}?month={MONTH}")
    page.get_by_role("heading", name=title).first.wait_for()
    expected_charts = {"": 1, "adoption": 2, "timeliness": 2, "bottlenecks": 5}[path]
    wait_drawn(page, expected_charts)
    body = page.inner_text("body")
    assert "Traceback" not in body and "Error" not in body
    # Chinese axis and legend text is drawn as SVG text in the charts.
    svg_text = page.locator(".js-plotly-plot").first.inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in svg_text)
    page.screenshot(path=str(artefacts_dir / f"dashboard-{path or 'overview'}.png"), full_page=True)


def test_overview_tiles_equal_cli_with_filters(cli_db, streamlit_server, page):
    for query, args in [
        (f"month={MONTH}", ["--month", MONTH]),
        (f"month={MONTH}&dept=民政办", ["--month", MONTH, "--department", "民政办"]),
        ("month=2026-09&channel=window", ["--month", "2026-09", "--channel", "window"]),
    ]:
        page.goto(f"{streamlit_server}/?{query}")
        shown = tiles(page)
        expected = cli_kpis(cli_db, *args)
        assert shown["办件量"] == f"{expected['cases']['value']:,}", query
        assert shown["网办率"] == f"{expected['online_rate']['value'] * 100:.1f}%", query
        assert shown["按时办结率"] == f"{expected['on_time_rate']['value'] * 100:.1f}%", query
        assert shown["在办超期件"] == f"{expected['open_overdue_cases']['value']:,}", query


def test_url_restores_filters_and_follows_changes(cli_db, streamlit_server, page):
    page.goto(f"{streamlit_server}/timeliness?month=2026-09&dept=社保所")
    page.get_by_role("heading", name="办理时效").first.wait_for()
    sidebar = page.locator('[data-testid="stSidebar"]')
    scope = page.locator(".st-key-scope_line")
    scope.get_by_text("截至 2026-09-30").first.wait_for()
    scope.get_by_text("社保所").first.wait_for()  # the scope line names the chosen department
    assert "2026-09" in scope.inner_text()
    sidebar.get_by_text("社保所").first.wait_for()  # the department chip, restored from the link
    # Choose another month: the address follows, so the view can be bookmarked or sent.
    sidebar.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="2026-08").click()
    page.wait_for_function("() => window.location.search.includes('2026-08')")
    query = parse_qs(urlparse(page.url).query)
    assert query["month"] == ["2026-08"] and query["dept"] == ["社保所"]
    page.goto(page.url)
    page.locator(".st-key-scope_line").get_by_text("截至 2026-08-31").first.wait_for()
