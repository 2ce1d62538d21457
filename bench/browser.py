"""The overview page timed in a real browser: ``streamlit run app.py`` on the bench database, Debian's Chromium.

"Drawn" means: the title, the KPI tiles and the trend chart's SVG are on the page and the app has
finished its run (Streamlit's running indicator is gone). The floor is timed the same way: a page of
one tile and one small Plotly chart, served by the same Streamlit, in the same browser. The first visit after the server starts
is cold (nothing cached); later visits, each in a new browser context, may use the app's cache.
The bench database has no users, so the app runs in local mode (no login) on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from reports.pdf import CHROMIUM_HEADLESS_ARGS

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = list(CHROMIUM_HEADLESS_ARGS)
FINISHED = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: The floor: the least a Streamlit page with one tile and one Plotly chart costs on this machine.
FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("基准页 floor")
st.metric("办件量", "2,786")
st.plotly_chart(go.Figure(go.Bar(x=[f"2026-{m:02d}" for m in range(1, 13)], y=list(range(12)))))
"""


def _start(db: Path, log_dir: Path, script: Path | None = None) -> tuple[subprocess.Popen, str]:
    """``streamlit run`` of the app on ``db`` (or of another script, run beside it) on a free port."""
    port = _free_port()
    env = dict(os.environ, EGOV_DB=str(db), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    exe = Path(sys.executable).parent / "streamlit"
    command = ([str(exe)] if exe.exists() else [sys.executable, "-m", "streamlit"]) + [
        "run", str(script or "app.py"), "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1",
    ]  # fmt: skip
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "streamlit.out", "wb") as out, open(log_dir / "streamlit.err", "wb") as err:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see {log_dir}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            pass
        time.sleep(0.25)
    _stop(proc)
    raise RuntimeError("streamlit did not become healthy within 120 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass


def _visit(browser, url: str, timeout_ms: int) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    try:
        started = time.perf_counter()
        page.goto(url, timeout=timeout_ms)
        page.locator('[data-testid="stMetric"]').first.wait_for(timeout=timeout_ms)
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=timeout_ms)
        page.wait_for_function(FINISHED, timeout=timeout_ms)
        drawn = time.perf_counter() - started
        body = page.inner_text("body")
        if "Traceback" in body:
            raise RuntimeError("the overview page shows a traceback")
        return drawn
    finally:
        context.close()


def time_overview(db: Path, runs: int = 3, timeout_s: float = 300) -> dict:
    """The overview on the bench database, and the floor page beside it, in the same browser."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} not found"}
    from playwright.sync_api import sync_playwright

    floor_script = db.parent / "floor_app.py"
    floor_script.write_text(FLOOR_APP, encoding="utf-8")
    out = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for name, script in (("overview", None), ("floor", floor_script)):
                proc, url = _start(db, db.parent / f"streamlit-logs-{name}", script)
                try:
                    first = _visit(browser, url, int(timeout_s * 1000))
                    later = [_visit(browser, url, int(timeout_s * 1000)) for _ in range(max(runs - 1, 0))]
                finally:
                    _stop(proc)
                out[name] = {"first_seconds": first, "later_seconds": statistics.median(later) if later else None,
                             "later": later}  # fmt: skip
        finally:
            browser.close()
    return {**out["overview"], "floor": out["floor"]}
