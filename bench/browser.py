"""The app timed in a real browser: ``streamlit run app.py`` on a database, Debian's Chromium, beside a floor page.

Measured, per database (the bench's county database, and the demo town's), each time from the action
to the page drawn and the app idle:

- the overview opened from a link (its URL, in a new browser context, on a server just started: nothing
  cached in the app);
- a month chosen in the sidebar (a month before the default one, drawn per repetition), then a department
  chosen beside it (one of the month's busiest, drawn per repetition): each is a view the server has not
  computed before, so nothing comes from the app's cache.

The floor is timed the same way in the same browser: a page of one tile, one small Plotly chart and one
selectbox, served by the same Streamlit; its first visit, and its own rerun after a new option is chosen in
its selectbox. Each repetition starts its server afresh; the medians are reported.

"Drawn" means: the KPI tiles and a chart's SVG are on the page, what the action asked for is shown (the
scope line names the new month's last day or the department; the floor's tile shows the option's value),
and the app has finished its run (Streamlit's script state on the app root is "notRunning" and the
running indicator is gone). A page in the browser notes the moment it becomes drawn; the moment counts
once the page has stayed drawn for a second (a page opened from a link may run twice), so the time is
when it was last drawn, not when it was seen settled. The databases have no users, so the app runs in
local mode (no login) on 127.0.0.1.
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


#: The floor: the least a Streamlit page with one tile, one Plotly chart and one widget costs on this machine.
#: Its selectbox sits in the sidebar as the app's month does; the tile shows the option's value (FLOOR_VALUES).
FLOOR_APP = """
import plotly.graph_objects as go
import streamlit as st

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
st.set_page_config(page_title="floor", layout="wide")
chosen = MONTHS.index(st.sidebar.selectbox("月份", MONTHS, key="floor_month"))
st.title("基准页 floor")
st.metric("办件量", f"{2786 + chosen:,}")
st.plotly_chart(go.Figure(go.Bar(x=MONTHS, y=[(m + chosen) % 12 for m in range(12)])))
"""
FLOOR_MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
FLOOR_VALUES = [f"{2786 + i:,}" for i in range(12)]


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


#: Installed in every page before its own scripts: notes ``window.__drawnSince`` (Date.now()) when the page becomes
#: drawn (tiles, a chart's SVG, ``window.__benchWant`` shown if set, the run over), and clears it when it is not.
DRAWN_WATCH = """
(() => {
  window.__benchWant = null;
  window.__drawnSince = null;
  const drawn = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (!document.querySelector('[data-testid="stMetric"]')) return false;
    if (!document.querySelector('.js-plotly-plot .main-svg')) return false;
    const want = window.__benchWant;
    if (want) {
      const shown = document.querySelector(want.selector);
      if (!shown || !shown.innerText.includes(want.text)) return false;
    }
    return true;
  };
  setInterval(() => {
    if (!drawn()) window.__drawnSince = null;
    else if (window.__drawnSince === null) window.__drawnSince = Date.now();
  }, 10);
})();
"""
#: How long a page must stay drawn before its moment counts (a page opened from a link may run twice).
SETTLE_SECONDS = 1.0


def _context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.add_init_script(DRAWN_WATCH)
    return context


def _drawn_at(page, timeout_s: float) -> float:
    """The moment (epoch seconds) the page was last drawn, once it has stayed drawn for SETTLE_SECONDS."""
    deadline = time.monotonic() + timeout_s
    while True:
        since, now = page.evaluate("() => [window.__drawnSince, Date.now()]")
        if since is not None and now - since >= SETTLE_SECONDS * 1000:
            if "Traceback" in page.inner_text("body"):
                raise RuntimeError(f"{page.url} shows a traceback")
            return since / 1000
        if time.monotonic() > deadline:
            raise TimeoutError(f"{page.url} not drawn within {timeout_s:.0f} s")
        page.wait_for_timeout(50)


def _open(page, url: str, timeout_s: float) -> float:
    """Seconds from following a link to ``url`` to the page drawn and idle."""
    started = time.time()
    page.goto(url, timeout=int(timeout_s * 1000))
    return _drawn_at(page, timeout_s) - started


def _choose(page, key: str, option: str, want: tuple[str, str], timeout_s: float) -> float:
    """Seconds from choosing ``option`` in the widget of key ``key`` to the page drawn again, showing ``want``.

    ``want`` is (CSS selector, text it must contain): what the new run draws and the old page did not show.
    The option is typed into the widget's search first (not timed), then clicked (timed from the click).
    """
    page.locator(f".st-key-{key} input").first.click()
    page.keyboard.type(option)
    choice = page.get_by_role("option", name=option, exact=True)
    choice.wait_for(timeout=int(timeout_s * 1000))
    page.evaluate("(want) => { window.__benchWant = want; window.__drawnSince = null; }",
                  {"selector": want[0], "text": want[1]})  # fmt: skip
    started = time.time()
    choice.click()
    seconds = _drawn_at(page, timeout_s) - started
    page.keyboard.press("Escape")  # a multiselect's list stays open
    return seconds


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _draws(db: Path, runs: int, seed: int) -> tuple[list[str], list[str]]:
    """Per repetition, a month before the default one and one of the default month's busiest departments.

    Drawn with a fixed seed from the database (so the same database gives the same draws), distinct per
    repetition: each repetition's views are new to its server.
    """
    import random

    from metrics.page_queries import default_month_of
    from store.db import Database

    database = Database(db, read_only=True)
    try:
        cur = database.cursor()
        default = default_month_of(cur)
        months = [r[0] for r in cur.execute(
            "SELECT DISTINCT strftime(submitted_at, '%Y-%m') AS m FROM cases WHERE submitted_at IS NOT NULL "
            "AND strftime(submitted_at, '%Y-%m') < ? ORDER BY m DESC LIMIT 12", [default],
        ).fetchall()]  # fmt: skip
        departments = [r[0] for r in cur.execute(
            "SELECT department FROM cases WHERE strftime(submitted_at, '%Y-%m') = ? AND department IS NOT NULL "
            "GROUP BY department ORDER BY count(*) DESC, department LIMIT 8", [default],
        ).fetchall()]  # fmt: skip
    finally:
        database.close()
    rng = random.Random(seed)
    pick = lambda seq: rng.sample(seq, runs) if len(seq) >= runs else [seq[i % len(seq)] for i in range(runs)]  # noqa: E731
    return pick(months), pick(departments)


def _last_day(month: str) -> str:
    import calendar

    year, number = (int(p) for p in month.split("-"))
    return f"{month}-{calendar.monthrange(year, number)[1]:02d}"


def time_floor(browser, work: Path, runs: int, timeout_s: float, script: Path | None = None) -> dict:
    """The floor page: its first visit on a fresh server, and its rerun after an option is chosen (two per run)."""
    if script is None:
        script = work / "floor_app.py"
        script.write_text(FLOOR_APP, encoding="utf-8")
    first, reruns = [], []
    for run in range(runs):
        proc, url = _start(work / "floor.duckdb", work / f"streamlit-logs-floor-{run}", script)
        try:
            context = _context(browser)
            page = context.new_page()
            first.append(_open(page, url, timeout_s))
            for change in (2 * run + 1, 2 * run + 2):
                i = change % len(FLOOR_MONTHS)
                want = ('[data-testid="stMetricValue"]', FLOOR_VALUES[i])
                reruns.append(_choose(page, "floor_month", FLOOR_MONTHS[i], want, timeout_s))
            context.close()
        finally:
            _stop(proc)
    return {"first_seconds": _median(first), "first": first, "rerun_seconds": _median(reruns), "reruns": reruns}


#: What the app's first screens add to the floor, one kind at a time (issue 17 §4: where the browser's own cost
#: lies). Each variant is the floor plus its lines: the overview draws 10 tiles, 6 board buttons, 1 chart and two
#: tables (st.dataframe, 20 rows); the bottleneck page 5 charts. ``table2`` is the same two tables as plain HTML
#: tables (st.table), the lighter alternative.
FLOOR_VARIANTS = {
    "tiles10": "for i, col in enumerate(st.columns(5) + st.columns(5)):\n    col.metric(f'指标{i}', f'{i + chosen}%')",
    "charts5": "for i in range(4):\n    st.plotly_chart(go.Figure(go.Bar(x=MONTHS, y=[(m * i + chosen) % 9 for m in "
    "range(12)])), key=f'c{i}')",
    "dataframe2": "import pandas as pd\nframe = pd.DataFrame({'事项': [f'事项{i}' for i in range(20)], '部门': ['民政办'] * 20,"
    " '办件量': range(20), '网办量': range(20), '占比': [i / 20 for i in range(20)]})\n"
    "st.dataframe(frame.style.format({'占比': '{:.1%}'}), hide_index=True)\n"
    "st.dataframe(frame.style.format({'占比': '{:.1%}'}), hide_index=True, key='second')",
    "table2": "import pandas as pd\nframe = pd.DataFrame({'事项': [f'事项{i}' for i in range(20)], '部门': ['民政办'] * 20,"
    " '办件量': range(20), '网办量': range(20), '占比': [i / 20 for i in range(20)]})\n"
    "st.table(frame.style.format({'占比': '{:.1%}'}).hide(axis='index'))\n"
    "st.table(frame.style.format({'占比': '{:.1%}'}).hide(axis='index'))",
}


def time_floor_variants(browser, work: Path, runs: int, timeout_s: float) -> dict:
    """The floor with each of :data:`FLOOR_VARIANTS` added: first visit and rerun, as :func:`time_floor`."""
    timed = {}
    for name, extra in FLOOR_VARIANTS.items():
        script = work / f"floor_{name}.py"
        script.write_text(FLOOR_APP + extra + "\n", encoding="utf-8")
        timed[name] = time_floor(browser, work, runs, timeout_s, script=script)
    return timed


def time_app(browser, db: Path, name: str, runs: int, timeout_s: float, seed: int = 7) -> dict:
    """The app on ``db``: the overview from a link on a fresh server, then a month and a department chosen."""
    months, departments = _draws(db, runs, seed)
    link, later, month, department = [], [], [], []
    for run in range(runs):
        proc, url = _start(db, db.parent / f"streamlit-logs-{name}-{run}")
        try:
            context = _context(browser)
            page = context.new_page()
            link.append(_open(page, url, timeout_s))
            want = (".st-key-scope_line", _last_day(months[run]))
            month.append(_choose(page, "f_month", months[run], want, timeout_s))
            want = (".st-key-scope_clear_dept", departments[run])
            department.append(_choose(page, "f_dept", departments[run], want, timeout_s))
            context.close()
            context = _context(browser)  # the same link again, in a new session: the server has run the view
            later.append(_open(context.new_page(), url, timeout_s))
            context.close()
        finally:
            _stop(proc)
    return {
        "db": str(db),
        "link_seconds": _median(link), "link": link, "later_seconds": _median(later), "later": later,
        "month_seconds": _median(month), "month": month, "months": months,
        "department_seconds": _median(department), "department": department, "departments": departments,
    }  # fmt: skip


def time_pages(dbs: dict[str, Path], work: Path, runs: int = 3, timeout_s: float = 300, variants: bool = False) -> dict:
    """The floor (and its variants if asked), then the app on each database (label → path), in one browser."""
    if not CHROMIUM.exists():
        return {"skipped": f"{CHROMIUM} not found"}
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            floor = time_floor(browser, work, runs, timeout_s)
            extra = time_floor_variants(browser, work, runs, timeout_s) if variants else {}
            apps = {label: time_app(browser, Path(db), label, runs, timeout_s) for label, db in dbs.items()}
        finally:
            browser.close()
    return {"floor": floor, "variants": extra, "apps": apps, "runs": runs}
