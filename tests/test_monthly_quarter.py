"""A whole simulated quarter of the analyst's month, in one test, with the app open throughout.

Each month: the platform export is uploaded and checked on the upload page, the snapshot is published
(by the analyst on the page, or by the 06:00 cron job while the app is open), the files are fetched.
On the way: a correction upload and a re-issue, a cron run that finds the month already published, a
cron run that finds the database busy (recorded, shown on the page) and the next day's run that
makes up for it. At the end: no error on any page, no lost run and exactly one version per click.
"""

from __future__ import annotations

import datetime as dt
import threading

from tests.apptest_support import PASSWORDS, ROLES, button, login, start_app
from tests.cli_support import cron, holding
from tests.conftest import needs_chromium

pytestmark = needs_chromium
HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,承诺时限,办件状态"
ITEMS = [("居民身份证换领", "派出所户籍室"), ("城乡居民医保参保登记", "社保所"), ("个体工商户设立登记", "市场监管所")]


def month_file(year: int, month: int, cases: int, *, start: int = 0, late_days: int = 0) -> bytes:
    """``cases`` cases submitted in the month (ids ``Q<yyyymm><n>`` from ``start``), done 2 days later (or later)."""
    lines = [HEADER]
    for n in range(start, start + cases):
        item, department = ITEMS[n % len(ITEMS)]
        submitted = dt.datetime(year, month, 1 + n % 27, 9, n % 60)
        done = submitted + dt.timedelta(days=2 + late_days, hours=3)
        channel = "网上办理" if n % 2 else "窗口办理"
        lines.append(
            f"Q{year}{month:02d}{n:04d},{item},{department},{channel},{submitted:%Y-%m-%d %H:%M},{done:%Y-%m-%d %H:%M},"
            "5个工作日,已办结"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def versions(at_db) -> list[tuple]:
    with at_db.reading() as cur:
        return [
            tuple(r) for r in cur.execute("SELECT month, version, published_by FROM snapshots ORDER BY 1, 2").fetchall()
        ]


def clean(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def upload(at, name: str, data: bytes) -> str:
    """Drop the file on the upload page, read the check, import; returns the check's words."""
    at.switch_page("views/upload.py").run()
    at.file_uploader(key="upload_files").set_value([(name, data, "text/csv")])
    at.run()
    clean(at)
    check = " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning])
    button(at, "导入").click().run()
    clean(at)
    assert any("已导入为上传" in s.value for s in at.success), [s.value for s in at.success]
    at.file_uploader(key="upload_files").set_value([])
    at.run()
    return check


def kept_figures_done() -> None:
    for thread in threading.enumerate():
        if thread.name == "egov-kept-refresh":
            thread.join(timeout=120)


def publish(at, month: str, note: str) -> str:
    at.switch_page("views/snapshots.py").run()
    clean(at)
    at.selectbox(key="snap_publish_month").set_value(month).run()
    at.text_input(key="snap_note").input(note)
    at.button(key="snap_publish").click().run()
    clean(at)
    return at.success[0].value


def test_a_quarter_of_uploads_publications_downloads_and_cron_runs(tmp_path, monkeypatch):
    from reports import snapshots
    from store import users
    from store.db import Database

    db_path = tmp_path / "egov.duckdb"
    with Database(db_path) as setup:
        for name in ("zhang", "ana", "boss"):
            users.add_user(setup, name, ROLES[name], PASSWORDS[name], by="test")
    monkeypatch.setenv("EGOV_TODAY", "2027-02-01")
    at = login(start_app(db_path, monkeypatch, tmp_path), "ana")
    from ui.state import get_db

    db = get_db()

    # 1 February: January's export, checked and loaded; January published; its files fetched.
    check = upload(at, "2027年1月办件.csv", month_file(2027, 1, 60))
    assert "60" in check
    assert publish(at, "2027-01", "一月月报") == "已发布 2027年1月 第 1 版快照。"
    assert versions(db) == [("2027-01", 1, "ana")]
    with db.reading() as cur:
        [january] = snapshots.list_snapshots(cur, "2027-01")
        files = {f["kind"]: snapshots.file_bytes(cur, january["snapshot_id"], f["file_name"]) for f in january["files"]}
    assert files["pdf"].startswith(b"%PDF") and files["xlsx"][:2] == b"PK" and len(files) >= 5
    job = cron(db_path, "2027-02-01")  # the app is open; the month is already out
    assert job.returncode == 0, job.stderr
    assert "2027-01 已发布第 1 版，跳过" in job.stdout

    # 10 February: late desk cases and corrections for January: a second upload, a re-issue.
    monkeypatch.setenv("EGOV_TODAY", "2027-02-10")
    correction = month_file(2027, 1, 10, late_days=9) + month_file(2027, 1, 5, start=60).split(b"\n", 1)[1]
    upload(at, "2027年1月补录.csv", correction)
    assert publish(at, "2027-01", "补录窗口办件") == "已发布 2027年1月 第 2 版快照。"
    at.button(key="snap_publish").click().run()  # clicked again at once: no third version
    clean(at)
    assert versions(db) == [("2027-01", 1, "ana"), ("2027-01", 2, "ana")]
    with db.reading() as cur:
        assert (
            cur.execute("SELECT count(*) FROM cases WHERE strftime(submitted_at, '%Y-%m') = '2027-01'").fetchone()[0]
            == 65
        )

    # 1 March: February's export loaded in the evening before; the 06:00 job publishes it while the app is open.
    monkeypatch.setenv("EGOV_TODAY", "2027-02-28")
    upload(at, "2027年2月办件.csv", month_file(2027, 2, 50))
    job = cron(db_path, "2027-03-01")
    assert job.returncode == 0, job.stderr
    assert "已发布 2027-02 第 1 版快照" in job.stdout
    monkeypatch.setenv("EGOV_TODAY", "2027-03-01")
    at.switch_page("views/snapshots.py").run()
    clean(at)
    assert any(s.value.startswith("上个月（2027年2月）已发布第 1 版：cron，") for s in at.success)

    # 1 April: March loaded; the job finds the database held by a backup and fails; the page says so.
    monkeypatch.setenv("EGOV_TODAY", "2027-03-31")
    upload(at, "2027年3月办件.csv", month_file(2027, 3, 40))
    kept_figures_done()  # the figures the upload started keeping (a job of seconds) are in before the backup
    with holding(db_path):
        failed = cron(db_path, "2027-04-01", wait="1")
    assert failed.returncode == 1 and "占用" in failed.stderr
    monkeypatch.setenv("EGOV_TODAY", "2027-04-01")
    at.switch_page("views/snapshots.py").run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error][0].endswith("下次运行会自动重试。")
    assert "上个月（2027年3月）尚未发布。可在下方“发布快照”中发布。" in [w.value for w in at.warning]

    # 2 April: the next run makes up for it; the leader finds every month out, once.
    job = cron(db_path, "2027-04-02")
    assert job.returncode == 0, job.stderr
    assert versions(db) == [
        ("2027-01", 1, "ana"),
        ("2027-01", 2, "ana"),
        ("2027-02", 1, "cron"),
        ("2027-03", 1, "cron"),
    ]
    leader = login(start_app(db_path, monkeypatch, tmp_path), "boss")
    leader.switch_page("views/snapshots.py").run()
    clean(leader)
    assert "上个月（2027年3月）已发布第 1 版：cron" in leader.success[0].value
    assert leader.get("download_button"), "the leader gets the downloads"
    from reports import runs

    assert [(r["month"], r["outcome"]) for r in runs.read(db_path)] == [
        ("2027-01", "skipped"), ("2027-02", "published"), ("2027-03", "failed"), ("2027-03", "published"),
    ]  # fmt: skip
