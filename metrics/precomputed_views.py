"""The pages' default views, precomputed: their figures for the latest months, computed once after each
change of the data and kept in the ``kept_figures`` table (this module writes, through the single writer).

At county scale a page's queries take seconds (ten million events: the overview about 1.5 s, the
bottleneck page over 2 s), and what leaders open most is one view: a recent month, nothing else
chosen. After every load, removal or calendar change, :func:`refresh` runs every page's calls for
that view of the latest ``settings.KEPT_MONTHS`` months (as ``metrics.page_queries.PAGES`` declares
them) and stores the results; :func:`call` hands a kept result back (the very result the call
computes) and computes anything else live.

A kept result counts only for the data and the code it came from. Its row holds a fingerprint of
the data (the last upload, the removals, the calendar) and a digest of the metrics code and DuckDB
version; when either moves, the rows are simply not found. A call that counts as of today (the
running month) is keyed by the day, so tomorrow it is computed again. Targets, users and snapshots
do not enter any kept figure (the pages read targets live), so editing them keeps the rows.

Results are stored without pickle (a restored backup must not run code): frames as Arrow IPC,
everything else as JSON with tags for the types JSON lacks (dates, timestamps, tuples, NaN).
"""

from __future__ import annotations

import atexit
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

import clock
import scope
import settings
from metrics.county import published_towns
from metrics.filters import Filters
from metrics.page_queries import CASE_COUNT, PAGES, call_name, default_context
from metrics.targets import get_targets
from store.db import Database
from store.facets import filter_options
from store.rows import one

log = logging.getLogger("egov.kept")

#: Page calls always read live: targets are edited on their own page, snapshots are published on theirs, and
#: the filter options are already read from small tables.
READ_LIVE = frozenset({get_targets, filter_options, published_towns})

#: Functions whose results are kept: every other call of a page's default view (it reads only the loaded data).
KEPT_FUNCTIONS = frozenset(query.fn for queries in PAGES.values() for query in queries.values()) - READ_LIVE

#: Returned by :func:`lookup` when nothing is kept for the call.
MISSING = object()

#: What the kept figures were computed from, read in the same statement as the lookup.
FINGERPRINT_SQL = """
    (SELECT coalesce(max(upload_id), 0) || '.' || count(*) FILTER (WHERE status = 'removed') FROM uploads)
    || '/' || (SELECT md5(string_agg(CASE WHEN is_workday THEN '1' ELSE '0' END, '' ORDER BY day)) || '.' || min(day)
               FROM calendar)
"""


def _code_digest() -> str:
    """The metrics code and the DuckDB version: a kept figure from other code is not used."""
    digest = hashlib.sha256(f"{duckdb.__version__}/{settings.MIN_SAMPLE}".encode())  # the setting shapes findings
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


CODE = _code_digest()


def fingerprint(cur: duckdb.DuckDBPyConnection) -> str:
    return one(cur.execute(f"SELECT {FINGERPRINT_SQL}"))[0]


# ---- keys and payloads ------------------------------------------------------------------------


#: The filter dimensions after the period, in field order (a new field of Filters joins the key by itself).
_DIMENSIONS = [f.name for f in dataclasses.fields(Filters)][2:]


def _key_part(value: object) -> object:
    if isinstance(value, Filters):  # every field, so that no filter (a town) can be served another's figures
        return {"filters": [str(value.start), str(value.end), *(list(getattr(value, f)) for f in _DIMENSIONS)]}
    if isinstance(value, list | tuple):  # a list or a tuple of ids asks for the same figures
        return [_key_part(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot key a call on {type(value).__name__}")


def call_key(args: tuple, kwargs: dict, today: dt.date | None = None) -> str:
    """The call's arguments as text; with the day when any of its periods counts as of today."""
    today = today or Filters().as_of()
    periods = [a for a in (*args, *kwargs.values()) if isinstance(a, Filters)]
    as_of_today = any(p.end is None or p.end >= today for p in periods)
    return json.dumps(
        [_key_part(args), _key_part(sorted(kwargs.items())), str(today) if as_of_today else None],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _tag(value: object) -> object:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.generic):
        return _tag(value.item())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$f": repr(value)}
    if value is pd.NaT:
        return {"$nat": None}
    if isinstance(value, pd.Timestamp):
        return {"$ts": value.isoformat()}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, tuple):
        return {"$t": [_tag(v) for v in value]}
    if isinstance(value, dict):
        return {"$m": [[_tag(k), _tag(v)] for k, v in value.items()]}
    raise TypeError(f"cannot keep a {type(value).__name__}")


#: Tag -> how its JSON payload (text, a number, a list: whatever json.loads gave) becomes the value again.
_UNTAG: dict[str, Callable[[Any], object]] = {
    "$f": lambda v: float(v),
    "$nat": lambda v: pd.NaT,
    "$ts": lambda v: pd.Timestamp(v),
    "$dt": lambda v: dt.datetime.fromisoformat(v),
    "$d": lambda v: dt.date.fromisoformat(v),
    "$t": lambda v: tuple(_untag(x) for x in v),
    "$m": lambda v: {_untag(k): _untag(x) for k, x in v},
}


def _untag(value: object) -> object:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if isinstance(value, dict):
        ((tag, inner),) = value.items()
        return _UNTAG[tag](inner)
    return value


#: Arrow schema metadata naming the columns that held Python objects (kept as tagged JSON text).
_OBJECT_COLUMNS = b"egov_object_columns"


def encode(value: object) -> tuple[str, bytes]:
    """A result as (kind, bytes); TypeError for a result that cannot be kept exactly.

    A frame's typed columns go to Arrow as they are; a column of Python objects (ints beside None,
    say) would come back with another dtype, so its values are kept one by one as tagged JSON.
    """
    if isinstance(value, pd.DataFrame):
        if value.index.dtype == object or not value.columns.is_unique:
            raise TypeError("cannot keep a frame with an object index or repeated column names")
        objects = [c for c in value.columns if value[c].dtype == object]
        frame = value.copy(deep=False)
        for column in objects:
            frame[column] = [json.dumps(_tag(v), ensure_ascii=False, allow_nan=False) for v in value[column]]
        try:
            table = pa.Table.from_pandas(frame, preserve_index=True)
        except (pa.ArrowException, ValueError) as exc:
            raise TypeError(f"cannot keep this frame: {exc}") from exc
        metadata = dict(table.schema.metadata or {}) | {_OBJECT_COLUMNS: json.dumps(objects).encode()}
        table = table.replace_schema_metadata(metadata)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return "frame", sink.getvalue().to_pybytes()
    return "json", json.dumps(_tag(value), ensure_ascii=False, allow_nan=False).encode()


def decode(kind: str, payload: bytes) -> object:
    if kind == "frame":
        table = pa.ipc.open_stream(payload).read_all()
        frame = table.to_pandas()
        for column in json.loads(table.schema.metadata[_OBJECT_COLUMNS]):
            frame[column] = pd.Series([_untag(json.loads(v)) for v in frame[column]], index=frame.index, dtype=object)
        return frame
    return _untag(json.loads(payload))


# ---- reading and keeping ----------------------------------------------------------------------


def lookup(
    cur: duckdb.DuckDBPyConnection, fn: Callable, args: tuple, kwargs: dict | None = None, *, seen: str | None = None
) -> object:
    """The kept result of a page call ``fn(cur, *args, **kwargs)`` for the current data and code, or :data:`MISSING`.

    ``seen``: the data's :func:`fingerprint` when the caller has read it for this data version
    (the pages read it once per version); else it is read in the same statement.
    """
    if fn not in KEPT_FUNCTIONS:
        return MISSING
    try:
        key = call_key(args, kwargs or {})
    except TypeError:
        return MISSING
    current = "?" if seen is not None else f"({FINGERPRINT_SQL})"
    row = cur.execute(
        f"SELECT kind, payload FROM kept_figures WHERE code = ? AND name = ? AND call = ? AND fingerprint = {current}",
        [CODE, call_name(fn), key] + ([seen] if seen is not None else []),
    ).fetchone()
    return MISSING if row is None else decode(row[0], row[1])


def call(
    cur: duckdb.DuckDBPyConnection, fn: Callable, args: tuple, kwargs: dict | None = None, *, seen: str | None = None
) -> object:
    """A page's call ``fn(cur, *args, **kwargs)``: the kept result where there is one, else computed now.

    The kept figures are the county's: a run with a town scope (:mod:`scope`) always computes live.
    """
    if scope.current() is not None:
        return fn(cur, *args, **(kwargs or {}))
    found = lookup(cur, fn, args, kwargs, seen=seen)
    if found is not MISSING:
        return found
    return fn(cur, *args, **(kwargs or {}))


def is_fresh(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the latest month's default view is kept for this data, this code and today (or there is no data)."""
    months = latest_months(cur, 1)
    if not months:
        return True
    return lookup(cur, CASE_COUNT.fn, CASE_COUNT.args(default_context(cur, months[0]))) is not MISSING


def latest_months(cur: duckdb.DuckDBPyConnection, count: int) -> list[str]:
    rows = cur.execute(
        "SELECT DISTINCT month FROM case_facets WHERE month IS NOT NULL ORDER BY month DESC LIMIT ?", [count]
    ).fetchall()
    return [r[0] for r in rows]


def refresh(db: Database, months: int | None = None) -> dict:
    """Compute the default view of every page for the latest months, and keep it in place of what was kept.

    The figures are computed on a reader's cursor (readers are not held up), then written in one short
    transaction — unless the data changed meanwhile, in which case nothing is written (the writer of
    that change refreshes again). Returns what was done: months, calls kept, seconds.
    """
    started = time.perf_counter()
    if scope.current() is not None:  # never keep a town user's figures as the county's
        with scope.scoped(None):
            return refresh(db, months)
    cur = db.cursor()
    try:
        seen = fingerprint(cur)
        chosen = latest_months(cur, settings.KEPT_MONTHS if months is None else months)
        calls: dict[tuple[str, str], tuple[Callable, tuple]] = {}  # (name, key) → call: one run when pages share it
        for month in chosen:
            context = default_context(cur, month)
            for queries in PAGES.values():
                for query in queries.values():
                    if query.fn in KEPT_FUNCTIONS:
                        args = query.args(context)
                        calls.setdefault((query.name, call_key(args, {})), (query.fn, args))
        rows = []
        for (name, key), (fn, args) in calls.items():
            if db.job_waiting():  # a command-line job (the 06:00 snapshot, a backup) waits for the file
                log.info("keeping the page figures gave way to a command-line job")
                return {"months": chosen, "kept": 0, "stale": True, "gave_way": True,
                        "seconds": time.perf_counter() - started}  # fmt: skip
            result = fn(cur, *args)
            try:
                kind, payload = encode(result)
            except TypeError as exc:  # computed live instead; a test keeps every page call keepable
                log.warning("not kept: %s %s (%s)", name, key, exc)
                continue
            rows.append((CODE, seen, name, key, kind, payload))
    finally:
        cur.close()
    with db.write() as w:
        if fingerprint(w) != seen:
            log.info("data changed while the figures were computed; nothing kept")
            return {"months": chosen, "kept": 0, "stale": True, "seconds": time.perf_counter() - started}
        w.execute("DELETE FROM kept_figures")
        if rows:
            computed = clock.now()
            w.executemany("INSERT INTO kept_figures VALUES (?, ?, ?, ?, ?, ?, ?)", [[*r, computed] for r in rows])
    seconds = time.perf_counter() - started
    log.info("kept %d page figures of %s in %.1f s", len(rows), ", ".join(chosen) or "no month", seconds)
    return {"months": chosen, "kept": len(rows), "stale": False, "seconds": seconds}


_background = threading.Lock()
#: Databases (by path) with a refresh running in the background: True when another was asked meanwhile.
_asked_again: dict[str, bool] = {}


def refresh_soon(db: Database) -> threading.Thread | None:
    """:func:`refresh` in a background thread, so whoever changed the data does not wait for it.

    One runs at a time per database; asked again while it runs, it runs once more after. Until it
    has written, the pages compute their figures live (the kept rows no longer match the data).
    Returns the thread it started, or None when one already runs.
    """
    key = str(db.path)
    with _background:
        if key in _asked_again:
            _asked_again[key] = True
            return None
        _asked_again[key] = False

    def work() -> None:
        while True:
            try:
                done = refresh(db)
                while done.get("gave_way"):  # the job that waited is done: keep the figures then
                    while db.job_waiting():
                        time.sleep(1.0)
                    done = refresh(db)
            except Exception:  # the pages go on computing live; the next change tries again
                log.exception("keeping the page figures failed")
            with _background:
                if not _asked_again[key]:
                    del _asked_again[key]
                    return
                _asked_again[key] = False

    thread = threading.Thread(target=work, name="egov-kept-refresh", daemon=True)
    thread.start()
    _running[:] = [t for t in _running if t.is_alive()] + [thread]
    return thread


_running: list[threading.Thread] = []


@atexit.register
def _let_the_refresh_finish() -> None:
    """At exit, wait (a little) for a background refresh: DuckDB torn down under a running query aborts the
    process ("terminate called…") instead of letting it end."""
    for thread in _running:
        thread.join(timeout=30)
