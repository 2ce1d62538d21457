"""The real app in headless Chromium: the overview draws with Chinese text and its chart."""

from __future__ import annotations

import pytest

from tests.browser_support import tiles

pytestmark = pytest.mark.browser


def test_overview_in_chromium(streamlit_server, page, artefacts_dir):
    page.goto(f"{streamlit_server}/")
    page.get_by_text("一网通办效能监测看板").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    shown = tiles(page)  # every tile drawn (the findings' text can arrive first)
    assert "网办率" in shown and "办理时长中位数" in shown, shown
    body = page.inner_text("body")
    assert "Traceback" not in body
    page.screenshot(path=str(artefacts_dir / "shell-overview.png"), full_page=True)
    # English through the URL
    page.goto(f"{streamlit_server}/?lang=en")
    page.get_by_text("E-Gov Service Monitor").first.wait_for()
    page.screenshot(path=str(artefacts_dir / "shell-overview-en.png"), full_page=True)
