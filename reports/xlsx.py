"""The report as an Excel workbook (xlsxwriter): Chinese sheet names, real numbers, native Excel charts.

Numbers are written as numbers with a display format (rates as 0.0%, days as 0.0, counts as #,##0,
promised limits as whole numbers), so a cell holds the frozen figure and Excel can compute with it
(a tiny negative that would read "-0.0%" is written as 0; the JSON keeps every digit). A change against last month is a number too, rounded as the PDF shows it, with a custom
format that writes its sign and unit (``+2.7 个百分点``, ``+428``) and 持平 for zero. Where a figure
stands against its target is :func:`metrics.status.target_state` — the dashboard's 达标 / 接近 / 未达标
with the gap, on the state's colour. Rows are named by the KPI's Chinese name; the KPI id, for
machines, is the last column. Codes from the data (channel, case status, time unit) are labelled.

Every text cell goes through :func:`safe_text`: text that starts with ``=``, ``+``, ``-``, ``@`` (or a
tab / carriage return) is written as a string with a leading apostrophe, so a service name such as
``=HYPERLINK("http://x","y")`` can never become a formula, not even when someone edits the cell or
saves the sheet as CSV.

Native charts use the dashboard's palettes: one colour per department (``charts.theme.department_colors``
over all units of the data, frozen with the snapshot) and one per channel (``charts.theme.channel_color``).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from cells import neutralise
from charts import theme
from metrics.catalog import KPI_BY_ID
from metrics.status import STATE_COLORS, STATES
from reports import fmt
from reports.html import department_palette, kpi_rows

SHEET_NAMES = {
    "about": "说明",
    "kpis": "指标",
    "trend": "趋势",
    "channels": "渠道",
    "departments": "部门",
    "items": "事项",
    "bottlenecks": "瓶颈",
    "name_only": "摆设事项",
    "overdue": "超期办件",
    "journeys": "一件事",
    "cases": "办件明细",
    "definitions": "口径说明",
}


def safe_text(value: object) -> str:
    """Text that a spreadsheet will only ever show: formula-like text gets a leading apostrophe."""
    return str(neutralise("" if value is None else str(value)))


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
            "days": self.wb.add_format({**font, "border": 1, "num_format": "#,##0.0"}),
            "limit": self.wb.add_format({**font, "border": 1, "num_format": "General"}),
            "pct": self.wb.add_format({**font, "border": 1, "num_format": "0.0%"}),
            # changes against last month: numbers, their sign and unit written by the format, zero is 持平
            "chg_rate": self.wb.add_format({**font, "border": 1, "num_format": CHANGE_FORMATS["rate"]}),
            "chg_days": self.wb.add_format({**font, "border": 1, "num_format": CHANGE_FORMATS["days"]}),
            "chg_count": self.wb.add_format({**font, "border": 1, "num_format": CHANGE_FORMATS["count"]}),
            "chg_mean": self.wb.add_format({**font, "border": 1, "num_format": CHANGE_FORMATS["mean"]}),
            "date": self.wb.add_format({**font, "border": 1, "num_format": "yyyy-mm-dd hh:mm"}),
            "title": self.wb.add_format({**font, "bold": True, "font_size": 16, "font_color": "#16355E"}),
            "label": self.wb.add_format({**font, "bold": True, "font_color": "#555555"}),
            "plain": self.wb.add_format(font),
            **{f"state_{s}": self.wb.add_format(_state_format(font, s)) for s in STATES},
        }  # fmt: skip

    def sheet(self, key: str) -> Worksheet:
        return self.wb.add_worksheet(SHEET_NAMES[key])

    def cell(self, ws: Worksheet, row: int, col: int, value: object, kind: str = "text") -> None:
        """One typed cell: numbers as numbers, dates as dates, everything else as safe text."""
        if fmt.missing(value):
            ws.write_blank(row, col, None, self.f["text"])
            return
        if kind in _NUMBER_KINDS and isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
            if -_SHOWN_ZERO.get(kind, 0.0) < number < 0:  # would read "-0.0%": it is 0 at the shown precision
                number = 0.0
            ws.write_number(row, col, number, self.f[kind])
            return
        if kind == "date":
            when = value if isinstance(value, dt.datetime) else _parse_datetime(value)
            if when is not None:
                ws.write_datetime(row, col, when, self.f["date"])
                return
        if isinstance(value, bool):
            value = "是" if value else "否"
        ws.write_string(row, col, safe_text(value), self.f[kind if kind in self.f else "text"])

    def table(
        self,
        ws: Worksheet,
        top: int,
        columns: list[tuple[str, str, str, int]],
        rows: list[dict],
        *,
        alone: bool = True,
    ) -> int:
        """Header + rows from (key, heading, kind, width) columns; returns the next free row.

        ``alone``: the sheet's one table, with a filter and its heading frozen. A sheet of several tables has
        neither (a sheet has one filter, and a pane frozen over the tables above would fill the window).
        """
        for col, (_, heading, _, width) in enumerate(columns):
            ws.write_string(top, col, heading, self.f["head"])
            ws.set_column(col, col, width)
        for r, row in enumerate(rows, start=top + 1):
            for col, (key, _, kind, _) in enumerate(columns):
                self.cell(ws, r, col, row.get(key), kind)
        if alone:
            if rows:
                ws.autofilter(top, 0, top + len(rows), len(columns) - 1)
            ws.freeze_panes(top + 1, 1)
        return top + 1 + len(rows)


#: Number formats of a change against last month (the value is the change as the PDF shows it, rounded).
CHANGE_FORMATS = {
    "rate": '+0.0" 个百分点";-0.0" 个百分点";"持平"',
    "days": '+0.0" 个工作日";-0.0" 个工作日";"持平"',
    "count": '+#,##0;-#,##0;"持平"',
    "mean": '+0.0;-0.0;"持平"',  # a mean of counts (每旅程平均跑动)
}
_NUMBER_KINDS = ("int", "num", "days", "limit", "pct", "chg_rate", "chg_days", "chg_count", "chg_mean")
#: Below these magnitudes a negative figure displays as "-0.0%" / "-0.0": it is written as 0 instead (the
#: snapshot's JSON keeps the exact value), so no cell ever reads "-0.0".
_SHOWN_ZERO = {"pct": 0.0005, "days": 0.05}
#: The cell format of each KPI unit's figures.
_UNIT_KINDS = {"rate": "pct", "count": "int", "days": "days"}
#: The unit column of the KPI sheet where a count does not count cases.
_UNIT_WORDS = {"name_only_items": "个", "visits_per_journey": "次/旅程", "avoidable_submissions": "次"}


def _state_format(font: dict, state: str) -> dict:
    """A target state's cell: the state's own colour behind the symbol and words (white on red)."""
    if state == "none":
        return {**font, "border": 1, "font_color": "#666666"}
    return {**font, "border": 1, "bold": True, "bg_color": STATE_COLORS[state],
            "font_color": "#FFFFFF" if state == "far" else "#111111"}  # fmt: skip


def _parse_datetime(value: object) -> dt.datetime | None:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def publication_lines(content: dict, meta: dict) -> list[tuple[str, str]]:
    """The 说明 sheet's lines on the publication itself (version, when, by whom, why, data version): every workbook's."""
    return [
        ("版本", f"第 {meta.get('version', 1)} 版"
               + (f"（替代第 {meta['supersedes_version']} 版）" if meta.get("supersedes_version") else "")),
        ("发布时间", fmt.datetime_text(meta.get("published_at"))),
        ("发布人", fmt.text(meta.get("published_by")) if meta.get("published_by") else "—"),
        ("说明", meta.get("note") or "—"),
        ("数据版本", str(content["data_version"])),
    ]  # fmt: skip


def _about(book: _Book, content: dict, meta: dict) -> None:
    ws = book.sheet("about")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 90)
    ws.write_string(0, 0, safe_text(f"{content['town']}一网通办效能月报 · {fmt.month_title(content['month'])}"),
                    book.f["title"])  # fmt: skip
    lines = [
        ("统计期", f"{content['period']['start']} 至 {content['period']['end']}（按申请时间）；"
                 f"在办、超期、临期截至 {content['period']['as_of']} 日终"),
        *publication_lines(content, meta),
        ("数据来源", "；".join(
            f"上传 #{u['upload_id']} {fmt.upload_kind(u.get('kind'))} {fmt.text(u.get('file_name'))}"
            f"（{fmt.datetime_text(u.get('loaded_at'))} 导入，{fmt.count(u.get('rows_loaded'))} 行）"
            for u in content.get("uploads", [])) or "—"),
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
            ws.write_string(i, 0, kpi.name.zh, book.f["plain"])
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
    heads = [
        "指标",
        "本月",
        "分子",
        "分母（或件数）",
        "目标",
        "达标情况",
        "上月",
        "环比变化",
        "单位",
        "说明",
        "指标编号",
    ]
    widths = [18, 12, 10, 14, 10, 28, 12, 16, 8, 40, 22]
    for col, (h, w) in enumerate(zip(heads, widths, strict=True)):
        ws.write_string(0, col, h, book.f["head"])
        ws.set_column(col, col, w)
    for r, row in enumerate(rows, start=1):
        kpi = KPI_BY_ID[row["id"]]
        kind = "days" if kpi.decimals else _UNIT_KINDS[kpi.unit]  # "days" is #,##0.0: one decimal
        book.cell(ws, r, 0, row["name"])
        book.cell(ws, r, 1, row["value"], kind)
        # a mean of per-case fractions (实际提速率) has no numerator a person can read: only its case count
        book.cell(ws, r, 2, None if row["mean_rate"] else row["numerator"], "int")
        book.cell(ws, r, 3, row["denominator"], "int")
        book.cell(ws, r, 4, row["target"], kind)
        state = row["state"]
        shown = f"{state.symbol} {row['state_text']}" if state.state != "none" else row["state_words"]
        ws.write_string(r, 5, shown, book.f[f"state_{state.state}"])
        book.cell(ws, r, 6, row["previous"], kind)
        book.cell(ws, r, 7, row["change_value"], "chg_mean" if kpi.decimals else f"chg_{kpi.unit}")
        book.cell(ws, r, 8, _UNIT_WORDS.get(kpi.id) or {"rate": "%", "count": "件", "days": "工作日"}[kpi.unit])
        reason = (content["kpis"].get(row["id"]) or {}).get("reason") or {}
        note = reason.get("zh") if isinstance(reason, dict) else None
        if not note and row["mean_rate"]:
            note = f"各{'办件' if row['id'] == 'speedup_rate' else '事项'}比率的平均值，共 {row['basis'][2:]}"
        if not note and kpi.scope == "journeys" and (content.get("journeys") or {}).get("settled") is False:
            note = "本月旅程发布时尚未结束，暂不与上月比较"
        book.cell(ws, r, 9, note, "wrap")
        book.cell(ws, r, 10, row["id"])
    ws.freeze_panes(1, 1)


def _channels(book: _Book, content: dict) -> None:
    """The month's cases by channel (labelled), with a native doughnut in the channels' own colours."""
    ws = book.sheet("channels")
    source = content.get("channels") or []
    rows = [{"label": fmt.channel(r.get("channel")), "cases": r.get("cases"), "share": r.get("share")} for r in source]
    columns = [("label", "申请渠道", "text", 16), ("cases", "办件量", "int", 10), ("share", "占比", "pct", 10)]
    end = book.table(ws, 0, columns, rows)
    if not rows:
        ws.write_string(end, 0, "本月没有渠道数据。", book.f["plain"])
        return
    n = len(rows)
    sheet = SHEET_NAMES["channels"]
    chart = book.wb.add_chart({"type": "doughnut"})
    chart.add_series({
        "name": "申请渠道", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 1, n, 1],
        "points": [{"fill": {"color": theme.channel_color(r.get("channel"))}} for r in source],
        "data_labels": {"category": True, "percentage": True, "num_format": "0.0%", "separator": "\n",
                        "position": "outside_end"},
    })  # fmt: skip
    chart.set_title({"name": "本月申请渠道"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 520, "height": 360})
    ws.insert_chart(end + 2, 0, chart)


def _trend(book: _Book, content: dict) -> None:
    ws = book.sheet("trend")
    rows = content.get("trend") or []
    columns = [("month", "月份", "text", 10), ("cases", "办件量", "int", 10), ("online_rate", "网办率", "pct", 10),
               ("fully_online_rate", "全程网办率", "pct", 12), ("on_time_rate", "按时办结率", "pct", 12),
               ("median_processing_days", "办理时长中位数（工作日）", "days", 14)]  # fmt: skip
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
    ("median_working_days", "办理时长中位数（工作日）", "days", 14), ("p90_working_days", "90 分位（工作日）", "days", 12),
    ("with_due", "有时限的办结件", "int", 12), ("on_time", "按时办结", "int", 10), ("on_time_rate", "按时办结率", "pct", 11),
    ("overdue_completed", "超期办结", "int", 10), ("open_cases", "期末在办", "int", 10),
    ("open_overdue", "在办超期", "int", 10), ("at_risk", "临期", "int", 8), ("speedup_rate", "实际提速率", "pct", 11),
]  # fmt: skip


def _department_points(content: dict, rows: list[dict]) -> list[dict]:
    """Per-bar fills in each department's own colour (the dashboard's, see :func:`reports.html.department_palette`)."""
    palette = department_palette(content)
    return [{"fill": {"color": palette.get(str(r.get("department")), theme.GREY)}} for r in rows]


def _departments(book: _Book, content: dict) -> None:
    ws = book.sheet("departments")
    rows = content.get("departments") or []
    end = book.table(ws, 0, _DEPARTMENT_COLUMNS, rows)
    if not rows:
        return
    n = len(rows)
    sheet = SHEET_NAMES["departments"]
    chart = book.wb.add_chart({"type": "bar"})
    colours = _department_points(content, rows)
    chart.add_series({"name": "网办率", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 4, n, 4],
                      "points": colours, "data_labels": {"value": True, "num_format": "0.0%"}})  # fmt: skip
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
            "points": colours,
            "data_labels": {"value": True, "num_format": "0.0"},
        }
    )
    days.add_series({"name": "90 分位", "categories": [sheet, 1, 0, n, 0], "values": [sheet, 1, 8, n, 8],
                     "fill": {"color": "#C8CED6"}})  # fmt: skip
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
        ("completed", "已办结", "int", 9), ("median_days", "中位时长（按时限单位）", "days", 14),
        ("promised_days", "承诺时限（0 为即办）", "limit", 12), ("promised_unit", "时限单位", "text", 9),
        ("on_time_rate", "按时办结率", "pct", 11), ("catalog_online_capable", "目录：网上可办", "text", 12),
        ("name_only", "摆设事项", "text", 10),
    ]  # fmt: skip
    rows = [
        {**r, "promised_unit": fmt.promised_unit(r.get("promised_unit")) or None} for r in content.get("items") or []
    ]
    book.table(ws, 0, columns, rows)


def _bottlenecks(book: _Book, content: dict) -> None:
    ws = book.sheet("bottlenecks")
    b = content.get("bottlenecks") or {}
    ws.write_string(0, 0, "主要瓶颈（按影响大小排序）", book.f["label"])
    findings = b.get("findings") or []
    for i, f in enumerate(findings, start=1):
        ws.write_number(i, 0, i, book.f["plain"])
        ws.write_string(i, 1, safe_text(fmt.sentence(f.get("text_zh"))), book.f["plain"])
    if not findings:
        ws.write_string(1, 1, "本月没有发现明显的瓶颈。", book.f["plain"])
    top = max(len(findings), 1) + 2
    columns = [
        ("department", "部门", "text", 22), ("count", "件次", "int", 10), ("cases", "办件", "int", 10),
        ("median_wait_hours", "中位等待（小时）", "days", 14), ("p90_wait_hours", "90 分位等待（小时）", "days", 16),
        ("total_wait_hours", "合计等待（小时）", "days", 14), ("share_of_case_time", "占全部办理时间", "pct", 14),
        ("median_wait_workdays", "中位等待（工作日）", "days", 14), ("rework_rate", "返工率", "pct", 10),
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
                      "values": [sheet, top + 1, 6, top + shown, 6], "points": _department_points(content, rows[:shown]),
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
        ("due_at", "办结时限", "date", 17), ("promised_days", "承诺时限", "limit", 9),
        ("promised_unit", "时限单位", "text", 9), ("workdays_overdue", "已超期（工作日）", "int", 14),
    ]  # fmt: skip
    overdue = [{**r, "channel": fmt.channel(r.get("channel")), "promised_unit": fmt.promised_unit(r.get("promised_unit"))}
               for r in o.get("open_overdue") or []]  # fmt: skip
    end = book.table(ws, 1, columns, overdue)
    if not overdue:
        ws.write_string(end, 0, "无", book.f["plain"])
        end += 1
    top = end + 2
    ws.write_string(top, 0, f"临期预警：{o.get('at_risk_workdays')} 个工作日内到期的在办件", book.f["label"])
    risk_columns = columns[:-1] + [("workdays_left", "剩余（工作日）", "int", 14)]
    at_risk = [{**r, "channel": fmt.channel(r.get("channel")), "promised_unit": fmt.promised_unit(r.get("promised_unit"))}
               for r in o.get("at_risk") or []]  # fmt: skip
    end = book.table(ws, top + 1, risk_columns, at_risk)
    if not at_risk:
        ws.write_string(end, 0, "无", book.f["plain"])
    ws.freeze_panes(0, 0)


def _journeys(book: _Book, content: dict) -> None:
    """一件事: the headline figures, then the pairs of items, of departments and the bundles (small cells left out)."""
    ws = book.sheet("journeys")
    j = content.get("journeys")
    if not j:
        ws.write_string(0, 0, "本版快照发布时尚未统计旅程。", book.f["plain"])
        return
    if j.get("journeys") is None:
        ws.write_string(0, 0, "本月办件都没有申请人证件号码或手机号，无法识别旅程（未知，不是 0）。", book.f["plain"])
        return
    k = j.get("min_applicants")
    title = f"一件事（旅程间隔 {j.get('window_days')} 天，申请人少于 {k} 位的组合不列出）"
    ws.write_string(0, 0, title, book.f["label"])
    head = [
        ("申请人", j.get("applicants")), ("旅程", j.get("journeys")), ("多事项旅程", j.get("multi_item_journeys")),
        ("跨部门旅程", j.get("multi_department_journeys")), ("可减少提交次数", j.get("avoidable_submissions")),
        ("退件后重新申请", j.get("reapplications_after_refusal")),
    ]  # fmt: skip
    for i, (label, value) in enumerate(head, start=1):
        ws.write_string(i, 0, label, book.f["plain"])
        book.cell(ws, i, 1, value, "int")
    row = len(head) + 1
    ws.write_string(row, 0, "有申请人标识的办件", book.f["plain"])
    book.cell(ws, row, 1, j.get("coverage"), "pct")
    if j.get("settled") is False:
        row += 1
        ws.write_string(row, 0, f"发布时本月旅程尚未结束，{j.get('settles_on')} 之后数字才基本定型，暂不与上月比较。",
                        book.f["plain"])  # fmt: skip

    def hidden(top: int, count: object, what: str) -> int:
        if count:
            ws.write_string(top, 0, f"另有 {count} {what}申请人少于 {k} 位，不予列出。", book.f["plain"])
            return top + 1
        return top

    pairs = [
        {"a": p["items"][0], "b": p["items"][1], "applicants": p.get("applicants"), "journeys": p.get("journeys"),
         "gap": p.get("median_gap_days"), "departments": "、".join(str(d) for d in p.get("departments") or [])}
        for p in j.get("pairs") or []
    ]  # fmt: skip
    columns = [("a", "事项 A", "text", 28), ("b", "事项 B", "text", 28), ("applicants", "申请人", "int", 10),
               ("journeys", "旅程", "int", 10), ("gap", "中位间隔（天）", "days", 14), ("departments", "部门", "text", 30)]  # fmt: skip
    ws.write_string(row + 2, 0, "一起办理的事项", book.f["label"])
    end = hidden(book.table(ws, row + 3, columns, pairs, alone=False), j.get("suppressed_pairs"), "组事项")
    departments = [
        {"a": p["departments"][0], "b": p["departments"][1], "applicants": p.get("applicants"),
         "journeys": p.get("journeys")}
        for p in j.get("department_pairs") or []
    ]  # fmt: skip
    ws.write_string(end + 1, 0, "同一批群众要跑的部门（部门壁垒）", book.f["label"])
    end = book.table(ws, end + 2, [("a", "部门 A", "text", 28), ("b", "部门 B", "text", 28),
                                   ("applicants", "申请人", "int", 10), ("journeys", "旅程", "int", 10)],
                     departments, alone=False)  # fmt: skip
    end = hidden(end, j.get("suppressed_department_pairs"), "组部门")
    ws.write_string(end + 1, 0, "可合并办理的“一件事”", book.f["label"])
    end = book.table(ws, end + 2, [("name", "一件事", "text", 28), ("journeys", "旅程", "int", 28),
                                   ("applicants", "申请人", "int", 10), ("submissions_saved", "可少提交", "int", 10),
                                   ("trips_saved", "可少跑动", "int", 14)], j.get("bundles") or [], alone=False)  # fmt: skip
    hidden(end, j.get("suppressed_bundles"), "个“一件事”")


def _cases(book: _Book, cases: pd.DataFrame) -> None:
    ws = book.sheet("cases")
    columns = [
        ("case_id", "办件编号", "text", 22), ("service_item", "事项", "text", 30), ("item_code", "事项编码", "text", 16),
        ("department", "部门", "text", 16), ("channel", "渠道", "text", 10), ("submitted_at", "申请时间", "date", 17),
        ("accepted_at", "受理时间", "date", 17), ("completed_at", "办结时间", "date", 17),
        ("due_at", "办结时限", "date", 17), ("status", "状态", "text", 9), ("promised_days", "承诺时限", "limit", 9),
        ("promised_unit", "时限单位", "text", 9), ("processing_days_working", "办理时长（工作日）", "num", 14),
        ("processing_days_natural", "办理时长（自然日）", "num", 14), ("visits", "到现场次数", "int", 10),
        ("resubmissions", "补正次数", "int", 9),
    ]  # fmt: skip
    rows = []
    for r in cases.to_dict("records"):
        r["channel"] = fmt.channel(r.get("channel"))
        r["status"] = fmt.case_status(r.get("status"))
        r["promised_unit"] = fmt.promised_unit(r.get("promised_unit")) or None
        rows.append({k: (None if fmt.missing(v) else v) for k, v in r.items()})
    book.table(ws, 0, columns, rows)


def _definitions(book: _Book, content: dict) -> None:
    ws = book.sheet("definitions")
    columns = [("name_zh", "指标", "text", 18), ("definition_zh", "口径", "wrap", 80), ("direction", "方向", "text", 10),
               ("target", "目标", "text", 10), ("id", "指标编号", "text", 24)]  # fmt: skip
    targets = content.get("targets") or {}
    rows = [
        {**e, "direction": fmt.direction(e["id"]) if e["id"] in KPI_BY_ID else
         ("越高越好" if e.get("higher_is_better") else "越低越好"),
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
    _channels(book, content)
    _departments(book, content)
    _items(book, content)
    _bottlenecks(book, content)
    _name_only(book, content)
    _overdue(book, content)
    _journeys(book, content)
    _cases(book, cases)
    _definitions(book, content)
    book.wb.close()
    return buffer.getvalue()
