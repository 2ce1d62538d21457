"""The bad-input corpus: each file gets a clear message naming the problem and where, and changes nothing.

Through the API and through the command line (one line on stderr, exit 1, never a traceback).
"""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.errors import IngestRefused
from ingest.load import ingest_file

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,办结时间"


def rows(n: int, start: int = 0) -> list[str]:
    return [f"B{i},临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-13 10:00" for i in range(start, start + n)]


def encrypted_xlsx() -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with open(DATA / "cases_merged_title.xlsx", "rb") as src:
        OOXMLFile(src).encrypt("secret", out)
    return out.getvalue()


def empty_sheet_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "空表"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<log><trace><string key="concept:name" value="&lol3;"/></trace></log>
"""

#: name, file content, expected refusal code (None: loads, with rejected rows), words the message must contain
REFUSED = [
    ("empty.csv", b"", "empty_file", ["为空"]),
    ("binary.csv", bytes(range(256)) * 40, "binary_file", ["二进制"]),
    ("header_only.csv", (HEADER + "\n").encode(), "no_rows", ["只有表头"]),
    (
        "missing_columns.csv",
        "事项名称,申请渠道\n低保,窗口\n".encode(),
        "missing_columns",
        ["办件编号", "申请时间", "事项名称"],
    ),
    (
        "mostly_bad.csv",
        "\n".join([HEADER, *rows(2)] + [f"X{i},事项,民政办,窗口,garbage,," for i in range(5)]).encode(),
        "mostly_rejected",
        ["5/7", "时间无法识别"],
    ),
    ("protected.xlsx", None, "encrypted_workbook", ["密码"]),
    (
        "broken.xes",
        b"<log><trace><event><string key='concept:name' value='a'/></trace></log>",
        "broken_xml",
        ["XML", "line"],
    ),
    ("bomb.xes", BOMB, "unsafe_xml", ["XML 炸弹"]),
    ("bomb.xes.gz", gzip.compress(BOMB), "unsafe_xml", ["XML 炸弹"]),
    ("empty_sheet.xlsx", None, "empty_file", ["表格为空"]),
]


def write(tmp_path: Path, name: str, content: bytes | None) -> Path:
    if content is None:
        content = {"protected.xlsx": encrypted_xlsx, "empty_sheet.xlsx": empty_sheet_xlsx}[name]()
    path = tmp_path / name
    path.write_bytes(content)
    return path


def table_rows(db) -> dict[str, int]:
    cur = db.cursor()
    return {
        t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("uploads", "case_rows", "event_rows", "rejected_rows", "service_item_rows")
    }


@pytest.mark.parametrize(("name", "content", "code", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_clear_message_and_nothing_changed(tmp_path, tmp_db, name, content, code, words):
    ingest_file(tmp_db, DATA / "events.xes")
    before = table_rows(tmp_db)
    path = write(tmp_path, name, content)
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, path)
    assert info.value.code == code
    for word in words:
        assert word in info.value.message_zh + info.value.message_en, word
    assert table_rows(tmp_db) == before


@pytest.mark.parametrize(("name", "content", "code", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_through_the_cli(tmp_path, name, content, code, words):
    db = tmp_path / "egov.duckdb"
    path = write(tmp_path, name, content)
    result = subprocess.run(
        [sys.executable, "cli.py", "ingest", str(path), "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert name in result.stderr and words[0] in result.stderr


def test_gbk_file_cut_inside_a_character(tmp_path, tmp_db):
    text = "\r\n".join([HEADER, *rows(9), "B9,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-13 10:00"])
    cut = text.encode("gbk") + "临".encode("gbk")[:1]  # the export stopped half-way through a character
    path = tmp_path / "cut.csv"
    path.write_bytes(cut)
    result = ingest_file(tmp_db, path)
    assert (result.rows_loaded, result.rows_rejected) == (9, 1)
    row = tmp_db.cursor().execute("SELECT row_number, reason FROM rejected_rows").fetchone()
    assert row == (11, "bad_encoding")  # the last line, number 11, named with its reason


def test_half_the_timestamps_garbage_loads_the_good_half(tmp_path, tmp_db):
    bad = [f"G{i},事项,民政办,窗口,{'2026-10-12 09:00' if i % 2 else '下午三点'},," for i in range(10)]
    result = ingest_file(tmp_db, _write(tmp_path, "half.csv", bad))
    assert (result.rows_loaded, result.rows_rejected) == (5, 5)
    got = tmp_db.cursor().execute("SELECT row_number, column_name, value FROM rejected_rows ORDER BY 1").fetchall()
    assert got == [(r, "submitted_at", "下午三点") for r in (2, 4, 6, 8, 10)]


def _write(tmp_path: Path, name: str, body: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *body]) + "\n", encoding="utf-8")
    return path


def test_completion_before_submission_and_duplicate_ids(tmp_path, tmp_db):
    body = [
        *rows(6),
        "B0,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-13 10:00",
        "C1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-11 10:00",
    ]
    result = ingest_file(tmp_db, _write(tmp_path, "dups.csv", body))
    assert result.rejected_by_reason == {"duplicate_in_file": 1, "completed_before_submitted": 1}


def test_large_file_with_one_broken_line_at_its_end(tmp_path, tmp_db):
    body = rows(200_000) + ['B_END,"unterminated quote,2026-10-12 09:00']
    result = ingest_file(tmp_db, _write(tmp_path, "large.csv", body))
    assert (result.rows_loaded, result.rows_rejected) == (200_000, 1)
    assert tmp_db.cursor().execute("SELECT row_number, reason FROM rejected_rows").fetchone() == (
        200_002,
        "malformed_line",
    )


def test_wrong_sheet_named_with_the_sheets_there(tmp_db):
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, DATA / "cases_merged_title.xlsx", sheet="Sheet9")
    assert info.value.sheet == "Sheet9" and "办件明细" in info.value.message_zh and "说明" in info.value.message_zh
