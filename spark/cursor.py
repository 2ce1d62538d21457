"""What the metrics ask of a DuckDB cursor — ``execute(sql, params)`` then ``fetchall`` / ``fetchone`` / ``df`` /
``description`` — answered by Spark: each statement transpiled (:func:`spark.dialect.to_spark`) and run with its
parameters bound by Spark (named ``:name`` or positional ``?``), never spliced into the text.

So :func:`metrics.kpis.compute_kpis`, the bottleneck analyses and the cube's SQL run on Spark unchanged, inside
:func:`metrics.precomputed_columns.disabled` (the figures kept at load live in the town's database, not in the
lake: Spark computes from cases and events, by the catalogue's own definitions).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from spark.dialect import to_spark

#: Spark's type names as DuckDB's cursor describes them (``metrics.base.frame`` looks for DATE).
_DUCKDB_TYPE = {"DateType": "DATE", "TimestampNTZType": "TIMESTAMP", "TimestampType": "TIMESTAMP"}


def _plain(value: object) -> object:
    """A value as DuckDB hands it over: DECIMAL results of our SQL as floats, structs and arrays as tuples / lists."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class SparkResult:
    """One statement's result, collected once (the metrics' results are small: figures, not rows)."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        self._rows: list[tuple[object, ...]] | None = None
        self.description = [(f.name, _DUCKDB_TYPE.get(type(f.dataType).__name__, f.dataType.simpleString().upper()))
                            for f in frame.schema.fields]  # fmt: skip

    def _all(self) -> list[tuple[object, ...]]:
        if self._rows is None:
            self._rows = [tuple(_plain(v) for v in row) for row in self.frame.collect()]
        return self._rows

    def fetchall(self) -> list[tuple[object, ...]]:
        return list(self._all())

    def fetchone(self) -> tuple[object, ...] | None:
        rows = self._all()
        return rows[0] if rows else None

    def df(self) -> pd.DataFrame:
        """A DataFrame as DuckDB's ``.df()`` gives it: DATE and TIMESTAMP columns as datetime64."""
        names = [name for name, _ in self.description]
        out = pd.DataFrame.from_records(self._all(), columns=names)
        for name, kind in self.description:
            if kind in ("DATE", "TIMESTAMP"):
                out[name] = pd.to_datetime(out[name])
        return out


class SparkCursor:
    """A cursor over a Spark session whose temporary views hold the lake's tables (:func:`spark.lake.register`)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def execute(self, sql: str, parameters: Mapping[str, object] | Sequence[object] | None = None) -> SparkResult:
        args: dict[str, object] | list[object] | None
        if parameters is None:
            args = None
        elif isinstance(parameters, Mapping):
            args = {name: _arg(v) for name, v in parameters.items()}
        else:
            args = [_arg(v) for v in parameters]
        return SparkResult(self.spark.sql(to_spark(sql), args=args or None))

    def cursor(self) -> SparkCursor:
        return self


def _arg(value: object) -> object:
    """A parameter as Spark binds it: tuples as lists (arrays); dates, numbers and text as they are."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        raise ValueError("time-zone aware parameters are not used by the metrics")
    return value
