"""Spark Connect (``SPARK_REMOTE=sc://…``): the commands on a Spark server of their own, as on a cluster.

A Spark Connect server (pyspark's own ``start-connect-server.sh``, on a free port) serves a hand-made county's lake
(two towns, one named with markup and a percent sign; an open overdue case); ``cli.py kpis --engine spark`` and
``cli.py cube build --engine spark`` run as separate processes with ``SPARK_REMOTE`` set, and give what the
town's database gives.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ingest.load import ingest_file
from lake.export import export
from store.db import Database
from tests.cli_support import cli

pyspark = pytest.importorskip("pyspark", reason="the spark extra (bash scripts/setup.sh dev installs it)")

TOWN, OTHER = "甲镇", "乙<b>镇 100%"
CASES = "办件编号,乡镇（街道）,事项名称,实施部门,申请渠道,申请时间,办结时间,办件状态,应办结时间,办理环节数\n" + "".join(
    f"{cid},{town},{item},民政办,{channel},{at},{done},{status},{due},2\n"
    for cid, town, item, channel, at, done, status, due in [
        ("A1", TOWN, "低保申请", "网上", "2026-09-20 09:00", "2026-09-22 09:00", "已办结", "2026-09-30 17:00"),
        ("A0", TOWN, "低保申请", "窗口", "2026-09-25 09:00", "", "已受理", "2026-09-28 17:00"),
        ("A2", TOWN, "低保申请", "窗口", "2026-10-05 09:00", "2026-10-06 09:00", "已办结", "2026-10-15 17:00"),
        ("A3", TOWN, "临时救助申请", "网上", "2026-10-08 09:00", "2026-10-09 17:00", "已办结", "2026-10-20 17:00"),
        ("B1", OTHER, "低保申请", "窗口", "2026-10-10 09:00", "2026-10-12 09:00", "已办结", "2026-10-11 17:00"),
    ]
)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory) -> Iterator[str]:
    home = Path(pyspark.__file__).parent
    work = tmp_path_factory.mktemp("spark-connect")
    port = _free_port()
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOG_DIR=str(work), SPARK_PID_DIR=str(work))
    script = home / "sbin" / "start-connect-server.sh"
    subprocess.run(["bash", str(script), "--conf", f"spark.connect.grpc.binding.port={port}",
                    "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=2",
                    "--master", "local[2]"], env=env, check=True, capture_output=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in work.glob("*.out"))
                pytest.fail(f"the Spark Connect server did not listen on {port}:\n{logs}")
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(home / "sbin" / "stop-connect-server.sh")], env=env, capture_output=True)


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("connect-county")
    (folder / "cases.csv").write_text(CASES, encoding="utf-8")
    db = Database(folder / "egov.duckdb")
    try:
        assert ingest_file(db, folder / "cases.csv", kind="cases", town=TOWN).rows_loaded == 5
        export(db.cursor(), folder / "lake")
    finally:
        db.close()
    return folder


def test_kpis_and_the_cube_on_spark_connect(connect_server: str, county: Path, monkeypatch) -> None:
    monkeypatch.setenv("SPARK_REMOTE", connect_server)
    lake = str(county / "lake")
    for town in (TOWN, OTHER):
        args = ("kpis", "--month", "2026-10", "--town", town, "--format", "json")
        on_spark = cli(*args, "--engine", "spark", "--lake", lake)
        assert on_spark.returncode == 0, on_spark.stderr
        town_db = cli(*args, "--db", str(county / "egov.duckdb"))
        got, expected = json.loads(on_spark.stdout), json.loads(town_db.stdout)
        assert {k: v["value"] for k, v in got.items()} == {k: v["value"] for k, v in expected.items()}, town
    assert got["cases"]["value"] == 1 and got["on_time_rate"]["value"] == 0.0  # B1 was done a day late
    built = cli("cube", "build", "--engine", "spark", "--lake", lake, "--out", str(county / "cube"))
    assert built.returncode == 0, built.stderr
    manifest = json.loads((county / "cube" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["built_with"] == "spark"
    con = duckdb.connect(str(county / "egov.duckdb"), read_only=True)
    try:
        assert manifest["rows"]["kpi_cube"] == con.execute("SELECT count(*) FROM kpi_cube").fetchone()[0]
        assert manifest["rows"]["backlog_cube"] == con.execute("SELECT count(*) FROM backlog_cube").fetchone()[0] > 0
    finally:
        con.close()
