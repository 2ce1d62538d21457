"""``cli.py lake export``: the county's data as a Parquet lake, Hive-partitioned by town and month, for Spark.

What is written (``DIR/<table>/town=…/month=YYYY-MM/part-<export>-<n>.parquet``; values percent-encoded by DuckDB,
as Hive and Spark read them, so no town name becomes a path of its own):

- ``cases`` (month of submission; ``none`` when there is none), ``events`` (month of the event), the KPI cube
  ``kpi_cube`` and ``journey_cube`` (their month), ``backlog_cube`` (the month of its as-of day);
- one file each, not partitioned, rewritten by every export: ``service_items`` (the catalogue), ``calendar``,
  ``backlog_days``.

Personal data: the database holds none raw; the lake leaves out the events' ``handler`` (a staff member's name,
which no figure of the catalogue needs) and keeps ``applicant_key`` (the town's keyed hash of an ID number; the key
stays with the database), which the 一件事 journeys need.

Atomic: an export writes new files beside the old (names carry the export's id), then replaces ``manifest.json`` in
one rename, then deletes the files the new manifest no longer lists. The manifest lists every file (rows, bytes,
sha256), the data version and the cube's definition; readers read the files it lists and nothing else, so an export
cut short (a crash, a full disk) leaves the last manifest and its files as they were — the next export removes its
leftovers. Re-exporting a month of a town replaces every partition of that (town, month), including those it no
longer has rows for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

import clock
from metrics import cube
from store.rows import one

MANIFEST = "manifest.json"
FORMAT = "egov-lake/1"
#: The partitioned tables: (name, SELECT over the database, the column its month comes from).
PARTITIONED = {
    "cases": "SELECT * EXCLUDE (source_row) FROM cases",
    "events": "SELECT * EXCLUDE (handler, source_row) FROM events",
    cube.TABLE: f"SELECT * FROM {cube.TABLE}",
    cube.JOURNEY_TABLE: f"SELECT * FROM {cube.JOURNEY_TABLE}",
    cube.BACKLOG_TABLE: f"SELECT * FROM {cube.BACKLOG_TABLE}",
}
MONTH_OF = {
    "cases": "submitted_at",
    "events": "completed_at",
    cube.TABLE: "month",
    cube.JOURNEY_TABLE: "month",
    cube.BACKLOG_TABLE: "as_of_day",
}
WHOLE = {
    "service_items": "SELECT * EXCLUDE (source_row) FROM service_items",
    "calendar": "SELECT * FROM calendar",
    cube.BACKLOG_DAYS: f"SELECT * FROM {cube.BACKLOG_DAYS}",
}
NO_MONTH = "none"


class LakeError(Exception):
    """The lake cannot be written as asked (a folder that is not a lake, the cube out of date)."""


@dataclass(frozen=True)
class Selection:
    """What an export covers: towns (none: every town with data) and whole months (None: every month)."""

    towns: tuple[str, ...] = ()
    first_month: dt.date | None = None
    last_month: dt.date | None = None

    def covers(self, town: str, month: str) -> bool:
        if self.towns and town not in self.towns:
            return False
        if month == NO_MONTH:
            return self.first_month is None and self.last_month is None
        first = dt.date.fromisoformat(month + "-01")
        return (self.first_month is None or first >= self.first_month) and (
            self.last_month is None or first <= self.last_month
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(lake: Path) -> dict[str, Any] | None:
    """The lake's manifest, or None when ``lake`` holds none yet."""
    path = lake / MANIFEST
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise LakeError(f"{lake} holds a manifest of another kind ({manifest.get('format')!r})")
    return manifest


def _selected(select: str, month_column: str, selection: Selection, params: list[object]) -> str:
    """``select`` with its partition columns (town, month) and only the rows of the selection."""
    month = f"coalesce(strftime({month_column}, '%Y-%m'), '{NO_MONTH}')"
    conditions = []
    if selection.towns:
        conditions.append("list_contains(?::VARCHAR[], town)")
        params.append(list(selection.towns))
    if selection.first_month is not None:
        conditions.append(f"{month_column} >= ?::DATE")
        params.append(selection.first_month)
    if selection.last_month is not None:
        end = (selection.last_month + dt.timedelta(days=32)).replace(day=1)
        conditions.append(f"{month_column} < ?::DATE")
        params.append(end)
    where = " AND ".join(conditions) or "true"
    # The cube's own month column becomes the partition's text (YYYY-MM); the other tables gain one.
    columns = f"s.* REPLACE ({month} AS month)" if month_column == "month" else f"s.*, {month} AS month"
    return f"SELECT {columns} FROM ({select}) s WHERE {where}"


def literal(path: Path | str) -> str:
    """A path as an SQL string literal (COPY … TO and read_parquet's list take no parameter): quotes doubled, so
    any folder name works."""
    return "'" + str(path).replace("'", "''") + "'"


def literal_list(paths: list[str]) -> str:
    """Paths as an SQL list of string literals (``read_parquet([...])``)."""
    return "[" + ", ".join(literal(p) for p in paths) + "]"


def publish(folder: Path, manifest: dict[str, Any], write_id: str) -> None:
    """Replace ``folder``'s manifest in one rename: the one moment a lake (or a cube build) changes for a reader."""
    temporary = folder / f".{MANIFEST}.{write_id}"
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST)


def _partition_values(relative: Path) -> tuple[str, str]:
    """(town, month) of a file ``table/town=…/month=…/part…`` (decoded as Hive does)."""
    from urllib.parse import unquote

    town = unquote(relative.parts[1].removeprefix("town="))
    month = unquote(relative.parts[2].removeprefix("month="))
    return town, month


def export(cur: duckdb.DuckDBPyConnection, lake: Path, selection: Selection = Selection()) -> dict[str, Any]:
    """Write the selection into ``lake`` (created if need be) and return the new manifest."""
    lake.mkdir(parents=True, exist_ok=True)
    old = read_manifest(lake)
    if old is None and any(p.name != MANIFEST for p in lake.iterdir()):
        raise LakeError(f"{lake} is not empty and holds no lake: choose an empty folder or an existing lake")
    if not cube.current(cur):
        raise LakeError("the KPI cube is not up to date with the data: run `cli.py refresh` first")
    export_id = uuid.uuid4().hex[:12]
    for leftover in lake.glob(".staging-*"):  # an export cut short before its manifest
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in lake.glob(f".{MANIFEST}.*"):
        leftover.unlink(missing_ok=True)
    staging = lake / f".staging-{export_id}"
    staging.mkdir()
    version = one(cur.execute("SELECT version FROM data_version"))[0]
    files: list[dict[str, Any]] = []
    try:
        for table, select in PARTITIONED.items():
            params: list[object] = []
            query = _selected(select, MONTH_OF[table], selection, params)
            target = staging / table
            cur.execute(
                f"COPY ({query}) TO {literal(target)} (FORMAT parquet, PARTITION_BY (town, month), "
                f"FILENAME_PATTERN 'part-{export_id}-{{i}}', OVERWRITE_OR_IGNORE true)",
                params,
            )
        for table, select in WHOLE.items():
            (staging / table).mkdir()
            whole = staging / table / f"part-{export_id}-0.parquet"
            cur.execute(f"COPY ({select}) TO {literal(whole)} (FORMAT parquet)")
        for path in sorted(staging.rglob("*.parquet")):
            relative = path.relative_to(staging)
            rows = one(cur.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]))[0]
            entry: dict[str, Any] = {"table": relative.parts[0], "path": relative.as_posix(), "rows": rows,
                                     "bytes": path.stat().st_size, "sha256": file_sha256(path)}  # fmt: skip
            if relative.parts[0] in PARTITIONED:  # a partition kept from an earlier export keeps its own version
                entry["town"], entry["month"] = _partition_values(relative)
                entry["data_version"] = version
            files.append(entry)
        for entry in files:  # beside the old files (new names): nothing listed by the old manifest changes
            destination = lake / entry["path"]
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / entry["path"], destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    kept = [
        e
        for e in (old or {}).get("files", [])
        if e["table"] in PARTITIONED and not selection.covers(e["town"], e["month"])
    ]
    shapes = {t: _selected(q, MONTH_OF[t], Selection(), []) for t, q in PARTITIONED.items()} | WHOLE
    schemas = {t: {name: kind for name, kind, *_ in cur.execute(f"DESCRIBE {q}").fetchall()} for t, q in shapes.items()}
    manifest = {
        "format": FORMAT,
        "partitioned": list(PARTITIONED),
        "schemas": schemas,  # a table with no rows has no file: its columns are still known
        "data_version": version,
        "cube_definition": cube.DEFINITION,
        "cube_columns": cube.column_names(),
        "exported_at": clock.now().isoformat(timespec="seconds"),
        "exports": [
            *(old or {}).get("exports", []),
            {
                "id": export_id,
                "data_version": version,
                "towns": list(selection.towns),
                "from": _month_text(selection.first_month),
                "to": _month_text(selection.last_month),
            },
        ][-50:],  # fmt: skip
        "files": sorted(kept + files, key=lambda e: e["path"]),
        "rows": {},
    }
    for entry in manifest["files"]:
        manifest["rows"][entry["table"]] = manifest["rows"].get(entry["table"], 0) + entry["rows"]
    publish(lake, manifest, export_id)
    listed = {e["path"] for e in manifest["files"]}
    for path in lake.rglob("*.parquet"):
        if path.relative_to(lake).as_posix() not in listed:
            path.unlink(missing_ok=True)
    for folder in sorted((p for p in lake.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return manifest


def _month_text(month: dt.date | None) -> str | None:
    return f"{month:%Y-%m}" if month else None


def listed_files(lake: Path, table: str) -> list[Path]:
    """The files of ``table`` the manifest lists (the only ones a reader may read)."""
    manifest = read_manifest(lake)
    if manifest is None:
        raise LakeError(f"{lake} holds no lake (no {MANIFEST})")
    return [lake / e["path"] for e in manifest["files"] if e["table"] == table]
