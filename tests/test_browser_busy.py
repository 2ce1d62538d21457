"""Another program holds the database file (a long command-line job): the page says so and retries by itself.

The app waits only 2 s for the file here (EGOV_APP_DB_LOCK_TIMEOUT), the holder keeps it 15 s, and the
very first request of the server needs it: the notice shows, then the page asked for draws once the
file is free, without the reader doing anything.
"""

from __future__ import annotations

import shutil

import pytest

from tests.browser_support import idle
from tests.cli_support import hold
from tests.conftest import StreamlitServer

pytestmark = pytest.mark.browser


def test_a_busy_database_is_announced_then_the_page_draws_by_itself(small_demo_db, tmp_path, browser, artefacts_dir):
    db = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, db)
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    server = StreamlitServer(db, tmp_path / "logs", env={"EGOV_APP_DB_LOCK_TIMEOUT": "2"})
    holder = None
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    try:
        server.wait_healthy()
        holder = hold(db, 15)
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{server.url}/adoption")
        notice = page.get_by_text("数据库正被另一个程序占用").first
        notice.wait_for()
        assert "页面将自动重试" in notice.inner_text()
        page.screenshot(path=str(artefacts_dir / "busy-notice.png"))
        # The holder lets go; the same page (not the default one) draws without a click.
        page.get_by_role("heading", name="网办分析").first.wait_for()
        page.locator(".js-plotly-plot .main-svg").first.wait_for()
        idle(page)
        body = page.inner_text("body")
        assert "Traceback" not in body and "意外错误" not in body and "占用" not in body
        page.screenshot(path=str(artefacts_dir / "busy-recovered.png"))
        assert holder.wait(timeout=60) == 0
    finally:
        context.close()
        if holder is not None and holder.poll() is None:
            holder.kill()
        server.stop()
