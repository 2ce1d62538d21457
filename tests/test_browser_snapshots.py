"""The snapshots page and a published HTML report in headless Chromium.

The page lists the published month with a download button per file, and a click downloads exactly
the bytes stored at publication. The report's HTML, opened from disk with every network request
refused, draws all its charts with the embedded plotly.js, and a service named
``<script>alert(1)</script>`` stays text (no dialog ever opens).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
MONTH = "2026-10"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def published_files(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A demo copy with a hostile service name and October published; the stored files saved beside it."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs Debian's chromium")
    import csv

    from ingest.load import ingest_file
    from reports import snapshots
    from store.db import Database

    folder = tmp_path_factory.mktemp("browser-snap")
    shutil.copy(small_demo_db, folder / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", folder / "secret.key")
    hostile = folder / "hostile.csv"
    with open(hostile, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["办件编号", "事项名称", "实施部门", "申请渠道", "申请时间", "办结时间", "承诺时限"])
        for i in range(12):
            writer.writerow([f"X-{i}", HOSTILE, "民政办", "窗口", f"2026-10-{10 + i} 09:00:00", "", "3个工作日"])
    db = Database(folder / "egov.duckdb")
    try:
        ingest_file(db, hostile, loaded_by="test")
        result = snapshots.publish(db, MONTH, by="ana")
        cur = db.cursor()
        files = {}
        out = folder / "files"
        out.mkdir()
        for kind, name in result.files.items():
            data = snapshots.file_bytes(cur, result.snapshot_id, name)
            (out / name).write_bytes(data)
            files[kind] = out / name
    finally:
        db.close()
    return {"db": folder / "egov.duckdb", "files": files}


@pytest.fixture(scope="module")
def streamlit_db_path(published_files: dict) -> Path:
    return published_files["db"]


def test_snapshots_page_offers_every_file_for_download(
    streamlit_server, published_files, page, artefacts_dir, tmp_path
):
    page.goto(f"{streamlit_server}/")  # the entry script first, as a user arrives
    page.get_by_text("一网通办效能监测看板").first.wait_for()
    page.goto(f"{streamlit_server}/snapshots")
    page.get_by_text("月度快照").first.wait_for()
    buttons = page.locator('[data-testid="stDownloadButton"]')
    buttons.first.wait_for()
    labels = [buttons.nth(i).inner_text() for i in range(buttons.count())]
    assert len(labels) == 7, labels
    for wanted in (
        "PDF 报告",
        "网页版（HTML）",
        "Excel 工作簿",
        "办件数据（Parquet）",
        "办件数据（CSV）",
        "全部文件（zip）",
    ):
        assert any(wanted in label for label in labels), (wanted, labels)
    body = page.inner_text("body")
    assert "2026年10月 · 第 1 版" in body and "Traceback" not in body
    page.set_viewport_size({"width": 1366, "height": 2200})  # Streamlit scrolls inside the page: show it all
    page.get_by_text("月度对比").first.wait_for()
    page.screenshot(path=str(artefacts_dir / "snapshots-page.png"))

    for kind, label in (("pdf", "PDF 报告"), ("xlsx", "Excel 工作簿")):
        with page.expect_download() as info:
            page.get_by_role("button", name=label).first.click()
        download = info.value
        target = tmp_path / download.suggested_filename
        download.save_as(str(target))
        assert download.suggested_filename == published_files["files"][kind].name
        assert target.read_bytes() == published_files["files"][kind].read_bytes()


def test_report_html_works_offline_and_keeps_scripts_inert(browser, published_files, artefacts_dir):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    requests: list[str] = []

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    context.route("http*://**/*", refuse)  # no network at all
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(published_files["files"]["html"].as_uri())
        page.wait_for_function("document.body.getAttribute('data-charts') === 'ready'", timeout=30_000)
        assert page.locator(".js-plotly-plot").count() == 5
        assert page.locator(".js-plotly-plot .main-svg").count() >= 5  # drawn, not just placeholders
        assert HOSTILE in page.inner_text("#item-table")  # shown as text
        assert not dialogs and not requests
        page.screenshot(path=str(artefacts_dir / "snapshot-report-html.png"), full_page=False)
    finally:
        context.close()
