"""The scheduled snapshot job: every run recorded with its outcome, a failed run retried by the next, and the
snapshots page saying what the last run did and whether last month is out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.apptest_support import demo_copy_with_users, login, start_app
from tests.cli_support import cron, holding
from tests.conftest import needs_chromium


def run_log(db: Path) -> list[dict]:
    path = db.with_name(db.name + ".runs.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def versions(db: Path) -> list[tuple[str, int, str]]:
    from store.db import Database

    with Database(db, read_only=True) as opened:
        rows = opened.cursor().execute("SELECT month, version, published_by FROM snapshots ORDER BY 1, 2").fetchall()
    return [tuple(r) for r in rows]


@pytest.fixture
def db(small_demo_db: Path, tmp_path: Path) -> Path:
    return demo_copy_with_users(small_demo_db, tmp_path)


@needs_chromium
def test_a_run_that_finds_the_database_busy_is_recorded_and_the_next_run_publishes_it(db, monkeypatch, tmp_path):
    with holding(db):
        busy = cron(db, "2026-11-01", wait="1")
    assert busy.returncode == 1
    lines = busy.stderr.strip().splitlines()
    assert len(lines) == 1 and "占用" in lines[0] and "Traceback" not in busy.stderr
    [failed] = run_log(db)
    assert (failed["month"], failed["outcome"], failed["by"], failed["retry"]) == ("2026-10", "failed", "cron", True)
    assert "占用" in failed["reason_zh"] and "held by another program" in failed["reason_en"]
    assert versions(db) == []

    # The page says so, to the analyst and to the leader.
    monkeypatch.setenv("EGOV_TODAY", "2026-11-01")
    at = login(start_app(db, monkeypatch, tmp_path), "boss")
    at.switch_page("views/snapshots.py").run()
    assert not at.exception, at.exception
    assert "上个月（2026年10月）尚未发布。请联系分析员发布。" in [w.value for w in at.warning]
    [error] = [e.value for e in at.error]
    assert error.startswith("定时发布上次运行：2026-11-01 ") and "（北京时间）· 2026年10月 发布失败：" in error
    assert error.endswith("下次运行会自动重试。")

    # The next day's run publishes the month the failed run missed.
    again = cron(db, "2026-11-02")
    assert again.returncode == 0, again.stderr
    assert "已发布 2026-10 第 1 版快照" in again.stdout
    assert versions(db) == [("2026-10", 1, "cron")]
    assert [(r["month"], r["outcome"]) for r in run_log(db)] == [("2026-10", "failed"), ("2026-10", "published")]

    # On the 1st of the next month: November is published, October (no longer failed) is left alone.
    third = cron(db, "2026-12-01")
    assert third.returncode == 0, third.stderr
    assert versions(db) == [("2026-10", 1, "cron"), ("2026-11", 1, "cron")]
    at.switch_page("views/snapshots.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01")
    at.switch_page("views/snapshots.py").run()
    [published] = [s.value for s in at.success]
    assert published.startswith("上个月（2026年11月）已发布第 1 版：cron，2026-12-")
    assert published.endswith("（北京时间）。")
    assert [c.value for c in at.caption if c.value.startswith("定时发布上次运行")][0].endswith(
        "· 已发布 2026年11月 第 1 版"
    )


@needs_chromium
def test_a_month_without_data_is_not_retried_for_ever(db):
    first = cron(db, "2026-11-03", "--month", "2031-01")  # an explicit month: never part of the retries
    assert first.returncode == 1 and "没有" in first.stderr
    log_path = db.with_name(db.name + ".runs.jsonl")
    entry = {"at": "2026-11-03T06:00:00", "month": "2019-01", "outcome": "failed", "retry": False, "job": "snapshot"}
    with log_path.open("a", encoding="utf-8") as fh:  # a failure the job itself marked as not worth retrying
        fh.write(json.dumps(entry) + "\n")
    second = cron(db, "2026-11-04")
    assert second.returncode == 0, second.stderr
    assert versions(db) == [("2026-10", 1, "cron")]  # neither 2031-01 nor 2019-01 was tried again
    assert [r["month"] for r in run_log(db)] == ["2031-01", "2019-01", "2026-10"]


def test_the_run_log_skips_lines_that_are_not_runs_and_keeps_the_last_ones(tmp_path, monkeypatch):
    from reports import runs

    monkeypatch.setattr(runs, "_MAX_BYTES", 4096)  # trims after 2 KB: a few lines
    db = tmp_path / "egov.duckdb"
    log_path = runs.log_path(db)
    log_path.write_text('not json\n{"outcome": "hacked"}\n[1, 2]\n', encoding="utf-8")
    for n in range(40):
        runs.record(db, f"2026-{n % 12 + 1:02d}", "published", version=n, by="cron")
    kept = runs.read(db)
    assert [r["version"] for r in kept][-3:] == [37, 38, 39]
    assert log_path.stat().st_size <= 4096
    assert all(r["outcome"] == "published" for r in kept)
    assert runs.months_to_retry(db) == []
    runs.record(db, "2026-05", "failed", reason_zh="磁盘已满", reason_en="the disk is full")
    assert runs.months_to_retry(db) == ["2026-05"]
    runs.record(db, "2026-05", "skipped", version=3)
    assert runs.months_to_retry(db) == []


def test_a_towns_page_shows_its_own_last_run(tmp_path):
    from reports import runs

    db = tmp_path / "egov.duckdb"
    runs.record(db, "2026-10", "failed", reason_zh="数据库正被占用", reason_en="busy")  # before any town was known
    runs.record(db, "2026-10", "published", version=1, town="甲镇")
    runs.record(db, "2026-10", "published", version=4, town="乙镇")
    runs.record(db, "2026-10", "skipped", version=2, town="/county")
    assert runs.last_run(db)["town"] == "/county"  # the latest of all
    assert (runs.last_run(db, "甲镇")["version"], runs.last_run(db, "乙镇")["version"]) == (1, 4)
    assert runs.last_run(db, "/county")["outcome"] == "skipped"
    assert runs.last_run(db, "丙镇")["outcome"] == "failed"  # the failure that was every town's


def test_a_run_log_planted_as_a_link_is_not_written_through(tmp_path):
    from reports import runs

    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me", encoding="utf-8")
    db = tmp_path / "egov.duckdb"
    runs.log_path(db).symlink_to(target)
    runs.record(db, "2026-10", "published", version=1)  # refused quietly (logged), never followed
    assert target.read_text(encoding="utf-8") == "keep me"
    assert runs.read(db) == []


def test_copying_a_database_does_not_carry_another_databases_runs(db, tmp_path):
    other = tmp_path / "copy" / "egov.duckdb"
    other.parent.mkdir()
    shutil.copy(db, other)
    from reports import runs

    runs.record(db, "2026-10", "failed", reason_zh="x", reason_en="x")
    assert runs.read(other) == [] and runs.months_to_retry(other) == []
