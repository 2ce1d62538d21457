"""``cli.py cube build``: the aggregates the dashboard reads, computed from a lake on DuckDB or Spark, as Parquet.

The SQL is the town's own (:func:`metrics.cube.cells_sql`: the period cells, the 一件事 journeys, the backlog as of
every month end that is over), run over the lake's views by an engine — :class:`lake.read.DuckDBLake` or
:class:`spark.lake.SparkLake` — that also writes each result as Parquet. The output is a lake of its own holding
only the cube tables (``kpi_cube``, ``journey_cube``, ``backlog_cube``, ``backlog_days``, not partitioned), with a
manifest of the same format (``partitioned`` empty), so the app reads it as it reads a lake (``EGOV_CUBE``).

Atomic as the export is: a build writes ``build-<id>/`` beside the last one, replaces ``manifest.json`` in one
rename, then removes the older builds; a build cut short leaves the last manifest and its files as they were.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

import duckdb

import clock
from lake.export import FORMAT, MANIFEST, LakeError, file_sha256, publish, read_manifest
from metrics import base, cube, precomputed_columns
from metrics.filters import Params
from store.rows import one

#: The tables a cube build writes.
TABLES = (cube.TABLE, cube.JOURNEY_TABLE, cube.BACKLOG_TABLE, cube.BACKLOG_DAYS)


class Engine(Protocol):
    """What a build needs of an engine: the lake's tables to read, and a way to write a result."""

    manifest: dict[str, Any]
    lake: Path

    def cursor(self) -> Any: ...

    def write_parquet(self, sql: str, params: dict[str, object], target: Path) -> None: ...


def _check_out(out: Path, lake: Path) -> dict[str, Any] | None:
    """The output folder's last manifest (None: a new folder); refuses a folder that is not a cube build's."""
    if out.resolve() == lake.resolve() or lake.resolve() in out.resolve().parents:
        raise LakeError(f"{out} is inside the lake {lake}: write the cube to a folder of its own")
    if not out.exists():
        return None
    old = read_manifest(out)
    if old is None and any(out.iterdir()):
        raise LakeError(f"{out} is not empty and holds no cube: choose an empty folder or an earlier cube build")
    if old is not None and old.get("partitioned", None) != []:
        raise LakeError(f"{out} holds a lake, not a cube build: choose another folder")
    return old


def build(engine: Engine, out: Path, engine_name: str) -> dict[str, Any]:
    """Compute the cube tables from ``engine``'s lake into ``out``; returns the new manifest."""
    source = engine.manifest
    old = _check_out(out, engine.lake)
    out.mkdir(parents=True, exist_ok=True)
    build_id = uuid.uuid4().hex[:12]
    folder = out / f"build-{build_id}"
    today = clock.today()
    started = time.perf_counter()
    try:
        with precomputed_columns.disabled():  # the lake has cases and events, none of the town's kept figures
            cur = engine.cursor()
            presence = base.live_field_presence(cur)  # which fields the data has: a KPI without one is unknown
            first = one(cur.execute("SELECT min(submitted_at)::DATE FROM cases"))[0]
            days = cube.month_ends(first, today) if first is not None else []
            for table, (sql, params) in cube.cells_sql(days or [first or today]).items():
                if table == cube.BACKLOG_TABLE and not days:
                    sql = f"SELECT * FROM ({sql}) b WHERE false"
                engine.write_parquet(sql, params.values, folder / table)
            held = Params()
            engine.write_parquet(f"SELECT unnest({held.add(days, 'days')}::DATE[]) AS as_of_day", held.values,
                                 folder / cube.BACKLOG_DAYS)  # fmt: skip
        manifest = _manifest(out, folder, source, engine_name, old, build_id, started)
        manifest["presence"] = presence
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    publish(out, manifest, build_id)
    for leftover in out.iterdir():
        if (
            leftover != folder
            and leftover.name != MANIFEST
            and leftover.is_dir()
            and leftover.name.startswith("build-")
        ):
            shutil.rmtree(leftover, ignore_errors=True)
        elif leftover.name.startswith(f".{MANIFEST}."):
            leftover.unlink(missing_ok=True)
    return manifest


def _manifest(out: Path, folder: Path, source: dict[str, Any], engine_name: str, old: dict[str, Any] | None,
              build_id: str, started: Any) -> dict[str, Any]:  # fmt: skip
    """The new manifest: every Parquet file written (rows, bytes, sha256), the tables' columns, where they came from."""
    reader = duckdb.connect()
    files: list[dict[str, Any]] = []
    schemas: dict[str, dict[str, str]] = {}
    rows: dict[str, int] = {}
    try:
        for table in TABLES:
            paths = sorted((folder / table).rglob("*.parquet"))
            if not paths:
                raise LakeError(f"the engine wrote no file for {table}")
            listed = [str(p) for p in paths]
            schemas[table] = {
                name: kind
                for name, kind, *_ in reader.execute("DESCRIBE SELECT * FROM read_parquet(?)", [listed]).fetchall()
            }
            for path in paths:
                count = int(one(reader.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]))[0])
                relative = path.relative_to(out).as_posix()
                files.append({"table": table, "path": relative, "rows": count, "bytes": path.stat().st_size,
                              "sha256": file_sha256(path)})  # fmt: skip
                rows[table] = rows.get(table, 0) + count
    finally:
        reader.close()
    return {
        "format": FORMAT,
        "partitioned": [],
        "schemas": schemas,
        "data_version": source.get("data_version"),
        "cube_definition": cube.DEFINITION,
        "cube_columns": cube.column_names(),
        "built_with": engine_name,
        "built_at": clock.now().isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 3),
        "source": {
            "exported_at": source.get("exported_at"),
            "data_version": source.get("data_version"),
            "rows": source.get("rows", {}),
        },  # fmt: skip
        "builds": [*(old or {}).get("builds", []), {"id": build_id, "engine": engine_name}][-50:],
        "files": files,
        "rows": rows,
    }
