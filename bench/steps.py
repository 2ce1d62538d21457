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
def generate(
    out_dir: str, events: int, peer: bool = False, towns: int | None = None, cases: bool | None = None
) -> dict:
    """The input files (bench.generate), over ``towns`` towns (default ``TOWNS``).

    A peer log is the events in UTF-8 only; ``cases=True`` adds their case export to it (the growth log,
    whose events are also the peers' when it has their size).
    """
    from bench import generate as gen

    started = time.perf_counter()
    files = gen.write_logs(
        Path(out_dir),
        events,
        with_cases=not peer if cases is None else cases,
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
    """Our full load (read, map, normalise, validate, write, derived figures, the KPI cubes) of one file."""
    import metrics  # noqa: F401  (its cubes are kept by every write, as in the app and the command line)
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
def pages(
    db: str, repeat: int = 5, fast: bool = True, kept: bool = True, draws: bool | list = False, draw_repeat: int = 2
) -> dict:
    """Every page's queries, uncached: per page, the first run and the median of the rest.

    For the default view, ``kept=True`` calls them as the pages do (``metrics.precomputed_views.call``: the
    figures kept after the load where there are some); ``kept=False`` computes every call. ``draws`` adds
    the drawn views (:mod:`bench.draws`: ``True`` draws them from this database, a list gives them), each
    called as the pages do (nothing kept for any of them: computed live), per view the median of
    ``draw_repeat`` runs after a first one (0: the first alone); per page their median, their maximum and
    the slowest view.
    """
    from dataclasses import replace

    from bench import draws as drawn
    from metrics import precomputed_columns, precomputed_views
    from metrics.page_queries import PAGES, default_context, page_filters
    from store.db import Database

    database = Database(db, read_only=True)

    cur = database.cursor()
    context = default_context(cur)
    month = f"{context.filters.start:%Y-%m}"
    views = (drawn.drawn_views(cur, month) if draws is True else list(draws)) if draws else []
    contexts = [drawn.context(cur, view) for view in views]
    out: dict[str, dict] = {}

    def run_page(queries, ctx, runs: int, per_query: dict[str, list[float]]) -> list[float]:
        totals = []
        for _ in range(runs):
            started = time.perf_counter()  # the pages read the data's fingerprint once per data version
            seen = precomputed_views.fingerprint(database.cursor()) if kept else None
            total = time.perf_counter() - started
            for i, (name, query) in enumerate(queries.items()):
                cur = database.cursor()
                started = time.perf_counter()
                if kept:
                    precomputed_views.call(cur, query.fn, query.args(ctx), seen=seen)
                else:
                    query.fn(cur, *query.args(ctx))
                took = time.perf_counter() - started
                cur.close()
                total += took
                per_query.setdefault(f"{i:02d} {name}", []).append(took)
            totals.append(total)
        return totals

    switch = precomputed_columns.disabled() if not fast else _null()
    with switch:
        for page, queries in PAGES.items():
            per_query: dict[str, list[float]] = {}
            runs = run_page(queries, context, max(repeat, 1) + 1, per_query)
            first, rest = runs[0], runs[1:]
            out[page] = {
                "first_seconds": first,
                "median_seconds": statistics.median(rest),
                "queries": {k: statistics.median(v[1:]) for k, v in per_query.items()},
            }
            if not views:
                continue
            seconds: list[float] = []
            slowest_queries: dict[str, float] = {}
            for ctx in contexts:
                ctx = replace(ctx, filters=page_filters(page, ctx.filters))  # as the page itself narrows them
                per_query = {}
                runs = run_page(queries, ctx, max(draw_repeat, 0) + 1, per_query)
                kept_runs = slice(1, None) if draw_repeat > 0 else slice(None)  # 0: the one run is the time
                seconds.append(statistics.median(runs[kept_runs]))
                for k, v in per_query.items():
                    slowest_queries[k] = max(slowest_queries.get(k, 0.0), statistics.median(v[kept_runs]))
            slowest = max(range(len(seconds)), key=seconds.__getitem__)
            out[page] |= {
                "drawn_seconds": seconds,
                "drawn_median_seconds": statistics.median(seconds),
                "drawn_max_seconds": seconds[slowest],
                "drawn_slowest": drawn.label(views[slowest]),
                "drawn_queries_max": slowest_queries,
            }
    database.close()
    return {
        "month": context.filters.label(),
        "pages": out,
        "draws": views,
        "draw_labels": [drawn.label(v) for v in views],
    }


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
def demo(db: str) -> dict:
    """The demo town's database (``cli.py demo --db PATH``, as a user makes one): the browser's town scale."""
    import subprocess

    _fresh(db)
    started = time.perf_counter()
    subprocess.run([sys.executable, "cli.py", "demo", "--db", db], cwd=Path(__file__).resolve().parent.parent,
                   check=True, capture_output=True)  # fmt: skip
    seconds = time.perf_counter() - started
    import duckdb

    con = duckdb.connect(db, read_only=True)
    events, cases = con.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM cases)").fetchone()
    con.close()
    return {"seconds": seconds, "events": events, "cases": cases}


@step
def browser(dbs: dict[str, str], work: str, runs: int = 3, variants: bool = False) -> dict:
    """The app in Debian's Chromium on each database (label → path), beside the floor page (bench.browser)."""
    from bench.browser import time_pages

    return time_pages({label: Path(db) for label, db in dbs.items()}, Path(work), runs=runs, variants=variants)


def main(argv: list[str]) -> None:
    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = STEPS[name](**args)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
