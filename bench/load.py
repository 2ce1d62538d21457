"""Load: many browsing sessions move through every page while an analyst uploads a file (issue 8).

    .venv/bin/python bench/load.py --db data/egov.duckdb --sessions 10 --upload export.csv
    .venv/bin/python bench/load.py --url http://127.0.0.1:8501 --sessions 10 --upload export.csv

Each session is a fresh context of one headless Chromium (Debian's), driven by Playwright's async API.
Sessions visit every page in their own rotated order, at least ``--rounds`` times, and keep going
while the upload is still running, so page loads overlap the ingest. One more session opens the
upload page, drops the file through the real file chooser, waits for the validation report, clicks
导入 and waits for the result. The app must run in local mode (no users in the database).

A page counts as loaded when its title is on the page and Streamlit's running indicator is gone; a
page showing a traceback, the unexpected-error message, the database-busy warning or no title is a
problem. Printed: page times (median, 95th percentile, maximum) overall and per page, and how many
loads overlapped the ingest; ``--json`` writes everything. No time limit is applied: the machines
are shared, the numbers are for the record.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.browser import CHROMIUM, CHROMIUM_ARGS, FINISHED, _start, _stop  # noqa: E402

#: URL path and the title each page shows (local mode: every page is open).
PAGES = [
    ("overview", "一网通办效能监测看板"),
    ("adoption", "网办分析"),
    ("timeliness", "办理时效"),
    ("bottlenecks", "部门瓶颈"),
    ("snapshots", "月度快照"),
    ("quality", "数据质量"),
    ("uploads", "上传记录"),
    ("settings", "指标目标值"),
    ("users", "用户与审计"),
]
#: Words on a page that mean a user met a problem.
PROBLEM_WORDS = ("Traceback", "页面出现意外错误", "数据库正被另一个程序占用", "StreamlitAPIException")
MAX_ROUNDS = 5


@dataclass
class Load:
    session: int
    page: str
    started: float  # seconds since the run began
    seconds: float
    problem: str | None = None


@dataclass
class Upload:
    file_name: str
    started: float | None = None  # 导入 clicked
    finished: float | None = None  # result shown
    preview_seconds: float | None = None
    message: str | None = None
    ok: bool = False


@dataclass
class Run:
    sessions: int
    loads: list[Load] = field(default_factory=list)
    upload: Upload | None = None


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between order statistics."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


async def _page_problem(page, title: str) -> str | None:
    body = await page.inner_text("body")
    for word in PROBLEM_WORDS:
        if word in body:
            return f"{word}: {body[:300]!r}"
    if title not in body:
        return f"title {title!r} missing: {body[:300]!r}"
    return None


async def _finished(page, timeout_ms: int) -> None:
    await page.wait_for_timeout(300)  # the running indicator appears a moment after the page starts
    await page.wait_for_function(FINISHED, timeout=timeout_ms)


async def browse(browser, base: str, index: int, run: Run, t0: float, upload_done, rounds: int, timeout_ms: int):
    """One reader: every page per round, in an order rotated by the session's index."""
    context = await browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    order = PAGES[index % len(PAGES) :] + PAGES[: index % len(PAGES)]
    try:
        done_rounds = 0
        while done_rounds < rounds or (not upload_done.is_set() and done_rounds < MAX_ROUNDS):
            for path, title in order:
                started = time.monotonic()
                problem = None
                try:
                    await page.goto(f"{base}/{path}")
                    await page.get_by_text(title).first.wait_for()
                    await _finished(page, timeout_ms)
                    problem = await _page_problem(page, title)
                except Exception as exc:  # a timeout is a problem to report, not a crash of the driver
                    problem = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                run.loads.append(Load(index, path, started - t0, time.monotonic() - started, problem))
            done_rounds += 1
    finally:
        await context.close()


async def upload(browser, base: str, file: Path, run: Run, t0: float, upload_done, timeout_ms: int) -> None:
    """The analyst: drop the file through the file chooser, wait for the report, load, wait for the result."""
    result = Upload(file.name)
    run.upload = result
    context = await browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        await page.goto(f"{base}/upload")
        await page.locator('[data-testid="stFileUploaderDropzone"]').wait_for()
        await _finished(page, timeout_ms)
        dropped = time.monotonic()
        await page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(file))
        await page.get_by_text("校验报告").first.wait_for()
        await _finished(page, timeout_ms)
        result.preview_seconds = time.monotonic() - dropped
        result.started = time.monotonic() - t0
        await page.get_by_role("button", name="导入").first.click()
        await page.get_by_text("已导入为上传").first.wait_for()
        result.finished = time.monotonic() - t0
        await _finished(page, timeout_ms)
        result.message = (await page.get_by_text("已导入为上传").first.inner_text()).strip()
        result.ok = True
    except Exception as exc:
        result.message = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        upload_done.set()
        await context.close()


async def drive(base: str, sessions: int, file: Path | None, rounds: int, timeout_s: float) -> Run:
    from playwright.async_api import async_playwright

    run = Run(sessions)
    timeout_ms = int(timeout_s * 1000)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            upload_done = asyncio.Event()
            t0 = time.monotonic()
            tasks = [browse(browser, base, i, run, t0, upload_done, rounds, timeout_ms) for i in range(sessions)]
            if file is not None:
                tasks.append(upload(browser, base, file, run, t0, upload_done, timeout_ms))
            else:
                upload_done.set()
            await asyncio.gather(*tasks)
        finally:
            await browser.close()
    return run


def summary(run: Run) -> dict:
    """Page times overall and per page, problems, and the loads that overlapped the ingest."""
    times = [load.seconds for load in run.loads if load.problem is None]
    up = run.upload
    overlapping = 0
    if up and up.started is not None and up.finished is not None:
        overlapping = sum(
            1 for load in run.loads if load.started < up.finished and load.started + load.seconds > up.started
        )

    def stats(values: list[float]) -> dict:
        return {
            "loads": len(values),
            "median": statistics.median(values) if values else None,
            "p95": percentile(values, 0.95),
            "max": max(values) if values else None,
        }

    per_page = {
        path: stats([load.seconds for load in run.loads if load.page == path and load.problem is None])
        for path, _ in PAGES
    }
    return {
        "sessions": run.sessions,
        "overall": stats(times),
        "per_page": per_page,
        "problems": [asdict(load) for load in run.loads if load.problem],
        "upload": asdict(up) if up else None,
        "loads_during_ingest": overlapping,
        "loads": [asdict(load) for load in run.loads],
    }


def report(result: dict) -> str:
    o = result["overall"]
    fmt = lambda v: "—" if v is None else f"{v:.2f} s"  # noqa: E731
    lines = [
        f"{o['loads']} page loads by {result['sessions']} sessions: median {fmt(o['median'])}, "
        f"p95 {fmt(o['p95'])}, max {fmt(o['max'])}; {len(result['problems'])} problems",
    ]
    for path, s in result["per_page"].items():
        lines.append(f"  {path:<12} {s['loads']:>3} loads  median {fmt(s['median'])}  p95 {fmt(s['p95'])}")
    up = result["upload"]
    if up:
        took = f"{up['finished'] - up['started']:.1f} s" if up["ok"] else "—"
        lines.append(
            f"upload {up['file_name']}: {'loaded' if up['ok'] else 'FAILED'} ({up['message']}); ingest took {took}; "
            f"{result['loads_during_ingest']} page loads overlapped it"
        )
    for problem in result["problems"][:10]:
        lines.append(f"  problem: session {problem['session']} {problem['page']}: {problem['problem']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="a running app (local mode)")
    target.add_argument("--db", type=Path, help="start `streamlit run app.py` on this database (no users in it)")
    parser.add_argument("--sessions", type=int, default=10, help="browsing sessions at once (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="least rounds through all pages per session")
    parser.add_argument("--upload", type=Path, help="a file the analyst session loads through the upload page")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a page may take before it is a problem")
    parser.add_argument("--json", type=Path, help="write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    proc = None
    base = args.url
    if args.db is not None:
        proc, base = _start(args.db, args.db.parent / "streamlit-logs")
    try:
        run = asyncio.run(drive(base.rstrip("/"), args.sessions, args.upload, args.rounds, args.timeout))
    finally:
        if proc is not None:
            _stop(proc)
    result = summary(run)
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    upload_failed = result["upload"] is not None and not result["upload"]["ok"]
    return 1 if result["problems"] or upload_failed else 0


if __name__ == "__main__":
    sys.exit(main())
