"""``cli.py lake export`` (issue 19 §1): a hand-made county of two towns, one named like a path, into a lake.

甲镇: cases A1, A0 (2026-09; A0 open, overdue since 09-28: the backlog), A2, A3 (October), events; ``../乙<b>镇`` (a hostile name): B1 (October).
Checked: the manifest's rows, bytes and sha256 against the files; every file inside the lake under
``table/town=…/month=…``; what the files hold read back equal to the database (the cube too); no handler, no ID
number; a re-export of one month of one town replacing its partitions only; an export cut short leaving the lake
as it was; a folder that is not a lake refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import duckdb
import pytest

from ingest.load import ingest_file
from lake import export as lake
from store.db import Database
from tests.cli_support import cli

ID = "110101199001010011"
HOSTILE = "../乙<b>镇"
CASES = "办件编号,乡镇（街道）,事项名称,实施部门,申请渠道,申请时间,办结时间,办件状态,应办结时间,身份证号\n" + "".join(
    f"{cid},{town},{item},民政办,{channel},{at},{done},{status},{due},{ID}\n"
    for cid, town, item, channel, at, done, status, due in [
        ("A1", "甲镇", "低保申请", "网上", "2026-09-20 09:00", "2026-09-22 09:00", "已办结", ""),
        ("A0", "甲镇", "低保申请", "窗口", "2026-09-25 09:00", "", "已受理", "2026-09-28 17:00"),  # overdue since
        ("A2", "甲镇", "低保申请", "窗口", "2026-10-05 09:00", "2026-10-06 09:00", "已办结", ""),
        ("A3", "甲镇", "临时救助申请", "网上", "2026-10-08 09:00", "2026-10-09 17:00", "已办结", ""),
        ("B1", HOSTILE, "低保申请", "窗口", "2026-10-10 09:00", "2026-10-12 09:00", "已办结", ""),
    ]
)
EVENTS = "办件编号,乡镇（街道）,环节名称,办理部门,经办人,完成时间\n" + "".join(
    f"{cid},{town},{step},民政办,王五,{at}\n"
    for cid, town, step, at in [
        ("A1", "甲镇", "受理", "2026-09-20 10:00"), ("A1", "甲镇", "办结", "2026-09-22 09:00"),
        ("A2", "甲镇", "受理", "2026-10-05 10:00"), ("A2", "甲镇", "办结", "2026-10-06 09:00"),
        ("B1", HOSTILE, "受理", "2026-10-10 11:00"), ("B1", HOSTILE, "办结", "2026-10-12 09:00"),
    ]
)  # fmt: skip


@pytest.fixture()
def county(tmp_path: Path) -> Path:
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    db = Database(tmp_path / "egov.duckdb")
    try:
        assert ingest_file(db, tmp_path / "cases.csv", kind="cases", town="甲镇").rows_loaded == 5
        assert ingest_file(db, tmp_path / "events.csv", kind="events", town="甲镇").rows_loaded == 6
    finally:
        db.close()
    return tmp_path / "egov.duckdb"


def _read(lake_dir: Path, table: str) -> list[tuple]:
    files = [str(p) for p in lake.listed_files(lake_dir, table)]
    con = duckdb.connect()
    rows = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = true) ORDER BY ALL", [files]).fetchall()
    return rows


def _export(db_path: Path, out: Path, *args: str) -> dict:
    result = cli("lake", "export", "--db", str(db_path), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return json.loads((out / lake.MANIFEST).read_text(encoding="utf-8"))


def test_the_lake_holds_what_the_database_holds_and_the_manifest_says_so(county: Path, tmp_path: Path) -> None:
    out = tmp_path / "lake"
    manifest = _export(county, out)
    assert manifest["rows"]["cases"] == 5 and manifest["rows"]["events"] == 6
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet"))
    assert on_disk == [e["path"] for e in manifest["files"]]  # nothing unlisted, nothing missing
    for entry in manifest["files"]:
        path = out / entry["path"]
        assert path.resolve().is_relative_to(out.resolve())
        assert entry["bytes"] == path.stat().st_size
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert ID.encode() not in path.read_bytes() and "王五".encode() not in path.read_bytes()
    partitions = {(e["table"], e["town"], e["month"]) for e in manifest["files"] if "town" in e}
    assert ("cases", "甲镇", "2026-09") in partitions and ("cases", HOSTILE, "2026-10") in partitions
    assert [p.name for p in (out / "cases").iterdir()] and all(
        p.name.startswith("town=") and "/" not in p.name for p in (out / "cases").iterdir()
    )
    db = Database(county, read_only=True)
    try:
        cur = db.cursor()
        for table, select in lake.PARTITIONED.items():
            month = lake.MONTH_OF[table]
            expected = cur.execute(
                f"SELECT * REPLACE (strftime({month}, '%Y-%m') AS month) FROM ({select}) ORDER BY ALL"
                if month == "month"
                else f"SELECT *, strftime({month}, '%Y-%m') AS month FROM ({select}) ORDER BY ALL"
            ).fetchall()
            columns = [d[0] for d in cur.description]
            con = duckdb.connect()
            files = [str(p) for p in lake.listed_files(out, table)]
            got = con.execute(
                f"SELECT {', '.join(columns)} FROM read_parquet(?, hive_partitioning = true) ORDER BY ALL", [files]
            ).fetchall()
            assert got == expected, table
            assert expected, table  # every table has rows here
        assert "handler" not in [
            d[0] for d in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [files]).fetchall()
        ]
        assert sorted(_read(out, "calendar")) == sorted(cur.execute("SELECT * FROM calendar").fetchall())
    finally:
        db.close()


def test_a_month_exported_again_replaces_its_partitions_and_an_interrupted_export_changes_nothing(
    county: Path, tmp_path: Path, monkeypatch
) -> None:
    out = tmp_path / "lake's ' ; --"  # a folder name that would end an SQL string
    first = _export(county, out)
    extra = tmp_path / "more.csv"
    extra.write_text(CASES.splitlines()[0] + "\nA4,甲镇,低保申请,民政办,网上,2026-10-20 09:00,,已受理,,\n", "utf-8")
    db = Database(county)
    try:
        assert ingest_file(db, extra, kind="cases", town="甲镇").rows_loaded == 1
    finally:
        db.close()
    second = _export(county, out, "--town", "甲镇", "--from", "2026-10", "--to", "2026-10")
    assert second["rows"]["cases"] == 6 and second["data_version"] > first["data_version"]
    versions = {(e["town"], e["month"]): e["data_version"] for e in second["files"] if e["table"] == "cases"}
    assert versions == {("甲镇", "2026-09"): first["data_version"], ("甲镇", "2026-10"): second["data_version"],
                        (HOSTILE, "2026-10"): first["data_version"]}  # fmt: skip
    changed = {e["path"] for e in second["files"]} - {e["path"] for e in first["files"]}
    assert changed and all(
        ("town=%E7%94%B2%E9%95%87/month=2026-10" in p) or p.split("/")[0] in lake.WHOLE for p in changed
    )  # only 甲镇's October (and the unpartitioned tables) written again; September and 乙镇 as they were
    assert not any(out.glob(".staging-*")) and sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) \
        == [e["path"] for e in second["files"]]  # fmt: skip

    # cut short just before the manifest is replaced: the lake reads as before, the next export tidies up
    before = (out / lake.MANIFEST).read_bytes()
    real_replace = os.replace

    def crash(source, target):
        if Path(target).name == lake.MANIFEST:
            raise OSError(28, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(lake.os, "replace", crash)
    db = Database(county, read_only=True)
    try:
        with pytest.raises(OSError):
            lake.export(db.cursor(), out)
    finally:
        db.close()
    monkeypatch.setattr(lake.os, "replace", real_replace)
    assert (out / lake.MANIFEST).read_bytes() == before
    assert len(_read(out, "cases")) == 6
    third = _export(county, out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == [e["path"] for e in third["files"]]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_folder_that_is_not_a_lake_is_refused(county: Path, tmp_path: Path) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8")
    result = cli("lake", "export", "--db", str(county), "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not empty" in result.stderr and [p.name for p in out.iterdir()] == ["holiday.jpg"]
    result = cli("lake", "export", "--db", str(county), "--out", str(tmp_path / "l"), "--from", "2026-13")
    assert result.returncode == 2 and "YYYY-MM" in result.stderr


def test_a_lake_read_by_duckdb_gives_the_towns_figures_and_a_hostile_manifest_is_refused(
    county: Path, tmp_path: Path
) -> None:
    """``kpis --engine duckdb --lake``: the town's figures from the lake; a manifest is data, so one that lists a
    file outside the lake or puts SQL where a type goes is refused before anything is read."""
    out = tmp_path / "lake"
    _export(county, out)
    args = ("kpis", "--month", "2026-10", "--town", HOSTILE, "--format", "json")
    from_lake = cli(*args, "--engine", "duckdb", "--lake", str(out))
    from_db = cli(*args, "--db", str(county))
    assert from_lake.returncode == 0, from_lake.stderr
    got, expected = json.loads(from_lake.stdout), json.loads(from_db.stdout)
    assert {k: v["value"] for k, v in got.items()} == {k: v["value"] for k, v in expected.items()}
    assert got["cases"]["value"] == 1
    good = (out / lake.MANIFEST).read_text(encoding="utf-8")
    outside = json.loads(good)
    outside["files"].append({**outside["files"][0], "path": "../../outside.parquet"})
    typed = json.loads(good)
    typed["schemas"]["cases"]["town"] = "VARCHAR) AS town FROM read_csv('/etc/passwd') --"
    for manifest, words in ((outside, "outside the lake"), (typed, "of type")):
        (out / lake.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        result = cli(*args, "--engine", "duckdb", "--lake", str(out))
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr
    result = cli(*args, "--engine", "spark")  # no lake named
    assert result.returncode == 2 and "--lake" in result.stderr
    result = cli(*args, "--engine", "spark", "--lake", str(out), "--user", "someone")
    assert result.returncode == 2 and "--user" in result.stderr
