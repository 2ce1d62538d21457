"""A process killed with SIGKILL in the middle of a large ingest loses nothing and leaves nothing half-loaded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from store.db import Database
from tests.cli_support import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


def state(db_path: Path) -> tuple:
    with Database(db_path) as db:
        cur = db.cursor()
        return tuple(
            cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("uploads", "case_rows", "event_rows", "rejected_rows")
        ) + (db.data_version(),)


def test_sigkill_mid_ingest_then_retry(tmp_path):
    from demo import exports

    big = exports.write_exports(tmp_path / "export", exports.generate(scale=0.5, end_month="2026-10"))["events"]
    db_path = tmp_path / "egov.duckdb"
    ok = cli("ingest", str(SAMPLE / "cases_export.csv"), "--db", str(db_path))
    assert ok.returncode == 0, ok.stderr
    before = state(db_path)
    # Every row of the large file is inserted; the process is killed just before the commit.
    proc = subprocess.Popen(
        [sys.executable, "cli.py", "ingest", str(big), "--db", str(db_path)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "EGOV_FAILPOINT": "before_commit:120"},
    )
    deadline = time.monotonic() + 300
    line = ""
    while time.monotonic() < deadline and "failpoint before_commit reached" not in line:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "ingest ended before reaching the failpoint"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert state(db_path) == before  # reopens, and holds exactly what it held before
    retry = cli("ingest", str(big), "--db", str(db_path), timeout=600)
    assert retry.returncode == 0, retry.stderr
    after = state(db_path)
    assert after[0] == before[0] + 1 and after[2] > 100_000
