"""Monthly snapshots: the published PDF, HTML, XLSX and data files carry exactly the CLI's KPI figures, are
inert against formula and script injection, and never change after later uploads; re-issues are new versions.

One snapshot of the small demo town's October 2026 (plus a file of hostile service and department names)
is published once for the module; the tests read it back from the database.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.conftest import needs_chromium

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-10"
EVIL_ITEM = '=HYPERLINK("http://x","y")'
EVIL_SCRIPT = "<script>alert(1)</script>"
EVIL_DEPARTMENT = "@SUM(A1)"

pytestmark = needs_chromium


def write_hostile_cases(path: Path) -> Path:
    """12 window cases of an item named like a formula, 12 open online cases of an item named like a script."""
    rows = []
    for i in range(12):
        day = f"2026-10-{10 + i:02d}"
        rows.append({"办件编号": f"EVIL-A-{i:03d}", "事项名称": EVIL_ITEM, "实施部门": "民政办", "申请渠道": "窗口",
                     "申请时间": f"{day} 09:00:00", "受理时间": f"{day} 09:30:00", "办结时间": f"{day} 16:00:00",
                     "承诺时限": "5个工作日", "跑动次数": "1", "补正次数": "0"})  # fmt: skip
        rows.append({"办件编号": f"EVIL-B-{i:03d}", "事项名称": EVIL_SCRIPT, "实施部门": EVIL_DEPARTMENT,
                     "申请渠道": "网上申请", "申请时间": f"{day} 10:00:00", "受理时间": f"{day} 10:30:00",
                     "办结时间": "", "承诺时限": "3个工作日", "跑动次数": "0", "补正次数": "0"})  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def copy_db(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / "egov.duckdb")
    key = source.parent / "secret.key"
    if key.exists():
        shutil.copy(key, folder / "secret.key")
    return folder / "egov.duckdb"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def cli_kpis(db_path: Path, month: str) -> dict:
    proc = cli("kpis", "--db", str(db_path), "--month", month, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def published(small_demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A demo copy with hostile names, October published as version 1; the CLI's KPIs from a copy of it."""
    from ingest.load import ingest_file
    from reports import snapshots
    from store.db import Database

    folder = tmp_path_factory.mktemp("snapshot")
    path = copy_db(small_demo_db, folder / "db")
    db = Database(path)
    try:
        ingest_file(db, write_hostile_cases(folder / "hostile.csv"), loaded_by="test")
        result = snapshots.publish(db, MONTH, by="ana", note="月报")
        cur = db.cursor()
        snap = snapshots.get_snapshot(cur, result.snapshot_id)
        files = {f["kind"]: snapshots.file_bytes(cur, result.snapshot_id, f["file_name"]) for f in snap["files"]}
    finally:
        db.close()
    cli_copy = copy_db(path, folder / "cli")  # the CLI reads its own copy
    return {"path": path, "folder": folder, "result": result, "files": files, "kpis": cli_kpis(cli_copy, MONTH),
            "targets": snap["content"]["targets"]}  # fmt: skip


# --- how the report writes a figure, stated independently of reports/fmt.py -----------------------------

MEAN_RATES = {"speedup_rate": "件", "compression_rate": "个事项"}
#: Codes and placeholders that must never reach a person (the Parquet and JSON keep the codes, for machines).
RAW_TOKENS = re.compile(
    r"\b(open|completed|rejected|withdrawn|mobile|window|self_service|working|natural|catalog|events|None|NaN|NaT|nan)\b"
    r'|\{"|-0\.0'
)


def expected_state(kpi_id: str, value: float | None, target: float | None) -> str:
    """The dashboard's state words, restated: met / within 5 points (rates) or 10% (others) / further."""
    from metrics.catalog import KPI_BY_ID

    kpi = KPI_BY_ID[kpi_id]
    if value is None or target is None:
        return ""
    gap = (target - value) if kpi.higher_is_better else (value - target)
    if gap <= 1e-12:
        return "达标"
    close = 0.05 if kpi.unit == "rate" else max(1.0, abs(target) * 0.10)
    return "接近" if gap <= close + 1e-12 else "未达标"


def expected_texts(kpi_id: str, r: dict) -> tuple[str, str]:
    from metrics.catalog import KPI_BY_ID

    unit = KPI_BY_ID[kpi_id].unit
    if r["value"] is None:
        return "未知", ""
    if kpi_id in MEAN_RATES:  # a mean of per-case (per-item) fractions: how many it is over, not a fraction
        return f"{r['value'] * 100:.1f}%", f"n={int(r['denominator']):,} {MEAN_RATES[kpi_id]}"
    if unit == "rate":

        def n(v):
            return f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"

        return f"{r['value'] * 100:.1f}%", f"{n(r['numerator'])}/{n(r['denominator'])}"
    if unit == "days":
        return f"{r['value']:.1f} 个工作日", f"n={r['n']:,}"
    if KPI_BY_ID[kpi_id].decimals:  # a mean of counts (每旅程平均跑动): one decimal
        return f"{r['value']:,.{KPI_BY_ID[kpi_id].decimals}f}", ""
    return f"{r['value']:,}", ""


def pdf_text(pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


# --- the figures ----------------------------------------------------------------------------------------


def test_the_frozen_figures_are_exactly_the_cli_figures(published):
    from reports import snapshots
    from store.db import Database

    db = Database(copy_db(published["path"], published["folder"] / "read1"))
    try:
        snap = snapshots.get_snapshot(db.cursor(), published["result"].snapshot_id)
    finally:
        db.close()
    assert snap["content"]["kpis"] == published["kpis"]
    assert snap["content"]["kpis"]["cases"]["value"] > 0
    assert snap["month"] == MONTH and snap["version"] == 1 and snap["published_by"] == "ana"
    assert snap["data_version"] == snap["content"]["data_version"] > 0
    assert {u["file_name"] for u in snap["content"]["uploads"]} >= {"cases_export.csv", "hostile.csv"}


def test_pdf_shows_the_cli_figures_and_embeds_a_cjk_font(published, tmp_path, artefacts_dir):
    pdf = published["files"]["pdf"]
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    cover = pdf_text(pdf, tmp_path, "-f", "1", "-l", "1")
    assert "沙堰镇一网通办效能月报" in cover and "2026年10月" in cover and re.search(r"第\s*1\s*版", cover)
    table = text.split("一、主要指标", 1)[1].split("二、趋势与渠道", 1)[0]
    from metrics.catalog import KPI_BY_ID

    for kpi_id, r in published["kpis"].items():
        name = KPI_BY_ID[kpi_id].name.zh
        lines = [ln.strip() for ln in table.splitlines() if ln.strip().startswith(name + " ")]
        assert lines, f"no row for {name} in the PDF's KPI table"
        value, basis = expected_texts(kpi_id, r)
        rest = lines[0][len(name) :]
        assert value in rest, (kpi_id, value, lines[0])
        assert basis in rest, (kpi_id, basis, lines[0])
        state = expected_state(kpi_id, r["value"], published["targets"].get(kpi_id))
        if state:  # 达标 / 接近 / 未达标, exactly as on the dashboard's tile
            assert set(re.findall(r"未达标|接近|达标", rest)) == {state}, (kpi_id, state, lines[0])
    for heading in ("三、部门情况", "四、瓶颈分析", "五、摆设事项", "六、超期与临期办件", "附录 口径说明"):
        assert heading in text
    assert "第 2 页 / 共" in text  # page footers

    fonts = subprocess.run(["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True, check=True).stdout
    cjk = [ln for ln in fonts.splitlines() if "WenQuanYi" in ln or "CJK" in ln]
    assert cjk, fonts
    assert all("CID TrueType" in ln and " yes yes yes " in ln for ln in cjk), fonts  # embedded, subset, unicode
    assert "Type 3" not in fonts, fonts

    page = artefacts_dir / "snapshot-pdf-page1"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "r.pdf"),
                    str(page)], check=True)  # fmt: skip
    assert (artefacts_dir / "snapshot-pdf-page1.png").stat().st_size > 10_000
    (artefacts_dir / "snapshot-report.pdf").write_bytes(pdf)


def test_html_carries_the_cli_figures(published):
    html = published["files"]["html"].decode("utf-8")
    rows = re.findall(
        r'<tr data-kpi="([a-z0-9_]+)" data-value="([^"]*)" data-numerator="([^"]*)" data-denominator="([^"]*)">'
        r"\s*<td>[^<]*</td>\s*<td class=\"num\">([^<]*)</td>\s*<td class=\"num\">([^<]*)</td>",
        html,
    )
    found = {kpi_id: (v, num, den, shown, basis) for kpi_id, v, num, den, shown, basis in rows}
    assert set(found) == set(published["kpis"])
    for kpi_id, r in published["kpis"].items():
        v, num, den, shown, basis = found[kpi_id]
        assert (float(v) if v else None) == r["value"], kpi_id
        if "numerator" in r:
            assert (float(num) if num else None) == r["numerator"], kpi_id
            assert (float(den) if den else None) == r["denominator"], kpi_id
        value, expected_basis = expected_texts(kpi_id, r)
        assert shown == value and expected_basis in basis, (kpi_id, shown, basis)


def test_html_is_self_contained_and_escapes_data(published):
    html = published["files"]["html"].decode("utf-8")
    assert EVIL_SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    block = re.search(r'<script type="application/json" id="report-figures">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and ">" not in block  # chart data cannot close its <script> block
    figures = json.loads(block)
    assert set(figures) == {
        "chart-trend",
        "chart-channels",
        "chart-dept-online",
        "chart-dept-days",
        "chart-bottlenecks",
    }
    labels = json.dumps(figures["chart-dept-online"]["data"], ensure_ascii=False)
    assert EVIL_DEPARTMENT in labels
    assert not re.search(r"<script[^>]+src=", html), "every script is inline"
    assert not re.search(r"<link[^>]+href=", html)
    assert "Plotly" in html and len(html) > 3_000_000  # plotly.js itself is embedded
    assert html.count('class="chart"') == 5


def test_xlsx_figures_native_charts_and_inert_text(published, artefacts_dir):
    data = published["files"]["xlsx"]
    (artefacts_dir / "snapshot-report.xlsx").write_bytes(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert {"指标", "部门", "事项", "瓶颈", "超期办件", "摆设事项", "办件明细", "口径说明"} <= set(wb.sheetnames)
    ws = wb["指标"]
    heads = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(heads)}
    seen = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        seen[row[col["指标编号"]]] = row
    assert set(seen) == set(published["kpis"])
    for kpi_id, r in published["kpis"].items():
        row = seen[kpi_id]
        # xlsxwriter writes 16 significant digits (Excel itself keeps 15): equal to that precision
        assert row[col["本月"]] == (None if r["value"] is None else pytest.approx(r["value"], rel=1e-15, abs=0)), kpi_id
        if "numerator" in r:
            numerator = None if r["numerator"] is None or kpi_id in MEAN_RATES else r["numerator"]
            assert row[col["分子"]] == (None if numerator is None else pytest.approx(numerator, rel=1e-15)), kpi_id
            assert row[col["分母（或件数）"]] == r["denominator"], kpi_id
    # no formula anywhere; hostile text stays text, with an apostrophe in front
    texts = []
    for sheet in wb.worksheets:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert not cell.value.startswith(("=", "+", "-", "@")), (sheet.title, cell.coordinate, cell.value)
    assert "'" + EVIL_ITEM in texts and "'" + EVIL_DEPARTMENT in texts and EVIL_SCRIPT in texts
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        charts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) >= 4  # trend, two department charts, bottlenecks: native Excel charts


def test_data_files_parquet_csv_and_zip(published):
    from reports.content import CASE_COLUMNS

    files = published["files"]
    table = pq.read_table(io.BytesIO(files["parquet"]))
    assert table.column_names == list(CASE_COLUMNS)
    assert not {"applicant_key", "applicant_type", "channel_raw", "delivery"} & set(table.column_names)
    assert table.num_rows == published["kpis"]["cases"]["value"]
    csv_bytes = files["csv"]
    assert csv_bytes.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert rows[0][0] == "办件编号" and len(rows) - 1 == table.num_rows
    cells = {c for r in rows for c in r}
    assert "'" + EVIL_ITEM in cells and EVIL_ITEM not in cells
    with zipfile.ZipFile(io.BytesIO(files["zip"])) as zf:
        names = zf.namelist()
        assert names == [f"report-{MONTH}-v1.pdf", f"report-{MONTH}-v1.html", f"report-{MONTH}-v1.xlsx",
                         f"cases-{MONTH}-v1.parquet", f"cases-{MONTH}-v1.csv", f"figures-{MONTH}-v1.json"]  # fmt: skip
        assert zf.read(f"report-{MONTH}-v1.pdf") == files["pdf"]
        assert json.loads(zf.read(f"figures-{MONTH}-v1.json"))["content"]["kpis"] == published["kpis"]


def test_no_raw_code_placeholder_or_negative_zero_reaches_a_reader(published, tmp_path):
    """The PDF text, the HTML's visible text, every workbook cell and the CSV of a real month: labels only."""
    files = published["files"]
    found = {}
    text = pdf_text(files["pdf"], tmp_path)
    found["pdf"] = RAW_TOKENS.findall(text)
    body = files["html"].decode("utf-8").split("<body>", 1)[1]
    visible = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", body, flags=re.S)))
    found["html"] = RAW_TOKENS.findall(visible)
    found["csv"] = RAW_TOKENS.findall(files["csv"].decode("utf-8-sig"))
    wb = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    found["xlsx"] = []
    for ws in wb.worksheets:
        heads = [c.value for c in ws[1]]
        for cells in ws.iter_rows(min_row=1):
            for cell in cells:
                machine = cell.row > 1 and cell.column <= len(heads) and heads[cell.column - 1] == "指标编号"
                if isinstance(cell.value, str) and not machine and RAW_TOKENS.search(cell.value):
                    found["xlsx"].append((ws.title, cell.coordinate, cell.value))
    assert not any(found.values()), found
    assert "事项目录" in text.split("数据来源", 1)[1] and "环节事件" in text.split("数据来源", 1)[1]
    # 实际提速率: a mean over its cases, one decimal, never a sum of fractions
    speed = published["kpis"]["speedup_rate"]
    row = next(ln for ln in text.splitlines() if ln.strip().startswith("实际提速率 "))
    assert f"{speed['value'] * 100:.1f}%" in row and f"n={speed['denominator']:,} 件" in row, row
    # every change against last month in the workbook is a number with a display format, not text
    ws = wb["指标"]
    col = [c.value for c in ws[1]].index("环比变化") + 1
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(r, col)
        if cell.value is not None:
            assert cell.data_type == "n" and cell.number_format.startswith("+"), (r, cell.value, cell.number_format)


def test_publication_is_audited(published):
    from store import audit
    from store.db import Database

    db = Database(copy_db(published["path"], published["folder"] / "read2"))
    try:
        rows = audit.list_audit(db.cursor(), action="publish_snapshot")
    finally:
        db.close()
    assert rows and rows[0]["actor"] == "ana" and rows[0]["target"] == f"{MONTH} v1"


def test_a_snapshot_stays_byte_for_byte_after_later_uploads_and_a_reissue_is_a_new_version(published, tmp_path):
    from ingest.load import ingest_file
    from metrics.filters import Filters
    from metrics.kpis import compute_kpis
    from reports import snapshots
    from store.db import Database

    db = Database(copy_db(published["path"], tmp_path / "later"))
    try:
        sid = published["result"].snapshot_id
        before = {f["file_name"]: f["sha256"] for f in snapshots.get_snapshot(db.cursor(), sid)["files"]}
        # more October cases arrive after publication
        ingest_file(db, ROOT / "tests" / "data" / "cases_title_total_gbk.csv", loaded_by="test")
        live = compute_kpis(db.cursor(), Filters.month(MONTH))
        assert live["cases"]["value"] == published["kpis"]["cases"]["value"] + 5
        cur = db.cursor()
        snap = snapshots.get_snapshot(cur, sid)
        assert snap["content"]["kpis"] == published["kpis"]  # the frozen figures did not move
        for kind, data in published["files"].items():
            name = snapshots.file_name(kind, MONTH, 1)
            again = snapshots.file_bytes(cur, sid, name)
            assert again == data, f"{name} changed after a later upload"
            assert hashlib.sha256(again).hexdigest() == before[name]

        second = snapshots.publish(db, MONTH, by="ana", note="补录 5 件")
        assert second.version == 2
        changed = {c["id"]: c for c in second.changes["kpis"]}
        assert changed["cases"]["before"] == published["kpis"]["cases"]["value"]
        assert changed["cases"]["after"] == live["cases"]["value"]
        versions = snapshots.list_snapshots(db.cursor(), MONTH)
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[0]["changes"]["kpis"] and versions[0]["note"] == "补录 5 件"
        # version 1 is untouched, byte for byte
        for kind, data in published["files"].items():
            assert snapshots.file_bytes(db.cursor(), sid, snapshots.file_name(kind, MONTH, 1)) == data
        v2_pdf = snapshots.file_bytes(db.cursor(), second.snapshot_id, second.files["pdf"])
    finally:
        db.close()
    text = pdf_text(v2_pdf, tmp_path)
    assert "版本说明：与第 1 版相比" in text and "补录 5 件" in text


# --- the command line ------------------------------------------------------------------------------------


def test_cli_exits_non_zero_for_a_month_without_data(published, tmp_path):
    path = copy_db(published["path"], tmp_path / "cli")
    proc = cli("snapshot", "--month", "2019-03", "--db", str(path))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "2019-03 没有办件数据" in lines[0] and "no cases submitted in 2019-03" in lines[0]
    assert "Traceback" not in proc.stderr and not proc.stdout
    empty = cli("snapshot", "--month", MONTH, "--db", str(tmp_path / "empty.duckdb"))
    assert empty.returncode == 1 and "没有任何办件" in empty.stderr and "Traceback" not in empty.stderr
    bad = cli("snapshot", "--month", "2026-13", "--db", str(path))
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_cli_publishes_writes_the_files_and_lists(published, tmp_path):
    path = copy_db(published["path"], tmp_path / "cli")
    out = tmp_path / "out"
    proc = cli("snapshot", "--month", "2026-09", "--db", str(path), "--out", str(out), "--user", "cron")
    assert proc.returncode == 0, proc.stderr
    assert "已发布 2026-09 第 1 版" in proc.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["report-2026-09-v1.pdf", "report-2026-09-v1.html", "report-2026-09-v1.xlsx",
                            "cases-2026-09-v1.parquet", "cases-2026-09-v1.csv", "figures-2026-09-v1.json",
                            "snapshot-2026-09-v1.zip"])  # fmt: skip
    figures = json.loads((out / "figures-2026-09-v1.json").read_text())
    assert figures["content"]["kpis"] == cli_kpis(copy_db(path, tmp_path / "cli2"), "2026-09")
    again = cli("snapshot", "--month", "2026-09", "--db", str(path), "--if-missing")
    assert again.returncode == 0 and "跳过" in again.stdout
    listing = cli("snapshot", "list", "--db", str(path))
    assert listing.returncode == 0
    assert "2026-09 v1" in listing.stdout and "by cron" in listing.stdout and f"{MONTH} v1" in listing.stdout
