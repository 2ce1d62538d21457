"""A full disk and a read-only data folder give a clear message and leave the database as it was.

Uses a small tmpfs of its own (the tests run as root, as CI does); where mounting is not allowed the
tests are skipped on a developer machine and fail under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ingest.load import ingest_file
from store.db import Database, StorageError
from tests.cli_support import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture
def small_disk(tmp_path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if done.returncode != 0:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"cannot mount a tmpfs under CI: {done.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_full_disk_midway_changes_nothing(small_disk, tmp_path):
    db_path = small_disk / "egov.duckdb"
    with Database(db_path) as db:
        ingest_file(db, SAMPLE / "cases_export.csv")
    # Fill the disk, leaving too little room for the next upload.
    filler = small_disk / "filler.bin"
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(0, free - 256 * 1024))
    from demo import exports

    big = exports.write_exports(tmp_path / "export", exports.generate(scale=0.3, end_month="2026-10"))["events"]
    result = cli("ingest", str(big), "--db", str(db_path))
    assert result.returncode == 1
    assert "磁盘空间已满" in result.stderr and "Traceback" not in result.stderr
    filler.unlink()
    with Database(db_path) as db:
        cur = db.cursor()
        assert cur.execute("SELECT count(*) FROM uploads").fetchone()[0] == 1
        assert cur.execute("SELECT count(*) FROM event_rows").fetchone()[0] == 0
        assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 2631


def test_read_only_data_folder(small_disk):
    db_path = small_disk / "egov.duckdb"
    with Database(db_path) as db:
        ingest_file(db, SAMPLE / "cases_export.csv")
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StorageError) as info:
        Database(small_disk / "new" / "egov.duckdb")
    assert "只读" in info.value.message_zh
    result = cli("ingest", str(SAMPLE / "events_export.csv"), "--db", str(db_path))
    assert result.returncode == 1
    assert ("只读" in result.stderr or "无法读写" in result.stderr) and "Traceback" not in result.stderr
