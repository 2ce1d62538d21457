"""Snapshots per town and for the county (issue 16 part 5).

A small demo county (3 towns, 3 months, a tenth of the volume) is loaded once; the PDF printer is replaced
by a stub (what is tested here is which figures are frozen, not Chromium: tests/test_snapshots.py prints).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import settings

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"


@pytest.fixture(autouse=True)
def no_chromium(monkeypatch):
    from reports import snapshots

    monkeypatch.setattr(snapshots, "html_to_pdf", lambda html: b"%PDF-stub " + html[:40].encode())


@pytest.fixture(scope="module")
def county_db(tmp_path_factory) -> Path:
    from demo.load import load_demo
    from store.db import Database

    path = tmp_path_factory.mktemp("county") / "egov.duckdb"
    db = Database(path)
    try:
        load_demo(db, towns=3, months=3, scale=0.1, end_month="2026-11")
    finally:
        db.close()
    return path


@pytest.fixture
def db(county_db, tmp_path):
    from store.db import Database

    shutil.copy(county_db, tmp_path / "egov.duckdb")
    key = county_db.parent / "secret.key"
    if key.exists():
        shutil.copy(key, tmp_path / "secret.key")
    database = Database(tmp_path / "egov.duckdb")
    yield database
    database.close()


def towns_of(db) -> list[str]:
    from store.towns import towns

    return towns(db.cursor())


def test_a_towns_snapshot_freezes_that_towns_live_figures_only(db):
    from dataclasses import replace

    from metrics.filters import Filters
    from metrics.kpis import compute_kpis
    from reports import content as frozen
    from reports import snapshots

    names = towns_of(db)
    assert len(names) == 3
    town = names[1]
    result = snapshots.publish(db, MONTH, by="ana", town=town)
    cur = db.cursor()
    snap = snapshots.get_snapshot(cur, result.snapshot_id)
    assert snap["town"] == town and snap["content"]["town"] == town  # the cover names the town
    live = frozen.plain(compute_kpis(cur, replace(Filters.month(MONTH), towns=(town,))))
    assert snap["content"]["kpis"] == live
    whole = compute_kpis(cur, Filters.month(MONTH))
    assert snap["content"]["kpis"]["cases"]["value"] < whole["cases"]["value"]
    n_town = cur.execute(
        "SELECT count(*) FROM cases WHERE town = ? AND strftime(submitted_at, '%Y-%m') = ?", [town, MONTH]
    ).fetchone()[0]
    assert snap["content"]["kpis"]["cases"]["value"] == n_town
    # the case list is the town's: as many rows as the town's cases, and only its case ids
    csv_name = next(f["file_name"] for f in snap["files"] if f["kind"] == "csv")
    assert csv_name == f"cases-{town}-{MONTH}-v1.csv"
    lines = snapshots.file_bytes(cur, result.snapshot_id, csv_name).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == n_town + 1
    # the trend's October is the town's October
    assert [r["cases"] for r in snap["content"]["trend"] if r["month"] == MONTH] == [n_town]
    # the uploads listed are those holding the town's rows
    expected = {
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT upload_id FROM case_rows WHERE town = ? UNION SELECT upload_id FROM uploads WHERE town = ?",
            [town, town],
        ).fetchall()
    }
    assert {u["upload_id"] for u in snap["content"]["uploads"]} <= expected | {
        r[0] for r in cur.execute("SELECT upload_id FROM case_spans WHERE town = ?", [town]).fetchall()
    }
    all_uploads = cur.execute("SELECT count(*) FROM uploads WHERE status = 'loaded'").fetchone()[0]
    assert len(snap["content"]["uploads"]) < all_uploads


def test_two_towns_have_their_own_version_sequences(db):
    from reports import snapshots

    a, b, _ = towns_of(db)
    assert snapshots.publish(db, MONTH, by="ana", town=a).version == 1
    assert snapshots.publish(db, MONTH, by="ana", town=b).version == 1
    again = snapshots.publish(db, MONTH, by="ana", town=a, note="更正")
    assert again.version == 2
    cur = db.cursor()
    assert [s["version"] for s in snapshots.list_snapshots(cur, MONTH, town=a)] == [2, 1]
    assert [s["version"] for s in snapshots.list_snapshots(cur, MONTH, town=b)] == [1]
    assert snapshots.latest_versions(cur, b)[MONTH]["version"] == 1
    # a county database must say which town
    with pytest.raises(snapshots.SnapshotError):
        snapshots.publish(db, MONTH, by="ana")


def test_the_county_snapshots_town_table_is_kpis_by_town(db, tmp_path):
    from reports import county, snapshots

    result = snapshots.publish(db, MONTH, by="ana", town=snapshots.COUNTY)
    assert result.version == 1
    assert sorted(result.files) == ["html", "json", "pdf", "xlsx", "zip"]
    assert result.files["xlsx"] == f"county-report-{MONTH}-v1.xlsx"
    cur = db.cursor()
    snap = snapshots.get_snapshot(cur, result.snapshot_id)
    content = snap["content"]
    db.close()
    proc = subprocess.run(
        [sys.executable, "cli.py", "kpis", "--by", "town", "--month", MONTH, "--db", str(db.path), "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    by_town = json.loads(proc.stdout)
    assert [t["town"] for t in content["towns"]] == [t["town"] for t in by_town]
    for frozen_town, cli_town in zip(content["towns"], by_town, strict=True):
        for kpi_id, result_ in frozen_town["kpis"].items():
            for key in ("value", "numerator", "denominator"):
                a, b = result_.get(key), cli_town[kpi_id].get(key)
                assert a == pytest.approx(b) if isinstance(b, float) else a == b, (frozen_town["town"], kpi_id, key)
    # the county row is the sum of the towns' cases; every town is in the table and the ranking names them
    table = county.town_table(content)
    assert table[-1]["county"] and table[-1]["kpis"]["cases"]["value"] == sum(
        t["kpis"]["cases"]["value"] for t in content["towns"]
    )
    sentences = county.ranking(content)
    online = next(s for s in sentences if s.startswith(("网办率最低的", "网办率由低到高")))
    order = sorted(
        (t for t in content["towns"] if (t["kpis"]["online_rate"]["denominator"] or 0) >= settings.MIN_SAMPLE),
        key=lambda t: (t["kpis"]["online_rate"]["value"], t["town"]),
    )
    assert len(order) >= 2 and online.split("：")[1].startswith(order[0]["town"] + " ")
    html = county.render_county_html(content, {"version": 1, "published_at": "2026-11-15T10:00:00"})
    assert all(t["town"] in html for t in content["towns"]) and "乡镇对比" in html


def test_the_snapshot_ranks_by_the_pages_rule():
    from reports import county

    def town(name: str, cases: int, online: int) -> dict:
        rate = {"value": online / cases, "numerator": online, "denominator": cases}
        return {"town": name, "kpis": {"cases": {"value": cases}, "online_rate": rate}, "previous_kpis": {}}

    towns = [town("镇0", 20, 10), town("镇1", 20, 2), town("镇2", 10, 9), town("镇3", 40, 12), town("镇4", 5, 1)]
    content = {"towns": towns, "county_kpis": {"online_rate": {"value": 34 / 95}}}
    sentences = county.ranking(content)
    # 镇4 has 5 cases (fewer than MIN_SAMPLE = 10): named apart, not ranked; the other KPIs are unknown here
    assert sentences[0] == "网办率最低的三个乡镇：镇1 10.0%、镇3 30.0%、镇0 50.0%（全县 35.8%）"
    # four towns ranked: the best end names only the one the worst three left out
    assert sentences[3] == "网办率最高的乡镇：镇2 90.0%（全县 35.8%）"
    assert sentences[-1] == "办件不足 10 件、未参与排名的乡镇：镇4"


def test_cli_all_towns_and_if_missing_per_town(db):
    from reports import snapshots

    path = db.path
    db.close()
    env_cmd = [sys.executable, "cli.py", "snapshot", "--month", MONTH, "--db", str(path)]
    names = None
    proc = subprocess.run([*env_cmd, "--all-towns"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    from store.db import Database

    again = Database(path)
    try:
        cur = again.cursor()
        names = towns_of(again)
        rows = snapshots.list_snapshots(cur, MONTH)
        assert sorted(r["town"] for r in rows) == sorted([*names, snapshots.COUNTY])
    finally:
        again.close()
    proc = subprocess.run(
        [*env_cmd, "--if-missing", "--town", names[0], "--town", names[1]], cwd=ROOT, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("跳过") == 2
    proc = subprocess.run([*env_cmd, "--county"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "第 2 版" in proc.stdout, proc.stdout + proc.stderr
    proc = subprocess.run([*env_cmd, "--town", "无此镇"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2


def test_migration_from_schema_9_keeps_snapshots_files_and_versions(tmp_path):
    """A schema-9 database with two versions of a month (the old table and UNIQUE (month, version)) migrates:
    same ids, versions and files, the default town's; then another town's v1 of that month is allowed."""
    import settings
    from store import schema

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    for version in range(1, 10):
        con.execute("BEGIN TRANSACTION")
        con.execute(schema.MIGRATIONS[version - 1])
        con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
        con.execute("COMMIT")
    for sid, v in ((1, 1), (2, 2)):
        con.execute(
            "INSERT INTO snapshots (snapshot_id, month, version, published_at, data_version, content, content_sha256)"
            " VALUES (?, '2026-10', ?, now(), 3, '{}', 'x')",
            [sid, v],
        )
        con.execute("INSERT INTO snapshot_files VALUES (?, ?, 'pdf', 'application/pdf', 3, 'h', 'none', 'abc')",
                    [sid, f"report-2026-10-v{v}.pdf"])  # fmt: skip
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO snapshots (snapshot_id, month, version, published_at, data_version, content, "
                    "content_sha256) VALUES (9, '2026-10', 1, now(), 3, '{}', 'x')")  # fmt: skip
    assert schema.migrate(con) == schema.SCHEMA_VERSION
    rows = con.execute("SELECT snapshot_id, town, month, version FROM snapshots ORDER BY 1").fetchall()
    assert rows == [(1, settings.DEFAULT_TOWN, "2026-10", 1), (2, settings.DEFAULT_TOWN, "2026-10", 2)]
    files = con.execute("SELECT snapshot_id, file_name FROM snapshot_files ORDER BY 1").fetchall()
    assert files == [(1, "report-2026-10-v1.pdf"), (2, "report-2026-10-v2.pdf")]
    con.execute("INSERT INTO snapshots (snapshot_id, town, month, version, published_at, data_version, content, "
                "content_sha256) VALUES (3, '柳林镇', '2026-10', 1, now(), 3, '{}', 'x')")  # fmt: skip
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "INSERT INTO snapshots (snapshot_id, town, month, version, published_at, data_version, content, "
            "content_sha256) VALUES (4, ?, '2026-10', 2, now(), 3, '{}', 'x')",
            [settings.DEFAULT_TOWN],
        )
    con.close()


def test_a_one_town_database_publishes_as_before(small_demo_db, tmp_path):
    """One town: the town's figures are the whole database's, the files keep their old names."""
    from reports import content as frozen
    from reports import snapshots
    from store.db import Database

    shutil.copy(small_demo_db, tmp_path / "egov.duckdb")
    db = Database(tmp_path / "egov.duckdb")
    try:
        (town,) = towns_of(db)
        with frozen.consistent_cursor(db) as cur:
            assert frozen.collect(cur, MONTH, town=town) == frozen.collect(cur, MONTH)
            assert frozen.case_list(cur, MONTH, town).equals(frozen.case_list(cur, MONTH))
        result = snapshots.publish(db, MONTH, by="ana")
        assert result.town == town
        assert result.files == {k: snapshots.file_name(k, MONTH, 1) for k in snapshots.FILE_KINDS}
        assert result.files["pdf"] == "report-2026-10-v1.pdf"
    finally:
        db.close()
