"""The report as an Excel workbook (xlsxwriter): Chinese sheet names, real numbers, native Excel charts.

Numbers are written as numbers with a display format (rates as 0.0%), so a cell holds exactly
the frozen figure and Excel can compute with it. Every text cell goes through :func:`safe_text`:
text that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is written as a
string with a leading apostrophe, so a service name such as ``=HYPERLINK("http://x","y")`` can
never become a formula, not even when someone edits the cell or saves the sheet as CSV.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ingest.upload_support import FORMULA_PREFIXES
from metrics.catalog import KPI_BY_ID
from reports import fmt
from reports.html import kpi_rows

SHEET_NAMES = {
    "about": "说明",
    "kpis": "指标",
    "trend": "趋势",
    "departments": "部门",
    "items": "事项",
    "bottlenecks": "瓶颈",
    "name_only": "摆设事项",
    "overdue": "超期办件",
    "cases": "办件明细",
    "definitions": "口径说明",
}


def safe_text(value: object) -> str:
    """Text that a spreadsheet will only ever show: formula-like text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Book:
    """A workbook with the report's formats and a writer that types every cell."""

    def __init__(self, buffer: io.BytesIO, published_at: dt.datetime | None) -> None:
        self.wb = xlsxwriter.Workbook(
            buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,  # text is text, always
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "default_date_format": "yyyy-mm-dd hh:mm",
                "remove_timezone": True,
            },
        )
        created = published_at or dt.datetime(2000, 1, 1)
        self.wb.set_properties({"title": "一网通办效能月报", "author": "一网通办效能监测看板", "created": created})
        font = {"font_name": "Microsoft YaHei", "font_size": 10}
        self.f = {
            "head": self.wb.add_format({**font, "bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True,
                                        "valign": "top"}),
            "text": self.wb.add_format({**font, "border": 1, "valign": "top"}),
            "wrap": self.wb.add_format({**font, "border": 1, "text_wrap": True, "valign": "top"}),
            "int": self.wb.add_format({**font, "border": 1, "num_format": "#,##0"}),
            "num": self.wb.add_format({**font, "border": 1, "num_format": "#,##0.00"}),
            "pct": self.wb.add_format({**font, "border": 1, "num_format": "0.0%"}),
            "date": self.wb.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd hh:mm"}),
            "title": self.wb.add_format({**font, "bold": True, "font_size": 16, "font_color": "#16355E"}),
            "label": self.wb.add_format({**font, "bold": True, "font_color": "#555555"}),
            "plain": self.wb.add_format(font),
            "good": self.wb.add_format({**font, "border": 1, "font_color": "#2A9D5C", "bold": True}),
            "bad": self.wb.add_format({**font, "border": 1, "font_color": "#C0392B", "bold": True}),
        }  # fmt: skip

    def sheet(self, key: str) -> Worksheet:
        return self.wb.add_worksheet(SHEET_NAMES[key])

    def cell(self, ws: Worksheet, row: int, col: int, value: object, kind: str = "text") -> None:
        """One typed cell: numbers as numbers, dates as dates, everything else as safe text."""
        if fmt.missing(value):
            ws.write_blank(row, col, None, self.f["text"])
            return
        if kind in ("int", "num", "pct") and isinstance(value, (int, float)) and not isinstance(value, bool):
            ws.write_number(row, col, float(value), self.f[kind])
            return
        if kind == "date":
            when = value if isinstance(value, dt.datetime) else _parse_datetime(value)
            if when is not None:
                ws.write_datetime(row, col, when, self.f["date"])
                return
        if isinstance(value, bool):
            value = "是" if value else "否"
        ws.write_string(row, col, safe_text(value), self.f[kind if kind in self.f else "text"])

    def table(self, ws: Worksheet, top: int, columns: list[tuple[str, str, str, int]], rows: list[dict]) -> int:
        """Header + rows from (key, heading, kind, width) columns; returns the next free row."""
        for col, (_, heading, _, width) in enumerate(columns):
            ws.write_string(top, col, heading, self.f["head"])
            ws.set_column(col, col, width)
        for r, row in enumerate(rows, start=top + 1):
            for col, (key, _, kind, _) in enumerate(columns):
                self.cell(ws, r, col, row.get(key), kind)
        if rows:
            ws.autofilter(top, 0, top + len(rows), len(columns) - 1)
        ws.freeze_panes(top + 1, 1)
        return top + 1 + len(rows)


def _parse_datetime(value: object) -> dt.datetime | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _about(book: _Book, content: dict, meta: dict) -> None:
    ws = book.sheet("about")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 90)
    ws.write_string(0, 0, safe_text(f"{content['town']}一网通办效能月报 · {fmt.month_title(content['month'])}"),
                    book.f["title"])  # fmt: skip
    lines = [
        ("统计期", f"{content['period']['start']} 至 {content['period']['end']}（按申请时间）；"
                 f"在办、超期、临期截至 {content['period']['as_of']} 日终"),
        ("版本", f"第 {meta.get('version', 1)} 版"
               + (f"（替代第 {meta['supersedes_version']} 版）" if meta.get("supersedes_version") else "")),
        ("发布时间", fmt.datetime_text(meta.get("published_at"))),
        ("发布人", meta.get("published_by") or "—"),
        ("说明", meta.get("note") or "—"),
        ("数据版本", str(content["data_version"])),
        ("数据来源", "；".join(f"上传 #{u['upload_id']} {u['file_name']}" for u in content.get("uploads", [])) or "—"),
        ("冻结说明", "本工作簿为发布时冻结的数据快照，数字不会因之后的上传而改变；如需更正，将发布新版本。"),
        ("个人信息", "不含申请人姓名、证件号、电话等个人信息。以 = + - @ 开头的文字前加了撇号（'），以免被当作公式。"),
    ]  # fmt: skip
    for i, (label, value) in enumerate(lines, start=2):
        ws.write_string(i, 0, label, book.f["label"])
        ws.write_string(i, 1, safe_text(value), book.f["plain"])
    changes = (meta.get("changes") or {}).get("kpis") or []
    if changes:
        row = len(lines) + 3
        ws.write_string(row, 0, f"与第 {meta.get('supersedes_version')} 版相比的变化", book.f["label"])
        for i, c in enumerate(changes, start=row + 1):
            kpi = KPI_BY_ID.get(c["id"])
            if kpi is None:
                continue
            ws.write_string(i, 0, kpi.name_zh, book.f["plain"])
            ws.write_string(
                i, 1,
                f"{fmt.kpi_value(kpi, {'value': c.get('before')})} → {fmt.kpi_value(kpi, {'value': c.get('after')})}"
                f"（{fmt.change(kpi, c.get('after'), c.get('before'))}）",
                book.f["plain"],
            )  # fmt: skip
    ws.activate()


def _kpis(book: _Book, content: dict) -> None:
    ws = book.sheet("kpis")
    rows = kpi_rows(content)
    heads = ["指标编号", "指标", "本月", "分子", "分母", "目标", "达标", "上月", "环比变化", "单位", "说明"]
    widths = [22, 18, 12, 10, 10, 10, 8, 12, 16, 10, 40]
    for col, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(0, col, h, book.f["head"])
        ws.set_column(col, col, w)
    for r, row in enumerate(rows, start=1):
        kpi = KPI_BY_ID[row["id"]]
        kind = {"rate": "pct", "count": "int", "days": "num"}[kpi.unit]
        book.cell(ws, r, 0, row["id"])
        book.cell(ws, r, 1, row["name"])
        book.cell(ws, r, 2, row["value"], kind)
        book.cell(ws, r, 3, row["numerator"], "num" if kpi.id in ("speedup_rate", "compression_rate") else "int")
        book.cell(ws, r, 4, row["denominator"], "int")
        book.cell(ws, r, 5, row["target"], kind)
        ws.write_string(
            r, 6, row["met_text"], book.f["good" if row["met"] else "bad" if row["met"] is False else "text"]
        )
        book.cell(ws, r, 7, row["previous"], kind)
        book.cell(ws, r, 8, row["change_text"])
        book.cell(ws, r, 9, {"rate": "比率", "count": "件", "days": "工作日"}[kpi.unit])
        reason = (content["kpis"].get(row["id"]) or {}).get("reason") or {}
        book.cell(ws, r, 10, reason.get("zh") if isinstance(reason, dict) else None, "wrap")
    ws.freeze_panes(1, 2)


def _trend(book: _Book, content: dict) -> None:
    ws = book.sheet("trend")
    rows = content.get("trend") or []
    columns = [("month", "月份", "text", 10), ("cases", "办件量", "int", 10), ("online_rate", "网办率", "pct", 10),
               ("fully_online_rate", "全程网办率", "pct", 12), ("on_time_rate", "按时办结率", "pct", 12),
               ("median_processing_days", "办理时长中位数（工作日）", "num", 14)]  # fmt: skip
    end = book.table(ws, 0, columns, rows)
    if not rows:
        return
    n = len(rows)
    sheet = SHEET_NAMES["trend"]
    bars = book.wb.add_chart({"type": "column"})
    bars.add_series({"name": "办件量", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 1, n, 1],
                     "fill": {"color": "#9DB9DC"}})  # fmt: skip
    line = book.wb.add_chart({"type": "line"})
    line.add_series(
        {
            "name": "网办率",
            "categories": [sheet, 1, 0, n, 0],
            "values": [sheet, 1, 2, n, 2],
            "y2_axis": True,
            "line": {"color": "#1F5FA8", "width": 2.25},
            "marker": {"type": "circle"},
        }
    )
    line.add_series({"name": "按时办结率", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 4, n, 4],
                     "y2_axis": True, "line": {"color": "#E07B00", "width": 1.75, "dash_type": "dash"}})  # fmt: skip
    bars.combine(line)
    bars.set_title({"name": "近 12 个月办件量、网办率与按时办结率"})
    bars.set_y_axis({"name": "办件量", "num_format": "#,##0"})
    line.set_y2_axis({"name": "比率", "num_format": "0%", "min": 0, "max": 1})
    bars.set_legend({"position": "bottom"})
    bars.set_size({"width": 760, "height": 380})
    ws.insert_chart(end + 2, 0, bars)


_DEPARTMENT_COLUMNS = [
    ("department", "部门", "text", 20), ("cases", "办件量", "int", 9), ("online_cases", "网办件", "int", 9),
    ("channel_known", "渠道已知", "int", 9), ("online_rate", "网办率", "pct", 9),
    ("fully_online_rate", "全程网办率", "pct", 11), ("completed", "已办结", "int", 9),
    ("median_working_days", "办理时长中位数（工作日）", "num", 14), ("p90_working_days", "90 分位（工作日）", "num", 12),
    ("with_due", "有时限的办结件", "int", 12), ("on_time", "按时办结", "int", 10), ("on_time_rate", "按时办结率", "pct", 11),
    ("overdue_completed", "超期办结", "int", 10), ("open_cases", "期末在办", "int", 10),
    ("open_overdue", "在办超期", "int", 10), ("at_risk", "临期", "int", 8), ("speedup_rate", "实际提速率", "pct", 11),
]  # fmt: skip


def _departments(book: _Book, content: dict) -> None:
    ws = book.sheet("departments")
    rows = content.get("departments") or []
    end = book.table(ws, 0, _DEPARTMENT_COLUMNS, rows)
    if not rows:
        return
    n = len(rows)
    sheet = SHEET_NAMES["departments"]
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series({"name": "网办率", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 4, n, 4],
                      "fill": {"color": "#1F5FA8"}, "data_labels": {"value": True, "num_format": "0.0%"}})  # fmt: skip
    chart.set_title({"name": "各部门网办率"})
    chart.set_x_axis({"num_format": "0%", "min": 0, "max": 1})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": max(300, 40 + 24 * n)})
    ws.insert_chart(end + 2, 0, chart)
    days = book.wb.add_chart({"type": "bar"})
    days.add_series(
        {
            "name": "中位数",
            "categories": [sheet, 1, 0, n, 0],
            "values": [sheet, 1, 7, n, 7],
            "fill": {"color": "#1F5FA8"},
        }
    )
    days.add_series({"name": "90 分位", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 8, n, 8],
                     "fill": {"color": "#9DB9DC"}})  # fmt: skip
    days.set_title({"name": "各部门办理时长（工作日）"})
    days.set_y_axis({"reverse": True})
    days.set_legend({"position": "bottom"})
    days.set_size({"width": 620, "height": max(300, 60 + 30 * n)})
    ws.insert_chart(end + 2, 8, days)


#: The first columns of both item sheets (事项, 摆设事项): which item, and its volume by channel.
_ITEM_COLUMNS = [
    ("service_item", "事项", "text", 34), ("item_code", "事项编码", "text", 16), ("department", "部门", "text", 16),
    ("cases", "办件量", "int", 9), ("channel_known", "渠道已知", "int", 9), ("online_cases", "网办件", "int", 9),
]  # fmt: skip


def _items(book: _Book, content: dict) -> None:
    ws = book.sheet("items")
    columns = [
        *_ITEM_COLUMNS, ("online_share", "网办率", "pct", 9), ("fully_online_rate", "全程网办率", "pct", 11),
        ("completed", "已办结", "int", 9), ("median_days", "中位时长（承诺时限单位）", "num", 14),
        ("promised_days", "承诺时限", "num", 10), ("promised_unit", "时限单位", "text", 9),
        ("on_time_rate", "按时办结率", "pct", 11), ("catalog_online_capable", "目录：网上可办", "text", 12),
        ("name_only", "摆设事项", "text", 10),
    ]  # fmt: skip
    rows = [{**r, "promised_unit": {"working": "工作日", "natural": "自然日"}.get(r.get("promised_unit"), r.get("promised_unit"))}
            for r in content.get("items") or []]  # fmt: skip
    book.table(ws, 0, columns, rows)


def _bottlenecks(book: _Book, content: dict) -> None:
    ws = book.sheet("bottlenecks")
    b = content.get("bottlenecks") or {}
    ws.write_string(0, 0, "主要瓶颈（按影响大小排序）", book.f["label"])
    findings = b.get("findings") or []
    for i, f in enumerate(findings, start=1):
        ws.write_number(i, 0, i, book.f["plain"])
        ws.write_string(i, 1, safe_text(f.get("text_zh")), book.f["plain"])
    if not findings:
        ws.write_string(1, 1, "本月没有发现明显的瓶颈。", book.f["plain"])
    top = max(len(findings), 1) + 2
    columns = [
        ("department", "部门", "text", 22), ("count", "件次", "int", 10), ("cases", "办件", "int", 10),
        ("median_wait_hours", "中位等待（小时）", "num", 14), ("p90_wait_hours", "90 分位等待（小时）", "num", 16),
        ("total_wait_hours", "合计等待（小时）", "num", 14), ("share_of_case_time", "占全部办理时间", "pct", 14),
        ("median_wait_workdays", "中位等待（工作日）", "num", 14), ("rework_rate", "返工率", "pct", 10),
    ]  # fmt: skip
    rows = b.get("departments") or []
    end = book.table(ws, top, columns, rows)
    ws.set_column(1, 1, 90 if findings else 22)
    if not rows:
        return
    shown = min(len(rows), 12)
    sheet = SHEET_NAMES["bottlenecks"]
    chart = book.wb.add_chart({"type": "bar"})
    chart.add_series({"name": "占全部办理时间", "categories": [sheet, top + 1, 0, top + shown, 0],
                      "values": [sheet, top + 1, 6, top + shown, 6], "fill": {"color": "#E07B00"},
                      "data_labels": {"value": True, "num_format": "0.0%"}})  # fmt: skip
    chart.set_title({"name": "各部门占全部办理时间的比例"})
    chart.set_x_axis({"num_format": "0%"})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": max(300, 40 + 26 * shown)})
    ws.insert_chart(end + 2, 0, chart)


def _name_only(book: _Book, content: dict) -> None:
    ws = book.sheet("name_only")
    columns = [*_ITEM_COLUMNS, ("online_share", "网办占比", "pct", 10)]
    rows = content.get("name_only_items") or []
    end = book.table(ws, 0, columns, rows)
    rules = content["rules"]
    note = (
        f"判定：事项目录标为网上可办、渠道已知的办件不少于 {rules['name_only_min_cases']} 件，"
        f"但网办占比低于 {rules['name_only_threshold']:.0%}"
        if rules.get("has_catalog")
        else f"判定（未上传事项目录）：办件不少于 {rules['name_only_min_cases']} 件却没有一件网办"
    )
    ws.write_string(end + 1, 0, ("本月没有摆设事项。" if not rows else "") + note, book.f["plain"])


def _overdue(book: _Book, content: dict) -> None:
    ws = book.sheet("overdue")
    o = content.get("overdue") or {}
    ws.write_string(0, 0, f"截至 {o.get('as_of')} 日终仍在办、已超过办结时限的办件", book.f["label"])
    columns = [
        ("case_id", "办件编号", "text", 22), ("service_item", "事项", "text", 30), ("department", "部门", "text", 16),
        ("channel", "渠道", "text", 10), ("submitted_at", "申请时间", "date", 17), ("accepted_at", "受理时间", "date", 17),
        ("due_at", "办结时限", "date", 17), ("promised_days", "承诺时限", "num", 9),
        ("workdays_overdue", "已超期（工作日）", "int", 14),
    ]  # fmt: skip
    overdue = [{**r, "channel": fmt.channel(r.get("channel"))} for r in o.get("open_overdue") or []]
    end = book.table(ws, 1, columns, overdue)
    if not overdue:
        ws.write_string(end, 0, "无", book.f["plain"])
        end += 1
    top = end + 2
    ws.write_string(top, 0, f"临期预警：{o.get('at_risk_workdays')} 个工作日内到期的在办件", book.f["label"])
    risk_columns = columns[:-1] + [("workdays_left", "剩余（工作日）", "int", 14)]
    at_risk = [{**r, "channel": fmt.channel(r.get("channel"))} for r in o.get("at_risk") or []]
    end = book.table(ws, top + 1, risk_columns, at_risk)
    if not at_risk:
        ws.write_string(end, 0, "无", book.f["plain"])
    ws.freeze_panes(0, 0)


def _cases(book: _Book, cases: pd.DataFrame) -> None:
    ws = book.sheet("cases")
    columns = [
        ("case_id", "办件编号", "text", 22), ("service_item", "事项", "text", 30), ("item_code", "事项编码", "text", 16),
        ("department", "部门", "text", 16), ("channel", "渠道", "text", 10), ("submitted_at", "申请时间", "date", 17),
        ("accepted_at", "受理时间", "date", 17), ("completed_at", "办结时间", "date", 17),
        ("due_at", "办结时限", "date", 17), ("status", "状态", "text", 9), ("promised_days", "承诺时限", "num", 9),
        ("promised_unit", "时限单位", "text", 9), ("processing_days_working", "办理时长（工作日）", "num", 14),
        ("processing_days_natural", "办理时长（自然日）", "num", 14), ("visits", "到现场次数", "int", 10),
        ("resubmissions", "补正次数", "int", 9),
    ]  # fmt: skip
    rows = []
    for r in cases.to_dict("records"):
        r["channel"] = fmt.channel(None if fmt.missing(r.get("channel")) else r.get("channel"))
        r["status"] = fmt.STATUS_LABELS.get(r.get("status"), r.get("status"))
        r["promised_unit"] = {"working": "工作日", "natural": "自然日"}.get(
            r.get("promised_unit"), r.get("promised_unit")
        )
        rows.append({k: (None if fmt.missing(v) or v is pd.NaT else v) for k, v in r.items()})
    book.table(ws, 0, columns, rows)


def _definitions(book: _Book, content: dict) -> None:
    ws = book.sheet("definitions")
    columns = [("id", "指标编号", "text", 24), ("name_zh", "指标", "text", 18), ("definition_zh", "口径", "wrap", 80),
               ("direction", "方向", "text", 10), ("target", "目标", "text", 10)]  # fmt: skip
    targets = content.get("targets") or {}
    rows = [
        {**e, "direction": "越高越好" if e.get("higher_is_better") else "越低越好",
         "target": fmt.target(e["id"], targets.get(e["id"], e.get("default_target"))) if e["id"] in KPI_BY_ID else ""}
        for e in content.get("catalogue") or []
    ]  # fmt: skip
    book.table(ws, 0, columns, rows)


def render_xlsx(content: dict, meta: dict, cases: pd.DataFrame) -> bytes:
    """The workbook bytes for frozen ``content``, the snapshot ``meta`` and the month's PII-free ``cases``."""
    published = meta.get("published_at")
    published_at = _parse_datetime(published) if published else None
    buffer = io.BytesIO()
    book = _Book(buffer, published_at)
    _about(book, content, meta)
    _kpis(book, content)
    _trend(book, content)
    _departments(book, content)
    _items(book, content)
    _bottlenecks(book, content)
    _name_only(book, content)
    _overdue(book, content)
    _cases(book, cases)
    _definitions(book, content)
    book.wb.close()
    return buffer.getvalue()
