"""Write the real-shaped input fixtures in this folder (run once; the outputs are committed).

    .venv/bin/python tests/data/make_fixtures.py

The same ten cases appear in every format, so each reader is checked against one hand-made truth
(see EXPECTED in tests/test_ingest_readers.py). Personal data in them is fake but shaped like the
real thing (18-digit ID numbers, 11-digit mobile numbers), so tests can prove none of it is stored.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

TITLE = "沙堰镇便民服务中心办件明细表（2026年10月）"
HEADER = [
    "业务流水号",
    "服务事项",
    "受理部门",
    "办理渠道",
    "申请人",
    "身份证号",
    "联系电话",
    "收件时间",
    "受理时间",
    "办结时间",
    "承诺办结时限",
    "到现场次数",
    "补正次数",
    "评价结果",
]
# fmt: off
ROWS = [
    ["SY2026100001", "最低生活保障申请", "民政办", "网上申请", "张三", "411323199001011234", "13812345678",
     "2026-10-09 09:00:00", "2026-10-09 10:00:00", "2026-10-12 16:00:00", "5个工作日", "0", "0", "非常满意"],
    ["SY2026100002", "临时救助申请", "民政办", "窗口办理", "李四", "41132319850202123X", "13912345678",
     "2026-10-10 09:30:00", "2026-10-10 10:00:00", "2026-10-20 10:00:00", "3个工作日", "2", "1", "不满意"],
    ["SY2026100003", "个体工商户设立登记", "市场监管所", "豫事办小程序", "王五", "411323197703031256", "13712345678",
     "2026-10-13 08:00:00", "2026-10-13 08:30:00", "", "10个工作日", "0", "0", ""],
    ["SY2026100004", "城乡居民养老保险参保登记", "社保所", "自助终端", "赵六", "411323196004041278", "13612345678",
     "2026-10-14 11:00:00", "2026-10-14 11:00:00", "2026-10-14 15:00:00", "即办", "1", "0", "满意"],
    ["SY2026100005", "农村宅基地用地审批", "自然资源所", "窗口", "钱七", "411323199505051290", "13512345678",
     "2026-10-15 09:00:00", "2026-10-15 09:20:00", "2026-11-10 17:00:00", "20日", "3", "2", "基本满意"],
]
# fmt: on
FOOTER = ["合计", "", "", "", "", "", "", "", "", "", "", "6", "3", ""]


def write_gbk_csv() -> Path:
    """A platform export: GBK, a title row above the header, a 合计 row at the end, CRLF line ends."""
    path = HERE / "cases_title_total_gbk.csv"
    lines = [TITLE + "," * (len(HEADER) - 1), ",".join(HEADER)] + [",".join(r) for r in ROWS] + [",".join(FOOTER)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def write_xlsx() -> Path:
    """An Excel export: title merged across the header width, real datetime cells, one serial number."""
    import openpyxl

    path = HERE / "cases_merged_title.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "办件明细"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    for i, row in enumerate(ROWS):
        cells: list[object] = list(row)
        for col in (7, 8, 9):
            if row[col]:
                cells[col] = dt.datetime.fromisoformat(row[col])
        if i == 1:
            # The second case's submission time typed as an Excel serial number (2026-10-10 09:30).
            cells[7] = 46305 + 9.5 / 24
        cells[11], cells[12] = int(row[11]), int(row[12])
        ws.append(cells)
    ws.append(FOOTER)
    notes = book.create_sheet("说明")
    notes.append(["本表由一体化政务服务平台导出"])
    book.save(path)
    return path


def write_xls() -> Path:
    """The same export in the old .xls format, with date cells carrying an Excel date format."""
    import xlwt

    path = HERE / "cases_legacy.xls"
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS")
    ws.write_merge(0, 0, 0, len(HEADER) - 1, TITLE)
    for c, name in enumerate(HEADER):
        ws.write(1, c, name)
    for r, row in enumerate(ROWS, start=2):
        for c, value in enumerate(row):
            if c in (7, 8, 9) and value:
                ws.write(r, c, dt.datetime.fromisoformat(value), date_style)
            else:
                ws.write(r, c, value)
    for c, value in enumerate(FOOTER):
        ws.write(len(ROWS) + 2, c, value)
    book.save(str(path))
    return path


EVENTS_HEADER = ["case:concept:name", "concept:name", "org:group", "org:resource", "time:timestamp", "case:channel"]
EVENTS = [
    ["E1", "申请", "便民服务中心综合窗口", "窗口甲", "2026-10-09T09:00:00+08:00", "网上申请"],
    ["E1", "受理", "便民服务中心综合窗口", "窗口甲", "2026-10-09T10:00:00+08:00", "网上申请"],
    ["E1", "审核", "民政办", "陈二", "2026-10-12T09:00:00+08:00", "网上申请"],
    ["E1", "办结", "民政办", "陈二", "2026-10-12T16:00:00+08:00", "网上申请"],
    ["E2", "申请", "便民服务中心综合窗口", "窗口乙", "2026-10-13T00:00:00Z", "窗口"],
    ["E2", "受理", "便民服务中心综合窗口", "窗口乙", "2026-10-13T01:00:00Z", "窗口"],
    ["E2", "补正", "便民服务中心综合窗口", "窗口乙", "2026-10-13T02:00:00Z", "窗口"],
    ["E2", "审核", "市场监管所", "孙三", "2026-10-14T02:00:00Z", "窗口"],
]


def write_event_formats() -> list[Path]:
    """The same eight events as JSON Lines, Parquet, XES and gzipped XES (times with offsets)."""
    import pandas as pd

    records = [dict(zip(EVENTS_HEADER, e, strict=True)) for e in EVENTS]
    jsonl = HERE / "events.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    parquet = HERE / "events.parquet"
    pd.DataFrame(records).to_parquet(parquet, index=False)
    xes = HERE / "events.xes"
    xes.write_text(_xes_text(records), encoding="utf-8")
    xes_gz = HERE / "events.xes.gz"
    xes_gz.write_bytes(gzip.compress(xes.read_bytes(), mtime=0))
    return [jsonl, parquet, xes, xes_gz]


def _xes_text(records: list[dict[str, str]]) -> str:
    from xml.sax.saxutils import quoteattr

    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">']
    for case_id in dict.fromkeys(r["case:concept:name"] for r in records):
        events = [r for r in records if r["case:concept:name"] == case_id]
        out.append("  <trace>")
        out.append(f'    <string key="concept:name" value={quoteattr(case_id)}/>')
        out.append(f'    <string key="channel" value={quoteattr(events[0]["case:channel"])}/>')
        for e in events:
            out.append("    <event>")
            out.append(f'      <string key="concept:name" value={quoteattr(e["concept:name"])}/>')
            out.append(f'      <string key="org:group" value={quoteattr(e["org:group"])}/>')
            out.append(f'      <string key="org:resource" value={quoteattr(e["org:resource"])}/>')
            out.append(f'      <date key="time:timestamp" value={quoteattr(e["time:timestamp"])}/>')
            out.append('      <string key="lifecycle:transition" value="complete"/>')
            out.append("    </event>")
        out.append("  </trace>")
    out.append("</log>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    for written in [write_gbk_csv(), write_xlsx(), write_xls(), *write_event_formats()]:
        print(written.relative_to(HERE.parent.parent), written.stat().st_size, "bytes")
