"""`cli.py snapshot`: publish a month's snapshot from the command line (a scheduled job), or list them.

    python cli.py snapshot --month 2026-10 [--db PATH] [--out DIR] [--note TEXT] [--if-missing]
        [--town NAME ...] [--county] [--all-towns] [--cover NAME]
    python cli.py snapshot list [--db PATH] [--town NAME | --county]

Which snapshots: ``--town NAME`` (repeatable) one per town, of that town's figures; ``--county`` the county's
(every town side by side); ``--all-towns`` one per town and the county's. Without any of them a database of
one town publishes that town's (as always) and a county database publishes every town's and the county's, so
the same cron line serves both. ``--cover`` is the name on a town's cover (default: the town's own name).

Without ``--month`` the previous calendar month is published (what a job on the 1st wants). The
scheduled form is ``--if-missing`` without ``--month``, run daily: it publishes last month unless it
is published, and tries again any month whose earlier run failed (the database busy, a full disk).
Every run's outcome, failures with their reason, is recorded in the run log (:mod:`reports.runs`),
which the snapshots page shows.
Exit codes: 0 done (or, with ``--if-missing``, already published), 1 the month has no data or the
snapshot could not be made (one line on stderr says why), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
from pathlib import Path

import clock
import names
import scope
import settings
from clitools import database, open_database, refuse
from reports import content as frozen
from reports import runs, snapshots
from reports.pdf import PdfUnavailable
from store.db import Database, DatabaseBusy, StorageError
from terminal import echo


def add_parsers(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "snapshot",
        parents=[common],
        help="publish the monthly snapshot (PDF, HTML, XLSX, Parquet, CSV, zip): snapshot --month YYYY-MM; "
        "or snapshot list",
    )
    p.add_argument("action", nargs="?", choices=["publish", "list"], default="publish")
    p.add_argument("--month", help="YYYY-MM (default: last month)")
    p.add_argument("--out", help="also write the snapshot's files into this folder")
    p.add_argument("--note", help="why it is (re-)issued; shown in the report")
    p.add_argument(
        "--town", action="append", default=[], help="publish this town's snapshot (its figures only); repeatable"
    )
    p.add_argument("--county", action="store_true", help="publish the county snapshot (every town side by side)")
    p.add_argument("--all-towns", action="store_true", help="publish every town's snapshot and the county's")
    p.add_argument("--cover", help="the name on a town snapshot's cover (default: the town's own name)")
    p.add_argument(
        "--if-missing", action="store_true", help="do nothing when the month already has a published snapshot"
    )
    p.set_defaults(func=cmd_snapshot)


def last_month(today: dt.date | None = None) -> str:
    """The last complete month in the town (``clock.last_complete_month``; honours EGOV_TODAY and EGOV_TZ)."""
    return clock.last_complete_month(today)


def cmd_snapshot(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    try:
        for month in [args.month] if args.month else []:
            frozen.check_month(month)
    except ValueError as exc:
        return refuse("参数错误", f"bad argument: {exc}", code=2)
    path = settings.resolve_db_path(args.db)
    months = [args.month or last_month()]
    if args.if_missing and not args.month:  # the scheduled form: also the months an earlier run failed to publish
        months = sorted(set(months) | set(runs.months_to_retry(path)))
    from store import audit

    by = audit.cli_actor(args.user)
    try:
        db = open_database(args.db)
    except (DatabaseBusy, StorageError) as exc:  # nothing published: recorded, and the next run tries again
        for month in months:
            runs.record(path, month, "failed", by=by, reason_zh=exc.message_zh, reason_en=exc.message_en)
        return refuse(exc.message_zh, exc.message_en)
    try:
        with db.reading() as cur:
            scopes, county_db = _scopes(cur, args)
    except snapshots.SnapshotError as exc:
        db.close()
        return refuse(exc.message_zh, exc.message_en, code=2)
    if not scopes:  # a town user whose towns hold no cases (or whose towns could not be read)
        db.close()
        return refuse("没有可发布的乡镇", "no town to publish within your towns")
    try:
        codes = [_publish_month(db, path, month, scope, args, by, county_db) for month in months for scope in scopes]
    finally:
        db.close()
    return max(codes)


def _scopes(cur, args: argparse.Namespace) -> tuple[list[str], bool]:
    """The towns (and snapshots.COUNTY) to publish, and whether the database is a county's."""
    from store.towns import clean_town, towns

    names = towns(cur)  # within a town user's scope (--user): their towns only
    county_db = snapshots.is_county_database(cur)
    county = [snapshots.COUNTY] if scope.current() is None else []  # the county's report is a county user's
    if args.all_towns or (not args.town and not args.county and county_db):
        return [*names, *county], county_db
    chosen: list[str] = []
    for raw in args.town:
        town = clean_town(raw)
        if town is None or town not in names:
            raise snapshots.no_such_town(raw, names)
        if town not in chosen:
            chosen.append(town)
    if args.county:
        chosen.append(snapshots.COUNTY)
    return chosen or names[:1], county_db


def _scope_label(scope: str, county_db: bool) -> str:
    """How a run names what it published: nothing in a one-town database, else the town or 全县 (county)."""
    if not county_db:
        return ""
    return "全县 (county) " if scope == snapshots.COUNTY else f"{scope} "


def _publish_month(
    db: Database, path: Path, month: str, scope: str, args: argparse.Namespace, by: str, county_db: bool
) -> int:
    """Publish one month of one town or the county (or skip it when published and ``--if-missing``); the outcome
    goes to the run log."""
    label = _scope_label(scope, county_db)
    town = scope if county_db or scope == snapshots.COUNTY else None  # the run log names a town in a county only

    def failed(zh: str, en: str, *, retry: bool = True) -> int:
        runs.record(path, month, "failed", by=by, reason_zh=zh, reason_en=en, retry=retry, town=town)
        return refuse(label + zh, label + en)

    if args.if_missing:
        with db.reading() as cur:
            existing = snapshots.list_snapshots(cur, month, town=scope)
        if existing:
            runs.record(path, month, "skipped", version=existing[0]["version"], by=by, town=town)
            echo(f"{label}{month} 已发布第 {existing[0]['version']} 版，跳过 (already published; skipped)")
            return _write_out(db, existing[0]["snapshot_id"], args.out)
    if args.out:  # the output folder is checked before publishing: a refused --out publishes nothing
        try:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            if not os.access(args.out, os.W_OK):
                raise PermissionError(13, "not writable")
        except OSError as exc:
            why = exc.strerror or "not writable"
            return failed(
                f"无法写入输出文件夹 {args.out}：{why}；未发布", f"cannot write to {args.out}: {why}; nothing published"
            )
    try:
        result = snapshots.publish(db, month, by=by, note=args.note, town=scope, cover=args.cover)
    except frozen.NoDataForMonth as exc:
        return failed(exc.message_zh, exc.message_en, retry=False)  # trying again changes nothing
    except (snapshots.SnapshotError, PdfUnavailable, DatabaseBusy, StorageError) as exc:
        return failed(exc.message_zh, exc.message_en)
    except Exception as exc:  # recorded with its reason; the traceback goes to the log
        logging.getLogger("egov.snapshot").exception("publishing %s failed", month)
        return failed("发布失败（详见日志）", f"publishing failed (see the log): {type(exc).__name__}")
    runs.record(path, month, "published", version=result.version, by=by, town=town)
    echo(
        f"已发布 {label}{month} 第 {result.version} 版快照（#{result.snapshot_id}）"
        f"(published {label}{month} version {result.version})"
    )
    for change in (result.changes or {}).get("kpis", []):
        echo(f"  变化 changed: {change['id']}: {change['before']} -> {change['after']}")
    return _write_out(db, result.snapshot_id, args.out)


def _write_out(db: Database, snapshot_id: int, out: str | None) -> int:
    """The snapshot's files into ``out``: each a plain name inside it, never written through a link there."""
    if not out:
        return 0
    folder = Path(out)
    cur = db.cursor()
    snap = snapshots.get_snapshot(cur, snapshot_id)
    if snap is None:
        return refuse(f"找不到快照 #{snapshot_id}", f"no snapshot #{snapshot_id}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for f in snap["files"]:
            path = names.path_in(folder, f["file_name"], what_zh="快照文件名", what_en="the snapshot file name")
            names.write_file(path, snapshots.file_bytes(cur, snapshot_id, f["file_name"]))
            echo(f"  {folder / path.name}  {f['size']:,} bytes")
    except (names.NameRefused, snapshots.SnapshotError) as exc:
        return refuse(exc.message_zh, exc.message_en)
    except OSError as exc:
        why = exc.strerror or "write failed"
        return refuse(f"无法把快照文件写入 {folder}：{why}", f"cannot write the snapshot's files to {folder}: {why}")
    return 0


def _list(args: argparse.Namespace) -> int:
    with database(args) as db:
        town = snapshots.COUNTY if args.county else (args.town[0] if args.town else None)
        rows = snapshots.list_snapshots(db.cursor(), args.month, town=town)
        if not rows:
            echo("尚未发布任何快照 (no snapshots yet)")
        for r in rows:
            changed = len((r["changes"] or {}).get("kpis", [])) if r["changes"] else 0
            echo(
                f"#{r['snapshot_id']:<4} {r['month']} v{r['version']}  "
                + ("全县 county  " if r["town"] == snapshots.COUNTY else f"{r['town']}  ")
                + f"{r['published_at']:%Y-%m-%d %H:%M}  "
                f"by {r['published_by'] or '-'}  数据版本 data version {r['data_version']}"
                + (f"  变化指标 changed KPIs {changed}" if r["version"] > 1 else "")
                + (f"  说明 note: {r['note']}" if r["note"] else "")
            )
        return 0
