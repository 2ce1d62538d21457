"""One measured step of the benchmark, run in a process of its own: ``python -m bench.steps STEP JSON``.

Each step prints one JSON object (its timings and counts) on its last stdout line. The time is taken
inside the process around the work itself (not the interpreter's start or imports); the parent reads
the process's peak memory (max RSS) when it ends.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

STEPS: dict[str, Callable[..., dict]] = {}


def step(fn: Callable[..., dict]) -> Callable[..., dict]:
    STEPS[fn.__name__] = fn
    return fn


def _fresh(db: str) -> None:
    """Remove a database file left by an earlier run (and its WAL and temp folder)."""
    import shutil

    for suffix in ("", ".wal"):
        Path(db + suffix).unlink(missing_ok=True)
    shutil.rmtree(db + ".tmp", ignore_errors=True)


@step
def generate(out_dir: str, events: int, peer: bool = False, towns: int | None = None) -> dict:
    """The input files (bench.generate), over ``towns`` towns (default ``TOWNS``); a peer log is the events in UTF-8 only."""
    from bench import generate as gen

    started = time.perf_counter()
    files = gen.write_logs(
        Path(out_dir),
        events,
        with_cases=not peer,
        with_gbk=not peer,
        with_next_month=not peer,
        towns=gen.TOWNS if towns is None else towns,
        log=lambda s: None,
    )
    result = files.as_dict()
    result["utf8_bytes"] = files.events_utf8.stat().st_size
    result["seconds"] = time.perf_counter() - started
    return result


@step
def floor(csv: str) -> dict:
    """DuckDB counting the file's rows: the least any loader must do."""
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM read_csv(?)", [csv]).fetchone()[0]
    return {"seconds": time.perf_counter() - started, "rows": rows}


@step
def ctas(csv: str, db: str) -> dict:
    """Plain ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` into a new database file."""
    import duckdb

    _fresh(db)
    started = time.perf_counter()
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [csv])
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


@step
def ingest(csv: str, db: str, kind: str = "auto", fresh: bool = True) -> dict:
    """Our full load (read, map, normalise, validate, write, derived figures) of one file."""
    from ingest.load import ingest_file
    from store.db import Database

    if fresh:
        _fresh(db)
    database = Database(db)  # a new file gets its schema and calendar here, outside the timing
    started = time.perf_counter()
    result = ingest_file(database, csv, kind=kind, loaded_by="bench")
    database.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": result.rows_loaded,
        "rejected": result.rows_rejected,
        "events": result.events_loaded,
        "cases": result.cases_loaded,
        "encoding": result.encoding,
    }


@step
def catalog(db: str, path: str) -> dict:
    """The demo's service catalogue (for the catalogue KPIs), written and loaded (the county's: no town)."""
    from demo import town
    from ingest.load import ingest_file
    from store.db import Database

    town.catalog_frame().to_csv(path, index=False)
    database = Database(db)
    result = ingest_file(database, path, kind="catalog", loaded_by="bench")
    database.close()
    return {"rows": result.rows_loaded}


@step
def pages(db: str, repeat: int = 5, fast: bool = True, kept: bool = True) -> dict:
    """Every page's queries for the default view, uncached: per page, the first run and the median of the rest.

    ``kept=True`` calls them as the pages do (``metrics.precomputed_views.call``: the figures kept after
    the load where there are some); ``kept=False`` computes every call, as for any other filter.
    """
    from metrics import precomputed_columns, precomputed_views
    from metrics.page_queries import PAGES, default_context
    from store.db import Database

    database = Database(db, read_only=True)

    cur = database.cursor()
    context = default_context(cur)
    out: dict[str, dict] = {}
    switch = precomputed_columns.disabled() if not fast else _null()
    with switch:
        for page, queries in PAGES.items():
            runs: list[float] = []
            per_query: dict[str, list[float]] = {}
            for _ in range(max(repeat, 1) + 1):
                started = time.perf_counter()  # the pages read the data's fingerprint once per data version
                seen = precomputed_views.fingerprint(database.cursor()) if kept else None
                total = time.perf_counter() - started
                for i, (name, query) in enumerate(queries.items()):
                    cur = database.cursor()
                    started = time.perf_counter()
                    if kept:
                        precomputed_views.call(cur, query.fn, query.args(context), seen=seen)
                    else:
                        query.fn(cur, *query.args(context))
                    took = time.perf_counter() - started
                    cur.close()
                    total += took
                    per_query.setdefault(f"{i:02d} {name}", []).append(took)
                runs.append(total)
            first, rest = runs[0], runs[1:]
            out[page] = {
                "first_seconds": first,
                "median_seconds": statistics.median(rest),
                "queries": {k: statistics.median(v[1:]) for k, v in per_query.items()},
            }
    database.close()
    return {"month": context.filters.label(), "pages": out}


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@step
def refresh(db: str) -> dict:
    """The pages' figures for the latest months computed and kept, as after every load (precomputed_views)."""
    from metrics import precomputed_views
    from store.db import Database

    database = Database(db)
    done = precomputed_views.refresh(database)
    database.close()
    return {"seconds": done["seconds"], "months": done["months"], "kept": done["kept"]}


@step
def peer_loaded(tool: str, csv: str, db: str | None = None, repeat: int = 3) -> dict:
    """The bottleneck figures with the log already loaded (pm4py / pandas frame, our database)."""
    from bench import peers

    if tool == "ours":
        from store.db import Database

        database = Database(db, read_only=True)
        run = lambda: peers.our_figures(database.cursor())  # noqa: E731
    else:
        frame = peers.read_csv(csv)
        if tool == "pm4py":
            log = peers.pm4py_log(frame)
            run = lambda: peers.pm4py_figures(log)  # noqa: E731
        else:
            run = lambda: peers.pandas_figures(frame)  # noqa: E731
    times, counts = [], {}
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        counts = run()
        times.append(time.perf_counter() - started)
    return {"seconds": statistics.median(times), "runs": times, "counts": counts}


@step
def peer_from_csv(tool: str, csv: str, db: str | None = None) -> dict:
    """From the CSV file to the bottleneck figures: read (and for us, load into a new database), then compute."""
    from bench import peers

    if tool == "ours":
        from ingest.load import ingest_file
        from store.db import Database

        _fresh(db)
        database = Database(db)  # an empty database, as a running app has (its creation not timed)
        started = time.perf_counter()
        ingest_file(database, csv, kind="events", loaded_by="bench")
        counts = peers.our_figures(database.cursor())
        database.close()
    else:
        started = time.perf_counter()
        frame = peers.read_csv(csv)
        counts = peers.pm4py_figures(peers.pm4py_log(frame)) if tool == "pm4py" else peers.pandas_figures(frame)
    return {"seconds": time.perf_counter() - started, "counts": counts}


@step
def browser(db: str, runs: int = 3) -> dict:
    """The overview page in Debian's Chromium: from navigation to fully drawn, first (cold) and later visits."""
    from bench.browser import time_overview

    return time_overview(Path(db), runs=runs)


def main(argv: list[str]) -> None:
    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = STEPS[name](**args)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
