"""Concurrent use: the app and the command line share the file; uploads serialise; readers keep reading."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest.load import ingest_file
from store.db import Database, DatabaseBusy
from tests.cli_support import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
SAMPLE = ROOT / "data" / "sample"


def hold_file(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that opens the database and keeps it for a while."""
    code = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
        "time.sleep(float(sys.argv[2]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_cli_ingest_while_the_app_holds_the_database(tmp_path):
    app_db = Database(tmp_path / "egov.duckdb", shared=True)
    cur = app_db.cursor()
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 0
    cur.close()
    result = cli("ingest", str(DATA / "cases_title_total_gbk.csv"), "--db", str(app_db.path), timeout=120)
    assert result.returncode == 0, result.stderr
    before = app_db.data_version()
    assert app_db.cursor().execute("SELECT count(*) FROM cases").fetchone()[0] == 5
    assert app_db.data_version() == before >= 1


def test_waits_for_another_process_then_gives_up_clearly(tmp_path):
    path = tmp_path / "egov.duckdb"
    Database(path).close()
    holder = hold_file(path, 1.5)
    try:
        started = time.monotonic()
        db = Database(path, shared=True, lock_timeout=30)
        assert db.cursor().execute("SELECT count(*) FROM uploads").fetchone()[0] == 0
        assert time.monotonic() - started >= 0.5  # it waited for the holder instead of failing
    finally:
        holder.wait(timeout=30)
    holder = hold_file(path, 5)
    try:
        with pytest.raises(DatabaseBusy) as info:
            Database(path, shared=True, lock_timeout=0.5)
        assert "占用" in info.value.message_zh
    finally:
        holder.kill()
        holder.wait()


def test_two_uploads_at_once_both_land(tmp_path):
    db = Database(tmp_path / "egov.duckdb", shared=True)
    errors: list[BaseException] = []

    def load(path: Path) -> None:
        try:
            ingest_file(db, path)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(p,)) for p in (SAMPLE / "cases_export.csv", DATA / "events.xes")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors
    cur = db.cursor()
    assert cur.execute("SELECT count(*) FROM uploads WHERE status = 'loaded'").fetchone()[0] == 2
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 2631 + 2
    assert cur.execute("SELECT max(version) FROM data_version").fetchone()[0] == 2


def test_readers_keep_reading_during_an_ingest(tmp_path):
    db = Database(tmp_path / "egov.duckdb", shared=True)
    ingest_file(db, SAMPLE / "cases_export.csv")
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def browse() -> None:
        while not stop.is_set():
            try:
                cur = db.cursor()
                seen.append(cur.execute("SELECT count(*) FROM cases").fetchone()[0])
                cur.close()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    readers = [threading.Thread(target=browse) for _ in range(4)]
    for r in readers:
        r.start()
    ingest_file(db, SAMPLE / "events_export.csv")
    stop.set()
    for r in readers:
        r.join(timeout=60)
    assert not errors
    # Readers saw the committed state before or after the upload, never anything in between.
    assert set(seen) <= {2631} and seen


def test_a_waiting_job_gets_the_file_while_readers_keep_browsing(tmp_path):
    """Busy readers in the app never starve a command-line job: the job waits its turn, then runs."""
    db = Database(tmp_path / "egov.duckdb", shared=True)
    ingest_file(db, SAMPLE / "cases_export.csv")
    stop = threading.Event()
    errors: list[BaseException] = []
    reads = [0]

    def browse() -> None:
        while not stop.is_set():
            try:
                cur = db.cursor()
                cur.execute("SELECT count(*), sum(visits) FROM cases").fetchone()
                time.sleep(0.05)  # a page run holds its connection a little while
                cur.close()
                reads[0] += 1
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    readers = [threading.Thread(target=browse) for _ in range(6)]
    for r in readers:
        r.start()
    try:
        time.sleep(0.5)
        started = time.monotonic()
        job = cli("ingest", str(DATA / "events.xes"), "--db", str(db.path), timeout=120)
        job_seconds = time.monotonic() - started
    finally:
        stop.set()
        for r in readers:
            r.join(timeout=60)
    assert job.returncode == 0, job.stderr
    assert not errors and reads[0] > 0
    assert not (tmp_path / "egov.duckdb.wanted").exists()
    assert db.cursor().execute("SELECT count(*) FROM events").fetchone()[0] == 8
    print(f"job finished in {job_seconds:.1f} s while 6 readers browsed ({reads[0]} reads)")
