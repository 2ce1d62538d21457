"""Many towns in one database: a case is (town, case id), and the town is a filter like any other.

The shipped sample export is loaded once into one town and once into each of two towns; each town of
the pair must show exactly the figures of the town loaded alone (counts equal, sums and quantiles to
1e-9: DuckDB may add floating-point numbers in another order over a bigger table), and the two
together twice the cases. Small hand-written files check a file with a town column, colliding case
ids, removal, the migration of a database that did not know towns, and the command line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import settings
from ingest.errors import IngestRefused
from ingest.load import ingest_file, remove_upload
from metrics import bottlenecks
from metrics.filters import Filters
from metrics.kpis import compute_kpis
from store.db import Database
from tests.cli_support import cli
from tests.conftest import database_at_version

SAMPLE = settings.SAMPLE_DIR
SAMPLE_FILES = ["service_catalog.xlsx", "cases_export.csv", "events_export.csv"]
MONTH = "2026-10"
TOWNS = ("沙堰镇", "柳林镇")


def _load_sample(db: Database, town: str | None) -> None:
    for name in SAMPLE_FILES:
        ingest_file(db, SAMPLE / name, town=town)


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> Path:
    """The sample loaded into the default town of a database of its own (no town given anywhere)."""
    path = tmp_path_factory.mktemp("alone") / "egov.duckdb"
    db = Database(path)
    _load_sample(db, None)
    db.close()
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> Path:
    """The same sample loaded into two towns."""
    path = tmp_path_factory.mktemp("pair") / "egov.duckdb"
    db = Database(path)
    for town in TOWNS:
        _load_sample(db, town)
    db.close()
    return path


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        for x, y in zip(a[column].tolist(), b[column].tolist(), strict=True):
            assert _close(x, y) or (pd.isna(x) and pd.isna(y)), (column, x, y)


def test_two_towns_hold_twice_the_cases_and_each_the_figures_of_the_town_alone(alone: Path, pair: Path) -> None:
    single, both = Database(alone, read_only=True), Database(pair, read_only=True)
    try:
        one_cur, two_cur = single.cursor(), both.cursor()
        held = dict(two_cur.execute("SELECT town, count(*) FROM cases GROUP BY town").fetchall())
        (only,) = one_cur.execute("SELECT count(*) FROM cases").fetchone()
        assert held == {TOWNS[0]: only, TOWNS[1]: only}
        assert (
            two_cur.execute("SELECT count(*) FROM events").fetchone()[0]
            == 2 * one_cur.execute("SELECT count(*) FROM events").fetchone()[0]
        )
        expected = compute_kpis(one_cur, Filters.month(MONTH))
        total = compute_kpis(two_cur, Filters.month(MONTH))
        assert total["cases"]["value"] == 2 * expected["cases"]["value"]
        for town in TOWNS:
            got = compute_kpis(two_cur, Filters.month(MONTH, towns=[town]))
            assert got.keys() == expected.keys()
            for kpi_id, result in expected.items():
                for key, value in result.items():
                    assert _close(got[kpi_id][key], value), (town, kpi_id, key, got[kpi_id][key], value)
            for by in ("department", "step"):
                _same_frames(
                    bottlenecks.waiting_time(two_cur, Filters.month(MONTH, towns=[town]), by),
                    bottlenecks.waiting_time(one_cur, Filters.month(MONTH), by),
                )
            _same_frames(
                bottlenecks.directly_follows(two_cur, Filters.month(MONTH, towns=[town])),
                bottlenecks.directly_follows(one_cur, Filters.month(MONTH)),
            )
            assert bottlenecks.handovers(two_cur, Filters.month(MONTH, towns=[town])) == pytest.approx(
                bottlenecks.handovers(one_cur, Filters.month(MONTH))
            )
    finally:
        single.close()
        both.close()


def test_the_same_file_again_into_the_same_town_is_skipped_and_into_another_is_loaded(tmp_db: Database) -> None:
    first = ingest_file(tmp_db, SAMPLE / "cases_export.csv", town="甲镇")
    again = ingest_file(tmp_db, SAMPLE / "cases_export.csv", town="甲镇")
    other = ingest_file(tmp_db, SAMPLE / "cases_export.csv", town="乙镇")
    assert again.duplicate_of == first.upload_id
    assert other.duplicate_of is None and other.cases_loaded == first.cases_loaded
    assert other.town == "乙镇" and other.towns == ["乙镇"]
    rows = tmp_db.cursor().execute("SELECT upload_id, town FROM uploads ORDER BY upload_id").fetchall()
    assert rows == [(first.upload_id, "甲镇"), (other.upload_id, "乙镇")]


CASES_WITH_TOWNS = """办件编号,乡镇（街道）,事项名称,实施部门,申请渠道,申请时间,办结时间,办件状态
A-1,甲镇,居民身份证办理,派出所,网上,2026-10-05 09:00,2026-10-06 10:00,已办结
A-1,乙镇,结婚登记,民政办,窗口,2026-10-07 09:00,,在办
A-2,乙镇,结婚登记,民政办,移动端,2026-10-08 09:00,2026-10-09 10:00,已办结
A-3,,居民身份证办理,派出所,窗口,2026-10-10 09:00,,在办
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_a_town_column_splits_by_it_and_its_blank_rows_go_to_the_upload_town(
    tmp_db: Database, tmp_path: Path
) -> None:
    result = ingest_file(tmp_db, _write(tmp_path, "cases.csv", CASES_WITH_TOWNS), town="丙镇")
    assert result.rows_loaded == 4 and result.cases_loaded == 4 and result.rows_rejected == 0
    assert result.towns == ["丙镇", "乙镇", "甲镇"] and result.elsewhere()
    got = (
        tmp_db.cursor()
        .execute("SELECT town, case_id, service_item, status FROM cases ORDER BY town, case_id")
        .fetchall()
    )
    assert got == [
        ("丙镇", "A-3", "居民身份证办理", "open"),
        ("乙镇", "A-1", "结婚登记", "open"),
        ("乙镇", "A-2", "结婚登记", "completed"),
        ("甲镇", "A-1", "居民身份证办理", "completed"),
    ]
    cur = tmp_db.cursor()
    assert compute_kpis(cur, Filters.month(MONTH, towns=["乙镇"]), ["cases"])["cases"]["value"] == 2
    assert compute_kpis(cur, Filters.month(MONTH, towns=["甲镇", "丙镇"]), ["cases"])["cases"]["value"] == 2
    assert compute_kpis(cur, Filters.month(MONTH), ["cases"])["cases"]["value"] == 4


def test_colliding_case_ids_never_merge_through_updates_events_and_removal(tmp_db: Database, tmp_path: Path) -> None:
    ingest_file(tmp_db, _write(tmp_path, "cases.csv", CASES_WITH_TOWNS), town="丙镇")
    # 甲镇 finishes nothing new, 乙镇's A-1 is completed by a later export of 乙镇 alone.
    update = ingest_file(
        tmp_db,
        _write(
            tmp_path,
            "later.csv",
            "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,办件状态\n"
            "A-1,结婚登记,民政办,窗口,2026-10-07 09:00,2026-10-12 16:00,已办结\n",
        ),
        town="乙镇",
    )
    events = ingest_file(
        tmp_db,
        _write(
            tmp_path,
            "steps.csv",
            "办件编号,乡镇,环节名称,办理部门,完成时间\n"
            "A-1,甲镇,收件,派出所,2026-10-05 09:10\nA-1,甲镇,办结,派出所,2026-10-06 10:00\n"
            "A-1,乙镇,收件,民政办,2026-10-07 09:05\nA-1,乙镇,审核,民政办,2026-10-10 11:00\n"
            "A-1,乙镇,办结,民政办,2026-10-12 16:00\n",
        ),
        town="丙镇",
    )
    cur = tmp_db.cursor()
    cases = cur.execute("SELECT town, status, completed_at FROM cases WHERE case_id = 'A-1' ORDER BY town").fetchall()
    assert [(t, s) for t, s, _ in cases] == [("乙镇", "completed"), ("甲镇", "completed")]
    assert str(cases[0][2]) == "2026-10-12 16:00:00"
    per_town = dict(cur.execute("SELECT town, count(*) FROM events WHERE case_id = 'A-1' GROUP BY town").fetchall())
    assert per_town == {"甲镇": 2, "乙镇": 3}
    keys = cur.execute("SELECT town, count(DISTINCT case_key) FROM case_rows WHERE case_id = 'A-1' GROUP BY town")
    assert dict(keys.fetchall()) == {"甲镇": 1, "乙镇": 1}
    assert cur.execute("SELECT count(DISTINCT case_key) FROM case_rows WHERE case_id = 'A-1'").fetchone()[0] == 2
    waits = bottlenecks.waiting_time(cur, Filters.month(MONTH, towns=["乙镇"]), "department")
    assert waits["count"].sum() == 3
    remove_upload(tmp_db, update.upload_id)
    status = dict(cur.execute("SELECT town, status FROM cases WHERE case_id = 'A-1'").fetchall())
    assert status == {"甲镇": "completed", "乙镇": "open"}  # 乙镇's earlier version counts again; 甲镇 untouched
    remove_upload(tmp_db, events.upload_id)
    assert cur.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 4


@pytest.mark.parametrize("name", ["../etc", "a/b", "x" * 41, "甲\x01镇"])
def test_a_town_that_is_not_a_name_refuses_the_file_and_changes_nothing(tmp_db: Database, name: str) -> None:
    with pytest.raises(IngestRefused) as refused:
        ingest_file(tmp_db, SAMPLE / "cases_export.csv", town=name)
    assert refused.value.code == "bad_town"
    assert tmp_db.cursor().execute("SELECT count(*) FROM uploads").fetchone()[0] == 0


def test_a_database_from_before_towns_migrates_with_every_row_in_the_default_town(tmp_path: Path) -> None:
    path = tmp_path / "egov.duckdb"
    con = database_at_version(path, 8)
    con.execute(
        "INSERT INTO uploads (upload_id, file_name, sha256, kind, rows_total, rows_loaded, rows_rejected, loaded_at) "
        "VALUES (nextval('upload_id_seq'), 'old.csv', 'abc', 'cases', 2, 2, 0, now())"
    )
    con.execute(
        "INSERT INTO case_rows (case_id, department, submitted_at, status, source, upload_id, case_key) VALUES "
        "('K-1', '民政办', '2026-10-03 09:00', 'open', 'case_file', 1, 1), "
        "('K-2', '民政办', '2026-10-04 09:00', 'open', 'case_file', 1, 2)"
    )
    con.execute(
        "INSERT INTO event_rows (case_id, step, completed_at, seq, upload_id, case_key) "
        "VALUES ('K-1', '收件', '2026-10-03 09:05', 1, 1, 1)"
    )
    con.execute("INSERT INTO case_spans VALUES (1, 1, 'K-1', 1, '2026-10-03 09:05', '2026-10-03 09:05', true)")
    con.close()
    db = Database(path)
    try:
        cur = db.cursor()
        default = settings.DEFAULT_TOWN
        assert cur.execute("SELECT DISTINCT town FROM cases").fetchall() == [(default,)]
        assert cur.execute("SELECT DISTINCT town FROM events").fetchall() == [(default,)]
        assert cur.execute("SELECT DISTINCT town FROM case_spans").fetchall() == [(default,)]
        assert cur.execute("SELECT town FROM uploads").fetchall() == [(default,)]
        assert cur.execute("SELECT town, sum(cases) FROM case_facets GROUP BY town").fetchall() == [(default, 2)]
        # The same file name and case id loaded now into another town is another case.
        ingest_file(
            db,
            _write(tmp_path, "new.csv", "办件编号,实施部门,申请时间\nK-1,民政办,2026-10-05 09:00\n"),
            town="新镇",
        )
        assert dict(cur.execute("SELECT town, count(*) FROM cases GROUP BY town").fetchall()) == {default: 2, "新镇": 1}
    finally:
        db.close()


def test_the_command_line_loads_into_a_town_and_reports_per_town(pair: Path, tmp_path: Path) -> None:
    path = tmp_path / "egov.duckdb"
    done = cli("ingest", str(_write(tmp_path, "cases.csv", CASES_WITH_TOWNS)), "--town", "丙镇", "--db", str(path))
    assert done.returncode == 0, done.stderr
    assert "乡镇 town: 丙镇、乙镇、甲镇" in done.stdout
    by_town = cli("kpis", "--db", str(path), "--month", MONTH, "--by", "town", "--format", "json")
    listed = json.loads(by_town.stdout)
    assert [entry["town"] for entry in listed] == ["丙镇", "乙镇", "甲镇"]
    assert [entry["cases"]["value"] for entry in listed] == [1, 2, 1]
    one = json.loads(cli("kpis", "--db", str(path), "--month", MONTH, "--town", "乙镇", "--format", "json").stdout)
    assert {k: v for k, v in listed[1].items() if k != "town"} == one
    both = json.loads(
        cli("kpis", "--db", str(path), "--month", MONTH, "--town", "乙镇", "--town", "甲镇", "--format", "json").stdout
    )
    assert both["cases"]["value"] == 3
    bad = cli("ingest", str(SAMPLE / "cases_export.csv"), "--town", "../x", "--db", str(path))
    assert bad.returncode == 1 and "乡镇名称不可用" in bad.stdout + bad.stderr


def test_the_kept_figures_never_answer_for_one_town_with_the_county(pair: Path, tmp_path: Path) -> None:
    """The figures kept after a load are the whole database's: a town's view is keyed apart and computed."""
    import shutil

    from metrics import precomputed_views

    path = tmp_path / "egov.duckdb"
    shutil.copy(pair, path)
    db = Database(path)
    try:
        precomputed_views.refresh(db, months=1)
        cur = db.cursor()
        month = precomputed_views.latest_months(cur, 1)[0]
        county, town = Filters.month(month), Filters.month(month, towns=[TOWNS[1]])
        assert precomputed_views.call_key((county,), {}) != precomputed_views.call_key((town,), {})
        assert precomputed_views.lookup(cur, compute_kpis, (county, ["cases"])) is not precomputed_views.MISSING
        assert precomputed_views.lookup(cur, compute_kpis, (town, ["cases"])) is precomputed_views.MISSING
        seen = precomputed_views.fingerprint(cur)
        got = precomputed_views.call(cur, compute_kpis, (town, ["cases"]), {}, seen=seen)
        whole = precomputed_views.call(cur, compute_kpis, (county, ["cases"]), {}, seen=seen)
        assert got["cases"]["value"] * 2 == whole["cases"]["value"]
    finally:
        db.close()
