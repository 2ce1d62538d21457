"""Every value from a file, a filter or a form reaches DuckDB as a bound parameter, never as SQL text.

DuckDB's own query log (``CALL enable_logging('QueryLog')``) records the text of every statement any
connection to the database runs. Values carrying a marker (with quotes and an injection attempt) go
in through an upload (values, file name, an extra column's header, rejected rows), the filters of every
page (from the URL), a login attempt, a target, a snapshot and a removal; the marker must then be in
the database but in no statement's text.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import ROOT, button, demo_copy_with_users, login, run_as_server

MARK = "QZX"
DEPARTMENT = f"民政'{MARK}办"
ITEM = f"'); DROP TABLE cases; --{MARK}"
MONTH = "2026-10"
ID_HEADER = f"编号'{MARK}"  # a header no alias knows, mapped by hand as on the upload form
VIEWS = [
    "overview",
    "adoption",
    "timeliness",
    "bottlenecks",
    "snapshots",
    "upload",
    "uploads",
    "data_quality",
    "settings",
    "users",
]


def cases_csv() -> bytes:
    lines = [
        f"{ID_HEADER},事项名称,实施部门,申请渠道,申请时间,办结时间,备注'{MARK}列",
        f"{MARK}'1,{ITEM},{DEPARTMENT},网上,2026-10-12 09:00,2026-10-13 10:00,{MARK}'note",
        f"{MARK}'2,{ITEM},{DEPARTMENT},窗口,2026-10-14 09:00,2026-10-20 10:00,",
        f"{MARK}'3,{ITEM},{DEPARTMENT},窗口,{MARK} o'clock,,",  # rejected: its raw fields are kept as JSON
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def events_csv() -> bytes:
    rows = ["办件编号,事项名称,环节名称,办理部门,经办人,开始时间,完成时间"]
    for case in (1, 2):
        rows += [
            f"{MARK}'{case},{ITEM},收件'{MARK},{DEPARTMENT},{MARK}'甲,,2026-10-1{case} 09:00",
            f"{MARK}'{case},{ITEM},审核'{MARK},{MARK}'审批科,{MARK}'乙,2026-10-1{case} 10:00,2026-10-1{case} 15:00",
            f"{MARK}'{case},{ITEM},办结,{DEPARTMENT},{MARK}'甲,,2026-10-1{case + 2} 10:00",
        ]
    return ("\n".join(rows) + "\n").encode("utf-8")


@pytest.fixture
def logged(small_demo_db: Path, tmp_path: Path):
    """A database with users whose instance logs every statement; the logging connection stays open."""
    path = demo_copy_with_users(small_demo_db, tmp_path)
    spy = duckdb.connect(str(path))
    spy.execute("CALL enable_logging('QueryLog')")
    yield path, spy
    spy.close()


def statements(spy: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in spy.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()]


def test_marked_values_never_appear_in_any_statement(logged, monkeypatch, tmp_path):
    import settings
    from ingest.load import ingest_bytes, remove_upload
    from metrics import targets
    from reports.snapshots import publish
    from store.db import Database

    path, spy = logged
    db = Database(path)
    cases = ingest_bytes(db, cases_csv(), f"{MARK}'办件.csv", mapping={"case_id": ID_HEADER}, loaded_by=f"{MARK}'ana")
    events = ingest_bytes(db, events_csv(), f"{MARK}'环节.csv", loaded_by=f"{MARK}'ana")
    assert (cases.rows_loaded, cases.rows_rejected, events.rows_loaded) == (2, 1, 6)
    targets.set_target(db, "online_rate", 0.7, department=DEPARTMENT, by=f"{MARK}'ana")
    db.close()

    monkeypatch.setenv("EGOV_DB", str(path))
    monkeypatch.setattr(settings, "MAPPINGS_DIR", tmp_path / "mappings")
    run_as_server(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"month": MONTH, "dept": DEPARTMENT, "item": ITEM})
    at.run()
    at.text_input(key="login_name").input(f"{MARK}' OR '1'='1")  # a login attempt with an injection
    at.text_input(key="login_password").input(f"{MARK}'")
    button(at, "登录").click().run()
    assert not at.exception, at.exception
    login(at, "zhang")
    for view in VIEWS:
        at.switch_page(f"views/{view}.py").run()
        assert not at.exception, (view, at.exception)
    assert at.session_state["f_dept"] == [DEPARTMENT] and at.session_state["f_item"] == [ITEM]

    db = Database(path)
    publish(db, MONTH, by=f"{MARK}'zhang", note=f"{MARK}' note")
    remove_upload(db, events.upload_id, removed_by=f"{MARK}'ana")
    db.close()

    # The marked values are in the database ...
    marked = "SELECT count(*) FROM cases WHERE department = ? AND service_item = ? AND case_id LIKE ?"
    assert spy.execute(marked, [DEPARTMENT, ITEM, f"{MARK}'%"]).fetchone()[0] == 2
    rejected = "SELECT raw->>? FROM rejected_rows WHERE raw->>'申请时间' = ?"
    assert spy.execute(rejected, [ID_HEADER, f"{MARK} o'clock"]).fetchall() == [(f"{MARK}'3",)]
    assert spy.execute("SELECT count(*) FROM snapshots WHERE note = ?", [f"{MARK}' note"]).fetchone()[0] == 1
    # ... and none of the thousands of statements that put them there or read them holds one as text.
    texts = statements(spy)
    assert len(texts) > 300  # about 500: two loads, ten pages, a login, a target, a snapshot, a removal
    assert [t for t in texts if MARK in t] == []

    # The log does see statements with literals, from the app's own connections too.
    Database(path).cursor().execute(f"SELECT '{MARK}-self-check'")
    assert any(f"{MARK}-self-check" in t for t in statements(spy))
