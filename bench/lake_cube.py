"""The cube build from a lake on DuckDB and on Spark (issue 19 §6), measured in one run on one machine.

    .venv/bin/python bench/lake_cube.py --db DB --work DIR [--master local[2]]

Exports the database as a lake (``lake.export``), then builds the cube from it (``lake.cube_build``) on DuckDB and
on Spark (local mode: every core of this machine, in one JVM), each build twice (the first Spark build pays the
JIT and the session's warm-up; the second is the one reported), and checks that both cubes hold the same
number of cells. The cube is made from the cases (the period cells, the journeys, the backlog at each month end):
reported per engine are seconds and cases per second, and for Spark its throughput per core and per partition
(the lake's town × month partitions of cases: cases per second per core, seconds per partition and core), the
figures docs/SCALE.md plans a province from. Writes ``results-lake-cube-<events>.json`` in ``--work`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lake import cube_build  # noqa: E402
from lake.export import export  # noqa: E402
from lake.read import DuckDBLake  # noqa: E402
from store.db import Database  # noqa: E402


def _build(engine: Any, out: Path, name: str, repeats: int) -> dict[str, Any]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        manifest = cube_build.build(engine, out, name)
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, "rows": manifest["rows"]}


def measure(db_path: Path, work: Path, *, master: str = "local[*]", spark: Any = None, repeats: int = 2) -> dict:
    """Export, then build on both engines; ``spark`` reuses a session (a test's), else one is started."""
    from spark.lake import SparkLake

    lake_dir = work / "lake"
    shutil.rmtree(lake_dir, ignore_errors=True)
    db = Database(db_path, read_only=True)
    try:
        started = time.perf_counter()
        manifest = export(db.cursor(), lake_dir)
        export_seconds = time.perf_counter() - started
    finally:
        db.close()
    events, cases = manifest["rows"].get("events", 0), manifest["rows"].get("cases", 0)
    partitions = sum(1 for e in manifest["files"] if e["table"] == "cases")
    local = DuckDBLake(lake_dir)
    try:
        duck = _build(local, work / "cube-duckdb", "duckdb", repeats)
    finally:
        local.close()
    started = time.perf_counter()
    on_spark = SparkLake(lake_dir, master, spark=spark)
    session_seconds = time.perf_counter() - started
    try:
        cores = int(on_spark.spark.sparkContext.defaultParallelism)
        sparked = _build(on_spark, work / "cube-spark", "spark", repeats)
    finally:
        on_spark.close()
    if sparked["rows"] != duck["rows"]:
        raise SystemExit(f"the cubes differ: spark {sparked['rows']} duckdb {duck['rows']}")
    best = {"duckdb": min(duck["seconds"]), "spark": min(sparked["seconds"])}
    return {
        "events": events,
        "cases": cases,
        "lake_files": len(manifest["files"]),
        "case_partitions": partitions,
        "lake_bytes": sum(e["bytes"] for e in manifest["files"]),
        "export_seconds": export_seconds,
        "spark_session_seconds": session_seconds,
        "spark_cores": cores,
        "duckdb": duck,
        "spark": sparked,
        "spark_vs_duckdb": best["spark"] / best["duckdb"] if best["duckdb"] else None,
        "cases_per_second": {k: cases / v for k, v in best.items() if v},
        "spark_cases_per_second_per_core": cases / best["spark"] / cores if best["spark"] else None,
        "spark_seconds_per_partition_core": best["spark"] * cores / partitions if partitions else None,
        "cases_per_partition": cases / partitions if partitions else None,
        "events_per_partition": events / partitions if partitions else None,
        "cells": duck["rows"],
    }


def table(result: dict) -> str:
    lines = [
        f"cube build from the lake: {result['events']:,} events, {result['cases']:,} cases, "
        f"{result['case_partitions']} partitions of cases (town × month), {result['lake_bytes'] / 2**20:.0f} MiB",
        "",
        "| engine | build, s (runs) | cases/s | vs DuckDB |",
        "|---|---|---|---|",
    ]
    for name in ("duckdb", "spark"):
        runs = ", ".join(f"{s:.2f}" for s in result[name]["seconds"])
        best = min(result[name]["seconds"])
        ratio = best / min(result["duckdb"]["seconds"])
        lines.append(f"| {name} | {best:.2f} ({runs}) | {result['cases'] / best:,.0f} | {ratio:.2f}× |")
    lines.append("")
    lines.append(
        f"export {result['export_seconds']:.2f} s; Spark session start {result['spark_session_seconds']:.1f} s; "
        f"Spark on {result['spark_cores']} cores: {result['spark_cases_per_second_per_core']:,.0f} cases/s per core, "
        f"{result['spark_seconds_per_partition_core']:.3f} core-seconds per partition "
        f"({result['cases_per_partition']:,.0f} cases, {result['events_per_partition']:,.0f} events each)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a loaded database (bench/run.py's work-N/bench.duckdb)")
    parser.add_argument("--work", required=True, help="a folder for the lake and the two cubes")
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    result = measure(Path(args.db), work, master=args.master, repeats=args.repeats)
    result["load_average"] = os.getloadavg()
    (work / f"results-lake-cube-{result['events']}.json").write_text(json.dumps(result, indent=1))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
