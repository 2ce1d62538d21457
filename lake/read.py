"""A lake (or a cube built from one) opened for reading: its tables as views named as in the town's database.

Only the files the manifest lists are read, so an export cut short is never seen. Each table gets the columns and
types of the manifest's schemas (a table with no file is an empty view with its columns; the cube's ``month``
partition text is a DATE again). What the lake leaves out that the SQL names — the events' ``handler`` (staff
names stay with the town) — is a NULL column, and the tables the town's database keeps from its cases
(``store.facets.DERIVED``) are views. DuckDB reads it here (:class:`DuckDBLake`); :mod:`spark.lake` makes the same
views on Spark from :func:`table_columns`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from lake.export import MONTH_OF, PARTITIONED, WHOLE, LakeError, literal, literal_list, read_manifest
from metrics import cube
from store import facets

#: A cube build has no cases: the facets (months, towns, departments, items, channels) come from its cells.
FACETS_FROM_CUBE = {
    "case_facets": """SELECT strftime(month, '%Y-%m') AS month, department, service_item, channel, town,
                             sum(cases)::BIGINT AS cases
                      FROM kpi_cube GROUP BY ALL""",
    "event_units": "SELECT NULL::VARCHAR AS department WHERE false",
}
#: Columns the town's database has and the lake leaves out, as NULLs of their DuckDB type.
LEFT_OUT = {"events": {"handler": "VARCHAR"}}


#: The tables a lake or a cube build may hold (a manifest naming another is refused).
TABLES = frozenset({*PARTITIONED, *WHOLE, cube.BACKLOG_DAYS})
#: A column type as DuckDB describes it (a manifest's types go into CAST: nothing else may).
_TYPE = re.compile(r"[A-Z][A-Z0-9_ ]*(\(\d+(, ?\d+)?\))?(\[\])?")


def manifest_of(lake: Path) -> dict[str, Any]:
    """The manifest of a lake or a cube folder, checked (a lake may come from elsewhere: its manifest is data), or
    LakeError saying how to make one."""
    manifest = read_manifest(lake)
    if manifest is None:
        raise LakeError(f"{lake} holds no lake (no manifest.json): write one with `cli.py lake export --out {lake}`")
    root = lake.resolve()
    try:
        for table, columns in manifest["schemas"].items():
            if table not in TABLES:
                raise LakeError(f"the manifest names a table {table!r} no lake holds")
            for name, kind in columns.items():
                if not isinstance(name, str) or not name.isidentifier() or not _TYPE.fullmatch(str(kind)):
                    raise LakeError(f"the manifest gives {table} a column {name!r} of type {kind!r}")
        for entry in manifest["files"]:
            path = (lake / entry["path"]).resolve()
            if entry["table"] not in manifest["schemas"] or path.suffix != ".parquet" or root not in path.parents:
                raise LakeError(f"the manifest lists a file outside the lake or of no table: {entry['path']!r}")
    except (KeyError, TypeError, AttributeError) as exc:
        raise LakeError(f"{lake}/manifest.json is not a lake's manifest ({exc})") from None
    return manifest


def partitioned(manifest: dict[str, Any]) -> list[str]:
    """The tables stored Hive-partitioned by town and month (a cube build's: none)."""
    return list(manifest.get("partitioned", PARTITIONED))


def table_columns(manifest: dict[str, Any], table: str) -> Iterator[tuple[str, str, str]]:
    """(name, DuckDB type, how to read it: ``column`` / ``month`` (a partition's YYYY-MM as a DATE) / ``null``)
    for every column the view of ``table`` has. The month partition a table gains for the lake is left out."""
    for name, kind in manifest["schemas"][table].items():
        if table in partitioned(manifest) and name == "month":
            if MONTH_OF[table] == "month":
                yield name, "DATE", "month"
            continue
        yield name, kind, "column"
    for name, kind in LEFT_OUT.get(table, {}).items():
        yield name, kind, "null"


def derived(manifest: dict[str, Any]) -> dict[str, str]:
    """The views of the tables the town's database keeps from its cases: from the cases, or a cube's cells."""
    return facets.DERIVED if "cases" in manifest["schemas"] else FACETS_FROM_CUBE


def listed(lake: Path, manifest: dict[str, Any], table: str) -> list[str]:
    return [str(lake / e["path"]) for e in manifest["files"] if e["table"] == table]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBLake:
    """The lake's tables as views of an in-memory DuckDB connection (``cursor()`` gives what the metrics read)."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake
        self.manifest = manifest_of(lake)
        self.connection = duckdb.connect()
        for table in self.manifest["schemas"]:
            self._view(table)
        for name, select in derived(self.manifest).items():
            self.connection.execute(f"CREATE VIEW {name} AS {select}")

    def _view(self, table: str) -> None:
        files = listed(self.lake, self.manifest, table)
        columns = []
        for name, kind, how in table_columns(self.manifest, table):
            source = {"column": _quoted(name), "month": "(month || '-01')", "null": "NULL"}[how] if files else "NULL"
            columns.append(f"CAST({source} AS {kind}) AS {_quoted(name)}")
        if files:
            hive = "true" if table in partitioned(self.manifest) else "false"
            source = f"read_parquet({literal_list(files)}, hive_partitioning = {hive}, hive_types_autocast = false)"
        else:  # no file: the columns alone
            source = "(SELECT 1) WHERE false"
        self.connection.execute(f"CREATE VIEW {_quoted(table)} AS SELECT {', '.join(columns)} FROM {source}")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.connection.cursor()

    def write_parquet(self, sql: str, params: dict[str, object], target: Path) -> None:
        """The result of ``sql`` as Parquet files in the folder ``target`` (created)."""
        target.mkdir(parents=True, exist_ok=True)
        self.connection.execute(f"COPY ({sql}) TO {literal(target / 'part-0.parquet')} (FORMAT parquet)", params)

    def close(self) -> None:
        self.connection.close()
