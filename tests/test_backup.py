"""Backup while the app runs, and restore."""

from __future__ import annotations

import subprocess
import sys
import threading
import zipfile
from pathlib import Path

from ingest.load import ingest_file
from store.db import Database

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_backup_while_the_app_reads_then_restore(tmp_path):
    db_path = tmp_path / "live" / "egov.duckdb"
    app_db = Database(db_path, shared=True)
    ingest_file(app_db, DATA / "cases_title_total_gbk.csv")
    key = (db_path.parent / "secret.key").read_text()
    stop = threading.Event()
    errors: list[BaseException] = []

    def browse() -> None:  # a viewer clicking around while the backup runs
        while not stop.is_set():
            try:
                cur = app_db.cursor()
                cur.execute("SELECT count(*) FROM cases").fetchone()
                cur.close()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    viewer = threading.Thread(target=browse)
    viewer.start()
    try:
        archive = tmp_path / "backup.zip"
        result = cli("backup", "--db", str(db_path), "--out", str(archive))
    finally:
        stop.set()
        viewer.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert not errors
    with zipfile.ZipFile(archive) as zf:
        assert set(zf.namelist()) == {"egov.duckdb", "secret.key", "manifest.json"}
    # Later changes, then a restore into a fresh place brings the backed-up state back, key included.
    ingest_file(app_db, DATA / "events.xes")
    target = tmp_path / "restored" / "egov.duckdb"
    target.parent.mkdir()
    restored = cli("restore", str(archive), "--db", str(target), "--yes")
    assert restored.returncode == 0, restored.stderr
    with Database(target) as db:
        assert db.cursor().execute("SELECT count(*) FROM cases").fetchone()[0] == 5
    assert (target.parent / "secret.key").read_text() == key


def test_restore_refuses_while_the_database_is_in_use(tmp_path):
    db_path = tmp_path / "egov.duckdb"
    with Database(db_path) as db:
        ingest_file(db, DATA / "events.xes")
    archive = tmp_path / "b.zip"
    assert cli("backup", "--db", str(db_path), "--out", str(archive)).returncode == 0
    holder = Database(db_path)  # the app, holding the file
    try:
        result = cli("restore", str(archive), "--db", str(db_path), "--yes")
    finally:
        holder.close()
    assert result.returncode == 1 and "停止看板" in result.stderr
    assert cli("restore", str(tmp_path / "nope.zip"), "--db", str(db_path), "--yes").returncode == 1
