"""What an upload will change, shown before anything is written (issue 14, part 3).

A small hand-made town: a catalogue, then a first export of September and October 2025. A second export
overlaps both months: new cases, cases finished since (one of them with a corrected submission date that
moves it to October), one row older than what is held, one unchanged repeat, an item and a department the
catalogue does not list. The expected figures are worked out by hand below; the preview must predict them,
the load must then produce exactly them, and ``cli.py ingest --dry-run`` must print them and change nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.impact import MonthChange
from ingest.load import ingest_file
from ingest.preview import preview_file
from store.db import Database
from tests.apptest_support import PASSWORDS, button, demo_copy_with_users, start_app
from tests.cli_support import cli

HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间,承诺时限"
CATALOG = [
    "事项编码,事项名称,实施部门,是否网上可办,承诺时限（工作日）",
    "MZ001,临时救助申请,民政办,是,5",
    "MZ002,最低生活保障申请,民政办,是,15",
    "HJ001,出生登记,派出所户籍室,是,1",
    "GA001,居住证申领,派出所户籍室,是,7",
]
#: Held before the second export: A1–A6 open in September, B1–B5 completed in October.
FIRST = [f"A{i},临时救助申请,民政办,窗口,2025-09-{10 + i:02d} 09:00,,5个工作日" for i in range(1, 7)] + [
    f"B{i},出生登记,派出所户籍室,网上,2025-10-{10 + i:02d} 09:00,2025-10-{10 + i:02d} 11:00,1个工作日"
    for i in range(1, 6)
]
SECOND = [
    "N1,未知事项X,民政办,网上,2025-10-02 09:00,,5个工作日",  # new, October, item not in the catalogue
    "N2,未知事项X,民政办,网上,2025-10-03 09:00,,5个工作日",  # new, October, item not in the catalogue
    "N3,出生登记,未知部门,窗口,2025-10-04 09:00,,1个工作日",  # new, October, department not in the catalogue
    "N4,出生登记,派出所户籍室,窗口,2025-10-05 09:00,,1个工作日",  # new, October
    "N5,临时救助申请,民政办,窗口,2025-11-03 09:00,,5个工作日",  # new, November
    "N6,临时救助申请,民政办,窗口,2025-11-04 09:00,,5个工作日",  # new, November
    "A1,临时救助申请,民政办,窗口,2025-09-11 09:00,2025-09-20 10:00,5个工作日",  # finished since: replaces
    "A2,临时救助申请,民政办,窗口,2025-09-12 09:00,2025-09-21 10:00,5个工作日",  # finished since: replaces
    "A3,临时救助申请,民政办,窗口,2025-10-01 09:00,2025-10-08 10:00,5个工作日",  # replaces, moves Sep -> Oct
    "B1,出生登记,派出所户籍室,网上,2025-10-11 09:00,,1个工作日",  # held as completed: older, does not count
    "B2,出生登记,派出所户籍室,网上,2025-10-12 09:00,2025-10-12 11:00,1个工作日",  # the same again: replaces
    "X1,临时救助申请,民政办,窗口,昨天上午,,5个工作日",  # rejected: not part of the impact
    "合计,12,,,,,",  # footer: skipped
]
#: By hand: September 6 -> 5 (A3 moves out); October 5 + N1–N4 + A3 = 10; November 0 + N5, N6 = 2.
EXPECTED_MONTHS = (
    MonthChange("2025-09", before=6, after=5, in_file=2, new=0, updated=3, older=0),
    MonthChange("2025-10", before=5, after=10, in_file=7, new=4, updated=1, older=1),
    MonthChange("2025-11", before=0, after=2, in_file=2, new=2, updated=0, older=0),
)


def write(path: Path, rows: list[str], header: str | None = HEADER) -> Path:
    path.write_text("\n".join(([header] if header else []) + rows) + "\n", encoding="utf-8")
    return path


def town(db: Database, tmp_path: Path) -> None:
    """The catalogue and the first export, loaded."""
    ingest_file(db, write(tmp_path / "catalog.csv", CATALOG, header=None), kind="catalog")
    ingest_file(db, write(tmp_path / "first.csv", FIRST))


def month_counts(cur: duckdb.DuckDBPyConnection) -> dict[str | None, int]:
    return dict(cur.execute("SELECT strftime(submitted_at, '%Y-%m'), count(*) FROM cases GROUP BY 1").fetchall())


def fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    """Each table of the database file: its rows and a hash of their text, read without opening it for writing."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: con.execute(
                f"SELECT count(*), coalesce(md5(string_agg(r::VARCHAR, '|' ORDER BY r::VARCHAR)), '') FROM {t} r"
            ).fetchone()
            for t in tables
        }
    finally:
        con.close()


# --- the prediction, and the load that follows it -------------------------------------------------------


def test_preview_predicts_the_hand_worked_impact_and_the_load_produces_it(tmp_path, tmp_db):
    town(tmp_db, tmp_path)
    second = write(tmp_path / "second.csv", SECOND)
    cur = tmp_db.cursor()
    before_ids = {r[0] for r in cur.execute("SELECT DISTINCT case_id FROM case_rows").fetchall()}
    assert month_counts(cur) == {"2025-09": 6, "2025-10": 5}

    impact = preview_file(tmp_db, second).impact
    assert impact is not None
    assert (impact.cases, impact.new_cases, impact.held_cases, impact.wins, impact.older) == (11, 6, 5, 4, 1)
    assert (f"{impact.first_submitted:%Y-%m-%d %H:%M}", f"{impact.last_submitted:%Y-%m-%d %H:%M}") == (
        "2025-09-11 09:00",
        "2025-11-04 09:00",
    )
    assert impact.months == EXPECTED_MONTHS
    assert [m.month for m in impact.overlap] == ["2025-09", "2025-10"]
    assert impact.catalog_loaded
    assert [(n.name, n.cases) for n in impact.unlisted_items] == [("未知事项X", 2)]
    assert [(n.name, n.cases) for n in impact.unlisted_departments] == [("未知部门", 1)]
    assert (impact.unlisted_item_count, impact.unlisted_item_cases) == (1, 2)
    assert month_counts(cur) == {"2025-09": 6, "2025-10": 5}  # the preview wrote nothing

    result = ingest_file(tmp_db, second)
    after = month_counts(cur)
    assert after == {m.month: m.after for m in impact.months}
    upload_ids = {
        r[0] for r in cur.execute("SELECT case_id FROM case_rows WHERE upload_id = ?", [result.upload_id]).fetchall()
    }
    assert len(upload_ids - before_ids) == impact.new_cases
    assert len(upload_ids & before_ids) == impact.held_cases
    current = cur.execute(
        "SELECT count(*) FROM case_rows WHERE upload_id = ? AND is_current AND case_id IN (SELECT unnest(?))",
        [result.upload_id, sorted(before_ids)],
    ).fetchone()[0]
    assert current == impact.wins
    assert result.rows_superseded == impact.older
    # The unlisted items and departments the check named are what the data-quality page then counts (the town
    # held none before): the file's cases that count, not its rows older than what is held.
    from ingest import quality

    gaps = quality.catalog_gaps(cur)
    assert (gaps["items"], gaps["item_cases"]) == (impact.unlisted_item_count, impact.unlisted_item_cases)
    assert (gaps["departments"], gaps["department_cases"]) == (
        impact.unlisted_department_count,
        impact.unlisted_department_cases,
    )
    cur.close()


def test_an_older_version_with_an_item_not_in_the_catalogue_is_not_counted_as_one(tmp_path, tmp_db):
    """B3 is held completed; the file's open B3 under an unlisted item is older and will not count: the check
    names only N7's item, as the data-quality page does after the load."""
    from ingest import quality

    town(tmp_db, tmp_path)
    third = write(
        tmp_path / "third.csv",
        [
            "B3,未知事项Y,派出所户籍室,网上,2025-10-13 09:00,,1个工作日",  # older than the completed B3 held
            "N7,未知事项Z,民政办,窗口,2025-10-20 09:00,,5个工作日",  # new
        ],
    )
    impact = preview_file(tmp_db, third).impact
    assert (impact.held_cases, impact.older) == (1, 1)
    assert [(n.name, n.cases) for n in impact.unlisted_items] == [("未知事项Z", 1)]
    ingest_file(tmp_db, third)
    with tmp_db.reading() as cur:
        assert [(r["service_item"], r["cases"]) for r in quality.catalog_gap_items(cur).to_dict("records")] == [
            ("未知事项Z", 1)
        ]


def test_event_file_prediction_equals_the_load(tmp_path, tmp_db):
    """Event files derive their cases: a case-file version held beats them; events count per upload."""
    town(tmp_db, tmp_path)
    header = "办件编号,事项名称,实施部门,环节名称,办理部门,开始时间,完成时间"
    first = [
        "E1,临时救助申请,民政办,收件,便民服务中心,,2025-10-20 09:00",
        "E1,临时救助申请,民政办,审核,民政办,2025-10-20 10:00,2025-10-21 10:00",
        "E1,临时救助申请,民政办,办结,民政办,,2025-10-22 10:00",
        "A4,临时救助申请,民政办,收件,便民服务中心,,2025-09-14 09:00",
        "A4,临时救助申请,民政办,办结,民政办,,2025-09-25 09:00",
    ]
    ingest_file(tmp_db, write(tmp_path / "events1.csv", first, header))
    second = [  # E1 again with fewer, earlier events (older); E2 new in November; A5 held from the case file
        "E1,临时救助申请,民政办,收件,便民服务中心,,2025-10-20 09:00",
        "E2,出生登记,派出所户籍室,收件,便民服务中心,,2025-11-05 09:00",
        "E2,出生登记,派出所户籍室,办结,派出所户籍室,,2025-11-05 15:00",
        "A5,临时救助申请,民政办,收件,便民服务中心,,2025-09-15 09:00",
    ]
    path = write(tmp_path / "events2.csv", second, header)
    cur = tmp_db.cursor()
    impact = preview_file(tmp_db, path).impact
    assert impact is not None and impact.kind == "events"
    assert (impact.cases, impact.new_cases, impact.held_cases) == (3, 1, 2)
    assert impact.older == 2  # E1 (held version completed later) and A5 (a case-file version held)
    assert (impact.events, impact.events_older, impact.cases_events_older) == (4, 1, 1)  # E1's one event

    before = month_counts(cur)
    result = ingest_file(tmp_db, path)
    assert month_counts(cur) == {**before, **{m.month: m.after for m in impact.months}}
    assert {m.month: m.after - m.before for m in impact.months} == {"2025-09": 0, "2025-10": 0, "2025-11": 1}
    assert result.rows_superseded == impact.events_older
    lost = cur.execute(
        "SELECT count(*) FROM case_rows WHERE upload_id = ? AND NOT is_current", [result.upload_id]
    ).fetchone()[0]
    assert lost == impact.older
    cur.close()


def test_catalogue_preview_names_new_changed_and_dropped_items(tmp_path, tmp_db):
    town(tmp_db, tmp_path)
    catalog = [
        CATALOG[0],
        "MZ001,临时救助申请,民政办,是,5",  # unchanged
        "MZ002,最低生活保障申请,民政办,是,10",  # changed: 15 -> 10 days
        "XX001,未知事项X,民政办,是,5",  # new
        "GA009,居住证申领,派出所户籍室,是,7",  # re-coded: the same item by name, changed
    ]  # HJ001 出生登记 is not in the file: dropped
    impact = preview_file(tmp_db, write(tmp_path / "catalog2.csv", catalog, header=None), kind="catalog").impact
    c = impact.catalog
    assert (c.items, c.new, c.changed, c.unchanged, c.dropped) == (4, 1, 2, 1, 1)
    assert c.new_names == ("未知事项X",) and c.dropped_names == ("出生登记",)
    assert c.changed_names == ("居住证申领", "最低生活保障申请")
    # Held: A1–A6 临时救助申请 (listed before and after), B1–B5 出生登记 (listed now, not after).
    assert (c.cases_unlisted_before, c.cases_unlisted_after) == (0, 5)


# --- the command line -----------------------------------------------------------------------------------


@pytest.fixture
def town_file(tmp_path: Path) -> Path:
    """The hand-made town in a database file, closed (the command line opens it)."""
    path = tmp_path / "town" / "egov.duckdb"
    path.parent.mkdir()
    db = Database(path)
    try:
        town(db, tmp_path)
    finally:
        db.close()
    return path


def test_dry_run_prints_the_impact_of_an_overlapping_file_and_changes_nothing(tmp_path, town_file):
    second = write(tmp_path / "second.csv", SECOND)
    con = duckdb.connect(str(town_file), read_only=True)
    held = dict(con.execute("SELECT strftime(submitted_at, '%Y-%m'), count(*) FROM cases GROUP BY 1").fetchall())
    con.close()
    before = fingerprint(town_file)

    proc = cli("ingest", "--db", str(town_file), "--dry-run", str(second))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr and not proc.stderr.strip()
    assert "second.csv: 预检，未写入 [cases] 可导入 11 行，拒绝 1 行，跳过 1 行" in out
    assert "时间无法识别 (unparseable time): 1" in out
    assert "本文件覆盖 2025-09-11 09:00 至 2025-11-04 09:00" in out
    assert "办件 11 件：新办件 6，更新已有办件 5（其中 1 件比库中已有的记录旧，不计入）" in out
    # Before: as the database holds it (read above); after: by hand (see EXPECTED_MONTHS).
    assert f"2025-09: {held['2025-09']} → 5 (-1)  新办件 0，更新 3，较旧不计入 0" in out
    assert f"2025-10: {held['2025-10']} → 10 (+5)  新办件 4，更新 1，较旧不计入 1" in out
    assert "2025-11: 0 → 2 (+2)  新办件 2" in out
    assert "事项目录中没有的事项 1 个（共 2 件）" in out and "未知事项X 2" in out
    assert "事项目录中没有的部门 1 个（共 1 件）" in out and "未知部门 1" in out
    assert "! 本文件与已导入的月份重叠：2025-09、2025-10（" in out

    assert fingerprint(town_file) == before  # every table, the data version, uploads, audit, kept figures


def test_dry_run_then_load_agree_for_several_files_each_against_the_database_as_it_is(tmp_path, town_file):
    second = write(tmp_path / "second.csv", SECOND)
    november = write(tmp_path / "nov.csv", ["N5,临时救助申请,民政办,窗口,2025-11-03 09:00,,5个工作日"])
    proc = cli("ingest", "--db", str(town_file), "--dry-run", str(second), str(november))
    assert proc.returncode == 0, proc.stderr
    # Each file against the database as it is: N5 is new in both previews.
    assert "办件 1 件：新办件 1，更新已有办件 0" in proc.stdout
    assert proc.stdout.count("2025-11: 0 → ") == 2

    loaded = cli("ingest", "--db", str(town_file), "--no-refresh", str(second))
    assert loaded.returncode == 0, loaded.stderr
    con = duckdb.connect(str(town_file), read_only=True)
    counts = dict(con.execute("SELECT strftime(submitted_at, '%Y-%m'), count(*) FROM cases GROUP BY 1").fetchall())
    con.close()
    assert counts == {m.month: m.after for m in EXPECTED_MONTHS}


def test_dry_run_of_a_refused_file_exits_1_with_one_line(tmp_path, town_file):
    bad = write(tmp_path / "bad.csv", [f"Z{i},临时救助申请,民政办,窗口,not a time,,5" for i in range(5)])
    missing = write(tmp_path / "nocols.csv", ["x,y"], header="甲,乙")
    good = write(tmp_path / "nov.csv", ["N5,临时救助申请,民政办,窗口,2025-11-03 09:00,,5个工作日"])
    before = fingerprint(town_file)

    proc = cli("ingest", "--db", str(town_file), "--dry-run", str(bad))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bad.csv: 已拒绝 (refused):") and "超过一半" in lines[0]
    assert "Traceback" not in proc.stderr and not proc.stdout.strip()

    proc = cli("ingest", "--db", str(town_file), "--dry-run", str(missing), str(good))
    assert proc.returncode == 1  # one of the files would be refused
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nocols.csv: 已拒绝 (refused):"), lines
    assert "nov.csv: 预检，未写入" in proc.stdout and "新办件 1" in proc.stdout
    assert fingerprint(town_file) == before

    nowhere = tmp_path / "nowhere" / "egov.duckdb"
    proc = cli("ingest", "--db", str(nowhere), "--dry-run", str(good))
    assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
        f"数据库文件不存在：{nowhere} (no database at {nowhere})"
    ]
    assert not nowhere.parent.exists()  # a dry run creates nothing


# --- the upload page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_upload_page_shows_the_impact_before_the_import_button(small_demo_db, tmp_path, monkeypatch, lang):
    db_path = demo_copy_with_users(small_demo_db, tmp_path)
    con = duckdb.connect(str(db_path), read_only=True)
    october = con.execute("SELECT count(*) FROM cases WHERE strftime(submitted_at, '%Y-%m') = '2026-10'").fetchone()[0]
    # A held October case whose version in the file wins: it completes later than the one held.
    held_id, held_item = con.execute(
        """SELECT case_id, service_item FROM cases
           WHERE strftime(submitted_at, '%Y-%m') = '2026-10' AND coalesce(completed_at, submitted_at) < '2026-11-30'
           ORDER BY case_id"""
    ).fetchone()
    data_version = con.execute("SELECT version FROM data_version").fetchone()[0]
    con.close()
    rows = [
        "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间",
        "IMP1,**未登记事项**,民政办,网上,2026-10-09 09:00,2026-10-12 16:00",  # markup in a name stays text
        "IMP2,**未登记事项**,民政办,窗口,2026-10-10 09:30,",
        "IMP3,临时救助申请,民政办,窗口,2026-10-11 09:30,",
        f"{held_id},{held_item},民政办,窗口,2026-10-01 08:00,2026-11-30 10:00",
    ]
    at = start_app(db_path, monkeypatch, tmp_path, lang=lang)
    at = _login(at, "登录" if lang == "zh" else "Sign in")
    at.switch_page("views/upload.py").run()
    at.file_uploader(key="upload_files").set_value([("oct.csv", "\n".join(rows).encode(), "text/csv")])
    at.run()
    assert not at.exception, at.exception
    texts = [m.value for m in at.markdown]
    warnings = [w.value for w in at.warning]
    month_table = next(d.value for d in at.dataframe if d.value.shape[1] == 4 and "2026" in str(d.value.iloc[0, 0]))
    if lang == "zh":
        assert any("本文件覆盖 2026-10-01 至 2026-10-11" in t for t in texts), texts
        assert any("新办件 3 · 更新已有办件 1" in t for t in texts), texts
        assert any(
            "事项目录中没有的事项：1 个（共 2 件）" in t and "\\*\\*未登记事项\\*\\*（2 件）" in t for t in texts
        ), texts
        assert any(f"2026年10月已有 {october:,} 件，本文件将更新其中 1 件、新增 3 件" in w for w in warnings), warnings
        assert list(month_table.columns) == ["月份", "导入前", "导入后", "变化"]
        assert month_table.iloc[0].tolist() == ["2026年10月", october, october + 3, 3]
    else:
        assert any("The file covers 2026-10-01 to 2026-10-11" in t for t in texts), texts
        assert any("3 new cases · 1 cases already held" in t for t in texts), texts
        assert any("Items not in the service catalogue: 1 (2 cases)" in t for t in texts), texts
        assert any(
            f"Oct 2026 holds {october:,} cases, 1 of which the file updates and it adds 3" in w for w in warnings
        )
        assert list(month_table.columns) == ["Month", "Before", "After", "Change"]
        assert month_table.iloc[0].tolist() == ["Oct 2026", october, october + 3, 3]
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("SELECT version FROM data_version").fetchone()[0] == data_version  # nothing written
    con.close()


def _login(at, label: str):
    """Sign in as the analyst with the login button of the page's language."""
    at.text_input(key="login_name").input("ana")
    at.text_input(key="login_password").input(PASSWORDS["ana"])
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("order", [("cases", "events"), ("events", "cases")])
def test_demo_exports_predicted_then_loaded_in_either_order(tmp_db, order):
    """The shipped sample town: the second export (steps after cases, or cases after steps) predicted, then loaded."""
    import settings

    files = {"cases": settings.SAMPLE_DIR / "cases_export.csv", "events": settings.SAMPLE_DIR / "events_export.csv"}
    ingest_file(tmp_db, settings.SAMPLE_DIR / "service_catalog.xlsx", kind="catalog")
    ingest_file(tmp_db, files[order[0]], kind=order[0])
    cur = tmp_db.cursor()
    before = month_counts(cur)
    impact = preview_file(tmp_db, files[order[1]], kind=order[1]).impact
    assert impact.new_cases == 0 and impact.held_cases == impact.cases == sum(before.values())
    # A case-file version beats one derived from events, whichever comes first.
    assert (impact.wins, impact.older) == ((0, impact.cases) if order[1] == "events" else (impact.cases, 0))
    assert {m.month: m.before for m in impact.months} == before
    result = ingest_file(tmp_db, files[order[1]], kind=order[1])
    assert month_counts(cur) == {m.month: m.after for m in impact.months}
    assert result.rows_superseded == (impact.events_older if order[1] == "events" else impact.older)
    cur.close()


def test_the_page_works_the_impact_out_again_after_another_load(small_demo_db, tmp_path, monkeypatch):
    """Two files dropped together: once the first is loaded, the second's impact is against the new data."""
    db_path = demo_copy_with_users(small_demo_db, tmp_path)
    head = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间"
    first = f"{head}\nIMPX,临时救助申请,民政办,窗口,2026-10-09 09:00,\n".encode()
    second = f"{head}\nIMPX,临时救助申请,民政办,窗口,2026-10-09 09:00,2026-10-12 16:00\n".encode()
    at = _login(start_app(db_path, monkeypatch, tmp_path), "登录")
    at.switch_page("views/upload.py").run()
    at.file_uploader(key="upload_files").set_value([("a.csv", first, "text/csv"), ("b.csv", second, "text/csv")])
    at.run()
    assert not at.exception, at.exception
    summaries = [m.value for m in at.markdown if "本文件覆盖" in m.value]
    assert len(summaries) == 2 and all("新办件 1 · 更新已有办件 0" in s for s in summaries), summaries

    next(b for b in at.button if b.label == "导入").click().run()  # the first file's button
    assert not at.exception, at.exception
    summaries = [m.value for m in at.markdown if "本文件覆盖" in m.value]
    assert summaries == ["本文件覆盖 2026-10-09 至 2026-10-09 · 新办件 0 · 更新已有办件 1"], summaries
