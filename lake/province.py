"""A province's cube (``cli.py cube build``) as the database the app reads: ``EGOV_CUBE=DIR``.

The cube tables are read from the cube's listed Parquet files into a database of their own (``data/province.duckdb``
unless ``EGOV_DB`` says otherwise), with the filters' facets made from the cells and the cube marked current
(``cube_state``) for this data version, so the county page's comparison — every town's counts and rates, its
backlog at month ends, its online rate over the months — reads cells as it does for a county, and no case or event
is loaded. What only raw cases give (medians, figures of a period that is not whole months) is unknown there.

The database holds no case: it refuses a town's database (one with cases), so a town's data is never mixed with a
province's cube. :func:`metrics.cube.maintain` leaves such a database's cube as loaded (``FROM_LAKE``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from lake.cube_build import TABLES
from lake.export import LakeError, literal_list
from lake.read import FACETS_FROM_CUBE, listed, manifest_of
from metrics import cube
from store.db import Database
from store.rows import one

#: What the cube tables of a province database were read from (one row): the manifest's digest, the presence
#: of the fields in the province's data (so that a KPI whose field no town has is unknown, not 0).
MARKER = cube.FROM_LAKE


def _digest(folder: Path) -> str:
    return hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()


def stamp(folder: Path) -> str:
    """What changes when the cube is built again (the app reads it again then)."""
    return _digest(folder)


def load(db: Database, folder: Path) -> bool:
    """Read the cube in ``folder`` into ``db`` unless it holds this very build already; True when it read it."""
    manifest = manifest_of(folder)
    if manifest.get("partitioned") != []:
        raise LakeError(f"{folder} is a lake, not a cube build: build one with `cli.py cube build --out DIR`")
    if manifest.get("cube_definition") != cube.DEFINITION:
        raise LakeError(f"{folder} was built by another version of the KPI definitions: build it again")
    digest = _digest(folder)
    with db.reading() as cur:
        if one(cur.execute("SELECT count(*) FROM case_rows"))[0]:
            raise LakeError(f"{db.path} holds a town's cases: a province's cube needs a database of its own")
        if cube.from_lake(cur) and one(cur.execute(f"SELECT count(*) FROM {MARKER} WHERE digest = ?", [digest]))[0]:
            return False
    with db.write() as cur:
        for table in TABLES:
            files = listed(folder, manifest, table)
            cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet({literal_list(files)})")
        cur.execute("DELETE FROM case_facets")
        cur.execute(f"INSERT INTO case_facets (month, department, service_item, channel, town, cases) "
                    f"{FACETS_FROM_CUBE['case_facets']}")  # fmt: skip
        cur.execute("DELETE FROM event_units")
        cur.execute(f"CREATE OR REPLACE TABLE {MARKER} (digest VARCHAR, presence JSON, built_with VARCHAR, "
                    "built_at VARCHAR, towns BIGINT)")  # fmt: skip
        towns = one(cur.execute(f"SELECT count(DISTINCT town) FROM {cube.TABLE}"))[0]
        presence: dict[str, Any] = manifest.get("presence") or {}
        cur.execute(
            f"INSERT INTO {MARKER} VALUES (?, ?::JSON, ?, ?, ?)",
            [digest, json.dumps(presence), manifest.get("built_with"), manifest.get("built_at"), towns],
        )
    return True


def source(cur: Any) -> dict[str, Any] | None:
    """What the app shows when the database is a province's cube (built with, when, towns), else None."""
    if not cube.from_lake(cur):
        return None
    row = cur.execute(f"SELECT built_with, built_at, towns FROM {MARKER}").fetchone()
    return None if row is None else {"built_with": row[0], "built_at": row[1], "towns": int(row[2])}
