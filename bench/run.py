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
- the queries behind every page for the default view (latest month), uncached, median of repeated runs;
- the overview page in Chromium (``streamlit run app.py`` on the bench database);
- the bottleneck figures (case durations, directly-follows edge times, department handovers) by pm4py,
  by plain pandas and by us, on the same log of up to a million events: with the log loaded, and from
  the CSV file.

The machine is shared, so targets are ratios measured in the same run (absolute times vary with load).
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
    "ingest_vs_ctas": 2.0,  # full ingest of the UTF-8 file / plain CREATE TABLE AS
    "ingest_peak_bytes": GIB,  # at 10M events
    "append_vs_alone": 1.5,  # appending a month / loading it into an empty database
    "page_seconds": 0.2,  # every page's queries, in total, at 10M events
    "loaded_vs_pm4py": 50.0,  # pm4py's time / ours, the log loaded
    "csv_vs_pm4py": 5.0,  # pm4py's time / ours, from the CSV file
    "browser_seconds": 2.0,  # overview drawn in Chromium at 10M events
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
    peer_csv = files["events_utf8"]
    if files["events"] > args.peer_events:
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

    log("every page's queries (default view, uncached): kept figures, and computed live …")
    steps["pages"] = run_step("pages", log, db=main_db, repeat=args.repeat)
    steps["pages_live"] = run_step("pages", log, db=main_db, repeat=args.repeat, kept=False)
    if args.straightforward:
        steps["pages_straightforward"] = run_step("pages", log, db=main_db, repeat=1, fast=False, kept=False)

    if not args.skip_browser:
        log("the overview page in Chromium …")
        steps["browser"] = run_step("browser", log, db=main_db, runs=3)

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


def summarise(results: dict) -> list[dict]:
    """The table rows: measurement, seconds, comparison, peak memory, target and whether it is met."""
    s = results["steps"]
    rows: list[dict] = []

    def row(name, seconds, *, vs=None, ratio=None, peak=None, target=None, met=None, note=None):
        rows.append({"measurement": name, "seconds": seconds, "vs": vs, "ratio": ratio, "peak_rss_bytes": peak,
                     "target": target, "met": met, "note": note})  # fmt: skip

    def sec(key, field="seconds"):
        return s.get(key, {}).get(field)

    ctas = sec("ctas")
    row("floor: SELECT count(*) FROM read_csv", sec("floor"), peak=s["floor"]["peak_rss_bytes"])
    row("plain CREATE TABLE AS (new file)", ctas, peak=s["ctas"]["peak_rss_bytes"])
    r = _ratio(sec("ingest_utf8"), ctas)
    peak = s["ingest_utf8"]["peak_rss_bytes"]
    row("our ingest, UTF-8 (new file)", sec("ingest_utf8"), vs="CTAS", ratio=r, peak=peak,
        target=f"≤ {TARGETS['ingest_vs_ctas']}× CTAS, ≤ 1 GiB",
        met=r is not None and r <= TARGETS["ingest_vs_ctas"] and peak <= TARGETS["ingest_peak_bytes"])  # fmt: skip
    row("our ingest, GBK (new file)", sec("ingest_gbk"), vs="CTAS", ratio=_ratio(sec("ingest_gbk"), ctas),
        peak=s["ingest_gbk"]["peak_rss_bytes"])  # fmt: skip
    row("our ingest of the case export (same DB)", sec("ingest_cases"), peak=s["ingest_cases"]["peak_rss_bytes"])
    alone, append = sec("month_alone"), sec("month_append")
    r = _ratio(append, alone)
    row("one more month, into an empty DB", alone, peak=s["month_alone"]["peak_rss_bytes"])
    row("one more month, appended to the loaded DB", append, vs="alone", ratio=r,
        peak=s["month_append"]["peak_rss_bytes"], target=f"≤ {TARGETS['append_vs_alone']}× alone",
        met=r is not None and r <= TARGETS["append_vs_alone"])  # fmt: skip
    if "month_refresh" in s:
        row("  then the kept figures refreshed", sec("month_refresh"), peak=s["month_refresh"]["peak_rss_bytes"],
            note=f"{', '.join(s['month_refresh']['months'])}")  # fmt: skip
    if "refresh" in s:
        row("kept figures computed after the load", sec("refresh"), peak=s["refresh"]["peak_rss_bytes"],
            note=f"{s['refresh']['kept']} calls of {', '.join(s['refresh']['months'])}")  # fmt: skip
    pages = s["pages"]["pages"]
    for page, timing in pages.items():
        seconds = timing["median_seconds"]
        row(f"page queries: {page} ({s['pages']['month']}, kept figures, median)", seconds,
            note=f"first run {timing['first_seconds']:.3f} s", peak=s["pages"]["peak_rss_bytes"],
            target=f"≤ {TARGETS['page_seconds']} s", met=seconds <= TARGETS["page_seconds"])  # fmt: skip
    for page, timing in s.get("pages_live", {}).get("pages", {}).items():
        row(f"page queries: {page}, computed live (any other filter)", timing["median_seconds"],
            note=f"first run {timing['first_seconds']:.3f} s", peak=s["pages_live"]["peak_rss_bytes"])  # fmt: skip
    if "pages_straightforward" in s:
        for page, timing in s["pages_straightforward"]["pages"].items():
            row(f"page queries: {page}, straightforward SQL (no figures kept per event)", timing["median_seconds"])
    if "browser" in s and "first_seconds" in s["browser"]:
        b = s["browser"]
        floor = b.get("floor") or {}
        if floor:
            row("floor: a Streamlit page of one tile and one Plotly chart, first visit", floor["first_seconds"],
                note=f"later visits {floor['later_seconds']:.2f} s" if floor.get("later_seconds") else None)  # fmt: skip
        row("overview drawn in Chromium, first visit", b["first_seconds"], vs="floor page",
            ratio=_ratio(b["first_seconds"], floor.get("first_seconds")),
            note=f"later visits (app cache) {b['later_seconds']:.2f} s" if b.get("later_seconds") else None,
            target=f"≤ {TARGETS['browser_seconds']} s", met=b["first_seconds"] <= TARGETS["browser_seconds"])  # fmt: skip
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
        if r["ratio"] is None:
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
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="size of the generated log (default 10M)")
    parser.add_argument("--towns", type=int, default=TOWNS, help=f"towns the log spreads over (default {TOWNS})")
    parser.add_argument("--peer-events", type=int, default=1_000_000, help="log size for pm4py/pandas (default 1M)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each page's queries after the first (median)")
    parser.add_argument("--out", type=Path, default=OUT, help="where results go (default bench/out)")
    parser.add_argument("--work", type=Path, help="scratch folder for logs and databases (default OUT/work-N)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and databases")
    parser.add_argument("--skip-browser", action="store_true", help="do not time the page in Chromium")
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
