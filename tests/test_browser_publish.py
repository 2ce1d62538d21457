"""Publishing in Chromium as the analyst does it, on the 1st of the month: three publications in a row (a new
month by double click, a re-issue, another month), each confirmed with its downloads, one version per click.

Screenshots: ``test-artefacts/publish-*.png``; the PDF fetched by the download button is checked too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.apptest_support import PASSWORDS, demo_copy_with_users
from tests.browser_support import idle
from tests.conftest import StreamlitServer

pytestmark = pytest.mark.browser
#: What the page says once a publication is done (before its rerun, no such line is on the page).
_DONE = re.compile(r"^已发布 \d{4}年\d{1,2}月 第 \d+ 版快照。$")


def _publish(page, out: Path, step: str, *, month_label: str | None = None, note: str = "", double: bool = False):
    if month_label:
        chooser = page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]')
        chooser.filter(has=page.get_by_text("月份", exact=True)).first.locator("input").click()
        page.keyboard.type(month_label)
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        idle(page)
    if note:
        field = page.get_by_role("textbox", name="说明（可选；重新发布时请写明更正原因）")
        field.fill(note)
        field.press("Enter")
        idle(page)
    button = page.locator('[data-testid="stBaseButton-primary"]').filter(has_text="发布")
    if double:
        button.dblclick()
    else:
        button.click()
    # the confirmation itself, not the spinner's going: under load the spinner may not be drawn yet when asked
    page.get_by_text(_DONE).first.wait_for(timeout=180_000)
    idle(page)
    body = page.inner_text("body")
    assert "意外错误" not in body and "Traceback" not in body, body[:1500]
    page.set_viewport_size({"width": 1366, "height": 2400})
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / f"publish-{step}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})
    return page.locator('[data-testid="stAlertContentSuccess"]').first.inner_text().strip().splitlines()[-1]


def test_three_publications_in_a_row_each_once(small_demo_db, tmp_path, browser, artefacts_dir):
    db = demo_copy_with_users(small_demo_db, tmp_path)
    server = StreamlitServer(db, tmp_path / "logs", env={"EGOV_TODAY": "2026-11-01"})
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 768}, accept_downloads=True
    )
    context.set_default_timeout(120_000)
    try:
        server.wait_healthy()
        page = context.new_page()
        page.goto(f"{server.url}/snapshots")
        page.get_by_label("用户名").fill("ana")
        page.get_by_label("密码", exact=True).fill(PASSWORDS["ana"])
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="发布快照").wait_for()
        idle(page)
        assert "上个月（2026年10月）尚未发布。" in page.inner_text("body")

        first = _publish(page, artefacts_dir, "1-new", note="十月月报", double=True)
        assert first == "已发布 2026年10月 第 1 版快照。"
        second = _publish(page, artefacts_dir, "2-reissue", note="补录窗口办件")
        assert second == "已发布 2026年10月 第 2 版快照。"
        third = _publish(page, artefacts_dir, "3-september", month_label="2026年9月", note="九月月报")
        assert third == "已发布 2026年9月 第 1 版快照。"

        body = page.inner_text("body")
        assert "2026年9月 第 1 版" in body
        with page.expect_download() as download:
            page.get_by_role("button", name="PDF 报告").first.click()
        pdf = Path(download.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        assert "上个月（2026年10月）已发布第 2 版：ana，2026-11-01" in page.inner_text("body")
    finally:
        context.close()
        server.stop()

    from store.db import Database

    with Database(db, read_only=True) as done:
        rows = (
            done.cursor().execute("SELECT month, version, published_by, note FROM snapshots ORDER BY 1, 2").fetchall()
        )
    assert [tuple(r) for r in rows] == [
        ("2026-09", 1, "ana", "九月月报"), ("2026-10", 1, "ana", "十月月报"), ("2026-10", 2, "ana", "补录窗口办件"),
    ]  # fmt: skip
