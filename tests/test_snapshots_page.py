"""The 月度快照 page through AppTest: status by month, publishing (analysts and admins only), downloads for
every role, and the month-over-month comparison read from the frozen figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.apptest_support import demo_copy_with_users, login, start_app
from tests.conftest import needs_chromium

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def two_months(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy with users, and September and October 2026 published by the analyst."""
    from reports import snapshots
    from store.db import Database

    folder = tmp_path_factory.mktemp("snap-page")
    path = demo_copy_with_users(small_demo_db, folder)
    db = Database(path)
    try:
        snapshots.publish(db, "2026-09", by="ana")
        snapshots.publish(db, "2026-10", by="ana")
    finally:
        db.close()
    return path


@pytest.fixture
def db_copy(two_months: Path, tmp_path: Path) -> Path:
    shutil.copy(two_months, tmp_path / "egov.duckdb")
    shutil.copy(two_months.parent / "secret.key", tmp_path / "secret.key")
    return tmp_path / "egov.duckdb"


@pytest.fixture(autouse=True)
def no_lockouts():
    from ui.auth import _failures

    _failures.clear()
    yield
    _failures.clear()


def open_page(at):
    at.switch_page("views/snapshots.py").run()
    assert not at.exception, at.exception
    return at


def status(at) -> dict[str, str]:
    frame = at.dataframe[0].value  # the status table comes first
    return dict(zip(frame["月份"], frame["状态"], strict=True))


def test_local_admin_publishes_a_month_and_gets_every_file(small_demo_db, tmp_path, monkeypatch):
    shutil.copy(small_demo_db, tmp_path / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    at = open_page(start_app(tmp_path / "egov.duckdb", monkeypatch))  # no users: local mode, everyone is admin
    assert at.title[0].value == "月度快照"
    assert status(at)["2026年10月"] == "未发布"
    assert "还没有发布任何快照" in at.info[-1].value
    at.selectbox(key="snap_publish_month").set_value("2026-10").run()
    assert at.button(key="snap_publish").label == "发布 2026年10月 快照"
    at.text_input(key="snap_note").input("十月月报")
    at.button(key="snap_publish").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value == "已发布 2026年10月 第 1 版快照。"
    assert status(at)["2026年10月"] == "已发布（第 1 版）"
    downloads = at.get("download_button")
    assert len(downloads) == 7
    # the button now offers a re-issue as version 2
    at.selectbox(key="snap_publish_month").set_value("2026-10").run()
    assert at.button(key="snap_publish").label == "重新发布为第 2 版"
    assert any("原版本不变" in i.value for i in at.info)


def test_a_viewer_downloads_but_cannot_publish(db_copy, monkeypatch):
    at = open_page(login(start_app(db_copy, monkeypatch), "boss"))
    assert not at.error
    with pytest.raises(KeyError):
        at.button(key="snap_publish")
    assert any("发布快照需要" in c.value for c in at.caption)
    assert status(at)["2026年10月"] == "已发布（第 1 版）" and status(at)["2026年9月"] == "已发布（第 1 版）"
    assert status(at)["2026年8月"] == "未发布"
    assert len(at.get("download_button")) == 7  # the newest month's version 1


def test_analyst_sees_the_publish_form(db_copy, monkeypatch):
    at = open_page(login(start_app(db_copy, monkeypatch), "ana"))
    assert at.button(key="snap_publish")
    assert not at.error


def test_on_the_first_a_month_without_data_asks_for_its_upload_not_its_publication(db_copy, monkeypatch):
    monkeypatch.setenv("EGOV_TODAY", "2027-01-01")  # December 2026 is over, and nothing of it is uploaded
    at = open_page(login(start_app(db_copy, monkeypatch), "boss"))
    assert "上个月（2026年12月）还没有办件数据，上传该月的导出文件后才能发布。请联系分析员上传。" in [
        i.value for i in at.info
    ]
    assert not [w.value for w in at.warning if "尚未发布" in w.value]


def test_month_over_month_comparison_reads_the_frozen_figures(db_copy, monkeypatch, tmp_path):
    from ingest.load import ingest_file
    from reports import snapshots
    from store.db import Database

    db = Database(db_copy)
    try:
        frozen = {s["month"]: snapshots.get_snapshot(db.cursor(), s["snapshot_id"])["content"]["kpis"]
                  for s in snapshots.list_snapshots(db.cursor())}  # fmt: skip
        # a later upload changes October's live figures, but not the comparison
        ingest_file(db, Path(__file__).parent / "data" / "cases_title_total_gbk.csv", loaded_by="test")
    finally:
        db.close()
    at = open_page(login(start_app(db_copy, monkeypatch), "boss"))
    frame = at.dataframe[-1].value  # the comparison comes last
    row = frame[frame["指标"] == "办件量"].iloc[0]
    assert row["2026年10月 · v1"] == f"{frozen['2026-10']['cases']['value']:,}"
    assert row["2026年9月 · v1"] == f"{frozen['2026-09']['cases']['value']:,}"
    online = frame[frame["指标"] == "网办率"].iloc[0]
    assert online["2026年10月 · v1"] == f"{frozen['2026-10']['online_rate']['value'] * 100:.1f}%"
    assert online["目标"] == "≥60%"


def test_english_through_the_url(small_demo_db, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.apptest_support import ROOT, run_as_server

    shutil.copy(small_demo_db, tmp_path / "egov.duckdb")
    monkeypatch.setenv("EGOV_DB", str(tmp_path / "egov.duckdb"))
    run_as_server(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lang"] = "en"
    at.switch_page("views/snapshots.py").run()  # straight to the page, as a link would
    assert not at.exception, at.exception
    assert at.title[0].value == "Monthly snapshots"
    assert not at.error
    frame = at.dataframe[0].value
    assert list(frame.columns)[:3] == ["Month", "Cases now", "Status"]
    assert set(frame["Status"]) == {"not published"}
    assert at.button(key="snap_publish").label.startswith("Publish the ")


def test_publishing_again_and_again_works_and_a_double_click_makes_one_version(small_demo_db, tmp_path, monkeypatch):
    """From the second publication on, 发布 ended in an error (the month picker's state was set after the picker
    existed) although the snapshot was stored, so the analyst clicked again and the county got a spurious version."""
    shutil.copy(small_demo_db, tmp_path / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    at = open_page(start_app(tmp_path / "egov.duckdb", monkeypatch))

    def publish(month: str, note: str) -> None:
        at.selectbox(key="snap_publish_month").set_value(month).run()
        at.text_input(key="snap_note").input(note)
        at.button(key="snap_publish").click().run()
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]

    publish("2026-10", "十月月报")
    assert at.success[0].value == "已发布 2026年10月 第 1 版快照。"
    at.button(key="snap_publish").click().run()  # the same click again, at once: no second version
    assert not at.exception and at.success[0].value == "已发布 2026年10月 第 1 版快照。"
    assert status(at)["2026年10月"] == "已发布（第 1 版）"

    publish("2026-10", "十月月报（更正）")  # a re-issue: the second publication
    assert at.success[0].value == "已发布 2026年10月 第 2 版快照。"
    assert at.selectbox(key="snap_month").value == "2026-10"
    publish("2026-09", "九月月报")  # another month: the third
    assert at.success[0].value == "已发布 2026年9月 第 1 版快照。"
    assert at.selectbox(key="snap_month").value == "2026-09"
    assert status(at)["2026年10月"] == "已发布（第 2 版）" and status(at)["2026年9月"] == "已发布（第 1 版）"
