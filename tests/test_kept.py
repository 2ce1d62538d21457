"""The pages' precomputed default views (metrics.precomputed_views): the figures as computed, never stale."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest.load import ingest_file, remove_upload
from metrics import precomputed_views as kept
from metrics.filters import Filters
from metrics.kpis import compute_kpis
from metrics.page_queries import PAGES, default_context
from metrics.targets import set_target
from store.calendar import load_schedule
from store.db import Database
from tests.test_ingest_load import good_rows, write_csv

ROOT = Path(__file__).resolve().parent.parent


def same(a: object, b: object) -> bool:
    """Equal, floats to 1e-12 (DuckDB's parallel sums differ from run to run in the last bits)."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
        return True
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def exactly(a: object, b: object) -> None:
    """The kept bytes give back the very value: same types, same bits."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    else:
        assert repr(a) == repr(b)


@pytest.fixture
def demo_copy(small_demo_db: Path, tmp_path: Path) -> Database:
    """The small demo town, loaded by ``cli.py demo`` (which keeps the figures), in a file of this test's own."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(small_demo_db, path)
    db = Database(path)
    yield db
    db.close()


def default_calls(cur, months: list[str]):
    for month in months:
        context = default_context(cur, month)
        for queries in PAGES.values():
            for query in queries.values():
                yield month, query.fn, query.args(context)


def test_every_default_page_call_is_kept_and_equals_the_computed_figure(demo_copy: Database) -> None:
    cur = demo_copy.cursor()
    months = kept.latest_months(cur, 3)
    assert len(months) == 3
    checked = 0
    for month, fn, args in default_calls(cur, months):
        found = kept.lookup(cur, fn, args)
        if fn not in kept.KEPT_FUNCTIONS:
            assert found is kept.MISSING  # targets and the filter options are always read live
            continue
        assert found is not kept.MISSING, (month, fn.__name__)
        live = fn(cur, *args)
        exactly(kept.decode(*kept.encode(live)), live)
        assert same(found, live), (month, fn.__name__)
        checked += 1
    assert checked >= 3 * 20
    # an older month, or another filter, is computed as before
    older = kept.latest_months(cur, 4)[-1]
    assert kept.lookup(cur, compute_kpis, (Filters.month(older), ["cases"])) is kept.MISSING
    department = cur.execute("SELECT min(department) FROM cases").fetchone()[0]
    narrowed = Filters.month(months[0], departments=[department])
    assert kept.lookup(cur, compute_kpis, (narrowed, ["cases"])) is kept.MISSING
    assert (
        kept.call(cur, compute_kpis, (narrowed, ["cases"]))["cases"]["value"]
        == cur.execute(
            "SELECT count(*) FROM cases WHERE department = ? AND strftime(submitted_at, '%Y-%m') = ?",
            [department, months[0]],
        ).fetchone()[0]
    )


def test_awkward_values_come_back_exactly() -> None:
    value = {
        "nan": float("nan"), "inf": float("-inf"), "nat": pd.NaT, "ts": pd.Timestamp("2026-10-01 08:30:00.5"),
        "dt": dt.datetime(2026, 10, 1, 8, 30), "day": dt.date(2026, 10, 31), "pair": ("民政办", 3),
        "nested": [{"k": None, "b": True}], "np": np.int64(7), 5: "integer key",
    }  # fmt: skip
    back = kept.decode(*kept.encode(value))
    assert back["pair"] == ("民政办", 3) and back[5] == "integer key" and back["np"] == 7
    assert math.isnan(back["nan"]) and back["inf"] == float("-inf") and back["nat"] is pd.NaT
    assert back["ts"] == value["ts"] and type(back["dt"]) is dt.datetime and type(back["day"]) is dt.date
    frame = pd.DataFrame(
        {
            "unit": ["民政办", None, "社保所"],
            "mixed": [3, None, 5],  # ints beside None: a column of Python objects
            "hours": [0.1 + 0.2, float("nan"), 1e-300],
            "at": pd.to_datetime(["2026-10-01 09:00:00", None, "2026-10-03 17:45:59.25"], format="ISO8601"),
        }
    )
    frame["mixed"] = pd.Series([3, None, 5], dtype=object)
    exactly(kept.decode(*kept.encode(frame)), frame)
    with pytest.raises(TypeError):
        kept.encode({"set": {1, 2}})


def test_the_running_month_is_keyed_by_the_day() -> None:
    today = dt.date(2026, 11, 27)
    running, past = Filters.month("2026-11"), Filters.month("2026-10")
    assert kept.call_key((past,), {}, today) == kept.call_key((past,), {}, today + dt.timedelta(days=1))
    assert kept.call_key((running,), {}, today) != kept.call_key((running,), {}, today + dt.timedelta(days=1))
    assert kept.call_key((past, ["cases"]), {}) == kept.call_key((past, ("cases",)), {})


def _load(db: Database, tmp_path: Path, name: str, prefix: str, n: int) -> int:
    return ingest_file(db, write_csv(tmp_path, name, good_rows(prefix, n)), kind="cases").upload_id


def _cases(db: Database) -> object:
    return kept.call(db.cursor(), compute_kpis, (Filters.month("2026-10"), ["cases"]))["cases"]["value"]


def test_a_change_of_the_data_is_never_hidden_by_kept_figures(tmp_path: Path, tmp_db: Database) -> None:
    _load(tmp_db, tmp_path, "a.csv", "A", 5)
    assert kept.refresh(tmp_db)["months"] == ["2026-10"]
    cur = tmp_db.cursor()
    args = (Filters.month("2026-10"), ["cases"])
    assert kept.lookup(cur, compute_kpis, args)["cases"]["value"] == 5
    assert kept.lookup(cur, compute_kpis, args, seen=kept.fingerprint(cur))["cases"]["value"] == 5
    assert kept.lookup(cur, compute_kpis, args, seen="other data") is kept.MISSING

    second = _load(tmp_db, tmp_path, "b.csv", "B", 3)  # a new upload: the kept figures no longer count
    assert kept.lookup(tmp_db.cursor(), compute_kpis, args) is kept.MISSING
    assert _cases(tmp_db) == 8
    kept.refresh(tmp_db)
    assert kept.lookup(tmp_db.cursor(), compute_kpis, args)["cases"]["value"] == 8

    remove_upload(tmp_db, second)  # a removal
    assert kept.lookup(tmp_db.cursor(), compute_kpis, args) is kept.MISSING
    assert _cases(tmp_db) == 5
    assert not kept.is_fresh(tmp_db.cursor())
    kept.refresh(tmp_db)
    assert kept.is_fresh(tmp_db.cursor())

    set_target(tmp_db, "online_rate", 0.6)  # targets are read live: the kept figures stay
    assert kept.lookup(tmp_db.cursor(), compute_kpis, args)["cases"]["value"] == 5

    with tmp_db.write() as w:  # a new holiday schedule changes working days
        load_schedule(w, "date,type\n2026-10-12,holiday\n")
    assert kept.lookup(tmp_db.cursor(), compute_kpis, args) is kept.MISSING
    kept.refresh(tmp_db)
    with tmp_db.write() as w:  # figures computed by other code are not used
        w.execute("UPDATE kept_figures SET code = 'older code'")
    assert kept.lookup(tmp_db.cursor(), compute_kpis, args) is kept.MISSING


def test_nothing_is_kept_when_the_data_changes_during_the_refresh(tmp_path: Path, tmp_db: Database, monkeypatch):
    _load(tmp_db, tmp_path, "a.csv", "A", 5)
    readings = iter(["before", "after"])
    monkeypatch.setattr(kept, "fingerprint", lambda cur: next(readings))
    done = kept.refresh(tmp_db)
    assert done["stale"] and done["kept"] == 0
    assert tmp_db.cursor().execute("SELECT count(*) FROM kept_figures").fetchone()[0] == 0


def test_an_empty_database_keeps_nothing(tmp_db: Database) -> None:
    done = kept.refresh(tmp_db)
    assert (done["months"], done["kept"], done["stale"]) == ([], 0, False)
    assert kept.is_fresh(tmp_db.cursor())  # nothing to keep


def test_the_command_line_keeps_the_figures_after_a_load(tmp_path: Path) -> None:
    db_path = tmp_path / "cli.duckdb"
    csv = write_csv(tmp_path, "a.csv", good_rows("A", 4))
    proc = subprocess.run(
        [sys.executable, "cli.py", "ingest", "--db", str(db_path), str(csv)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "看板数字已更新：2026-10" in proc.stdout
    again = subprocess.run(
        [sys.executable, "cli.py", "refresh", "--if-stale", "--db", str(db_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0 and "已是最新" in again.stdout, again.stderr
    db = Database(db_path, read_only=True)
    try:
        found = kept.lookup(db.cursor(), compute_kpis, (Filters.month("2026-10"), ["cases"]))
        assert found["cases"]["value"] == 4
    finally:
        db.close()


def test_the_app_refreshes_in_the_background_once_at_a_time(tmp_path: Path, tmp_db: Database) -> None:
    _load(tmp_db, tmp_path, "a.csv", "A", 5)
    first = kept.refresh_soon(tmp_db)
    _load(tmp_db, tmp_path, "b.csv", "B", 2)  # changed while the first refresh may still run
    second = kept.refresh_soon(tmp_db)
    first.join(timeout=120)
    if second is not None:  # the first had already finished
        second.join(timeout=120)
    assert kept.lookup(tmp_db.cursor(), compute_kpis, (Filters.month("2026-10"), ["cases"]))["cases"]["value"] == 7


def test_the_pages_cache_turns_over_with_the_day(monkeypatch, tmp_path: Path) -> None:
    """The running month counts as of today: a server running overnight computes its figures again."""
    from ui import metrics_cache

    monkeypatch.setenv("EGOV_DB", str(tmp_path / "cache.duckdb"))
    calls: list[tuple] = []

    def probe(cur, *args) -> int:
        calls.append(args)
        return len(calls)

    day = {"today": dt.date(2026, 11, 27)}

    class Today:
        def as_of(self) -> dt.date:
            return day["today"]

    monkeypatch.setattr(metrics_cache, "Filters", Today)
    assert metrics_cache.cached(probe, "x") == 1 and metrics_cache.cached(probe, "x") == 1  # the second from the cache
    day["today"] = dt.date(2026, 11, 28)
    assert metrics_cache.cached(probe, "x") == 2
