"""The benchmark: one command, every measurement side by side in one run (issue 7).

    .venv/bin/python bench/run.py --events 10000000     # the county-scale run (tens of minutes)
    .venv/bin/python bench/run.py --events 2000         # tiny: proves the harness works (CI)

It writes a demo-shaped event log of the given size spread over a demo county of 20 towns (CSV in
UTF-8, and the same text in GBK, plus the matching case export and one more month: each one
county-wide file with a 乡镇 column, and case ids repeating between towns), then measures, each step
in a process of its own (its time taken inside, its peak memory read from the operating system when
it ends):

- the floor: DuckDB ``SELECT count(*) FROM read_csv(file)``; plain ``CREATE TABLE AS`` into a new file;
- our full load of the UTF-8 and the GBK file into a new database;
- the next month appended to the loaded database, against loading that month alone;
- the queries behind every page, uncached, as the pages call them (``precomputed_views.call``): for the
  default view (latest month, kept figures), median of repeated runs; and for a fixed, seeded set of drawn
  views (``bench.draws``: a department, an item, a channel, a town, an older month, a department with a
  channel, two towns, an item two months back; computed live), their median and slowest;
- growth: when ``--events`` is larger than ``--growth-events`` (1M), a log of that size over the same towns
  is loaded too and the same pages, the same drawn views, timed on it (the bigger run ÷ the smaller);
- the app in Chromium (``streamlit run app.py``), on the bench database and on the demo town's
  (``cli.py demo``): the overview opened from a link, a month and then a department chosen in the
  sidebar, beside a floor page's first visit and its own rerun after a widget change (``bench.browser``);
- the bottleneck figures (case durations, directly-follows edge times, department handovers) by pm4py,
  by plain pandas and by us, on the same log of up to a million events: with the log loaded, and from
  the CSV file.

The machine is shared, so the targets are ratios measured in the same run (absolute times vary with load),
but for the pages' 0.2 s and the ingest's 1 GiB.
Results: a table on stdout, and ``bench/out/results-<events>.json`` / ``.md`` (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

OUT = ROOT / "bench" / "out"
GIB = 1 << 30
#: The demo county's towns (bench.generate.TOWNS; not imported: this process stays standard library only).
TOWNS = 20

#: The targets of issue 7, as ratios or limits measured in the same run.
TARGETS = {
    "ingest_vs_ctas": 4.0,  # full ingest of the UTF-8 file / plain CREATE TABLE AS, at 10M events
    "gbk_vs_utf8": 1.2,  # full ingest of the GBK file / of the UTF-8 file
    "ingest_peak_bytes": GIB,  # either ingest, at 10M events
    "append_vs_alone": 1.5,  # appending a month (what the load maintains included) / loading it into an empty DB
    "page_seconds": 0.2,  # every page's queries, in total, default view and each drawn view, at 10M events
    "drawn_vs_default": 1.5,  # a page's slowest drawn view / its default view
    "growth": 2.0,  # a page's queries at --events / at --growth-events (10M / 1M), default and slowest drawn view
    "loaded_vs_pm4py": 30.0,  # pm4py's time / ours, the log loaded
    "csv_vs_pm4py": 3.0,  # pm4py's time / ours, from the CSV file
    "link_vs_floor": 1.3,  # the overview opened from a link / the floor page's first visit, in Chromium
    "change_vs_floor_rerun": 2.0,  # a month or department chosen in the sidebar / the floor page's rerun
}


#: The floor's variants (bench.browser.FLOOR_VARIANTS) as the table names them.
FLOOR_VARIANT_TEXT = {
    "tiles10": "10 tiles (the overview's)",
    "charts5": "4 more charts (the bottleneck page's 5)",
    "dataframe2": "two 20-row tables in st.dataframe (the overview's)",
    "table2": "the same two tables as HTML (st.table)",
}


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["memory_gib"] = round(int(mem[1]) / (1 << 20), 1)
        model = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        info["cpu"] = model[0].split(":", 1)[1].strip() if model else platform.processor()
    except OSError:
        pass
    versions = {}
    for name in ("duckdb", "pandas", "pm4py", "streamlit", "playwright"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = None
    info["versions"] = versions
    return info


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_step(name: str, log, **args) -> dict:
    """Run ``bench.steps`` ``name`` in a new process; its result with ``peak_rss_bytes`` and ``wall_seconds``."""
    command = [sys.executable, "-m", "bench.steps", name, json.dumps(args, default=str)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"step {name} failed ({proc.returncode}):\n{stderr[-4000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_bytes"] = usage.ru_maxrss * 1024  # Linux reports kilobytes
    result["wall_seconds"] = wall
    shown = result.get("seconds", result.get("first_seconds"))
    log(f"  {name} {json.dumps(args, default=str)[:90]}: {shown if shown is None else round(shown, 3)} s, "
        f"peak {result['peak_rss_bytes'] / (1 << 20):.0f} MiB")  # fmt: skip
    return result


def benchmark(args: argparse.Namespace, log=print) -> dict:
    work = Path(args.work or OUT / f"work-{args.events}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    results: dict = {
        "events_requested": args.events,
        "command": " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]) if args.from_cli else None,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average_start": load_average(),
        "steps": {},
    }
    steps = results["steps"]

    # This process stays small (standard library only): a child's peak memory as Linux reports it
    # includes what it inherited from the parent at fork, so the parent must not hold the data.
    log(f"generating a demo-shaped log of about {args.events:,} events in {work} …")
    files = run_step("generate", log, out_dir=str(work / "log"), events=args.events, towns=args.towns)
    results["log"] = files
    results["towns"] = args.towns
    log(f"  {files['events']:,} events of {files['cases_count']:,} cases in {args.towns} towns; "
        f"next month {files['month_events_count']:,}")  # fmt: skip
    growth = 0 < args.growth_events < args.events  # the asked sizes: a generated log is a little over its size
    if growth:
        results["growth_log"] = run_step(
            "generate", log, out_dir=str(work / "growth"), events=args.growth_events, peer=True, cases=True,
            towns=args.towns,
        )  # fmt: skip
    peer_csv = files["events_utf8"]
    if files["events"] > args.peer_events:
        if growth and args.growth_events == args.peer_events:  # the same generator, size and towns: the same events
            peer = results["growth_log"]
        else:
            peer = run_step(
                "generate", log, out_dir=str(work / "peer"), events=args.peer_events, peer=True, towns=args.towns
            )
        peer_csv = peer["events_utf8"]
        results["peer_log"] = peer
    else:
        results["peer_log"] = {"events_utf8": peer_csv, "events": files["events"]}

    main_db, utf8, gbk = str(work / "bench.duckdb"), files["events_utf8"], files["events_gbk"]
    log("floor, plain CREATE TABLE AS, our ingest …")
    steps["floor"] = run_step("floor", log, csv=utf8)
    steps["ctas"] = run_step("ctas", log, csv=utf8, db=str(work / "ctas.duckdb"))
    Path(work / "ctas.duckdb").unlink(missing_ok=True)
    steps["ingest_utf8"] = run_step("ingest", log, csv=utf8, db=main_db, kind="events")
    steps["ingest_gbk"] = run_step("ingest", log, csv=gbk, db=str(work / "gbk.duckdb"), kind="events")
    for leftover in work.glob("gbk.duckdb*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()

    log("the rest of the county's data: case export and catalogue …")
    steps["ingest_cases"] = run_step("ingest", log, csv=files["cases"], db=main_db, kind="cases", fresh=False)
    steps["catalog"] = run_step("catalog", log, db=main_db, path=str(work / "catalog.csv"))
    log("the pages' figures for the latest months, kept after the load …")
    steps["refresh"] = run_step("refresh", log, db=main_db)

    log("every page's queries, uncached: the default view (kept figures) and the drawn views (computed live) …")
    steps["pages"] = run_step("pages", log, db=main_db, repeat=args.repeat, draws=True, draw_repeat=args.draw_repeat)
    if args.straightforward:
        steps["pages_straightforward"] = run_step("pages", log, db=main_db, repeat=1, fast=False, kept=False)

    if growth:
        g = results["growth_log"]
        log(f"growth: the same pages on a {g['events']:,}-event log of the same towns, the same drawn views …")
        growth_db = str(work / "growth.duckdb")
        steps["growth_ingest"] = run_step("ingest", log, csv=g["events_utf8"], db=growth_db, kind="events")
        steps["growth_cases"] = run_step("ingest", log, csv=g["cases"], db=growth_db, kind="cases", fresh=False)
        run_step("catalog", log, db=growth_db, path=str(work / "catalog.csv"))
        steps["growth_refresh"] = run_step("refresh", log, db=growth_db)
        steps["growth_pages"] = run_step(
            "pages", log, db=growth_db, repeat=args.repeat, draws=steps["pages"]["draws"], draw_repeat=args.draw_repeat
        )

    if not args.skip_browser:
        dbs = {"bench": main_db}
        if not args.skip_town_browser:
            log("the demo town's database (cli.py demo), for the browser at town scale …")
            town_db = str(work / "town" / "demo.duckdb")
            Path(town_db).parent.mkdir(exist_ok=True)
            steps["town_demo"] = run_step("demo", log, db=town_db)
            dbs = {"town": town_db} | dbs
        log("the app in Chromium beside the floor page: opened from a link, a month and a department chosen …")
        steps["browser"] = run_step(
            "browser", log, dbs=dbs, work=str(work), runs=args.browser_runs, variants=not args.skip_floor_variants
        )

    log("one more month: alone, and appended to the loaded database …")
    month = files["month_events"]
    steps["month_alone"] = run_step("ingest", log, csv=month, db=str(work / "month.duckdb"), kind="events")
    steps["month_append"] = run_step("ingest", log, csv=month, db=main_db, kind="events", fresh=False)
    steps["month_refresh"] = run_step("refresh", log, db=main_db)

    if not args.skip_peers:
        log(f"bottleneck figures on the same {results['peer_log']['events']:,}-event log: pm4py, pandas, ours …")
        peer_db = str(work / "peer.duckdb")
        steps["csv_ours"] = run_step("peer_from_csv", log, tool="ours", csv=str(peer_csv), db=peer_db)
        steps["loaded_ours"] = run_step("peer_loaded", log, tool="ours", csv=str(peer_csv), db=peer_db)
        steps["loaded_pandas"] = run_step("peer_loaded", log, tool="pandas", csv=str(peer_csv))
        steps["csv_pandas"] = run_step("peer_from_csv", log, tool="pandas", csv=str(peer_csv))
        steps["loaded_pm4py"] = run_step("peer_loaded", log, tool="pm4py", csv=str(peer_csv), repeat=1)
        steps["csv_pm4py"] = run_step("peer_from_csv", log, tool="pm4py", csv=str(peer_csv))

    results["load_average_end"] = load_average()
    results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    results["summary"] = summarise(results)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def _size(events: int) -> str:
    """9,988,467 -> 10.0M; 20,389 -> 20k: a log's size in a target's words."""
    return f"{events / 1e6:.1f}M" if events >= 1_000_000 else f"{events / 1e3:.0f}k" if events >= 1000 else str(events)


def summarise(results: dict) -> list[dict]:
    """The table rows: measurement, seconds, comparison, peak memory, target and whether it is met."""
    s = results["steps"]
    rows: list[dict] = []

    def row(name, seconds, *, vs=None, ratio=None, peak=None, target=None, met=None, note=None, comparison=None):
        rows.append({"measurement": name, "seconds": seconds, "vs": vs, "ratio": ratio, "peak_rss_bytes": peak,
                     "target": target, "met": met, "note": note, "comparison": comparison})  # fmt: skip

    def sec(key, field="seconds"):
        return s.get(key, {}).get(field)

    def at_most(value, limit):
        return value is not None and value <= limit

    ctas = sec("ctas")
    row("floor: SELECT count(*) FROM read_csv", sec("floor"), peak=s["floor"]["peak_rss_bytes"])
    row("plain CREATE TABLE AS (new file)", ctas, peak=s["ctas"]["peak_rss_bytes"])
    utf8 = sec("ingest_utf8")
    r = _ratio(utf8, ctas)
    peak = s["ingest_utf8"]["peak_rss_bytes"]
    row("our ingest, UTF-8 (new file)", utf8, vs="CTAS", ratio=r, peak=peak,
        target=f"≤ {TARGETS['ingest_vs_ctas']}× CTAS, ≤ 1 GiB",
        met=at_most(r, TARGETS["ingest_vs_ctas"]) and peak <= TARGETS["ingest_peak_bytes"])  # fmt: skip
    r, peak = _ratio(sec("ingest_gbk"), utf8), s["ingest_gbk"]["peak_rss_bytes"]
    row("our ingest, GBK (new file)", sec("ingest_gbk"), vs="UTF-8 ingest", ratio=r, peak=peak,
        note=f"{_ratio(sec('ingest_gbk'), ctas):.2f}× CTAS" if ctas else None,
        target=f"≤ {TARGETS['gbk_vs_utf8']}× UTF-8, ≤ 1 GiB",
        met=at_most(r, TARGETS["gbk_vs_utf8"]) and peak <= TARGETS["ingest_peak_bytes"])  # fmt: skip
    row("our ingest of the case export (same DB)", sec("ingest_cases"), peak=s["ingest_cases"]["peak_rss_bytes"])
    alone, append = sec("month_alone"), sec("month_append")
    r = _ratio(append, alone)
    row("one more month, into an empty DB", alone, peak=s["month_alone"]["peak_rss_bytes"])
    row("one more month, appended to the loaded DB", append, vs="alone", ratio=r,
        peak=s["month_append"]["peak_rss_bytes"], target=f"≤ {TARGETS['append_vs_alone']}× alone",
        met=r is not None and r <= TARGETS["append_vs_alone"])  # fmt: skip
    if "month_refresh" in s:
        note = ", ".join(s["month_refresh"]["months"])
        both = _ratio((append or 0) + sec("month_refresh"), alone)
        row("  then the kept figures refreshed", sec("month_refresh"), peak=s["month_refresh"]["peak_rss_bytes"],
            note=f"{note}; the append and this {both:.2f}× alone" if both else note)  # fmt: skip
    if "refresh" in s:
        row("kept figures computed after the load", sec("refresh"), peak=s["refresh"]["peak_rss_bytes"],
            note=f"{s['refresh']['kept']} calls of {', '.join(s['refresh']['months'])}")  # fmt: skip
    pages, month = s["pages"]["pages"], s["pages"]["month"]
    n_drawn = len(s["pages"].get("draws") or ())
    for page, timing in pages.items():
        default = timing["median_seconds"]
        row(f"page queries: {page}, default view ({month}, kept figures, median)", default,
            note=f"first run {timing['first_seconds']:.3f} s", peak=s["pages"]["peak_rss_bytes"],
            target=f"≤ {TARGETS['page_seconds']} s", met=default <= TARGETS["page_seconds"])  # fmt: skip
        if "drawn_max_seconds" in timing:
            most = timing["drawn_max_seconds"]
            r = _ratio(most, default)
            row(f"page queries: {page}, {n_drawn} drawn views (computed live, slowest)", most, vs="default view",
                ratio=r, note=f"median {timing['drawn_median_seconds']:.3f} s; slowest: {timing['drawn_slowest']}",
                target=f"≤ {TARGETS['page_seconds']} s, ≤ {TARGETS['drawn_vs_default']}× default",
                met=most <= TARGETS["page_seconds"] and at_most(r, TARGETS["drawn_vs_default"]))  # fmt: skip
    if "growth_pages" in s:
        big, small = results["log"]["events"], results["growth_log"]["events"]
        for page, timing in s["growth_pages"]["pages"].items():
            mine = pages[page]
            by_default = _ratio(mine["median_seconds"], timing["median_seconds"])
            by_drawn = _ratio(mine.get("drawn_max_seconds"), timing.get("drawn_max_seconds"))
            shown = [f"default {by_default:.2f}×"] + ([f"slowest drawn {by_drawn:.2f}×"] if by_drawn else [])
            row(f"growth: {page} page queries at {small:,} events, slowest drawn view",
                timing.get("drawn_max_seconds"), comparison=f"{big:,} ÷ {small:,} events: {', '.join(shown)}",
                note=f"default view {timing['median_seconds']:.3f} s", peak=s["growth_pages"]["peak_rss_bytes"],
                target=f"≤ {TARGETS['growth']}× ({_size(big)} ÷ {_size(small)})",
                met=at_most(by_default, TARGETS["growth"]) and (by_drawn is None or by_drawn <= TARGETS["growth"]))  # fmt: skip
    if "pages_straightforward" in s:
        for page, timing in s["pages_straightforward"]["pages"].items():
            row(f"page queries: {page}, straightforward SQL (default view, nothing kept)", timing["median_seconds"])
    if "floor" in s.get("browser", {}):
        b = s["browser"]
        floor, runs = b["floor"], b.get("runs")
        link_goal, change_goal = TARGETS["link_vs_floor"], TARGETS["change_vs_floor_rerun"]
        row("floor: a Streamlit page of one tile, one Plotly chart and a selectbox, first visit", floor["first_seconds"],
            note=f"median of {runs} fresh servers" if runs != 1 else "one fresh server")  # fmt: skip
        row("floor: its rerun after an option is chosen in the selectbox", floor["rerun_seconds"],
            note=f"median of {len(floor['reruns'])}")  # fmt: skip
        for name, variant in b.get("variants", {}).items():
            row(f"floor + {FLOOR_VARIANT_TEXT[name]}: first visit", variant["first_seconds"], vs="floor first visit",
                ratio=_ratio(variant["first_seconds"], floor["first_seconds"]))  # fmt: skip
            row(f"floor + {FLOOR_VARIANT_TEXT[name]}: rerun", variant["rerun_seconds"], vs="floor rerun",
                ratio=_ratio(variant["rerun_seconds"], floor["rerun_seconds"]))  # fmt: skip
        for label, app in b["apps"].items():
            if label == "town":
                demo = s.get("town_demo", {})
                scale = f"demo town ({demo.get('events', 0):,} events)"
            else:
                scale = f"{results['log']['events']:,} events, {results.get('towns', 1)} towns"
            r = _ratio(app["link_seconds"], floor["first_seconds"])
            row(f"browser, {scale}: overview opened from a link (fresh server)", app["link_seconds"],
                vs="floor first visit", ratio=r, target=f"≤ {link_goal}× floor first visit", met=at_most(r, link_goal),
                note=f"later visits (server warm) {app['later_seconds']:.2f} s" if app.get("later_seconds") else None)  # fmt: skip
            for what, key, chosen in (
                ("a month", "month", "months"),
                ("then a department (same month)", "department", "departments"),
            ):
                r = _ratio(app[f"{key}_seconds"], floor["rerun_seconds"])
                row(f"browser, {scale}: {what} chosen in the sidebar", app[f"{key}_seconds"], vs="floor rerun",
                    ratio=r, target=f"≤ {change_goal}× floor rerun", met=at_most(r, change_goal),
                    note=f"drawn: {', '.join(app[chosen])}")  # fmt: skip
    if "loaded_ours" in s:
        for prefix, label, goal, ours_label in (
            ("loaded", "figures, log loaded", "loaded_vs_pm4py", "ours"),
            ("csv", "figures from the CSV", "csv_vs_pm4py", "ours (load + figures)"),
        ):
            ours = sec(f"{prefix}_ours")
            for tool in ("pm4py", "pandas"):
                key = f"{prefix}_{tool}"
                r = _ratio(sec(key), ours)
                peer = tool == "pm4py"  # the target is set against pm4py; pandas is shown for scale
                row(f"{label}: {tool}", sec(key), vs="ours", ratio=r, peak=s[key]["peak_rss_bytes"],
                    target=f"≥ {TARGETS[goal]}× faster" if peer else None,
                    met=(r is not None and r >= TARGETS[goal]) if peer else None)  # fmt: skip
            row(f"{label}: {ours_label}", ours, peak=s[f"{prefix}_ours"]["peak_rss_bytes"])
    return rows


def table(results: dict) -> str:
    """The summary as a Markdown table (also what the README shows)."""
    lines = [
        "| measurement | seconds | comparison | peak memory | target | met |",
        "|---|---:|---|---:|---|:-:|",
    ]
    for r in results["summary"]:
        seconds = "—" if r["seconds"] is None else f"{r['seconds']:.3f}"
        if r.get("comparison"):
            comparison = r["comparison"]
        elif r["ratio"] is None:
            comparison = ""
        elif r["vs"] == "ours":
            comparison = f"ours is {r['ratio']:.1f}× faster"
        else:
            comparison = f"{r['ratio']:.2f}× {r['vs']}"
        if r["note"]:
            comparison = f"{comparison}; {r['note']}" if comparison else r["note"]
        peak = "" if r["peak_rss_bytes"] is None else f"{r['peak_rss_bytes'] / (1 << 20):,.0f} MiB"
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['measurement']} | {seconds} | {comparison} | {peak} | {r['target'] or ''} | {met} |")
    m = results["machine"]
    log = results["log"]
    lines.append("")
    lines.append(
        f"{log['events']:,} events ({log['utf8_bytes'] / 1e9:.2f} GB UTF-8) of {log['cases_count']:,} cases "
        f"in {results.get('towns', 1)} towns; "
        f"{m.get('nproc')} cores, {m.get('memory_gib')} GiB, {m.get('cpu')}; load average "
        f"{results.get('load_average_start')} → {results.get('load_average_end')}; DuckDB {m['versions'].get('duckdb')}, "
        f"pm4py {m['versions'].get('pm4py')}; {results['started']}."
    )
    if results.get("growth_log"):
        lines[-1] += f" Growth: a log of {results['growth_log']['events']:,} events over the same towns."
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="size of the generated log (default 10M)")
    parser.add_argument("--towns", type=int, default=TOWNS, help=f"towns the log spreads over (default {TOWNS})")
    parser.add_argument("--peer-events", type=int, default=1_000_000, help="log size for pm4py/pandas (default 1M)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each page's queries after the first (median)")
    parser.add_argument(
        "--draw-repeat", type=int, default=2, help="runs per drawn view after the first (median; 0: the first)"
    )
    parser.add_argument(
        "--growth-events", type=int, default=1_000_000,
        help="a log of this size too, the pages timed on it, when --events is larger (default 1M; 0: none)",
    )  # fmt: skip
    parser.add_argument("--browser-runs", type=int, default=3, help="fresh servers per page in Chromium (median)")
    parser.add_argument("--out", type=Path, default=OUT, help="where results go (default bench/out)")
    parser.add_argument("--work", type=Path, help="scratch folder for logs and databases (default OUT/work-N)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and databases")
    parser.add_argument("--skip-browser", action="store_true", help="do not time the pages in Chromium")
    parser.add_argument(
        "--skip-town-browser",
        action="store_true",
        help="time the browser on the bench database only (not the demo town's)",
    )
    parser.add_argument(
        "--skip-floor-variants", action="store_true", help="do not time the floor with the app's pieces added"
    )
    parser.add_argument("--skip-peers", action="store_true", help="do not run pm4py / pandas")
    parser.add_argument(
        "--straightforward", action="store_true", help="also time the pages without the kept figures (slow at scale)"
    )
    args = parser.parse_args(argv)
    args.from_cli = argv is None
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.work is None:
        args.work = args.out / f"work-{args.events}"
    results = benchmark(args)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"results-{args.events}"
    stem.with_suffix(".json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    text = table(results)
    stem.with_suffix(".md").write_text(text + "\n")
    print()
    print(text)
    print(f"\nwritten: {stem.with_suffix('.json')} and {stem.with_suffix('.md')}")
    return results


if __name__ == "__main__":
    main()
