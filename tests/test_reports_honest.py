"""Every snapshot output says the same thing the dashboard says, in words a town leader reads at a glance (issue 12).

A hand-made month whose figures are known by hand: 按时办结率 2,681/2,772 = 96.72% against ≥98% is 1.28
points short, so it is 接近（差 1.3 个百分点）as on the dashboard's tile, not 未达标; 网办率 1,690/3,168 = 53.35%
against ≥60% is 6.65 points short (未达标（差 6.7 个百分点）); 办件量 went from 2,428 to 2,856 (+428, no good
direction); 参评率 moved by 0.03 points (持平, never "-0.0"); 实际提速率 is a mean over 1,250 cases (n=1,250 件,
not "660.63/1,250"). Every expected text below is written out by hand, not produced by reports/fmt.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import html as html_lib
import io
import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

#: Codes and placeholders that must never reach a person.
RAW_TOKENS = re.compile(
    r"\b(open|completed|rejected|withdrawn|mobile|window|self_service|working|natural|catalog|events|None|NaN|NaT|nan)\b"
    r'|\{"|-0\.0'
)
CHROMIUM = Path("/usr/bin/chromium")


def _rate(num: float, den: float, **extra: object) -> dict:
    return {"value": num / den, "numerator": num, "denominator": den, **extra}


def hand_made_content() -> dict:
    from reports.content import _catalogue

    kpis = {
        "cases": {"value": 2856},
        "online_rate": _rate(1690, 3168),
        "on_time_rate": _rate(2681, 2772),
        "speedup_rate": {"value": 660.63 / 1250, "numerator": 660.63, "denominator": 1250},
        "rating_participation": _rate(1938, 2772),
        "open_overdue_cases": {"value": 27},
        "median_processing_days": {"value": 0.123, "natural_value": 0.2, "n": 2772},
    }
    previous = {
        "cases": {"value": 2428},
        "online_rate": {"value": 0.5},
        "on_time_rate": {"value": 0.9512},
        "speedup_rate": {"value": 0.4783},
        "rating_participation": {"value": 1938 / 2772 + 0.0003},  # -0.03 points: rounds to 0.0
        "open_overdue_cases": {"value": 28},
        "median_processing_days": {"value": 0.63},
    }
    department = {
        "department": "=cmd", "cases": 2856, "online_cases": 1690, "channel_known": 3168, "online_rate": 1690 / 3168,
        "completed": 2772, "median_working_days": 1.94, "p90_working_days": 6.03, "on_time_rate": 2681 / 2772,
        "overdue_completed": 91, "open_overdue": 27, "at_risk": 4, "speedup_rate": -0.0003,
    }  # fmt: skip
    case = {
        "case_id": "C-1", "service_item": "居民身份证换领补领", "item_code": "HJ006", "department": "派出所户籍室",
        "channel": "mobile", "submitted_at": "2026-10-09T09:01:27", "accepted_at": None,
        "due_at": "2026-11-05T23:59:59", "promised_days": 20.0, "promised_unit": "natural", "workdays_overdue": 17,
        "workdays_left": None,
    }  # fmt: skip
    return {
        "format": 1, "month": "2026-11", "town": "测试镇",
        "period": {"start": "2026-11-01", "end": "2026-11-30", "as_of": "2026-11-30", "days": 30},
        "data_version": 3,
        "uploads": [
            {"upload_id": 1, "file_name": "service_catalog.xlsx", "kind": "catalog", "sha256": "c811d15690fe00",
             "loaded_at": "2026-12-01T09:06:00", "loaded_by": "ana", "rows_loaded": 65},
            {"upload_id": 2, "file_name": "cases_export.csv", "kind": "cases", "sha256": "7d1e62629c9400",
             "loaded_at": "2026-12-01T09:07:00", "loaded_by": "ana", "rows_loaded": 41594},
            {"upload_id": 3, "file_name": "events_export.csv", "kind": "events", "sha256": "2dab4434fd7900",
             "loaded_at": "2026-12-01T09:08:00", "loaded_by": "ana", "rows_loaded": 276243},
        ],
        "kpis": kpis, "previous_month": "2026-10", "previous_kpis": previous,
        "targets": {"online_rate": 0.6, "on_time_rate": 0.98, "speedup_rate": 0.5, "rating_participation": 0.5,
                    "open_overdue_cases": 0.0},
        "catalogue": _catalogue(),
        "rules": {"name_only_threshold": 0.05, "name_only_min_cases": 10, "at_risk_workdays": 2, "has_catalog": True},
        "trend": [{"month": "2026-10", "cases": 2428, "online_rate": 0.5, "on_time_rate": 0.9512},
                  {"month": "2026-11", "cases": 2856, "online_rate": 1690 / 3168, "on_time_rate": 2681 / 2772}],
        "channels": [{"channel": "window", "cases": 1427, "share": 1427 / 2856},
                     {"channel": "mobile", "cases": 1167, "share": 1167 / 2856},
                     {"channel": "self_service", "cases": 262, "share": 262 / 2856}],
        "departments": [department],
        "items": [{"service_item": "居民身份证换领补领", "item_code": "HJ006", "department": "派出所户籍室", "cases": 185,
                   "channel_known": 185, "online_cases": 0, "online_share": 0.0, "fully_online_rate": 0.0,
                   "completed": 143, "median_days": 6.32, "promised_days": 20.0, "promised_unit": "natural",
                   "on_time_rate": 1.0, "catalog_online_capable": False, "name_only": False}],
        "name_only_items": [],
        "bottlenecks": {
            "source": "events",
            "findings": [{"kind": "rework", "unit": "审核", "score": 0.05,
                          "text_zh": "审核环节在 2856 件中有 134 件重复办理（返工率 4.7%）", "text_en": "x", "evidence": {}}],
            "departments": [{"department": "=cmd", "count": 1027, "cases": 239, "median_wait_hours": 17.8,
                             "p90_wait_hours": 70.9, "total_wait_hours": 5000.0, "share_of_case_time": 0.164,
                             "median_wait_workdays": 0.7, "rework_rate": 0.096}],
        },
        "overdue": {"as_of": "2026-11-30", "at_risk_workdays": 2, "open_overdue": [case], "at_risk": [],
                    "by_department": []},
        "calendar_warning": None,
    }  # fmt: skip


META = {"version": 1, "published_at": "2026-12-01T09:30:00", "published_by": "ana"}


def visible_text(report_html: str) -> str:
    """What a reader sees of the HTML: the body without scripts, tags or attributes."""
    body = report_html.split("<body>", 1)[-1]
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def kpi_row(report_html: str, kpi_id: str) -> str:
    return report_html.split(f'<tr data-kpi="{kpi_id}"', 1)[1].split("</tr>", 1)[0]


@pytest.fixture(scope="module")
def content() -> dict:
    return hand_made_content()


@pytest.fixture(scope="module")
def report_html(content) -> str:
    from reports.html import render_html

    return render_html(content, META)


@pytest.fixture(scope="module")
def workbook(content):
    from reports.xlsx import render_xlsx

    cases = pd.DataFrame(
        {"case_id": ["C-1"], "service_item": ["居民身份证换领补领"], "channel": ["mobile"], "status": ["open"],
         "promised_days": [20.0], "promised_unit": ["natural"]}
    )  # fmt: skip
    return openpyxl.load_workbook(io.BytesIO(render_xlsx(content, META, cases)))


# --- A. the dashboard's three states, with the gap ------------------------------------------------------


def test_html_states_are_the_dashboards_three_states_with_the_gap(report_html):
    from metrics.status import STATE_COLORS

    on_time = squash(visible_text(kpi_row(report_html, "on_time_rate")))
    assert "▲接近（差1.3个百分点）" in on_time and "未达标" not in on_time
    assert "✖未达标（差6.7个百分点）" in squash(visible_text(kpi_row(report_html, "online_rate")))
    assert "✖未达标（超出27件）" in squash(visible_text(kpi_row(report_html, "open_overdue_cases")))
    assert "✔达标" in squash(visible_text(kpi_row(report_html, "speedup_rate")))
    # the state's own colour, beside its word (so it also reads without colour)
    assert STATE_COLORS["close"] in kpi_row(report_html, "on_time_rate") and STATE_COLORS["far"] in kpi_row(
        report_html, "online_rate"
    )
    tiles = re.findall(r'<div class="tile[^"]*" data-kpi="([a-z_]+)" data-state="([a-z]+)"', report_html)
    assert dict(tiles)["on_time_rate"] == "close" and dict(tiles)["online_rate"] == "far"
    highlights = visible_text(report_html.split('class="highlights"', 1)[1].split("</div>", 1)[0])
    assert "接近目标：按时办结率 96.7%（目标 ≥98%，差 1.3 个百分点）" in highlights
    assert "未达标：网办率 53.3%（目标 ≥60%，差 6.7 个百分点）" in highlights


def test_the_change_in_cases_has_no_good_or_bad_colour(report_html):
    cases = kpi_row(report_html, "cases")
    assert "+428" in cases and 'class="num ok"' not in cases and 'class="num bad"' not in cases
    assert 'class="num ok"' in kpi_row(report_html, "online_rate")  # a directional KPI that improved keeps its colour


@pytest.mark.skipif(not CHROMIUM.exists(), reason="the PDF needs Debian's chromium")
def test_pdf_says_close_numbers_one_way_and_labels_sources(content, tmp_path):
    from reports.html import render_html
    from reports.pdf import html_to_pdf

    path = tmp_path / "r.pdf"
    path.write_bytes(html_to_pdf(render_html(content, META, print_mode=True)))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    table = text.split("一、主要指标", 1)[1].split("二、趋势与渠道", 1)[0]
    row = next(ln for ln in table.splitlines() if ln.strip().startswith("按时办结率 "))
    assert "接近" in row and "差 1.3 个百分点" in row and "未达标" not in row, row
    speed = next(ln for ln in table.splitlines() if ln.strip().startswith("实际提速率 "))
    assert "52.9%" in speed and "n=1,250 件" in speed and "660.63" not in speed, speed
    participation = next(ln for ln in table.splitlines() if ln.strip().startswith("参评率 "))
    assert "持平" in participation, participation
    assert "-0.0" not in text and "+0.0" not in text
    assert "2,856 件中" in text and "2856" not in text
    sources = text.split("数据来源", 1)[1]
    for label in ("事项目录", "办件", "环节事件"):
        assert label in sources
    assert not RAW_TOKENS.search(text), RAW_TOKENS.search(text)


# --- B and D. no raw codes; numbers written one way ------------------------------------------------------


def test_html_visible_text_has_no_raw_codes_and_one_way_numbers(report_html):
    text = visible_text(report_html)
    assert not RAW_TOKENS.search(text), RAW_TOKENS.search(text)
    assert "移动端" in text and "事项目录" in text and "环节事件" in text
    assert "n=1,250 件" in text and "660.63" not in text
    items = visible_text(report_html.split('id="item-table"', 1)[1].split("</table>", 1)[0])
    assert re.search(r"自然日\s+6\.3\s+20\s", items), items  # one unit column; the limit as a whole number
    assert "20.0" not in items
    assert "2,856 件中" in text


def test_xlsx_names_kpis_in_chinese_and_writes_changes_as_formatted_numbers(workbook):
    from metrics.status import STATE_COLORS

    ws = workbook["指标"]
    heads = [c.value for c in ws[1]]
    assert heads[0] == "指标" and heads[-1] == "指标编号"
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2) if r[0].value}
    assert {"办件量", "网办率", "按时办结率", "实际提速率"} <= set(rows)
    col = {h: i for i, h in enumerate(heads)}
    change = rows["网办率"][col["环比变化"]]
    assert change.data_type == "n" and change.value == pytest.approx(3.3)  # 53.35% - 50% = 3.35 points, shown 3.3
    assert "个百分点" in change.number_format and change.number_format.startswith("+")
    cases = rows["办件量"][col["环比变化"]]
    assert cases.data_type == "n" and cases.value == 428 and cases.number_format.startswith("+#,##0")
    flat = rows["参评率"][col["环比变化"]]
    assert flat.value == 0 and "持平" in flat.number_format
    state = rows["按时办结率"][col["达标情况"]]
    assert state.value == "▲ 接近（差 1.3 个百分点）"
    assert state.fill.fgColor.rgb.upper().endswith(STATE_COLORS["close"].lstrip("#").upper())
    speed = rows["实际提速率"]
    assert speed[col["本月"]].value == pytest.approx(0.528504) and speed[col["本月"]].number_format == "0.0%"
    assert speed[col["分子"]].value is None and speed[col["分母（或件数）"]].value == 1250
    texts = [c.value for s in workbook.worksheets for r in s.iter_rows() for c in r if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith("'+") or t.startswith("'-")]  # no change written as text
    assert "'=cmd" in texts  # data text that looks like a formula is still neutralised
    departments = workbook["部门"]
    speedup = departments.cell(2, [c.value for c in departments[1]].index("实际提速率") + 1)
    assert speedup.value == 0 and speedup.number_format == "0.0%"  # -0.03%: would read "-0.0%"
    items = workbook["事项"]
    limit = items.cell(2, [c.value for c in items[1]].index("承诺时限（0 为即办）") + 1)
    assert limit.value == 20 and limit.number_format == "General"


def test_xlsx_cells_have_no_raw_codes(workbook):
    found = []
    for ws in workbook.worksheets:
        heads = [c.value for c in ws[1]]
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or (cell.row > 1 and heads[cell.column - 1] == "指标编号"):
                    continue
                if RAW_TOKENS.search(cell.value):
                    found.append((ws.title, cell.coordinate, cell.value))
    assert not found, found
    definitions = {r[0]: r for r in workbook["口径说明"].iter_rows(min_row=2, values_only=True)}
    assert definitions["办件量"][2] == "不分好坏"


def test_csv_is_readable_chinese_with_labels_and_no_placeholders():
    from reports.data import cases_csv, cases_parquet

    frame = pd.DataFrame(
        {
            "case_id": ["A1", "A2", "A3", "A4"],
            "channel": ["mobile", "window", "self_service", None],
            "submitted_at": [pd.Timestamp("2026-11-02 08:30:33"), pd.NaT, pd.Timestamp("2026-11-03"), pd.NaT],
            "status": ["open", "completed", "rejected", "withdrawn"],
            "promised_days": [20.0, 5.0, None, 0.0],
            "promised_unit": ["natural", "working", None, "working"],
            "processing_days_working": [2.1387268518519704, None, 0.00744212962945312, 1.0],
            "visits": [1.0, None, 0.0, 2.0],
        }
    )
    text = cases_csv(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "办件编号",
        "申请渠道",
        "申请时间",
        "办件状态",
        "承诺时限",
        "时限单位",
        "办理时长（工作日）",
        "到现场次数",
    ]
    assert rows[1] == ["A1", "移动端", "2026-11-02 08:30:33", "在办", "20", "自然日", "2.14", "1"]
    assert rows[2] == ["A2", "窗口", "", "已办结", "5", "工作日", "", ""]
    assert rows[3] == ["A3", "自助终端", "2026-11-03 00:00:00", "不予受理", "", "", "0.01", "0"]
    assert rows[4] == ["A4", "未注明", "", "撤回", "0", "工作日", "1.00", "2"]
    assert not RAW_TOKENS.search(text), RAW_TOKENS.search(text)
    # the Parquet is the machine format: canonical columns and codes, untouched
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(cases_parquet(frame)))
    assert table.column_names == list(frame.columns)
    assert table.column("status").to_pylist() == ["open", "completed", "rejected", "withdrawn"]


# --- C. the one clock -------------------------------------------------------------------------------------


def test_publication_time_and_default_month_come_from_the_towns_clock(monkeypatch):
    from reports import cli_commands, snapshots

    monkeypatch.setenv("EGOV_TODAY", "2026-01-15")
    assert cli_commands.last_month() == "2025-12"
    assert snapshots._now().date() == dt.date(2026, 1, 15)


# --- F. a phone ---------------------------------------------------------------------------------------------


def test_html_is_laid_out_for_a_phone(report_html):
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in report_html
    assert re.search(r"@media screen and \(max-width: \d+px\)", report_html)
    assert ".table-wrap { width: 100%; overflow-x: auto;" in report_html
    for table_id in ("kpi-table", "department-table", "item-table", "uploads", "definitions"):
        assert re.search(rf'<div class="table-wrap"><table id="{table_id}">', report_html), table_id
    style = report_html.split("<style>", 1)[1].split("</style>", 1)[0]
    phone = style.split("@media screen and (max-width: 480px)", 1)[1]
    assert ".tiles { grid-template-columns: 1fr; }" in phone


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_html_fits_a_390px_screen(browser, report_html, tmp_path, artefacts_dir):
    path = tmp_path / "report.html"
    path.write_text(report_html, encoding="utf-8")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        tab = context.new_page()
        tab.goto(path.as_uri())
        tab.wait_for_function("document.body.getAttribute('data-charts') === 'ready'", timeout=30_000)
        width, client = tab.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width <= client, (width, client)  # nothing but the tables' own wrappers scrolls sideways
        tiles = tab.evaluate("Array.from(document.querySelectorAll('.tile')).map(t => t.getBoundingClientRect().left)")
        assert len(set(round(x) for x in tiles)) == 1  # stacked in one column
        charts = tab.evaluate(
            "Array.from(document.querySelectorAll('.chart')).map(c => c.getBoundingClientRect().width)"
        )
        assert charts and all(w <= client for w in charts)
        tab.screenshot(path=str(artefacts_dir / "snapshot-report-phone.png"), full_page=False)
    finally:
        context.close()


# --- E. one colour per channel and per department, the dashboard's ----------------------------------------


def test_xlsx_native_charts_use_the_dashboards_palettes(content):
    import zipfile

    from charts import theme
    from reports.xlsx import render_xlsx

    data = render_xlsx({**content, "all_units": ["=cmd", "民政办", "县公安局"]}, META, pd.DataFrame())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        charts = " ".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/charts/chart"))
    colours = set(re.findall(r'srgbClr val="([0-9A-F]{6})"', charts))
    for channel in ("window", "mobile", "self_service"):
        assert theme.channel_color(channel).lstrip("#").upper() in colours, channel
    department = theme.department_colors(["=cmd", "民政办", "县公安局"])["=cmd"]
    assert department.lstrip("#").upper() in colours
