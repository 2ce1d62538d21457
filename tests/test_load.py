"""Load: six browsing sessions move through every page while an analyst uploads a file through the page.

``bench/load.py`` drives the sessions (async Playwright in a process of its own, beside the session's
sync browser). The test asserts that no session met an error (traceback, error message, busy warning,
timeout), that the upload loaded and that page loads overlapped it; the page times (median, p95,
max) are printed at the end of the run (tests/conftest.py) and kept in test-artefacts/load-test.json,
not asserted: the machines are shared.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, LOAD_REPORT

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
#: Six at once on two cores (the README's bench command runs ten; six keep the whole suite within CI's 20 minutes).
SESSIONS = 6


@pytest.fixture(scope="module")
def streamlit_db_path(small_demo_db: Path, tmp_path_factory) -> Path:
    """A database of this module's own (the upload changes it), without users: local mode."""
    target = tmp_path_factory.mktemp("load") / "egov.duckdb"
    shutil.copy(small_demo_db, target)
    shutil.copy(small_demo_db.parent / "secret.key", target.parent / "secret.key")
    return target


@pytest.fixture(scope="module")
def step_log(tmp_path_factory) -> tuple[Path, int]:
    """Two months of the demo town's step log with another seed: about 30,000 events to load."""
    from demo import exports

    data = exports.generate(seed=7, end_month="2026-10", months=2)
    files = exports.write_exports(tmp_path_factory.mktemp("export"), data)
    return files["events"], len(data.events)


def test_sessions_browse_every_page_while_an_upload_loads(streamlit_server, streamlit_db_path, step_log, artefacts_dir):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    file, events = step_log
    out = LOAD_REPORT
    proc = subprocess.run(
        [sys.executable, "bench/load.py", "--url", streamlit_server, "--sessions", str(SESSIONS)]
        + ["--upload", str(file), "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    print(proc.stdout)
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["problems"] == [], proc.stdout + proc.stderr[-3000:]
    assert result["upload"]["ok"], result["upload"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    pages = {load["page"] for load in result["loads"]}
    assert len(pages) == 9 and result["overall"]["loads"] >= SESSIONS * 9
    for session in range(SESSIONS):  # every session went through every page at least once
        assert {load["page"] for load in result["loads"] if load["session"] == session} == pages
    assert result["loads_during_ingest"] >= 1
    assert result["overall"]["p95"] is not None  # reported above and in the artefact, not limited
    assert f"导入 {events:,} 行" in result["upload"]["message"], result["upload"]["message"]
