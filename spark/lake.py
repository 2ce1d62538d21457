"""The lake's tables as Spark temporary views named as in the town's database (``cases``, ``events``, …), the
same views :class:`lake.read.DuckDBLake` makes on DuckDB (:func:`lake.read.table_columns`): only the files the
manifest lists, the manifest's column types (DuckDB's, written for Spark by SQLGlot), the kept facets as views.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlglot import exp

from lake.read import derived, listed, manifest_of, partitioned, table_columns
from spark.dialect import to_spark
from spark.session import start

#: A town read from a ``town=…`` folder. DuckDB writes the name's UTF-8 bytes percent-encoded (``%E7%94%B2``);
#: Spark decodes each ``%XX`` to the character of that code, not to a byte, so the bytes are put back together.
PARTITION_TEXT = "decode(encode(`town`, 'ISO-8859-1'), 'UTF-8')"


def spark_type(duckdb_type: str) -> str:
    """A DuckDB column type as Spark SQL writes it (TIMESTAMP → TIMESTAMP_NTZ, VARCHAR → STRING, …)."""
    if duckdb_type.upper() in ("HUGEINT", "UHUGEINT"):  # DuckDB's integer sums; Spark's own sums are BIGINT
        return "BIGINT"
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql(dialect="spark")


def register(spark: Any, lake: Path) -> dict[str, Any]:
    """Every table of the lake as a temporary view of ``spark``; returns the manifest."""
    manifest = manifest_of(lake)
    for table in manifest["schemas"]:
        columns = list(table_columns(manifest, table))
        files = listed(lake, manifest, table)
        if files:
            reader = spark.read.option("basePath", str(lake / table)) if table in partitioned(manifest) else spark.read
            frame = reader.parquet(*files)
        else:
            frame = spark.createDataFrame([], ", ".join(f"`{n}` {'STRING' if how == 'month' else spark_type(k)}"
                                                        for n, k, how in columns if how != "null"))  # fmt: skip
        selected = []
        for name, kind, how in columns:
            source = {"column": f"`{name}`", "month": "concat(`month`, '-01')", "null": "NULL"}[how]
            if files and name == "town" and table in partitioned(manifest):
                source = PARTITION_TEXT
            selected.append(f"CAST({source} AS {spark_type(kind)}) AS `{name}`")
        frame.selectExpr(*selected).createOrReplaceTempView(table)
    for name, select in derived(manifest).items():  # what the town's database keeps as tables, as views
        spark.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {to_spark(select)}")
    return manifest


class SparkLake:
    """The lake on a Spark session (local, ``--master`` or Spark Connect): ``cursor()`` for the metrics,
    ``write_parquet`` for the cube build."""

    def __init__(self, lake: Path, master: str | None = None, spark: Any = None) -> None:
        self.lake = lake
        self.spark = spark if spark is not None else start(master)
        self.manifest = register(self.spark, lake)

    def cursor(self) -> Any:
        from spark.cursor import SparkCursor

        return SparkCursor(self.spark)

    def write_parquet(self, sql: str, params: dict[str, object], target: Path) -> None:
        """The result of ``sql`` as Parquet files (Spark's part files) in the folder ``target``."""
        self.cursor().execute(sql, params).frame.write.parquet(str(target))  # refuses a folder that exists

    def close(self) -> None:
        """The session stays (Spark reuses one per process); the lake's views go."""
        for table in [*self.manifest["schemas"], *derived(self.manifest)]:
            self.spark.catalog.dropTempView(table)
