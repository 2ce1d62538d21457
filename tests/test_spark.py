"""Issue 19 §5: on the demo county, every KPI and bottleneck figure from Spark equals DuckDB's.

The demo county (3 towns, the first named with markup, a percent and an equals sign, 4 months, scale 0.05; today
pinned mid-month) is loaded through the normal pipeline, exported as a lake (``lake.export``), and read three
ways: the town's database as the app reads it (its kept figures and cubes on), DuckDB over the lake, and Spark
(local mode, one session for the module) over the lake, both of those by the catalogue's own SQL — Spark's
transpiled by :mod:`spark.dialect`. Counts must be equal, rates within 1e-9, and quantiles — Spark's exact
``percentile`` against DuckDB's exact ``quantile_cont`` — equal or within two units in the last place: the same
values interpolated the same way, DuckDB's build fusing the multiply-add (``fma``) the JVM rounds in two steps.
The cube built on Spark equals the database's cube, cell by cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from typing import Any

import duckdb
import pandas as pd
import pytest

from demo import exports
from demo.load import DEMO_FILES
from ingest.load import ingest_file
from lake import cube_build, province
from lake.export import LakeError, export
from lake.read import DuckDBLake
from metrics import bottlenecks, cube, precomputed_columns
from metrics import county as county_metrics
from metrics.catalog import KPI_BY_ID
from metrics.filters import Filters
from metrics.findings import rank_bottlenecks
from metrics.kpis import compute_kpis
from store.db import Database
from store.facets import filter_options
from store.rows import one

pytest.importorskip("pyspark", reason="the spark extra (bash scripts/setup.sh dev installs it)")

TODAY = dt.date(2026, 11, 16)
HOSTILE = "杨<b>镇 100%=x"
DEMO = {"towns": 3, "months": 4, "scale": 0.05, "seed": 7}
REL = 1e-9


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Iterator[dict[str, Any]]:
    """The database, its lake, and the lake opened on DuckDB and on Spark."""
    from spark.lake import SparkLake

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EGOV_TODAY", f"{TODAY} 20:00")
        folder = tmp_path_factory.mktemp("spark")
        db = Database(folder / "egov.duckdb")
        for k, data in enumerate(exports.generate_county(first=HOSTILE, **DEMO)):  # type: ignore[arg-type]
            written = exports.write_exports(folder / str(k), data)
            for kind in DEMO_FILES:
                ingest_file(db, written[kind], kind=kind, loaded_by="demo", town=data.town)
        export(db.cursor(), folder / "lake")
        spark = SparkLake(folder / "lake", "local[2]")
        spark.spark.conf.set("spark.sql.shuffle.partitions", "2")  # a small county: two cores, two partitions
        local = DuckDBLake(folder / "lake")
        state = {"db": db, "lake": folder / "lake", "spark": spark, "duckdb": local, "folder": folder}
        try:
            yield state
        finally:
            spark.close()
            local.close()
            state["db"].close()  # the bench's test opens it again


def _selections(cur: Any) -> list[tuple[str, Filters]]:
    towns = [r[0] for r in cur.execute("SELECT DISTINCT town FROM cases ORDER BY 1").fetchall()]
    top = cur.execute("SELECT department FROM cases GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()[0]
    return [
        ("county, October", Filters.month("2026-10")),
        ("the hostile town, October", Filters.month("2026-10", towns=(HOSTILE,))),
        ("two towns, days across a month end, online",
         Filters.between("2026-09-20", "2026-10-10", towns=tuple(towns[1:]), channels=("online",))),
        (f"{top}, month to date", Filters.between("2026-11-01", "2026-11-16", departments=(top,))),
        ("nothing (no such town)", Filters.month("2026-10", towns=("无此镇",))),
    ]  # fmt: skip


def _same(got: object, expected: object, exact: bool) -> bool:
    """Equal: ``exact`` for keys and text, and for quantiles to two units in the last place; else 1e-9."""
    if got is None or expected is None:
        return got is None and expected is None
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(expected, int) or not isinstance(expected, float):
        return got == expected
    if exact:
        return abs(float(got) - expected) <= 2 * math.ulp(expected)  # type: ignore[arg-type]
    return abs(float(got) - float(expected)) <= REL * max(1.0, abs(float(expected)))  # type: ignore[arg-type]


def test_every_kpi_from_spark_equals_duckdbs(county, monkeypatch) -> None:
    monkeypatch.setenv("EGOV_TODAY", f"{TODAY} 20:00")
    checked = 0
    for label, filters in _selections(county["db"].cursor()):
        town = compute_kpis(county["db"].cursor(), filters)  # as the app reads it: kept figures, cubes
        with precomputed_columns.disabled():
            spark = compute_kpis(county["spark"].cursor(), filters)
            lake = compute_kpis(county["duckdb"].cursor(), filters)
        assert list(spark) == list(town)
        for kpi_id, expected in town.items():
            quantile = KPI_BY_ID[kpi_id].unit == "days"
            for part in ("value", "numerator", "denominator", "n", "natural_value"):
                for engine, got in (("spark", spark), ("duckdb lake", lake)):
                    a, b = got[kpi_id].get(part), expected.get(part)
                    assert _same(a, b, quantile), f"{label}: {kpi_id}.{part} {engine} {a!r} != {b!r}"
            checked += 1
        assert (spark["cases"]["value"] or 0) == (town["cases"]["value"] or 0)
    assert checked == 5 * len(KPI_BY_ID)
    assert town["cases"]["value"] == 0  # the last selection is empty: unknown figures stay unknown on Spark too


def _frames_equal(
    got: pd.DataFrame, expected: pd.DataFrame, keys: list[str], label: str, *, exact: bool = True
) -> None:
    """Equal frames (rows in key order): keys and text exactly, quantiles exactly when ``exact``, the rest 1e-9."""
    assert list(got.columns) == list(expected.columns), label
    got, expected = (  # in key order, the keys as text (None, NaT and a DATE or a Timestamp alike)
        f.assign(**{k: f[k].map(lambda v: "" if pd.isna(v) else str(v)) for k in keys}).sort_values(keys)
        .reset_index(drop=True)
        for f in (got, expected)
    )  # fmt: skip
    assert len(got) == len(expected), label
    for column in expected.columns:
        numeric = pd.api.types.is_numeric_dtype(expected[column]) and not pd.api.types.is_bool_dtype(expected[column])
        quantile = exact and ("median" in column or "p90" in column)
        same_bits = quantile or column in keys or not numeric
        for i, (a, b) in enumerate(zip(got[column].tolist(), expected[column].tolist(), strict=True)):
            a = None if isinstance(a, float) and math.isnan(a) else a
            b = None if isinstance(b, float) and math.isnan(b) else b
            assert _same(a, b, same_bits), f"{label}: row {i} {column}: {a!r} != {b!r}"


def test_every_bottleneck_figure_from_spark_equals_duckdbs(county) -> None:
    for label, filters in _selections(county["db"].cursor())[:2]:
        for by in ("department", "step"):
            town = bottlenecks.bottleneck_table(county["db"].cursor(), filters, by)
            with precomputed_columns.disabled():
                got = bottlenecks.bottleneck_table(county["spark"].cursor(), filters, by)
                expected = bottlenecks.bottleneck_table(county["duckdb"].cursor(), filters, by)
            assert len(expected) > 0, label
            _frames_equal(got, expected, ["unit"], f"{label} by {by}: spark, duckdb")
            # the town's database reads each event's wait kept at load: the same figure, to the last bits or so
            _frames_equal(got, town, ["unit"], f"{label} by {by}: spark, the town's database", exact=False)
        expected_findings = rank_bottlenecks(county["db"].cursor(), filters, top=5)
        with precomputed_columns.disabled():
            got_findings = rank_bottlenecks(county["spark"].cursor(), filters, top=5)
        assert [f["text_zh"] for f in got_findings] == [f["text_zh"] for f in expected_findings], label
        assert expected_findings, label


def _cube_rows(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def test_the_cube_built_on_spark_is_the_databases_cube(county, monkeypatch) -> None:
    monkeypatch.setenv("EGOV_TODAY", f"{TODAY} 20:00")
    out = county["folder"] / "cube"
    manifest = cube_build.build(county["spark"], out, "spark")
    again = cube_build.build(county["spark"], out, "spark")  # a second build replaces the first
    assert again["rows"] == manifest["rows"] and manifest["rows"]["kpi_cube"] > 100
    assert sorted(p.name for p in out.iterdir()) == ["build-" + again["builds"][-1]["id"], "manifest.json"]
    built = DuckDBLake(out)
    db = county["db"].cursor()
    try:
        for table in cube_build.TABLES:
            columns = [r[0] for r in db.execute(f"DESCRIBE {table}").fetchall()]
            keys = [c for c in columns if not re.fullmatch(r"m\d+", c)]  # the cell; m0… are its measures
            expected = db.execute(f"SELECT {', '.join(columns)} FROM {table}").df()
            got = built.cursor().execute(f"SELECT {', '.join(columns)} FROM {table}").df()
            for frame in (expected, got):
                for column in frame.columns:
                    if str(frame[column].dtype).startswith(("int", "Int", "uint")):
                        frame[column] = frame[column].astype("int64")
            _frames_equal(got, expected, keys, table)
            if table == "kpi_cube":
                assert HOSTILE in set(got["town"])  # the name comes back whole from the lake's folders
    finally:
        built.close()


def test_the_app_reads_a_province_from_the_cube_without_a_case(county, monkeypatch, tmp_path) -> None:
    """``EGOV_CUBE``: the cube Spark built, read into a database of its own, gives the county page's comparison."""
    monkeypatch.setenv("EGOV_TODAY", f"{TODAY} 20:00")
    out = county["folder"] / "cube"
    if not (out / "manifest.json").exists():  # run alone: build it here
        cube_build.build(county["spark"], out, "spark")
    with pytest.raises(LakeError, match="town's cases"):
        province.load(county["db"], out)  # never into a town's own database
    db = Database(tmp_path / "province.duckdb")
    try:
        assert province.load(db, out) is True
        assert province.load(db, out) is False  # the same build: nothing read again
        cur, town = db.cursor(), county["db"].cursor()
        assert one(cur.execute("SELECT count(*) FROM case_rows"))[0] == 0  # no case, no event
        assert filter_options(cur)["months"] == filter_options(town)["months"]
        assert sorted(filter_options(cur)["towns"]) == sorted(filter_options(town)["towns"])
        october = Filters.month("2026-10")
        got, expected = county_metrics.town_kpis(cur, october), county_metrics.town_kpis(town, october)
        assert "median_processing_days" not in got.columns  # no median without the cases
        shown = [c for c in got.columns if c != "town"]
        assert county_metrics.compared(got) == [k for k in county_metrics.COUNTY_IDS if cube.serves(k)]
        _frames_equal(got, expected[["town", *shown]], ["town"], "the province's towns")
        assert HOSTILE in set(got["town"])
        with db.write():  # any later write (a user added, say) leaves the read cube current and whole
            pass
        assert cube.current(cur) and cube.backlog_held(cur, [dt.date(2026, 10, 31)])
        again = county_metrics.town_kpis(cur, october)
        _frames_equal(again, got, ["town"], "after a write")
        assert province.source(cur)["towns"] == 3
        cube_build.build(county["spark"], out, "spark")  # the next month's build: read again, whole
        assert province.load(db, out) is True
        _frames_equal(county_metrics.town_kpis(cur, october), got, ["town"], "after the next build")
    finally:
        db.close()


def test_the_lake_cube_bench_runs_tiny(county, monkeypatch, tmp_path) -> None:
    """``bench/lake_cube.py`` (issue 19 §6), tiny: both engines build the same cells and the table says so."""
    from bench import lake_cube

    monkeypatch.setenv("EGOV_TODAY", f"{TODAY} 20:00")
    county["db"].close()  # the bench opens the file read-only, as a separate process would
    try:
        result = lake_cube.measure(county["folder"] / "egov.duckdb", tmp_path, spark=county["spark"].spark, repeats=1)
    finally:
        county["db"] = Database(county["folder"] / "egov.duckdb")
    assert result["cases"] == one(county["db"].cursor().execute("SELECT count(*) FROM cases"))[0]
    assert result["cells"]["kpi_cube"] == one(county["db"].cursor().execute("SELECT count(*) FROM kpi_cube"))[0]
    assert result["spark_cores"] >= 1 and result["case_partitions"] > 0
    assert "| spark |" in lake_cube.table(result) and "| duckdb |" in lake_cube.table(result)
