"""`cli.py kpis`, `cli.py bottlenecks` and `cli.py journeys`: the same functions the pages call, printed as JSON or a table.

cli.py wires these in with :func:`add_parsers`. Each handler takes its :func:`selection` (the filters, the
database), prints, and returns an exit code (0 ok, 2 bad arguments); an empty selection is said plainly, not as
an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import clock
import scope
import settings
from clitools import Refused, database, print_json
from lake.cli_commands import add_engine_options, open_lake
from metrics import bottlenecks, journeys, precomputed_columns
from metrics.catalog import JOURNEY_MIN_APPLICANTS, JOURNEY_WINDOW_DAYS, KPI_BY_ID
from metrics.filters import Filters, town_condition
from metrics.findings import rank_bottlenecks
from metrics.kpis import KpiResult, compute_kpis
from metrics.page_queries import default_month_of
from store.rows import one
from store.towns import towns
from terminal import echo


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``kpis`` and ``bottlenecks`` subcommands to cli.py's subparsers."""
    p = subparsers.add_parser("kpis", help="KPI figures for a month or a date range (JSON or table)")
    _common(p)
    p.add_argument("--by", choices=["town"], default=None, help="one set of figures per town (a JSON list)")
    p.set_defaults(func=cmd_kpis)

    p = subparsers.add_parser("bottlenecks", help="waiting time per department or step (JSON or table)")
    _common(p)
    p.add_argument("--by", choices=["department", "step"], default="department")
    p.add_argument("--top", type=int, default=5, help="how many ranked findings the table ends with")
    p.add_argument(
        "--min-sample",
        type=int,
        default=None,
        help="fewest events or cases a finding is built on (default: settings.MIN_SAMPLE, $EGOV_MIN_SAMPLE)",
    )
    p.set_defaults(func=cmd_bottlenecks)

    p = subparsers.add_parser(
        "journeys", help="一件事: journeys of one applicant, items filed together, known bundles (JSON or table)"
    )
    p.add_argument("--db", help="DuckDB file (default: $EGOV_DB or data/egov.duckdb)")
    p.add_argument(
        "--user", default=None, help="read as this user: a user limited to towns sees only their towns' journeys"
    )
    p.add_argument("--month", help="YYYY-MM: journeys whose first case falls in it (default: the last complete month)")
    p.add_argument("--town", action="append", default=[], help="town (repeatable; default: every town)")
    p.add_argument(
        "--window-days",
        type=int,
        default=JOURNEY_WINDOW_DAYS,
        help=f"a journey goes on while the next case follows within this many days (default {JOURNEY_WINDOW_DAYS})",
    )
    p.add_argument(
        "--min-applicants",
        type=int,
        default=JOURNEY_MIN_APPLICANTS,
        help=f"pairs and bundles with fewer distinct applicants are not shown (default {JOURNEY_MIN_APPLICANTS})",
    )
    p.add_argument("--format", choices=["json", "table"], default="table")
    p.set_defaults(func=cmd_journeys, all=False, date_from=None, date_to=None, department=[], item=[], channel=[])


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="DuckDB file (default: $EGOV_DB or data/egov.duckdb)")
    add_engine_options(p)
    p.add_argument(
        "--user", default=None, help="read as this user: a user limited to towns sees only their towns' figures"
    )
    period = p.add_mutually_exclusive_group()
    period.add_argument("--month", help="YYYY-MM (default: the last complete month)")
    period.add_argument("--all", action="store_true", help="every date in the database")
    period.add_argument("--from", dest="date_from", help="first day YYYY-MM-DD (with --to)")
    p.add_argument("--to", dest="date_to", help="last day YYYY-MM-DD, inclusive")
    p.add_argument("--department", action="append", default=[], help="department name (repeatable)")
    p.add_argument("--item", action="append", default=[], help="service item name or code (repeatable)")
    p.add_argument("--channel", action="append", default=[], help="canonical channel (repeatable)")
    p.add_argument("--town", action="append", default=[], help="town (repeatable; default: every town)")
    p.add_argument("--format", choices=["json", "table"], default="table")


def filters_from_args(args: argparse.Namespace) -> Filters:
    """The Filters the options describe; raises ValueError with a message for the user."""
    dims = {
        "departments": tuple(args.department),
        "items": tuple(args.item),
        "channels": tuple(args.channel),
        "towns": tuple(args.town),
    }
    if args.month:
        return Filters.month(args.month, **dims)
    if not _period_given(args):  # the last complete month with data: default_period() asks the database
        return Filters.month(clock.last_complete_month(), **dims)
    start = dt.date.fromisoformat(args.date_from) if args.date_from else None
    end = dt.date.fromisoformat(args.date_to) if args.date_to else None
    return Filters(start, end, **dims)


def _period_given(args: argparse.Namespace) -> bool:
    return bool(args.month or args.all or args.date_from or args.date_to)


def default_period(args: argparse.Namespace, filters: Filters, cur) -> Filters:
    """Without a period option, the month every page opens on: the last complete month with data."""
    month = None if _period_given(args) else default_month_of(cur)
    if month is None:
        return filters
    whole = Filters.month(month)
    return filters.with_period(whole.start, whole.end)


@contextmanager
def selection(args: argparse.Namespace) -> Iterator[tuple[Any, Filters]]:
    """The command's database (or ``--lake``, on ``--engine``) and the filters its options describe, the default
    period applied; a bad option refuses with exit code 2 before the database is opened."""
    try:
        filters = filters_from_args(args)
    except ValueError as exc:
        raise Refused("参数错误", "bad argument", exc, code=2) from None
    if getattr(args, "lake", None) or getattr(args, "engine", "duckdb") != "duckdb":
        # A lake holds cases and events, not the town's kept figures: the catalogue's own SQL, on either engine.
        with open_lake(args) as lake, precomputed_columns.disabled():
            yield lake, default_period(args, filters, lake.cursor())
        return
    with database(args) as db:
        yield db, default_period(args, filters, db.cursor())


def _clean(value: object) -> object:
    """JSON-safe: NaN -> null, numpy scalars -> Python, dates -> ISO text."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _no_data_message(db: Any, filters: Filters) -> str:
    cur = db.cursor()
    towns, values = town_condition(filters, "c")  # the chosen towns' data, never another town's dates
    lo, hi, total = one(
        cur.execute(
            f"SELECT min(submitted_at)::DATE, max(submitted_at)::DATE, count(*) FROM cases c WHERE {towns}", values
        )
    )
    if not total and (filters.towns or scope.current() is not None):
        names = "、".join(filters.towns or scope.current() or ())
        return f"{names} 还没有办件数据，请先导入 ({names}: no cases yet; load data first)"
    if not total:
        return "数据库中还没有办件数据，请先导入 (the database has no cases yet; load data first)"
    return (
        f"所选范围（{filters.label()}）没有办件数据；现有数据的申请日期为 {lo} 至 {hi} "
        f"(no cases submitted in {filters.label()}; the data covers {lo} to {hi})"
    )


def cmd_kpis(args: argparse.Namespace) -> int:
    if args.by == "town":
        return _kpis_by_town(args)
    with selection(args) as (db, filters):
        results = compute_kpis(db.cursor(), filters)
        empty = not results["cases"]["value"]
        message = _no_data_message(db, filters) if empty else None
        if args.format == "json":
            return print_json(results, note=message, default=_clean)
        if message:
            echo(message)
        echo(f"统计期 period: {filters.label()}   截至 as of: {filters.as_of():%Y-%m-%d}")
        echo(format_kpi_table(results))
        return 0


def _kpis_by_town(args: argparse.Namespace) -> int:
    """``kpis --by town``: each town's figures, exactly as ``kpis --town T`` gives them, in the order of the towns."""
    with selection(args) as (db, filters):
        cur = db.cursor()
        names = scope.limit(filters.towns) if filters.towns else towns(cur)  # never another town's name
        per_town = [(town, compute_kpis(cur, replace(filters, towns=(town,)))) for town in names]
        if args.format == "json":
            return print_json([{"town": town, **results} for town, results in per_town], default=_clean)
        echo(f"统计期 period: {filters.label()}   截至 as of: {filters.as_of():%Y-%m-%d}")
        for town, results in per_town:
            echo(f"\n== {town} ==")
            echo(format_kpi_table(results))
        return 0


def _fmt_value(kpi_id: str, r: KpiResult) -> str:
    kpi = KPI_BY_ID[kpi_id]
    value = r["value"]
    if value is None:
        reason = r["reason"]
        return f"未知 unknown（{reason['zh'] if reason else ''}）"
    if kpi.unit == "rate":
        return f"{value * 100:.1f}%  ({_n(r.get('numerator'))}/{_n(r.get('denominator'))})"
    if kpi.unit == "days":
        return f"{value:.2f} 工作日 ({r.get('natural_value') or 0:.2f} 自然日, n={r.get('n')})"
    if kpi.decimals:
        return f"{value:.{kpi.decimals}f}"
    return f"{value}"


def _n(v: object) -> str:
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.2f}"
    return str(int(v)) if isinstance(v, (int, float)) else str(v)


def _fmt_target(kpi_id: str) -> str:
    kpi = KPI_BY_ID[kpi_id]
    if kpi.default_target is None:
        return "-"
    sign = "≥" if kpi.higher_is_better else "≤"
    if kpi.unit == "rate":
        return f"{sign}{kpi.default_target * 100:.0f}%"
    return f"{sign}{kpi.default_target:g}"


def format_kpi_table(results: Mapping[str, KpiResult]) -> str:
    """Plain-text table: KPI, value (with numerator/denominator), default target."""
    rows: list[tuple[str, ...]] = [("指标 KPI", "值 value", "目标 target")]
    for kpi_id, r in results.items():
        kpi = KPI_BY_ID[kpi_id]
        rows.append((f"{kpi.name.zh} {kpi_id}", _fmt_value(kpi_id, r), _fmt_target(kpi_id)))
    return _table(rows)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


JSON_COLUMNS = (
    "count", "cases", "median_wait_hours", "p90_wait_hours", "mean_wait_hours", "total_wait_hours",
    "total_time_hours", "share_of_case_time", "median_wait_workdays", "rework_rate", "source",
)  # fmt: skip


def cmd_bottlenecks(args: argparse.Namespace) -> int:
    with selection(args) as (db, filters):
        cur = db.cursor()
        frame = bottlenecks.bottleneck_table(cur, filters, args.by)
        rows: list[dict[str, Any]] = [  # JSON-ready values
            {"unit": _clean(r["unit"]), args.by: _clean(r["unit"]), **{c: _clean(r[c]) for c in JSON_COLUMNS}}
            for r in frame.to_dict("records")
        ]
        message = None
        if not rows:
            if not bottlenecks.has_events(cur, filters) and args.by == "step":
                message = "没有环节（事件）数据，无法按环节分析；可用 --by department 查看部门办理时长 (no event data: steps need an event log; try --by department)"
            else:
                message = _no_data_message(db, filters)
        if args.format == "json":
            return print_json(rows, note=message, default=_clean)
        if message:
            echo(message)
            return 0
        source = rows[0]["source"]
        unit_label = "部门 department" if args.by == "department" else "环节 step"
        head = (
            unit_label,
            "件次 count",
            "中位等待(时) median h",
            "P90(时) h",
            "平均(时) mean h",
            "合计(时) total h",
            "占比 share",
        )
        table = [head] + [
            (
                str(r["unit"] if r["unit"] is not None else "（未注明）"),
                str(r["count"]),
                _h(r["median_wait_hours"]), _h(r["p90_wait_hours"]), _h(r["mean_wait_hours"]), _h(r["total_wait_hours"]),
                "-" if r["share_of_case_time"] is None else f"{r['share_of_case_time'] * 100:.1f}%",
            )
            for r in rows
        ]  # fmt: skip
        if source == "cases":
            echo("（无环节数据：按办件的部门办理时长统计 — no events: department processing time from cases）")
        echo(_table(table))
        findings = rank_bottlenecks(cur, filters, top=args.top, min_count=args.min_sample)
        if findings:
            echo("\n主要瓶颈 Top bottlenecks:")
            for n, f in enumerate(findings, start=1):
                echo(f"{n}. {f['text_zh']}\n   {f['text_en']}")
        else:
            floor = settings.MIN_SAMPLE if args.min_sample is None else args.min_sample
            echo(f"\n主要瓶颈：样本太少（每项不足 {floor} 件/次），不排名 — too few events or cases to rank")
        return 0


def _h(v: object) -> str:
    return "-" if v is None else f"{v:.1f}"


#: The most days a journey may stretch between two cases, and the most applicants a cell may be asked to have.
MAX_WINDOW_DAYS = 366
MAX_MIN_APPLICANTS = 1000


def cmd_journeys(args: argparse.Namespace) -> int:
    """``journeys``: the period's journeys (一件事), the item pairs filed together, the known bundles."""
    if not 1 <= args.window_days <= MAX_WINDOW_DAYS:
        raise Refused("参数错误", "bad argument", f"--window-days must be 1–{MAX_WINDOW_DAYS}", code=2)
    if not 1 <= args.min_applicants <= MAX_MIN_APPLICANTS:
        raise Refused("参数错误", "bad argument", f"--min-applicants must be 1–{MAX_MIN_APPLICANTS}", code=2)
    with selection(args) as (db, filters):
        cur = db.cursor()
        try:
            summary = journeys.journey_summary(
                cur, filters, window_days=args.window_days, min_applicants=args.min_applicants
            )
        except journeys.BundleFileError as exc:
            raise Refused("一件事清单有误", "the bundles file is wrong", exc) from None
        message = _no_data_message(db, filters) if summary["coverage"] is None else None
        if message is None and summary["journeys"] is None:
            message = (
                "所选范围的办件都没有申请人证件号码或手机号，无法识别旅程 "
                "(no case in the selection carries an applicant ID or phone number: journeys are unknown)"
            )
        if args.format == "json":
            out = {k: v for k, v in summary.items() if k not in journeys.PAGE_ONLY}
            return print_json(out, note=message, default=_clean)
        if message:
            echo(message)
        echo(
            f"统计期 period: {filters.label()}   旅程间隔 window: {args.window_days} 天 days   "
            f"最少申请人 min applicants: {args.min_applicants}"
        )
        echo(format_journey_table(summary))
        return 0


def _maybe(value: object) -> str:
    return "未知 unknown" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def format_journey_table(summary: journeys.JourneySummary) -> str:
    """The headline figures, then the item pairs and the bundles, as plain-text tables."""
    cov = summary["coverage"]
    head = [
        ("指标 figure", "值 value"),
        ("申请人 applicants", _maybe(summary["applicants"])),
        ("旅程 journeys", _maybe(summary["journeys"])),
        ("多事项旅程 multi-item journeys", _maybe(summary["multi_item_journeys"])),
        ("跨部门旅程 cross-department journeys", _maybe(summary["multi_department_journeys"])),
        ("可减少提交次数 avoidable submissions", _maybe(summary["avoidable_submissions"])),
        ("退件后重新申请 re-applications after refusal", _maybe(summary["reapplications_after_refusal"])),
        ("有申请人标识的办件 cases with an applicant key", "未知 unknown" if cov is None else f"{cov * 100:.1f}%"),
    ]
    lines = [_table(head)]
    pairs = [("事项 A item A", "事项 B item B", "申请人 applicants", "旅程 journeys", "间隔中位(天) median gap d",
              "部门 departments", "跑动 visits")]  # fmt: skip
    pairs += [
        (
            p["items"][0], p["items"][1], str(p["applicants"]), str(p["journeys"]),
            "-" if p["median_gap_days"] is None else f"{p['median_gap_days']:.1f}",
            "、".join(p["departments"]) or "-", "-" if p["visits"] is None else str(p["visits"]),
        )
        for p in summary["pairs"]
    ]  # fmt: skip
    lines.append("\n同一旅程中一起办理的事项 Items filed in the same journey:")
    lines.append(_table(pairs) if len(pairs) > 1 else "（无 none）")
    if summary["suppressed_pairs"]:
        lines.append(
            f"另有 {summary['suppressed_pairs']} 组事项申请人过少，不予显示 "
            f"({summary['suppressed_pairs']} more pairs have too few applicants to show)"
        )
    lines.append("\n已知“一件事” Known bundles:")
    bundles = [("一件事 bundle", "旅程 journeys", "申请人 applicants")]
    bundles += [(b["name"], str(b["journeys"]), str(b["applicants"])) for b in summary["bundles"]]
    lines.append(_table(bundles) if len(bundles) > 1 else "（无 none）")
    if summary["suppressed_bundles"]:
        lines.append(
            f"另有 {summary['suppressed_bundles']} 个一件事申请人过少，不予显示 "
            f"({summary['suppressed_bundles']} more bundles have too few applicants to show)"
        )
    sentence = journeys.bundle_sentence(summary["bundle_journeys"])
    if sentence is not None and summary["bundles"]:
        lines.append(f"{sentence.zh} ({sentence.en})")
    return "\n".join(lines)
