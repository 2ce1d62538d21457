"""Run ``cli.py`` as a user would, for tests that compare the app with the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python cli.py ARGS…`` with ``env`` added to this process's environment; its output as text."""
    return subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
