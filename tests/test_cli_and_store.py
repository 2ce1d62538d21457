"""The command line, the schema and its migrations, and the working-day calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from store import schema
from store.calendar import coverage, load_schedule
from store.db import Database
from tests.cli_support import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def test_ingest_prints_counts_and_refuses_with_one_line(tmp_path):
    db = str(tmp_path / "c.duckdb")
    ok = cli("ingest", str(DATA / "cases_title_total_gbk.csv"), "--db", db, "--user", "王会计")
    assert ok.returncode == 0, ok.stderr
    assert "导入 5 行" in ok.stdout and "跳过 1 行" in ok.stdout
    again = cli("ingest", str(DATA / "cases_title_total_gbk.csv"), "--db", db)
    assert again.returncode == 0 and "已跳过" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    refused = cli("ingest", str(bad), "--db", db)
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0  # one line
    assert "缺少必需的列" in refused.stderr and "Traceback" not in refused.stderr
    missing = cli("ingest", str(tmp_path / "nope.csv"), "--db", db)
    assert missing.returncode == 1 and "文件不存在" in missing.stderr


def test_ingest_with_kind_and_saved_mapping(tmp_path):
    db = str(tmp_path / "c.duckdb")
    mapping = tmp_path / "platform.toml"
    mapping.write_text('kind = "cases"\n[columns]\ncase_id = "编号"\nsubmitted_at = "提交日期"\n', encoding="utf-8")
    src = tmp_path / "odd.csv"
    src.write_text("编号,提交日期\nQ1,2026-10-12 09:00\nQ2,2026-10-13 09:00\n", encoding="utf-8")
    without = cli("ingest", str(src), "--db", db)
    assert without.returncode == 1
    with_mapping = cli("ingest", str(src), "--db", db, "--mapping", str(mapping))
    assert with_mapping.returncode == 0 and "导入 2 行" in with_mapping.stdout
    catalog_as_cases = cli("ingest", str(DATA / "cases_legacy.xls"), "--db", db, "--kind", "catalog")
    assert catalog_as_cases.returncode == 0  # a catalogue of the item names in the file
    assert "[catalog]" in catalog_as_cases.stdout


def test_uploads_list_and_remove(tmp_path):
    db = str(tmp_path / "c.duckdb")
    cli("ingest", str(DATA / "events.xes"), "--db", db)
    listing = cli("uploads", "--db", db)
    assert "#1" in listing.stdout and "events.xes" in listing.stdout
    removed = cli("uploads", "remove", "1", "--db", db)
    assert removed.returncode == 0 and "环节 8" in removed.stdout
    assert "已删除" in cli("uploads", "--db", db).stdout
    assert cli("uploads", "remove", "99", "--db", db).returncode == 1


def test_database_from_environment(tmp_path):
    db = tmp_path / "env.duckdb"
    result = cli("ingest", str(DATA / "events.jsonl"), env={"EGOV_DB": str(db)})
    assert result.returncode == 0 and db.exists()


def test_only_the_command_line_imports_its_tools():
    """clitools sits on top with cli.py: of store/, metrics/, reports/ and lake/ only the ``cli_commands`` modules use it."""
    import ast

    importers = set()
    for path in ROOT.glob("**/*.py"):
        if {".venv", "tests"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(name == "clitools" or name.startswith("clitools.") for name in names):
                importers.add(path.relative_to(ROOT).as_posix())
    assert importers == {
        "cli.py", "lake/cli_commands.py", "metrics/cli_commands.py", "reports/cli_commands.py", "store/cli_commands.py"
    }  # fmt: skip


def test_demo_small_and_if_empty(tmp_path):
    db = str(tmp_path / "d.duckdb")
    first = cli("demo", "--small", "--db", db)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("上传 #") == 3
    second = cli("demo", "--small", "--if-empty", "--db", db)
    assert second.returncode == 0 and "跳过演示数据" in second.stdout


def test_schema_created_and_versioned(tmp_db):
    cur = tmp_db.cursor()
    tables = {r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {
        "uploads",
        "case_rows",
        "event_rows",
        "service_item_rows",
        "rejected_rows",
        "calendar",
        "schema_version",
        "channel_synonyms",
    } <= tables
    views = {r[0] for r in cur.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {"cases", "events", "service_items"} <= views
    assert cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] == schema.SCHEMA_VERSION


def test_migration_runs_once_and_refuses_newer(tmp_path):
    path = tmp_path / "m.duckdb"
    Database(path).close()
    Database(path).close()  # reopening applies nothing twice
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == schema.SCHEMA_VERSION
    con.execute("INSERT INTO schema_version VALUES (?, now())", [schema.SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(RuntimeError, match="newer than this program"):
        Database(path)


def test_calendar_official_days(tmp_db):
    cur = tmp_db.cursor()
    day = lambda d: cur.execute(  # noqa: E731
        "SELECT is_workday, is_holiday, is_makeup_workday, holiday_name FROM calendar WHERE day = ?", [d]
    ).fetchone()
    assert day(dt.date(2026, 2, 17)) == (False, True, False, "春节")  # Spring Festival
    assert day(dt.date(2026, 2, 14)) == (True, False, True, "春节")  # Saturday made a working day (调休)
    assert day(dt.date(2026, 10, 10)) == (True, False, True, "国庆节")
    assert day(dt.date(2026, 11, 28)) == (False, False, False, None)  # a plain Saturday
    assert coverage(cur) == (2004, 2026)


def test_next_years_schedule_can_be_added_without_code(tmp_db, tmp_path):
    schedule = tmp_path / "2027.csv"
    schedule.write_text("date,type,name\n2027-01-01,休,元旦\n2027-02-06,hol,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="第 3 行"), tmp_db.write() as cur:
        load_schedule(cur, schedule)
    schedule.write_text(
        "date,type,name\n2027-01-01,休,元旦\n2027-01-02,休,元旦\n2027-02-06,班,春节\n", encoding="utf-8"
    )
    with tmp_db.write() as cur:
        assert load_schedule(cur, schedule) == [2027]
    cur = tmp_db.cursor()
    assert coverage(cur) == (2004, 2027)
    got = cur.execute(
        "SELECT day, is_workday, source FROM calendar WHERE day IN ('2027-01-01', '2027-02-06', "
        "'2027-02-08') ORDER BY day"
    ).fetchall()
    assert got == [
        (dt.date(2027, 1, 1), False, "uploaded"),
        (dt.date(2027, 2, 6), True, "uploaded"),
        (dt.date(2027, 2, 8), True, "uploaded"),
    ]
    # The running working-day index still steps by one per working day across the new year.
    idx = dict(
        cur.execute(
            "SELECT day, workday_index FROM calendar WHERE day BETWEEN '2026-12-31' AND '2027-01-04'"
        ).fetchall()
    )
    assert idx[dt.date(2027, 1, 4)] - idx[dt.date(2026, 12, 31)] == 1  # 1/1, 1/2 off; 1/3 Sunday


def test_data_outside_the_calendar_is_flagged(tmp_db, tmp_path, monkeypatch):
    from ingest.load import ingest_file

    monkeypatch.setenv("EGOV_TODAY", "2027-06-01")  # times after now are rejected as future_time

    src = tmp_path / "y2028.csv"
    src.write_text(
        "办件编号,申请时间\n" + "".join(f"F{i},2027-03-0{i + 1} 09:00\n" for i in range(3)), encoding="utf-8"
    )
    result = ingest_file(tmp_db, src)
    assert result.rows_loaded == 3 and any("2027" in w for w in result.warnings)


def test_a_new_holiday_schedule_moves_the_loaded_cases_working_days(tmp_path, monkeypatch):
    """A case of 2027 loaded on the weekend rule follows the schedule imported after it (by hand: Tue a holiday)."""
    import cli
    from ingest.load import ingest_file

    monkeypatch.setenv("EGOV_TODAY", "2027-06-01")  # times after now are rejected as future_time

    path = tmp_path / "cal.duckdb"
    src = tmp_path / "cases.csv"
    src.write_text(
        "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,承诺时限\n"
        "K1,临时救助申请,民政办,窗口,2027-01-04 09:00,2027-01-08 15:00,3个工作日\n"
        "K2,临时救助申请,民政办,窗口,2026-12-07 09:00,2026-12-08 15:00,3个工作日\n",
        encoding="utf-8",
    )
    query = "SELECT case_id, due_at, processing_days_working FROM cases ORDER BY case_id"
    with Database(path) as db:
        ingest_file(db, src, kind="cases")
        before = db.cursor().execute(query).fetchall()
    # Mon 09:00 to Fri 15:00 is 4.25 working days; due at the end of the 3rd working day after Monday.
    assert before[0] == ("K1", dt.datetime(2027, 1, 7, 23, 59, 59), 4.25)
    schedule = tmp_path / "2027.csv"
    schedule.write_text("date,type,name\n2027-01-05,休,测试\n", encoding="utf-8")
    assert cli.main(["calendar", str(schedule), "--db", str(path)]) == 0
    with Database(path) as db:
        after = db.cursor().execute(query).fetchall()
    assert after[0] == ("K1", dt.datetime(2027, 1, 8, 23, 59, 59), 3.25)
    assert after[1] == before[1]  # 2026 is untouched
