"""``backup`` and ``restore`` on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import settings
from clitools import refuse
from store.backup import BackupError, backup, default_backup_name, restore
from store.db import DatabaseBusy
from terminal import clean, echo


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "backup", parents=[common], help="back up the database and its key to a zip (safe while the app runs)"
    )
    p.add_argument("--out", help="zip file to write (default: data/backups/egov-backup-DATE-TIME.zip)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", parents=[common], help="replace the database with a backup zip (stop the app first)")
    p.add_argument("file")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_restore)


def cmd_backup(args: argparse.Namespace) -> int:
    db_path = settings.resolve_db_path(args.db)
    out = Path(args.out) if args.out else db_path.parent / "backups" / default_backup_name()
    try:
        manifest = backup(db_path, out)
    except (BackupError, DatabaseBusy) as exc:
        return refuse("备份失败", "backup failed", exc)
    except OSError as exc:
        return refuse(f"备份失败，无法写入 {out}：{exc.strerror}", f"backup failed: cannot write {out}")
    echo(
        f"已备份到 {out}：办件 {manifest['cases']}，环节 {manifest['events']}，上传 {manifest['uploads']} "
        f"(backed up to {out})"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    db_path = settings.resolve_db_path(args.db)
    if not args.yes:
        if not sys.stdin.isatty():
            return refuse("恢复会覆盖当前数据库；确认请加 --yes", "restore replaces the database; add --yes", code=2)
        answer = input(clean(f"用 {args.file} 覆盖 {db_path}？输入 yes 确认 (type yes to replace): "))
        if answer.strip().lower() != "yes":
            echo("已取消 (cancelled)")
            return 1
    try:
        manifest = restore(Path(args.file), db_path)
    except DatabaseBusy:
        return refuse("数据库正在被看板或其他程序使用，请先停止看板再恢复", "stop the app before restoring")
    except BackupError as exc:
        return refuse("恢复失败", "restore failed", exc)
    echo(
        f"已从 {args.file} 恢复（备份时间 {manifest['created_at']}，办件 {manifest['cases']}） "
        f"(restored from {args.file})"
    )
    return 0
