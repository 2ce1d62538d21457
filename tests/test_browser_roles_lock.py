"""Every page as every role in Chromium, then the browser closed: a command-line job finds the file free.

The README's cron jobs (the 06:00 snapshot, backups, ingests) wait ``EGOV_DB_LOCK_TIMEOUT`` for the
database file. After one visit to 月度快照 the server once kept a write lock for minutes, so the
job failed on the first day someone looked. Here each role walks its whole menu (the leader in
Chinese at 1366×768, the analyst in English at 1920×1080, the admin in Chinese), the browser
closes, and within a second another process opens the file and `cli.py snapshot` runs with a 5 s
wait, while the server is still up. Screenshots: ``test-artefacts/roles-*.png``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.apptest_support import PASSWORDS, demo_copy_with_users
from tests.browser_support import idle
from tests.cli_support import cron
from tests.conftest import StreamlitServer

pytestmark = pytest.mark.browser
WALKS = [  # who, language, window
    ("boss", "zh", (1366, 768)),
    ("ana", "en", (1920, 1080)),
    ("zhang", "zh", (1366, 768)),
]
SIGN_IN = {"zh": ("用户名", "密码", "登录"), "en": ("User name", "Password", "Sign in")}
OPEN_AT_ONCE = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


def _walk(browser, server: StreamlitServer, name: str, language: str, size: tuple[int, int], out: Path) -> list[str]:
    """Sign in, then every page of the role's menu in turn; returns the pages' titles."""
    context = browser.new_context(
        locale="zh-CN" if language == "zh" else "en-US", timezone_id="Asia/Shanghai",
        viewport={"width": size[0], "height": size[1]},
    )  # fmt: skip
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/?lang={language}")
        user_label, password_label, button = SIGN_IN[language]
        page.get_by_label(user_label).fill(name)
        page.get_by_label(password_label, exact=True).fill(PASSWORDS[name])
        page.get_by_role("button", name=button).click()
        nav = page.locator('[data-testid="stSidebarNav"] a')
        nav.first.wait_for()
        idle(page)
        titles = []
        for i in range(nav.count()):
            link = nav.nth(i)
            label = link.inner_text().strip()
            link.click()
            idle(page)
            page.locator("h1").first.wait_for()
            body = page.inner_text("body")
            assert "Traceback" not in body and "意外错误" not in body and "unexpected error" not in body, (name, label)
            titles.append(page.locator("h1").first.inner_text().strip())
            page.screenshot(path=str(out / f"roles-{name}-{language}-{i:02d}.png"))
        return titles
    finally:
        context.close()


def test_every_role_walks_every_page_then_a_cli_job_gets_the_file(small_demo_db, tmp_path, browser, artefacts_dir):
    db = demo_copy_with_users(small_demo_db, tmp_path)
    server = StreamlitServer(db, tmp_path / "logs", env={"EGOV_TODAY": "2026-11-16"})
    try:
        server.wait_healthy()
        seen = {name: _walk(browser, server, name, language, size, artefacts_dir) for name, language, size in WALKS}
        assert len(seen["boss"]) == 8 and len(seen["zhang"]) == 11, seen  # the viewer's menu, the admin's whole one
        assert "Monthly snapshots" in seen["ana"] and "月度快照" in seen["boss"]
        time.sleep(1.0)  # the browser is closed: within a second the file is free
        opened = subprocess.run([sys.executable, "-c", OPEN_AT_ONCE, str(db)], capture_output=True, text=True)
        assert opened.returncode == 0, opened.stderr
        job = cron(db, "2026-11-16")  # waits 5 s for the file (EGOV_DB_LOCK_TIMEOUT)
        assert job.returncode == 0, job.stdout + job.stderr
        assert "已发布 2026-10 第 1 版快照" in job.stdout
        assert server.process.poll() is None  # the app served on
    finally:
        server.stop()
