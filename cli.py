"""Command line over the same modules the app uses: ingest, uploads, demo, calendar, users, audit (and metrics' commands).

Every command takes ``--db PATH``; without it ``$EGOV_DB``, then ``data/egov.duckdb``. A refused file
exits with status 1 and one line saying why; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import scope
import settings
from clitools import Refused, database, print_json, refuse
from errors import BilingualError
from ingest.errors import IngestRefused
from ingest.load import IngestResult, ingest_file, remove_upload
from ingest.reasons import reason_text, short_reason
from ingest.validate import Validation
from lake.cli_commands import add_parsers as add_lake_parsers
from metrics.cli_commands import add_parsers as add_metric_parsers
from reports.cli_commands import add_parsers as add_snapshot_parsers
from reports.content import NoDataForMonth
from store import audit, logs
from store.cli_commands import add_parsers as add_store_parsers
from store.db import Database, DatabaseBusy, StorageError
from store.rows import one
from store.uploads import list_uploads
from store.users import UserError
from terminal import clean, echo


def _print_result(result: IngestResult, lang: str = "zh") -> None:
    if result.duplicate_of is not None:
        echo(
            f"{result.file_name}: 与上传 #{result.duplicate_of} 内容相同，已跳过 (identical to upload #{result.duplicate_of}; skipped)"
        )
        return
    echo(
        f"{result.file_name}: 上传 #{result.upload_id} [{result.kind}] 导入 {result.rows_loaded} 行，"
        f"拒绝 {result.rows_rejected} 行，跳过 {result.rows_skipped} 行（合计/空行）；办件 {result.cases_loaded}，"
        f"环节 {result.events_loaded} "
        f"(loaded {result.rows_loaded}, rejected {result.rows_rejected}, skipped {result.rows_skipped}; "
        f"cases {result.cases_loaded}, events {result.events_loaded})"
    )
    if result.elsewhere():
        echo(f"  乡镇 town: {'、'.join(result.towns)}")
    _print_reasons(result.rejected_by_reason, result.warnings)


def _print_reasons(by_reason: dict[str, int], warnings: list[str]) -> None:
    """A load's (or a dry run's) rejected rows by reason, most first, then its warnings."""
    for reason, count in sorted(by_reason.items(), key=lambda kv: -kv[1]):
        zh, en = reason_text(reason).zh, reason_text(reason).en
        echo(f"  - {zh} ({en}): {count}")
    for warning in warnings:
        echo(f"  ! {warning}")


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.dry_run:
        return _dry_run(args)
    with database(args) as db:
        status, changed = 0, False
        progress = _progress_bar() if sys.stderr.isatty() else None
        for file in args.files:
            path = Path(file)
            if not path.is_file():
                status = refuse(f"{file}: 文件不存在", "no such file")
                continue
            actor = audit.cli_actor(args.user)
            try:
                result = ingest_file(
                    db,
                    path,
                    kind=args.kind,
                    mapping=args.mapping,
                    sheet=args.sheet,
                    loaded_by=actor,
                    progress=progress,
                    max_rows=args.max_rows,
                    town=args.town,
                )
            except IngestRefused as exc:
                status = refuse(f"{path.name}: 已拒绝", "refused", exc)
                continue
            if result.duplicate_of is None:
                audit.record_now(db, actor, "upload", result.upload_id, _upload_details(result, "cli"))
                changed = True
            _print_result(result)
        if changed and not args.no_refresh:
            _refresh_kept(db)
        return status


def _dry_run(args: argparse.Namespace) -> int:
    """``ingest --dry-run``: each file read, checked and compared with the database as it is; nothing written
    (no upload, no audit entry, no data version, no kept figures). Exit 1 when a file would be refused."""
    from ingest.impact import report_lines
    from ingest.preview import preview_file

    path = settings.resolve_db_path(args.db)
    if not path.is_file():  # a read-only open would fail less clearly (and a dry run creates nothing)
        return refuse(f"数据库文件不存在：{path}", f"no database at {path}")
    db = Database(path, read_only=True)  # read-only: nothing can be written
    try:
        status = 0
        for file in args.files:
            path = Path(file)
            if not path.is_file():
                status = refuse(f"{file}: 文件不存在", "no such file")
                continue
            try:
                preview = preview_file(
                    db,
                    path,
                    kind=args.kind,
                    mapping=args.mapping,
                    sheet=args.sheet,
                    max_rows=args.max_rows,
                    town=args.town,
                )
            except IngestRefused as exc:
                status = refuse(f"{path.name}: 已拒绝", "refused", exc)
                continue
            if preview.refusal is not None:
                status = refuse(f"{path.name}: 已拒绝", "refused", preview.refusal)
                continue
            if preview.duplicate_of is not None:
                echo(
                    f"{preview.file_name}: 与上传 #{preview.duplicate_of} 内容相同，导入时将跳过 "
                    f"(identical to upload #{preview.duplicate_of}; a load would skip it)"
                )
                continue
            v = preview.validation
            echo(
                f"{preview.file_name}: 预检，未写入 [{preview.mapping.kind}] 可导入 {v.loaded} 行，拒绝 {v.rejected} 行，"
                f"跳过 {v.skipped} 行（合计/空行） (dry run, nothing written: {v.loaded} rows would load, "
                f"{v.rejected} rejected, {v.skipped} skipped)"
            )
            note = [preview.personal_note] if preview.personal_note else []
            _print_reasons(v.by_reason, [*note, *preview.info.warnings, *_warned_line(v)])
            for line in report_lines(preview.impact):
                echo(f"  {line}")
        return status
    finally:
        db.close()


def _warned_line(v: Validation) -> list[str]:
    """The dry run's line about rows that would load with a field left empty (a load says it in the past tense)."""
    if not v.warned:
        return []
    zh = "；".join(f"{short_reason(r, 'zh')} {n} 行" for r, n in v.warned_by_reason.items())
    en = "; ".join(f"{short_reason(r, 'en')}: {n}" for r, n in v.warned_by_reason.items())
    return [
        f"{v.warned} 行有字段无法识别，导入时该字段置空、该行照常导入：{zh} "
        f"({v.warned} rows have a field that cannot be read; a load leaves it empty and loads the rows: {en})"
    ]


def _refresh_kept(db) -> None:
    """After a change of the data: the pages' figures for the latest months, computed and kept (metrics.precomputed_views)."""
    from metrics import precomputed_views

    done = precomputed_views.refresh(db)
    months = ", ".join(done["months"]) or "—"
    echo(
        f"看板数字已更新：{months}，{done['kept']} 项，用时 {done['seconds']:.1f} 秒 "
        f"(page figures kept for {months}: {done['kept']} calls, {done['seconds']:.1f} s)"
    )


def cmd_refresh(args: argparse.Namespace) -> int:
    from metrics import precomputed_views

    with database(args) as db:
        if args.if_stale and precomputed_views.is_fresh(db.cursor()):
            echo("看板数字已是最新 (the kept page figures are up to date)")
            return 0
        _refresh_kept(db)
        return 0


def _upload_details(result: IngestResult, via: str) -> dict:
    """What the audit log keeps about an upload (the history row has the rest)."""
    keys = (
        "file_name", "kind", "rows_loaded", "rows_rejected", "rows_skipped", "cases_loaded", "events_loaded", "town",
        "towns",
    )  # fmt: skip
    return {**{k: getattr(result, k) for k in keys}, "mapping": result.mapping, "via": via}


def _progress_bar():
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", leave=False)

    def update(stage: str, fraction: float) -> None:
        bar.set_description(stage)
        bar.n = int(fraction * 100)
        bar.refresh()
        if fraction >= 1.0:
            bar.close()

    return update


def cmd_uploads(args: argparse.Namespace) -> int:
    with database(args) as db:
        if args.action == "remove":
            if args.upload_id is None:
                return refuse("用法: cli.py uploads remove ID", "usage: uploads remove ID", code=2)
            actor = audit.cli_actor(args.user)
            removed = remove_upload(db, args.upload_id, removed_by=actor)
            audit.record_now(db, actor, "remove_upload", args.upload_id, {**removed, "via": "cli"})
            echo(
                f"已删除上传 #{args.upload_id}：办件版本 {removed['case_rows']}，环节 {removed['event_rows']}，"
                f"事项 {removed['service_item_rows']}，拒绝行 {removed['rejected_rows']} "
                f"(removed upload #{args.upload_id})"
            )
            _refresh_kept(db)
            return 0
        rows = list_uploads(db.cursor())
        if args.format == "json":
            return print_json(rows)
        if not rows:
            echo("尚无上传 (no uploads yet)")
        for r in rows:
            mark = "" if r["status"] == "loaded" else f"  [已删除 removed {r['removed_at']:%Y-%m-%d %H:%M}]"
            echo(
                f"#{r['upload_id']:<4} {r['loaded_at']:%Y-%m-%d %H:%M}  {r['kind']:<7} {r['file_name']}  "
                f"导入 {r['rows_loaded']} / 拒绝 {r['rows_rejected']}  by {r['loaded_by'] or '-'}  "
                f"sha256 {r['sha256'][:12]}{mark}"
            )
        return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from demo.county import MAX_TOWNS
    from demo.load import load_demo

    if not 1 <= args.towns <= MAX_TOWNS:
        return refuse("乡镇数不可用", "bad --towns", f"1–{MAX_TOWNS}, not {args.towns}", code=2)
    if args.small and args.towns != 1:
        return refuse("--small 是单个乡镇的样例", "--small is the one-town sample", "leave out --towns", code=2)
    with database(args) as db:
        if args.if_empty and one(db.cursor().execute("SELECT count(*) FROM uploads"))[0]:
            echo(f"{db.path}: 已有数据，跳过演示数据 (database has data; demo skipped)")
            return 0
        results = load_demo(db, small=args.small, seed=args.seed, end_month=args.end_month, towns=args.towns)
        for result in results:
            _print_result(result)
        _refresh_kept(db)
        return 0


def cmd_calendar(args: argparse.Namespace) -> int:
    from ingest.derive import fill_derived
    from store.calendar import coverage, load_schedule

    with database(args) as db:
        try:
            with db.write() as cur:
                years = load_schedule(cur, Path(args.file))
                fill_derived(cur, calendar_changed=True)  # loaded cases' due dates and working days follow it
        except (ValueError, OSError) as exc:
            return refuse("已拒绝", "refused", exc)
        lo, hi = coverage(db.cursor())
        echo(
            f"已导入 {', '.join(map(str, years))} 年的节假日安排；日历覆盖 {lo}–{hi} 年 "
            f"(loaded the holiday schedule for {years}; calendar covers {lo}-{hi})"
        )
        _refresh_kept(db)
        return 0


def _read_password(args: argparse.Namespace) -> str:
    """From one line of stdin (``--password-stdin``, for scripts), else asked twice without echo."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("密码 (password): ")
    if getpass.getpass("再次输入 (again): ") != first:
        raise UserError("两次输入的密码不一致", "the passwords differ")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    """Manage users: add, remove, passwd, role, list. Each change is audited."""
    from store import users

    actor = audit.cli_actor(args.user)
    with database(args) as db:
        if args.action == "list":
            rows = users.list_users(db.cursor())
            if not rows:
                echo("尚无用户：看板处于本地模式 (no users: the app runs in local mode)")
            for r in rows:
                towns = "、".join(r["towns"]) if r["towns"] is not None else "全县 county"
                echo(
                    f"{r['name']:<20} {r['role']:<8} {towns:<16} {r['email'] or '-':<30} "
                    f"{'密码 password' if r['has_password'] else '仅单点登录 SSO only'}  "
                    f"created {r['created_at']:%Y-%m-%d %H:%M} by {r['created_by'] or '-'}"
                )
            return 0
        if not args.name:
            return refuse(f"用法: cli.py users {args.action} NAME", f"usage: users {args.action} NAME", code=2)
        if args.action == "add":
            if not args.role:
                return refuse("请用 --role 指定角色：viewer、analyst 或 admin", "--role is required", code=2)
            password = None if args.no_password else _read_password(args)
            users.add_user(db, args.name, args.role, password, email=args.email, by=actor, towns=args.town or None)
            where = f"，乡镇 {'、'.join(args.town)}" if args.town else ""
            echo(f"已创建用户 {args.name}（{args.role}{where}）(user added)")
        elif args.action == "remove":
            users.remove_user(db, args.name, by=actor)
            echo(f"已删除用户 {args.name} (user removed)")
        elif args.action == "passwd":
            users.set_password(db, args.name, _read_password(args), by=actor)
            echo(f"已修改 {args.name} 的密码 (password changed)")
        elif args.action == "role":
            if not args.role:
                return refuse("请用 --role 指定新角色", "--role is required", code=2)
            users.set_role(db, args.name, args.role, by=actor)
            echo(f"{args.name} 的角色为 {args.role} (role set)")
        elif args.action == "towns":
            if bool(args.town) == bool(args.all_towns):
                return refuse(
                    "请用 --town 指定乡镇（可重复），或用 --all-towns 设为全县",
                    "give --town (repeatable) or --all-towns",
                    code=2,
                )
            users.set_towns(db, args.name, None if args.all_towns else args.town, by=actor)
            echo(f"{args.name} 的乡镇范围：{'、'.join(args.town) or '全县'} (towns set)")
        return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print the audit log, newest first."""
    with database(args) as db:
        entries = audit.list_audit(db.cursor(), limit=args.limit, action=args.action, me=args.user)
        if args.format == "json":
            return print_json(entries)
        if not entries:
            echo("审计日志为空 (the audit log is empty)")
        for e in entries:
            details = json.dumps(e["details"], ensure_ascii=False)
            when = f"{e['logged_at']:%Y-%m-%d %H:%M:%S}"
            echo(f"{when}  {e['actor'] or '-':<16} {e['action']:<16} {e['target'] or '-':<12} {details}")
        return 0


class _Parser(argparse.ArgumentParser):
    """argparse whose usage and error lines (which repeat what was typed) go out through terminal.clean."""

    def _print_message(self, message: str, file=None) -> None:
        super()._print_message(clean(message) if message else message, file)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cli.py", description="一网通办效能监测看板 · E-Gov Service Monitor")
    common = _Parser(add_help=False)
    common.add_argument("--db", help="DuckDB file (default: $EGOV_DB or data/egov.duckdb)")
    common.add_argument("--user", default=None, help="who does this (recorded in the upload history)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="load export files (CSV, XLSX, XLS, Parquet, JSONL, XES)")
    p.add_argument("files", nargs="+")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check each file and print what loading it would change (period, new and updated cases, cases per "
        "month before -> after, departments and items not in the catalogue, months already loaded); writes "
        "nothing. Each file is compared with the database as it is, not as the files before it would leave it. "
        "Exit 1 if a file would be refused",
    )
    p.add_argument("--mapping", help="saved mapping name or TOML file")
    p.add_argument("--kind", choices=["auto", "cases", "events", "catalog"], default="auto")
    p.add_argument("--sheet", help="Excel sheet name (default: the first)")
    p.add_argument(
        "--town",
        default=None,
        help="the town the files go into (default: $EGOV_TOWN, else 沙堰镇); a file with a town column (乡镇 …) "
        "says each row's town, and its rows without one go into this town",
    )
    p.add_argument("--max-rows", type=int, default=None, help="refuse a file with more data rows (default: no limit)")
    p.add_argument(
        "--no-refresh", action="store_true", help="do not recompute the kept page figures afterwards (cli.py refresh)"
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "refresh", parents=[common], help="recompute the pages' figures kept for the latest months (nightly cron)"
    )
    p.add_argument("--if-stale", action="store_true", help="only when they do not match the data, code or day")
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("uploads", parents=[common], help="list uploads, or remove one: uploads remove ID")
    p.add_argument("action", nargs="?", choices=["list", "remove"], default="list")
    p.add_argument("upload_id", nargs="?", type=int)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_uploads)

    p = sub.add_parser("demo", parents=[common], help="generate and load the realistic demo town")
    p.add_argument("--if-empty", action="store_true", help="only when the database has no uploads")
    p.add_argument(
        "--small",
        action="store_true",
        help="load the small shipped sample in data/sample/ (one town; not with --towns)",
    )
    p.add_argument(
        "--towns",
        type=int,
        default=1,
        help="generate a county of N towns (default 1: the one demo town); the first is the default town",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--end-month", default=None, help="YYYY-MM (default: the current month)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("calendar", parents=[common], help="add a year's holiday schedule (CSV: date,type,name)")
    p.add_argument("file")
    p.set_defaults(func=cmd_calendar)

    p = sub.add_parser(
        "users",
        parents=[common],
        help="users and roles: users add NAME --role viewer|analyst|admin [--town T …], users remove|passwd NAME, "
        "users towns NAME --town T … | --all-towns, users list",
    )
    p.add_argument("action", choices=["list", "add", "remove", "passwd", "role", "towns"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=["viewer", "analyst", "admin"])
    p.add_argument("--email", help="e-mail matched against single sign-on (st.login) identities")
    p.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")
    p.add_argument("--no-password", action="store_true", help="an account that signs in only by single sign-on")
    p.add_argument(
        "--town",
        action="append",
        default=[],
        help="limit the user to this town (repeatable; none: the whole county; not for an admin)",
    )
    p.add_argument("--all-towns", action="store_true", help="users towns: the whole county again")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("audit", parents=[common], help="show the audit log (uploads, removals, user changes)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--action", choices=list(audit.ACTIONS))
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_audit)

    add_metric_parsers(sub)
    add_snapshot_parsers(sub, common)
    add_store_parsers(sub, common)
    add_lake_parsers(sub, common)
    return parser


#: What a user limited to towns may run with ``--user``: their towns' loads, removals, history, figures, audit and
#: snapshots. Everything else (the calendar, users, backups, the demo, the kept figures) is the county's.
TOWN_USER_COMMANDS = frozenset({"ingest", "uploads", "kpis", "bottlenecks", "journeys", "audit", "snapshot"})


@contextmanager
def _as_user(args: argparse.Namespace) -> Iterator[None]:
    """``--user NAME`` of a user limited to towns: the command runs within those towns (:mod:`scope`).

    The command line is the operator's (whoever runs it can read the file), so ``--user`` is not a sign-in:
    an unknown name is only recorded, as before. A town user's name, though, limits what the command reads and
    refuses what it would write elsewhere, so that acting for a town analyst does what the app lets them do.
    """
    name = getattr(args, "user", None)
    path = settings.resolve_db_path(getattr(args, "db", None))
    towns: tuple[str, ...] | None = None
    if name and path.is_file():
        from store.users import get_user

        try:
            db = Database(path, read_only=True)
        except (DatabaseBusy, StorageError):
            # Who NAME is cannot be read now: within no town at all (nothing to see or change), and the command
            # itself meets the busy file as it would have (the scheduled snapshot records that, and retries).
            with scope.scoped(()):
                yield
            return
        try:
            user = get_user(db.cursor(), name)
        finally:
            db.close()
        towns = user.towns if user is not None else None
    if towns is not None and args.command not in TOWN_USER_COMMANDS:
        raise Refused(
            f"{name} 限定了乡镇（{'、'.join(towns)}），不能运行全县的命令 {args.command}",
            f"{name} is limited to towns and cannot run the county-wide command {args.command}",
        )
    with scope.scoped(towns):
        yield


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure()
    try:
        with _as_user(args):
            return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Refused as exc:  # a bad option found on the way in (clitools): its line, its exit code
        echo(exc, file=sys.stderr)
        return exc.code
    except (StorageError, DatabaseBusy, NoDataForMonth) as exc:  # not a refusal: what failed and what to do
        echo(f"错误 (error): {exc.message_zh} ({exc.message_en})", file=sys.stderr)
        return 1
    except BilingualError as exc:  # a refusal (a file, a user change …): what and why, in one line
        echo(f"已拒绝 (refused): {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last line of defence: one line, no traceback
        echo(f"错误 (error): 操作未能完成：{exc} (the command failed: {exc})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
