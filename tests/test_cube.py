"""The KPI cube (metrics/cube.py): its cells counted by hand, kept by every load and removal, never read stale.

Three small uploads in two towns over two months; every cell is counted here from the rows written below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import scope
from ingest.load import ingest_file, remove_upload
from metrics import cube, kpis, precomputed_columns
from metrics.filters import Filters, Params
from store.db import Database
from store.uploads import mark_changed

HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,跑动次数\n"
EAST_1 = (
    "A1,出生登记,派出所,窗口办理,2026-10-05 09:00,2026-10-06 09:00,1\n"
    "A2,出生登记,派出所,窗口办理,2026-10-20 09:00,,2\n"
    "A3,低保申请,民政办,网上办理,2026-10-21 09:00,2026-10-25 09:00,0\n"
    "A4,低保申请,民政办,网上办理,2026-11-03 09:00,2026-11-04 09:00,0\n"
)
WEST = (
    "B1,出生登记,派出所,网上办理,2026-10-07 09:00,2026-10-08 09:00,0\nB2,低保申请,民政办,窗口办理,2026-11-09 09:00,,1\n"
)
#: A5 is new; A2 comes again, finished and online (a finished version wins over an open one: store.uploads).
EAST_2 = (
    "A5,低保申请,民政办,窗口办理,2026-11-10 09:00,2026-11-12 09:00,1\n"
    "A2,出生登记,派出所,网上办理,2026-10-20 09:00,2026-10-23 09:00,0\n"
)

#: (town, month, department, channel) -> (cases, online cases, cases with visits = 0), counted from the rows above.
AFTER_ALL = {
    ("东镇", "2026-10", "派出所", "window"): (1, 0, 0),
    ("东镇", "2026-10", "派出所", "online"): (1, 1, 1),
    ("东镇", "2026-10", "民政办", "online"): (1, 1, 1),
    ("东镇", "2026-11", "民政办", "online"): (1, 1, 1),
    ("东镇", "2026-11", "民政办", "window"): (1, 0, 0),
    ("西镇", "2026-10", "派出所", "online"): (1, 1, 1),
    ("西镇", "2026-11", "民政办", "window"): (1, 0, 0),
}


def _upload(db: Database, folder: Path, name: str, rows: str, town: str) -> int:
    path = folder / name
    path.write_text(HEADER + rows, encoding="utf-8")
    result = ingest_file(db, path, kind="cases", town=town, loaded_by="test")
    assert result.upload_id is not None
    return result.upload_id


def _cells(db: Database) -> dict[tuple, tuple]:
    online = cube.kept("period", "online_rate", "numerator")
    zero = cube.kept("period", "zero_visit_rate", "numerator")
    assert online is not None and zero is not None
    rows = db.cursor().execute(
        f"""SELECT town, strftime(month, '%Y-%m'), department, channel, sum(cases), {online.read}, {zero.read}
            FROM {cube.TABLE} c GROUP BY ALL"""
    )
    return {tuple(r[:4]): tuple(int(v) for v in r[4:]) for r in rows.fetchall()}


def _rebuilt(db: Database) -> list[tuple]:
    """The cube as a rebuild from every current case would make it (the kept one must equal it)."""
    params = Params()
    sql = cube._period_sql(params, "true")
    return sorted(db.cursor().execute(sql, params.values).fetchall(), key=repr)


def _kept(db: Database) -> list[tuple]:
    return sorted(db.cursor().execute(f"SELECT * FROM {cube.TABLE}").fetchall(), key=repr)


def _rounded(results: dict) -> dict:
    """Floats to 12 significant digits (sums of cells add in another order than sums of cases)."""
    return {k: {f: float(f"{v:.12g}") if isinstance(v, float) else v for f, v in r.items()} for k, r in results.items()}


@pytest.fixture
def db(tmp_path: Path):
    database = Database(tmp_path / "egov.duckdb")
    yield database
    database.close()


def test_the_cells_follow_every_load_and_removal(db: Database, tmp_path: Path) -> None:
    east = _upload(db, tmp_path, "east1.csv", EAST_1, "东镇")
    west = _upload(db, tmp_path, "west.csv", WEST, "西镇")
    later = _upload(db, tmp_path, "east2.csv", EAST_2, "东镇")
    assert cube.current(db.cursor())
    assert _cells(db) == AFTER_ALL
    assert _kept(db) == _rebuilt(db)

    remove_upload(db, later)  # A5 goes, A2 is open at the window again
    assert _cells(db) == {
        ("东镇", "2026-10", "派出所", "window"): (2, 0, 0),
        ("东镇", "2026-10", "民政办", "online"): (1, 1, 1),
        ("东镇", "2026-11", "民政办", "online"): (1, 1, 1),
        ("西镇", "2026-10", "派出所", "online"): (1, 1, 1),
        ("西镇", "2026-11", "民政办", "window"): (1, 0, 0),
    }
    remove_upload(db, west)
    assert _cells(db) == {
        ("东镇", "2026-10", "派出所", "window"): (2, 0, 0),
        ("东镇", "2026-10", "民政办", "online"): (1, 1, 1),
        ("东镇", "2026-11", "民政办", "online"): (1, 1, 1),
    }
    assert _kept(db) == _rebuilt(db)
    remove_upload(db, east)
    assert _cells(db) == {}
    assert cube.current(db.cursor())


def test_the_tiles_read_from_the_cube_equal_the_cases(db: Database, tmp_path: Path) -> None:
    _upload(db, tmp_path, "east1.csv", EAST_1, "东镇")
    _upload(db, tmp_path, "west.csv", WEST, "西镇")
    cur = db.cursor()
    october = Filters.month("2026-10")
    tiles = kpis.compute_kpis(cur, october, ["cases", "online_rate", "zero_visit_rate", "median_processing_days"])
    # October: A1, A2 (window), A3 (online, 0 visits), B1 (online, 0 visits); completed A1 1 day, A3 4, B1 1.
    assert tiles["cases"]["value"] == 4
    assert (tiles["online_rate"]["numerator"], tiles["online_rate"]["denominator"]) == (2, 4)
    assert (tiles["zero_visit_rate"]["numerator"], tiles["zero_visit_rate"]["denominator"]) == (2, 4)
    assert tiles["median_processing_days"]["n"] == 3
    with precomputed_columns.disabled():
        live = kpis.compute_kpis(cur, october)
    assert _rounded(kpis.compute_kpis(cur, october)) == _rounded(live)
    by_town = kpis.to_wide(kpis.kpis_by(cur, Filters("2026-10-01", "2026-11-30"), "town", ["cases"]), "town")
    assert dict(zip(by_town["town"], by_town["cases"], strict=True)) == {"东镇": 4, "西镇": 2}


def test_rows_written_past_the_loader_make_the_cube_again(db: Database, tmp_path: Path) -> None:
    _upload(db, tmp_path, "east1.csv", EAST_1, "东镇")
    with db.write() as cur:  # nothing marked: the row count tells
        cur.execute(
            "INSERT INTO case_rows (case_id, department, submitted_at, status, source, upload_id, town) "
            "VALUES ('X1', '派出所', TIMESTAMP '2026-12-01 09:00', 'open', 'test', 99, '东镇')"
        )
    assert _cells(db)[("东镇", "2026-12", "派出所", None)] == (1, 0, 0)
    assert _kept(db) == _rebuilt(db)


def test_a_town_users_write_keeps_the_whole_countys_cube(db: Database, tmp_path: Path) -> None:
    _upload(db, tmp_path, "east1.csv", EAST_1, "东镇")
    _upload(db, tmp_path, "west.csv", WEST, "西镇")
    with scope.scoped(["西镇"]), db.write() as cur:
        mark_changed(cur)  # every cell made again, within a town user's run
    assert {k[0] for k in _cells(db)} == {"东镇", "西镇"}
    assert _kept(db) == _rebuilt(db)


def test_a_stale_or_foreign_cube_is_never_read(db: Database, tmp_path: Path, monkeypatch) -> None:
    _upload(db, tmp_path, "east1.csv", EAST_1, "东镇")
    cur = db.cursor()
    assert cube.current(cur)
    with precomputed_columns.disabled():
        assert not cube.current(cur)
    monkeypatch.setattr(cube, "DEFINITION", "another catalogue")
    assert not cube.current(cur)  # made from another definition: the figures are computed from the cases
    assert kpis.compute_kpis(cur, Filters.month("2026-10"), ["cases"])["cases"]["value"] == 3
    with db.write():
        pass
    assert cube.current(cur)  # the next write made it again, from this definition
    with db.write(bump=True) as w:
        w.execute("UPDATE data_version SET version = version + 5")  # another writer's version, cube untouched…
    assert cube.current(cur)  # …is brought level by the maintainer within that same write


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("count(*)", True),
        ("count(visits)", True),
        ("count(*) FILTER (WHERE is_online)", True),
        ("sum(1 - a / b) FILTER (WHERE x AND (y OR z))", True),
        ("quantile_cont(processing_days_working, 0.5) FILTER (WHERE done)", False),
        ("avg(visits)", False),
        ("count(*) / 2", False),
        ("count(a) + count(b)", False),
        ("coalesce(sum(cases - 1), 0)", False),
        ("count(*) FILTER (WHERE a) + 1", False),
    ],
)
def test_only_one_count_or_sum_is_kept_as_a_sum_of_cells(sql: str, expected: bool) -> None:
    assert cube.additive(sql) is expected


PEOPLE_HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,证件号码\n"
#: P1 files three items of three departments 8 and 14 days apart (one journey, begun in October); P2 files one
#: item twice, 28 days apart (two journeys in November).
PEOPLE = (
    "J1,出生登记,派出所,窗口办理,2026-10-28 09:00,2026-10-29 09:00,411323199001011234\n"
    "J2,医保参保登记,医保站,窗口办理,2026-11-05 09:00,2026-11-06 09:00,411323199001011234\n"
    "J6,低保申请,民政办,窗口办理,2026-11-19 09:00,2026-11-20 09:00,411323199001011234\n"
    "J3,出生登记,派出所,窗口办理,2026-11-02 09:00,2026-11-03 09:00,411323198502023456\n"
    "J4,出生登记,派出所,窗口办理,2026-11-30 09:00,2026-12-01 09:00,411323198502023456\n"
)
#: P2 again on 11-16: 11-02, 11-16 and 11-30 are each within 15 days of the one before, one journey of three.
#: P1 again on 12-03, 14 days after 11-19: the October journey goes on into December. Only December changed, but
#: the journey to count again began in October (the cells from November alone would miss it).
LATE = "J7,出生登记,派出所,窗口办理,2026-12-03 09:00,2026-12-04 09:00,411323199001011234\n"
BRIDGE = "J5,出生登记,派出所,窗口办理,2026-11-16 09:00,2026-11-17 09:00,411323198502023456\n"


def _journey_cells(db: Database) -> dict[str, tuple]:
    """(journeys, multi-item journeys, multi-department journeys, avoidable submissions) per month of 东镇."""
    read = {
        role: k.read
        for role, k in {
            "journeys": cube.kept("journeys", "multi_item_journey_rate", "denominator"),
            "multi_item": cube.kept("journeys", "multi_item_journey_rate", "numerator"),
            "multi_department": cube.kept("journeys", "multi_department_journey_rate", "numerator"),
            "avoidable": cube.kept("journeys", "avoidable_submissions", "value"),
        }.items()
        if k is not None
    }
    assert len(read) == 4
    rows = db.cursor().execute(
        f"SELECT strftime(month, '%Y-%m'), {', '.join(read.values())} FROM {cube.JOURNEY_TABLE} c GROUP BY 1"
    )
    return {r[0]: tuple(int(v) for v in r[1:]) for r in rows.fetchall()}


def _upload_people(db: Database, folder: Path, name: str, rows: str) -> int:
    path = folder / name
    path.write_text(PEOPLE_HEADER + rows, encoding="utf-8")
    result = ingest_file(db, path, kind="cases", town="东镇", loaded_by="test")
    assert result.upload_id is not None
    return result.upload_id


def test_the_journey_cells_follow_the_towns_loads(db: Database, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EGOV_TODAY", "2026-12-20 12:00")  # December's case is in the past
    _upload_people(db, tmp_path, "people.csv", PEOPLE)
    assert _journey_cells(db) == {"2026-10": (1, 1, 1, 2), "2026-11": (2, 0, 0, 0)}
    bridge = _upload_people(db, tmp_path, "bridge.csv", BRIDGE)
    assert _journey_cells(db) == {"2026-10": (1, 1, 1, 2), "2026-11": (1, 0, 0, 0)}
    _upload_people(db, tmp_path, "late.csv", LATE)
    assert _journey_cells(db) == {"2026-10": (1, 1, 1, 3), "2026-11": (1, 0, 0, 0)}
    cur = db.cursor()
    november = Filters.month("2026-11")
    tiles = kpis.compute_kpis(cur, november, ["multi_item_journey_rate", "avoidable_submissions"])
    assert tiles["multi_item_journey_rate"]["denominator"] == 1
    with precomputed_columns.disabled():
        assert (
            kpis.compute_kpis(cur, november, ["multi_item_journey_rate"])["multi_item_journey_rate"]
            == (tiles["multi_item_journey_rate"])
        )
    remove_upload(db, bridge)
    assert _journey_cells(db) == {"2026-10": (1, 1, 1, 3), "2026-11": (2, 0, 0, 0)}


BACKLOG_HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,承诺时限\n"
#: K1 is left open past its limit (overdue at both month ends); K2 is open at the end of October, done before its
#: limit in November; K3 comes on 11-26 with three working days (due on 12-01: at risk at the end of November).
BACKLOG = (
    "K1,出生登记,派出所,窗口办理,2026-10-05 09:00,,5个工作日\n"
    "K2,出生登记,派出所,窗口办理,2026-10-28 09:00,2026-11-10 09:00,20个工作日\n"
    "K3,低保申请,民政办,网上办理,2026-11-26 09:00,,3个工作日\n"
)
#: K1 again, finished on 11-20 (a finished version wins over an open one): no longer open at the end of November.
K1_DONE = "K1,出生登记,派出所,窗口办理,2026-10-05 09:00,2026-11-20 09:00,5个工作日\n"


def _backlog_cells(db: Database) -> dict[str, tuple[int, int]]:
    """(open overdue, at risk) per as-of day held, from the backlog cube's cells."""
    overdue, risk = cube.kept("backlog", "open_overdue_cases", "value"), cube.kept("backlog", "at_risk_cases", "value")
    assert overdue is not None and risk is not None
    cur = db.cursor()
    days = [r[0] for r in cur.execute(f"SELECT as_of_day FROM {cube.BACKLOG_DAYS} ORDER BY 1").fetchall()]
    cells = dict(
        (r[0], (int(r[1]), int(r[2])))
        for r in cur.execute(
            f"SELECT as_of_day, {overdue.read}, {risk.read} FROM {cube.BACKLOG_TABLE} c GROUP BY 1"
        ).fetchall()
    )
    return {f"{d}": cells.get(d, (0, 0)) for d in days}


def test_the_backlog_is_kept_as_of_every_month_end_that_is_over(db: Database, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EGOV_TODAY", "2026-12-15 12:00")
    path = tmp_path / "backlog.csv"
    path.write_text(BACKLOG_HEADER + BACKLOG, encoding="utf-8")
    ingest_file(db, path, kind="cases", town="东镇", loaded_by="test")
    assert _backlog_cells(db) == {"2026-10-31": (1, 0), "2026-11-30": (1, 1)}
    cur = db.cursor()
    tiles = kpis.compute_kpis(cur, Filters.month("2026-11"), ["open_overdue_cases", "at_risk_cases"])
    assert (tiles["open_overdue_cases"]["value"], tiles["at_risk_cases"]["value"]) == (1, 1)
    with precomputed_columns.disabled():
        assert kpis.compute_kpis(cur, Filters.month("2026-11"), ["open_overdue_cases", "at_risk_cases"]) == tiles

    path.write_text(BACKLOG_HEADER + K1_DONE, encoding="utf-8")
    done = ingest_file(db, path, kind="cases", town="东镇", loaded_by="test").upload_id
    assert done is not None
    assert _backlog_cells(db) == {"2026-10-31": (1, 0), "2026-11-30": (0, 1)}
    remove_upload(db, done)
    assert _backlog_cells(db) == {"2026-10-31": (1, 0), "2026-11-30": (1, 1)}

    monkeypatch.setenv("EGOV_TODAY", "2027-01-05 12:00")  # December is over: the next write adds its end
    with db.write():
        pass
    assert _backlog_cells(db) == {"2026-10-31": (1, 0), "2026-11-30": (1, 1), "2026-12-31": (2, 0)}
    series = kpis.kpi_series(cur, Filters("2026-10-01", "2026-12-31"), "month", ["open_overdue_cases"])
    assert list(series["value"]) == [1, 1, 2]
