"""Other programs on the database, as in production: ``cli.py`` run as a user (or the cron job) would, and a
program that holds the database file, for tests that compare the app with the command line or meet a busy file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Opens the database file named by argv[1] (DuckDB's lock: no other process may open it), says so, keeps it argv[2] s.
_HOLD = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(float(sys.argv[2]))"


def cli_kpis(db: Path, *args: str) -> dict:
    """``python cli.py kpis --db DB --format json ARGS…`` parsed."""
    out = subprocess.run(
        [sys.executable, "cli.py", "kpis", "--db", str(db), "--format", "json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    return json.loads(out)


def cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python cli.py ARGS…`` with ``env`` added to this process's environment; its output as text."""
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def cron(db: Path, today: str, *extra: str, wait: str = "5") -> subprocess.CompletedProcess:
    """The README's scheduled job, as cron runs it, on day ``today``, waiting ``wait`` s for a busy database."""
    return cli(
        "snapshot", "--if-missing", "--user", "cron", "--db", str(db), *extra,
        env={"EGOV_TODAY": today, "EGOV_DB_LOCK_TIMEOUT": wait},
    )  # fmt: skip


def hold(db: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the database file for ``seconds`` (then ends by itself), once it holds it."""
    holder = subprocess.Popen([sys.executable, "-c", _HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    except BaseException:
        holder.kill()
        holder.wait(timeout=30)
        raise
    return holder


@contextmanager
def holding(db: Path) -> Iterator[None]:
    """The database file held by another process for the block (a long command-line job, at most 120 s)."""
    holder = hold(db, 120)
    try:
        yield
    finally:
        holder.kill()
        holder.wait(timeout=30)
