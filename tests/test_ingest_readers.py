"""Each reader on real-shaped files: the same five cases and eight events must come out identical."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest

from ingest.errors import IngestRefused
from ingest.load import ingest_file
from ingest.readers import detect_encoding

DATA = Path(__file__).parent / "data"
D = dt.datetime

#: The five cases of make_fixtures.ROWS, normalised by hand. Deadlines: SY…01 accepted Fri 2026-10-09,
#: five working days are Sat 10-10 (调休 make-up day), Mon 12, Tue 13, Wed 14, Thu 15 -> 10-15 end of day.
#: SY…02 accepted Sat 10-10 (a working day), three working days: 12, 13, 14. SY…03: ten working days
#: after Tue 10-13 are 14,15,16,19,20,21,22,23,26,27. SY…04 is 即办 (0 days): the same day.
#: SY…05 is 20 natural days after 10-15: 11-04.
EXPECTED_CASES = [
    (
        "SY2026100001",
        "最低生活保障申请",
        "民政办",
        "online",
        D(2026, 10, 9, 9),
        D(2026, 10, 12, 16),
        "completed",
        5.0,
        "working",
        0,
        0,
        5,
        D(2026, 10, 15, 23, 59, 59),
    ),
    (
        "SY2026100002",
        "临时救助申请",
        "民政办",
        "window",
        D(2026, 10, 10, 9, 30),
        D(2026, 10, 20, 10),
        "completed",
        3.0,
        "working",
        2,
        1,
        2,
        D(2026, 10, 14, 23, 59, 59),
    ),
    (
        "SY2026100003",
        "个体工商户设立登记",
        "市场监管所",
        "mobile",
        D(2026, 10, 13, 8),
        None,
        "open",
        10.0,
        "working",
        0,
        0,
        None,
        D(2026, 10, 27, 23, 59, 59),
    ),
    (
        "SY2026100004",
        "城乡居民养老保险参保登记",
        "社保所",
        "self_service",
        D(2026, 10, 14, 11),
        D(2026, 10, 14, 15),
        "completed",
        0.0,
        "working",
        1,
        0,
        4,
        D(2026, 10, 14, 23, 59, 59),
    ),
    (
        "SY2026100005",
        "农村宅基地用地审批",
        "自然资源所",
        "window",
        D(2026, 10, 15, 9),
        D(2026, 11, 10, 17),
        "completed",
        20.0,
        "natural",
        3,
        2,
        3,
        D(2026, 11, 4, 23, 59, 59),
    ),
]
CASE_COLUMNS = (
    "case_id, service_item, department, channel, submitted_at, completed_at, status, promised_days, "
    "promised_unit, visits, resubmissions, satisfaction, due_at"
)

#: The eight events of make_fixtures.EVENTS in local time (Asia/Shanghai): +08:00 kept, Z shifted by 8 hours.
EXPECTED_EVENTS = [
    ("E1", "申请", "便民服务中心综合窗口", "窗口甲", D(2026, 10, 9, 9)),
    ("E1", "受理", "便民服务中心综合窗口", "窗口甲", D(2026, 10, 9, 10)),
    ("E1", "审核", "民政办", "陈二", D(2026, 10, 12, 9)),
    ("E1", "办结", "民政办", "陈二", D(2026, 10, 12, 16)),
    ("E2", "申请", "便民服务中心综合窗口", "窗口乙", D(2026, 10, 13, 8)),
    ("E2", "受理", "便民服务中心综合窗口", "窗口乙", D(2026, 10, 13, 9)),
    ("E2", "补正", "便民服务中心综合窗口", "窗口乙", D(2026, 10, 13, 10)),
    ("E2", "审核", "市场监管所", "孙三", D(2026, 10, 14, 10)),
]


@pytest.mark.parametrize(
    ("file_name", "encoding", "sheet"),
    [
        ("cases_title_total_gbk.csv", "GB18030", None),
        ("cases_merged_title.xlsx", None, "办件明细"),
        ("cases_legacy.xls", None, "Sheet1"),
    ],
)
def test_case_exports_with_title_and_total_rows(tmp_db, file_name: str, encoding: str | None, sheet: str | None):
    result = ingest_file(tmp_db, DATA / file_name)
    assert (result.kind, result.rows_loaded, result.rows_rejected, result.rows_skipped) == ("cases", 5, 0, 1)
    assert result.header_row == 2  # the title row above the header was recognised
    assert result.encoding == encoding
    assert result.sheet == sheet
    rows = tmp_db.cursor().execute(f"SELECT {CASE_COLUMNS} FROM cases ORDER BY case_id").fetchall()
    assert rows == EXPECTED_CASES


@pytest.mark.parametrize("file_name", ["events.jsonl", "events.parquet", "events.xes", "events.xes.gz"])
def test_event_formats_agree(tmp_db, file_name: str):
    result = ingest_file(tmp_db, DATA / file_name)
    assert (result.kind, result.events_loaded, result.cases_loaded, result.rows_rejected) == ("events", 8, 2, 0)
    cur = tmp_db.cursor()
    events = cur.execute(
        "SELECT case_id, step, department, handler, completed_at FROM events ORDER BY case_id, seq"
    ).fetchall()
    assert events == EXPECTED_EVENTS
    # Cases derived from the steps: E1 reached 办结, E2 did not (the file uses 办结, so E2 is open).
    cases = cur.execute(
        "SELECT case_id, channel, department, submitted_at, completed_at, status, resubmissions FROM cases ORDER BY 1"
    ).fetchall()
    assert cases == [
        ("E1", "online", "民政办", D(2026, 10, 9, 9), D(2026, 10, 12, 16), "completed", 0),
        ("E2", "window", "市场监管所", D(2026, 10, 13, 8), None, "open", 1),
    ]


def test_xlsx_named_sheet_and_missing_sheet(tmp_db):
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, DATA / "cases_merged_title.xlsx", sheet="不存在")
    assert info.value.code == "no_such_sheet"
    assert "办件明细" in info.value.message_zh and info.value.sheet == "不存在"
    # The notes sheet has no case columns at all: refused, naming what is missing and what was found.
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, DATA / "cases_merged_title.xlsx", sheet="说明")
    assert info.value.code == "missing_columns"
    assert "办件编号" in info.value.message_zh
    assert ingest_file(tmp_db, DATA / "cases_merged_title.xlsx", sheet="办件明细").rows_loaded == 5


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("gbk", b"", "gb18030"),
        ("gb18030", b"", "gb18030"),
    ],
)
def test_encoding_detected_without_asking(tmp_path: Path, tmp_db, encoding: str, bom: bytes, expected: str):
    # 䶮 (U+4DAE) is outside GBK but inside GB18030: only the gb18030 file carries it.
    name = "䶮" if encoding == "gb18030" else "张"
    text = "办件编号,事项名称,申请时间\r\n" + "".join(
        f"X{i},{name}事项{i},2026-10-{(i % 20) + 1:02d} 09:00\r\n" for i in range(30)
    )
    path = tmp_path / "export.csv"
    path.write_bytes(bom + text.encode(encoding))
    assert detect_encoding(path) == expected
    result = ingest_file(tmp_db, path)
    assert result.rows_loaded == 30
    items = {r[0] for r in tmp_db.cursor().execute("SELECT service_item FROM cases").fetchall()}
    assert f"{name}事项7" in items


def test_public_logs_load_completely(tmp_db):
    """The public logs of shared/fixtures: every case and event arrives."""
    for file_name, cases, events in [
        ("running-example.xes", 6, 42),
        ("roadtraffic100traces.xes", 100, 390),
        ("interval_event_log.csv", 1266, 8109),
    ]:
        result = ingest_file(tmp_db, DATA / file_name)
        assert (result.cases_loaded, result.events_loaded, result.rows_rejected) == (cases, events, 0), file_name
    # interval log: both timestamps kept (waiting vs service time needs them)
    assert (
        tmp_db.cursor()
        .execute("SELECT count(*) FROM events WHERE started_at IS NOT NULL AND started_at <= completed_at")
        .fetchone()[0]
        == 8109
    )


def test_xes_gz_detected_by_content(tmp_path: Path, tmp_db):
    path = tmp_path / "log.xes"
    path.write_bytes(gzip.compress((DATA / "events.xes").read_bytes()))
    assert ingest_file(tmp_db, path).events_loaded == 8


def test_csv_row_numbers_step_over_malformed_lines(tmp_path: Path, tmp_db):
    lines = ["办件编号,事项名称,申请时间"] + [f"M{i},事项,2026-10-12 09:00" for i in range(1, 11)]
    lines.insert(4, "BROKEN,only two")  # line 5 of the file: too few columns
    path = tmp_path / "m.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest_file(tmp_db, path)
    assert (result.rows_loaded, result.rows_rejected) == (10, 1)
    cur = tmp_db.cursor()
    assert cur.execute("SELECT row_number, reason FROM rejected_rows").fetchall() == [(5, "malformed_line")]
    # M4 sits on line 6 (after the broken line 5), M10 on line 12.
    assert cur.execute(
        "SELECT case_id, source_row FROM cases WHERE case_id IN ('M3', 'M4', 'M10') ORDER BY 2"
    ).fetchall() == [("M3", 4), ("M4", 6), ("M10", 12)]
