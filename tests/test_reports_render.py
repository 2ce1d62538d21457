"""Report renderers without a browser: formula and script neutralisation, deterministic zips, and a report
of sparse data (five cases, no catalogue, no event log) whose unknown KPIs read 未知, never 0."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("民政办", "民政办"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_safe_text(text, shown):
    from reports.xlsx import safe_text

    assert safe_text(text) == shown


def test_script_json_cannot_close_its_script_block():
    from reports.html import css_text, script_json

    text = script_json({"label": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script> & <!--"}
    assert css_text('镇"; } body { x: "') == "镇  body  x: "


def test_csv_has_a_bom_and_inert_text():
    from reports.data import cases_csv

    frame = pd.DataFrame(
        {
            "case_id": ["A1", "A2"],
            "service_item": ["=cmd|' /C calc'!A0", "低保"],
            "submitted_at": [pd.Timestamp("2026-10-09 09:00:00"), pd.NaT],
            "promised_days": [5.0, None],
            "visits": [1, 0],
        }
    )
    data = cases_csv(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["办件编号", "事项名称", "申请时间", "承诺时限", "到现场次数"]
    assert rows[1] == ["A1", "'=cmd|' /C calc'!A0", "2026-10-09 09:00:00", "5", "1"]
    assert rows[2] == ["A2", "低保", "", "", "0"]


def test_zip_is_deterministic():
    from reports.data import zip_files

    files = [("b.txt", b"second"), ("a.txt", "第一".encode())]
    when = dt.datetime(2026, 11, 1, 6, 0, 0)
    first, again = zip_files(files, when), zip_files(files, when)
    assert first == again
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert zf.namelist() == ["b.txt", "a.txt"]
        assert zf.getinfo("a.txt").date_time == (2026, 11, 1, 6, 0, 0)


@pytest.fixture
def sparse(tmp_db):
    """Five October cases from the GBK platform export: no catalogue, no events, no satisfaction for some."""
    from ingest.load import ingest_file
    from reports.content import case_list, collect, consistent_cursor

    ingest_file(tmp_db, ROOT / "tests" / "data" / "cases_title_total_gbk.csv")
    with consistent_cursor(tmp_db) as cur:
        return collect(cur, "2026-10", cover="测试镇"), case_list(cur, "2026-10")


def test_a_sparse_month_renders_with_unknowns_not_zeros(sparse):
    from reports.html import render_html
    from reports.xlsx import render_xlsx

    content, cases = sparse
    assert content["kpis"]["cases"]["value"] == 5
    assert content["kpis"]["online_capable_rate"]["value"] is None  # no catalogue
    assert content["bottlenecks"]["source"] == "cases"
    assert json.loads(json.dumps(content)) == content  # plain JSON
    meta = {"version": 1, "published_at": "2026-11-01T06:00:00", "published_by": "cron"}
    html = render_html(content, meta)
    assert "测试镇一网通办效能月报" in html and "2026年10月" in html
    row = html.split('data-kpi="online_capable_rate"', 1)[1].split("</tr>", 1)[0]
    assert "未知" in row and "尚未上传事项目录" in row
    assert "没有环节日志" in html
    assert "data-charts" in html and "Plotly.newPlot" in html
    printed = render_html(content, meta, print_mode=True)
    assert '"staticPlot"' not in printed and "staticPlot: true" in printed and "WenQuanYi Zen Hei" in printed
    workbook = openpyxl.load_workbook(io.BytesIO(render_xlsx(content, meta, cases)))
    sheet = workbook["指标"]
    heads = [c.value for c in sheet[1]]
    assert heads[0] == "指标" and heads[-1] == "指标编号"  # people read names; the id is for machines, last
    col = {h: i for i, h in enumerate(heads)}
    kpis = {r[col["指标编号"]]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert kpis["online_capable_rate"][col["本月"]] is None
    assert "事项目录" in kpis["online_capable_rate"][col["说明"]]
    assert kpis["cases"][col["本月"]] == 5 and kpis["cases"][col["指标"]] == "办件量"
    assert workbook["办件明细"].max_row == 1 + 5


def test_no_data_for_a_month_is_said_plainly(tmp_db):
    from reports.content import NoDataForMonth, collect, consistent_cursor

    with consistent_cursor(tmp_db) as cur, pytest.raises(NoDataForMonth) as info:
        collect(cur, "2026-10")
    assert "没有任何办件" in info.value.message("zh") and "no cases" in info.value.message("en")
