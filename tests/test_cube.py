"""The KPI cube (metrics.cube): kept in every load's and removal's transaction, for the cells they change only,
and every figure read from it equal to the straightforward SQL over the cases under any filter.

"Straightforward" is the same call with the cube out of use (``cube.usable`` false: every figure computed from
the ``cases`` view). Counts are compared exactly, everything else to 1e-9 (a sum of fractions added up in
another order). The kept cube is also compared, cell by cell, with a cube built from scratch.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scope
from ingest.load import ingest_file, remove_upload
from metrics import cube, kpis
from metrics.filters import Filters
from store import derived
from store.db import Database

END = "2026-10"
MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]


@pytest.fixture(scope="module")
def county_path(tmp_path_factory) -> Path:
    """A county of three demo towns, four months, loaded through ingest (so the loads keep the cube)."""
    from demo.load import load_demo

    folder = tmp_path_factory.mktemp("cube")
    db = Database(folder / "egov.duckdb")
    try:
        load_demo(db, towns=3, months=4, scale=0.05, end_month=END)
    finally:
        db.close()
    return folder / "egov.duckdb"


@pytest.fixture(scope="module")
def cur(county_path: Path) -> Iterator:
    db = Database(county_path, read_only=True)
    yield db.cursor()
    db.close()


@contextmanager
def straightforward() -> Iterator[None]:
    """Every figure from the cases: the cube out of use."""
    usable = cube.usable
    cube.usable = lambda cur: False  # type: ignore[assignment]
    try:
        yield
    finally:
        cube.usable = usable  # type: ignore[assignment]


def from_scratch(cur) -> pd.DataFrame:
    sql, values = cube._select("true")
    return _sorted(cur.execute(sql, values).df())


def kept(cur) -> pd.DataFrame:
    return _sorted(cur.execute(f"SELECT * FROM {cube.TABLE}").df())


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = list(cube.DIMENSIONS)
    return frame.sort_values(keys, na_position="first", ignore_index=True)[[*keys, *cube.MEASURES.values()]]


def same(a: object, b: object, what: str) -> None:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        assert (a is None or (isinstance(a, float) and math.isnan(a))) == (
            b is None or (isinstance(b, float) and math.isnan(b))
        ), what
    elif isinstance(b, str | int | bool | dt.date) and not isinstance(b, float):
        assert a == b, what
    else:
        assert float(a) == pytest.approx(float(b), rel=1e-9, abs=1e-12), what  # type: ignore[arg-type]


def same_results(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys(), what
    for kpi_id in b:
        for part in ("value", "numerator", "denominator", "n", "natural_value", "reason"):
            if part == "reason":
                assert a[kpi_id].get(part) == b[kpi_id].get(part), (what, kpi_id)
            else:
                same(a[kpi_id].get(part), b[kpi_id].get(part), f"{what} {kpi_id} {part}")


def same_frames(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b), what
    for column in a.columns:
        for i, (x, y) in enumerate(zip(a[column], b[column], strict=True)):
            same(None if pd.isna(x) else x, None if pd.isna(y) else y, f"{what} row {i} {column}")


def test_the_loads_kept_the_cube_equal_to_one_built_from_scratch(cur) -> None:
    assert cube.usable(cur)
    pd.testing.assert_frame_equal(kept(cur), from_scratch(cur))
    cases = cur.execute(f"SELECT sum({cube.column('count(*)')}) FROM {cube.TABLE}").fetchone()[0]
    assert cases == cur.execute("SELECT count(*) FROM cases").fetchone()[0] > 500
    assert cur.execute(f"SELECT count(DISTINCT town) FROM {cube.TABLE}").fetchone()[0] == 3
    # what the cube cannot add up is not in it: a median is no sum of medians
    assert cube.column("quantile_cont(processing_days_working, 0.5) FILTER (WHERE is_completed)") is None
    assert cube.additive("count(*) FILTER (WHERE visits <= 1)") and cube.additive("sum(x) FILTER (WHERE (a) OR (b))")
    assert not cube.additive("count(*) / count(x)") and not cube.additive("sum(a) FILTER (WHERE b) + 1")


def test_a_month_appended_rewrites_its_cells_only_and_its_removal_restores_the_cube(county_path, tmp_path) -> None:
    from demo import county, exports

    path = tmp_path / "egov.duckdb"
    shutil.copy(county_path, path)
    shutil.copy(county_path.parent / "secret.key", tmp_path / "secret.key")
    town = county.county(3, exports.DEFAULT_SEED)[1]
    data = exports.generate(town.seed, "2026-11", 1, 0.08, town.profile)
    files = exports.write_exports(tmp_path / "november", data)
    db = Database(path)
    try:
        cur = db.cursor()
        before = cur.execute(f"SELECT rowid, * FROM {cube.TABLE} WHERE month_start < '2026-11-01'").df()
        loaded = ingest_file(db, files["cases"], town=town.profile.name)
        cur = db.cursor()
        assert cube.usable(cur)
        after = cur.execute(f"SELECT rowid, * FROM {cube.TABLE} WHERE month_start < '2026-11-01'").df()
        # the months before November were not touched: the same rows, not rewritten (their row ids are kept)
        pd.testing.assert_frame_equal(before, after)
        assert cur.execute(f"SELECT count(*) FROM {cube.TABLE} WHERE month_start = '2026-11-01'").fetchone()[0] > 0
        pd.testing.assert_frame_equal(kept(cur), from_scratch(cur))
        with_november = kpis.compute_kpis(cur, Filters.month("2026-11"))
        with straightforward():
            same_results(with_november, kpis.compute_kpis(cur, Filters.month("2026-11")), "after the load")
        remove_upload(db, loaded.upload_id)
        cur = db.cursor()
        assert cube.usable(cur)
        pd.testing.assert_frame_equal(kept(cur), from_scratch(cur))
        assert cur.execute(f"SELECT count(*) FROM {cube.TABLE} WHERE month_start = '2026-11-01'").fetchone()[0] == 0
    finally:
        db.close()


def test_a_change_made_without_the_keeper_is_not_read_until_the_cube_is_rebuilt(county_path, tmp_path) -> None:
    from demo import county, exports
    from metrics import precomputed_views

    path = tmp_path / "egov.duckdb"
    shutil.copy(county_path, path)
    shutil.copy(county_path.parent / "secret.key", tmp_path / "secret.key")
    town = county.county(3, exports.DEFAULT_SEED)[0]
    files = exports.write_exports(tmp_path / "nov", exports.generate(town.seed, "2026-11", 1, 0.05, town.profile))
    db = Database(path)
    keepers = list(derived._KEEPERS)
    derived._KEEPERS.clear()  # a process that never declared the cube's keeper
    try:
        ingest_file(db, files["cases"], town=town.profile.name)
    finally:
        derived._KEEPERS[:] = keepers
    try:
        cur = db.cursor()
        assert not cube.usable(cur)  # stale: the figures come from the cases, right if slower
        assert cur.execute(f"SELECT count(*) FROM {cube.TABLE} WHERE month_start = '2026-11-01'").fetchone()[0] == 0
        assert kpis.compute_kpis(cur, Filters.month("2026-11"), ["cases"])["cases"]["value"] > 0
        precomputed_views.refresh(db, months=1)  # what runs after every change: it builds the cube again
        cur = db.cursor()
        assert cube.usable(cur)
        pd.testing.assert_frame_equal(kept(cur), from_scratch(cur))
    finally:
        db.close()


def _options(cur) -> dict[str, list[str]]:
    def values(sql: str) -> list[str]:
        return [r[0] for r in cur.execute(sql).fetchall() if r[0] is not None]

    return {
        "towns": values("SELECT DISTINCT town FROM cases ORDER BY 1"),
        "departments": values("SELECT DISTINCT department FROM cases ORDER BY 1"),
        "items": values("SELECT DISTINCT service_item FROM cases ORDER BY 1 LIMIT 12")
        + values("SELECT DISTINCT item_code FROM cases ORDER BY 1 LIMIT 4"),
        "channels": values("SELECT DISTINCT channel FROM cases ORDER BY 1"),
    }


@st.composite
def selections(draw, options: dict[str, list[str]]) -> tuple[Filters, tuple[str, ...] | None]:
    """A period (whole months, or a part of one, which the cube cannot give), any dimensions, maybe a town scope."""
    first = draw(st.integers(0, len(MONTHS) - 1))
    last = draw(st.integers(first, len(MONTHS) - 1))
    period = Filters.between(f"{MONTHS[first]}-01", Filters.month(MONTHS[last]).end.isoformat())
    if draw(st.booleans()) and draw(st.booleans()):
        period = Filters.between(f"{MONTHS[first]}-03", f"{MONTHS[last]}-20")  # not whole months: from the cases
    pick = {k: tuple(draw(st.lists(st.sampled_from(v), max_size=2, unique=True))) for k, v in options.items()}
    filters = Filters(period.start, period.end, pick["departments"], pick["items"], pick["channels"], pick["towns"])
    allowed = draw(st.one_of(st.none(), st.lists(st.sampled_from(options["towns"]), min_size=1, max_size=2)))
    return filters, None if allowed is None else tuple(allowed)


def test_every_figure_equals_the_straightforward_sql_under_random_filters(cur) -> None:
    options = _options(cur)

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(selections(options), st.sampled_from(["town", "department", "service_item", "channel"]))
    def check(selection: tuple[Filters, tuple[str, ...] | None], dimension: str) -> None:
        filters, allowed = selection
        what = f"{filters} within {allowed}"
        with scope.scoped(allowed):
            fast = kpis.compute_kpis(cur, filters)
            fast_by = {dimension: kpis.kpis_by(cur, filters, dimension)}
            fast_series = kpis.kpi_series(cur, filters, "month", ["cases", "online_rate", "speedup_rate"])
            with straightforward():
                same_results(fast, kpis.compute_kpis(cur, filters), what)
                for dimension, frame in fast_by.items():
                    same_frames(frame, kpis.kpis_by(cur, filters, dimension), f"{what} by {dimension}")
                slow_series = kpis.kpi_series(cur, filters, "month", ["cases", "online_rate", "speedup_rate"])
                same_frames(fast_series, slow_series, f"{what} per month")

    check()


def test_the_cube_is_read_for_whole_months_and_not_for_a_part_of_one(cur, monkeypatch) -> None:
    read: list[str] = []
    real = cube.source
    monkeypatch.setattr(
        cube, "source", lambda filters, params, group: read.append(group) or real(filters, params, group)
    )
    kpis.compute_kpis(cur, Filters.month("2026-10", channels=("window",)))
    kpis.kpis_by(cur, Filters.between("2026-08-01", "2026-10-31"), "department")
    kpis.kpi_series(cur, Filters.between("2026-07-01", "2026-10-31"), "month", ["cases"])
    assert read == ["NULL::VARCHAR", "c.department", "c.department", "c.month_start"]
    read.clear()
    kpis.compute_kpis(cur, Filters.between("2026-10-01", "2026-10-15"))  # half a month: the cases
    kpis.kpi_series(cur, Filters.between("2026-07-01", "2026-10-31"), "week", ["cases"])  # weeks: the cases
    assert read == []
