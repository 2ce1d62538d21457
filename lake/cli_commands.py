"""``cli.py lake export`` (the county's data as a Parquet lake, lake.export), ``cli.py cube build`` (the dashboard's
aggregates from a lake, lake.cube_build) and :func:`open_lake`, which the figures' commands use for
``--engine duckdb|spark --lake DIR``."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import settings
from clitools import Refused, refuse
from ingest.errors import first_line
from lake.export import LakeError, Selection, export
from store.db import Database
from terminal import echo

ENGINES = ("duckdb", "spark")


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """``--engine``, ``--lake`` and ``--master``: the figures from a lake, computed by DuckDB or Spark."""
    p.add_argument("--engine", choices=ENGINES, default="duckdb",
                   help="duckdb (default) or spark; spark reads a lake (--lake), never the town's database")  # fmt: skip
    p.add_argument("--lake", help="a lake written by `lake export` (instead of --db)")
    p.add_argument("--master", help="Spark master URL (default local[*]; $SPARK_REMOTE=sc://… uses Spark Connect)")


@contextmanager
def open_lake(args: argparse.Namespace) -> Iterator[Any]:
    """The lake ``--lake`` names, opened by ``--engine`` (something with ``cursor()``); a missing lake, Java or
    pyspark, or a statement the engine refuses, ends the command with one line, never a traceback."""
    if not args.lake:
        raise Refused(
            "请用 --lake 指定数据湖（Spark 只读数据湖）", "give the lake with --lake DIR (Spark reads a lake)", code=2
        )
    if getattr(args, "user", None):
        raise Refused(
            "数据湖没有用户，--user 只用于本镇数据库", "a lake has no users: --user is for the town's database", code=2
        )
    lake = Path(args.lake)
    try:
        from lake.read import manifest_of

        manifest_of(lake)  # before a JVM starts
        if args.engine == "spark":
            from spark.lake import SparkLake
            from spark.session import SparkUnavailable

            try:
                engine: Any = SparkLake(lake, args.master)
            except SparkUnavailable as exc:
                raise Refused("Spark 不可用", "Spark is not available", exc) from None
        else:
            from lake.read import DuckDBLake

            engine = DuckDBLake(lake)
    except LakeError as exc:
        raise Refused("无法读取数据湖", "cannot read the lake", exc, code=2) from None
    try:
        yield engine
    except (Refused, KeyboardInterrupt):
        raise
    except Exception as exc:  # the engine's own error: its first line
        raise Refused(f"{args.engine} 未能完成计算", f"{args.engine} could not compute it", first_line(exc)) from None
    finally:
        engine.close()


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("lake", parents=[common], help="the data as a Parquet lake for Spark: lake export --out DIR")
    actions = p.add_subparsers(dest="lake_command", required=True)
    e = actions.add_parser("export", parents=[common], help="write (or replace months of) the lake in DIR")
    e.add_argument("--out", required=True, help="the lake's folder (an empty folder, or a lake written before)")
    e.add_argument("--town", action="append", default=[], help="only this town (may be given more than once)")
    e.add_argument("--from", dest="first", help="first month, YYYY-MM (a date means its month)")
    e.add_argument("--to", dest="last", help="last month, YYYY-MM (a date means its month)")
    e.set_defaults(func=cmd_lake_export)

    p = sub.add_parser(
        "cube", help="the dashboard's aggregates from a lake: cube build --engine spark --lake DIR --out DIR2"
    )
    actions = p.add_subparsers(dest="cube_command", required=True)
    b = actions.add_parser("build", help="compute the KPI cubes from a lake on DuckDB or Spark, as Parquet in --out")
    add_engine_options(b)
    b.add_argument("--out", required=True, help="the cube's folder (an empty folder, or a cube built before)")
    b.set_defaults(func=cmd_cube_build, user=None)


def _month(text: str | None) -> dt.date | None:
    if text is None:
        return None
    text = text.strip()
    day = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text)
    return day.replace(day=1)


def cmd_lake_export(args: argparse.Namespace) -> int:
    try:
        first, last = _month(args.first), _month(args.last)
    except ValueError:
        return refuse("月份应写作 YYYY-MM", "a month is written YYYY-MM", code=2)
    if first and last and first > last:
        return refuse("起始月份晚于结束月份", "--from is after --to", code=2)
    out = Path(args.out)
    selection = Selection(towns=tuple(args.town), first_month=first, last_month=last)
    db = Database(settings.resolve_db_path(args.db), read_only=True)
    try:
        manifest = export(db.cursor(), out, selection)
    except LakeError as exc:
        return refuse("导出未完成，湖中原有文件未改动", "nothing in the lake was changed", exc)
    except OSError as exc:
        return refuse(f"无法写入 {out}，湖中原有文件未改动", f"cannot write {out}; the lake is as it was", exc.strerror)
    finally:
        db.close()
    rows = manifest["rows"]
    echo(
        f"已导出到 {out}：办件 {rows.get('cases', 0):,}，环节 {rows.get('events', 0):,}，"
        f"文件 {len(manifest['files'])} 个，数据版本 {manifest['data_version']} "
        f"(lake written: {rows.get('cases', 0):,} cases, {rows.get('events', 0):,} events)"
    )
    return 0


def cmd_cube_build(args: argparse.Namespace) -> int:
    from lake.cube_build import build

    out = Path(args.out)
    with open_lake(args) as engine:
        try:
            manifest = build(engine, out, args.engine)
        except LakeError as exc:
            return refuse("未生成汇总，原有文件未改动", "no cube written; the folder is as it was", exc, code=2)
        except OSError as exc:
            return refuse(
                f"无法写入 {out}，原有文件未改动", f"cannot write {out}; the folder is as it was", exc.strerror
            )
    rows = manifest["rows"]
    echo(
        f"已生成汇总 {out}（{args.engine}，{manifest['build_seconds']:.1f} 秒）：指标单元 {rows.get('kpi_cube', 0):,}，"
        f"一件事单元 {rows.get('journey_cube', 0):,}，积压单元 {rows.get('backlog_cube', 0):,} "
        f"(cube built with {args.engine} in {manifest['build_seconds']:.1f} s)"
    )
    return 0
