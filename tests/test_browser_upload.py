"""The upload flow in headless Chromium on the real server: sign in, choose files, check, load, see it.

The server gets a fresh copy of the small demo database in which the users were created with the
CLI before it started. Screenshots of every step land in ``test-artefacts/upload-*.png``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.apptest_support import PASSWORDS, ROLES
from tests.browser_support import idle

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def streamlit_db_path(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database with an admin, an analyst and a viewer, made with the CLI before the server starts."""
    folder = tmp_path_factory.mktemp("browser-upload")
    shutil.copy(small_demo_db, folder / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", folder / "secret.key")
    for name in ("zhang", "ana", "boss"):
        proc = subprocess.run(
            [sys.executable, "cli.py", "users", "add", name, "--role", ROLES[name], "--password-stdin"]
            + ["--db", str(folder / "egov.duckdb")],
            cwd=ROOT,
            input=PASSWORDS[name] + "\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
    return folder / "egov.duckdb"


def sign_in(page, name: str) -> None:
    page.get_by_text("用户名").first.wait_for(timeout=90_000)  # a fresh server's first page may take a while
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORDS[name])
    page.get_by_role("button", name="登录").click()


def shot(page, path: Path, height: int = 1800) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its own container, so grow the window."""
    page.set_viewport_size({"width": 1366, "height": height})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def no_traceback(page) -> None:
    body = page.inner_text("body")
    assert "Traceback" not in body and "StreamlitAPIException" not in body, body[:2000]


def test_viewer_opening_restricted_urls_is_refused(streamlit_server, page, artefacts_dir):
    # A bookmark straight to the upload page as the very first request to the server: with no pages/
    # folder Streamlit runs app.py even then (login first), and after it the page's own check refuses.
    page.goto(f"{streamlit_server}/upload")
    sign_in(page, "boss")
    page.get_by_text("您没有权限使用此页面").first.wait_for()
    assert page.locator('input[type="file"]').count() == 0
    no_traceback(page)
    shot(page, artefacts_dir / "upload-viewer-refused-first-request.png", 900)

    # Once the app has run, every URL goes through app.py: login form, then a refusal, and the
    # viewer's menu has no upload, targets or users entries.
    page.goto(f"{streamlit_server}/")
    sign_in(page, "boss")
    page.get_by_text("当前用户：boss").first.wait_for()
    for path in ("upload", "settings", "users"):
        page.goto(f"{streamlit_server}/{path}")
        sign_in(page, "boss")
        page.get_by_text("您没有权限使用此页面").first.wait_for()
        idle(page)
        assert page.locator('input[type="file"]').count() == 0
        assert page.get_by_role("button", name="保存目标").count() == 0
        assert page.get_by_role("button", name="创建用户").count() == 0
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.get_by_text("上传记录").count() == 1
        for hidden in ("数据上传", "目标设置", "用户与审计"):
            assert nav.get_by_text(hidden).count() == 0, hidden
        no_traceback(page)
    shot(page, artefacts_dir / "upload-viewer-refused.png", 900)


def test_analyst_signs_in_uploads_through_the_file_chooser_and_loads(streamlit_server, page, artefacts_dir):
    page.goto(f"{streamlit_server}/")
    page.get_by_text("一网通办效能监测看板").first.wait_for()
    page.get_by_role("button", name="登录").wait_for()
    shot(page, artefacts_dir / "upload-01-login.png", 900)
    sign_in(page, "ana")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("当前用户：ana").wait_for()
    sidebar.get_by_role("link", name="数据上传").click()
    page.get_by_role("heading", name="数据上传").wait_for()
    page.locator('[data-testid="stFileUploaderDropzone"]').wait_for()
    idle(page)
    shot(page, artefacts_dir / "upload-02-page.png", 1100)

    # The real file chooser, two files at once: the GBK CSV with a title row and the XLSX.
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        [str(DATA / "cases_title_total_gbk.csv"), str(DATA / "cases_merged_title.xlsx")]
    )
    page.get_by_text("编码: GB18030").first.wait_for(timeout=60_000)
    page.get_by_text("工作表: 办件明细").first.wait_for(timeout=60_000)
    page.get_by_text("校验报告").first.wait_for()
    idle(page)
    no_traceback(page)
    shot(page, artefacts_dir / "upload-03-preview.png", 2600)

    page.get_by_text("列映射（").first.click()  # open the first file's mapping form
    page.get_by_role("button", name="应用映射并重新校验").first.wait_for()
    idle(page)
    shot(page, artefacts_dir / "upload-04-mapping.png", 2600)

    page.get_by_role("button", name="导入").first.click()
    page.get_by_text("已导入为上传").first.wait_for(timeout=60_000)
    idle(page)
    no_traceback(page)
    shot(page, artefacts_dir / "upload-05-loaded.png", 2200)

    sidebar.get_by_role("link", name="上传记录").click()
    page.get_by_role("heading", name="上传记录").wait_for()
    page.get_by_text("删除上传").first.wait_for()
    idle(page)
    shot(page, artefacts_dir / "upload-06-history.png", 900)

    # Removal asks first.
    page.get_by_role("button", name="删除此上传…").click()
    page.get_by_text("确定删除上传").first.wait_for()
    idle(page)
    shot(page, artefacts_dir / "upload-07-remove-confirm.png", 900)
    page.get_by_role("button", name="取消").click()
    page.get_by_role("button", name="删除此上传…").wait_for()

    sidebar.get_by_role("link", name="数据质量").click()
    page.get_by_role("heading", name="字段覆盖率").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    idle(page)
    no_traceback(page)
    shot(page, artefacts_dir / "upload-08-quality.png", 2400)

    sidebar.get_by_role("link", name="目标设置").click()
    page.get_by_role("heading", name="指标目标值").wait_for()
    idle(page)
    no_traceback(page)
    shot(page, artefacts_dir / "upload-09-targets.png", 1500)


def test_admin_sees_users_and_the_audit_log(streamlit_server, page, artefacts_dir):
    page.goto(f"{streamlit_server}/")
    sign_in(page, "zhang")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("当前用户：zhang").wait_for()
    idle(page)
    sidebar.get_by_role("link", name="用户与审计").click()
    page.get_by_role("heading", name="审计日志").wait_for(timeout=60_000)
    idle(page)
    page.get_by_role("button", name="创建用户").wait_for()  # the tables are drawn on a canvas: look at the shot
    no_traceback(page)
    shot(page, artefacts_dir / "upload-10-users.png", 1700)
