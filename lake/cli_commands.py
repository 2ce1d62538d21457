"""``cli.py lake export``: the county's data as a Parquet lake (lake.export)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import settings
from clitools import refuse
from lake.export import LakeError, Selection, export
from store.db import Database
from terminal import echo


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("lake", parents=[common], help="the data as a Parquet lake for Spark: lake export --out DIR")
    actions = p.add_subparsers(dest="lake_command", required=True)
    e = actions.add_parser("export", parents=[common], help="write (or replace months of) the lake in DIR")
    e.add_argument("--out", required=True, help="the lake's folder (an empty folder, or a lake written before)")
    e.add_argument("--town", action="append", default=[], help="only this town (may be given more than once)")
    e.add_argument("--from", dest="first", help="first month, YYYY-MM (a date means its month)")
    e.add_argument("--to", dest="last", help="last month, YYYY-MM (a date means its month)")
    e.set_defaults(func=cmd_lake_export)


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
