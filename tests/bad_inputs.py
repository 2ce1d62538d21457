"""The bad-input corpus, shared by the API/CLI tests and the upload-page tests."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

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


def file_content(name: str, content: bytes | None) -> bytes:
    """The bytes of a corpus entry (workbooks are built when asked for)."""
    if content is None:
        return {"protected.xlsx": encrypted_xlsx, "empty_sheet.xlsx": empty_sheet_xlsx}[name]()
    return content


def write(tmp_path: Path, name: str, content: bytes | None) -> Path:
    path = tmp_path / name
    path.write_bytes(file_content(name, content))
    return path


def csv_bytes(body: list[str]) -> bytes:
    return ("\n".join([HEADER, *body]) + "\n").encode("utf-8")


def gbk_cut_inside_a_character() -> bytes:
    """Ten GBK rows; the export stopped half-way through a character of the last one (line 11)."""
    text = "\r\n".join([HEADER, *rows(9), "B9,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-13 10:00"])
    return text.encode("gbk") + "临".encode("gbk")[:1]


def half_timestamps_garbage() -> bytes:
    """Ten rows; the submission time of rows 2, 4, 6, 8, 10 is words, not a time."""
    return csv_bytes([f"G{i},事项,民政办,窗口,{'2026-10-12 09:00' if i % 2 else '下午三点'},," for i in range(10)])


def completion_before_submission_and_duplicates() -> bytes:
    return csv_bytes(
        [
            *rows(6),
            "B0,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-13 10:00",
            "C1,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-11 10:00",
        ]
    )


def large_with_a_broken_last_line(n: int = 200_000) -> bytes:
    return csv_bytes([*rows(n), 'B_END,"unterminated quote,2026-10-12 09:00'])


#: name, builder, rows loaded, rejected rows by reason, (line, reason) of the first rejected row
PARTLY_REJECTED = [
    ("cut.csv", gbk_cut_inside_a_character, 9, {"bad_encoding": 1}, (11, "bad_encoding")),
    ("half.csv", half_timestamps_garbage, 5, {"bad_time": 5}, (2, "bad_time")),
    (
        "dups.csv",
        completion_before_submission_and_duplicates,
        6,
        {"duplicate_in_file": 1, "completed_before_submitted": 1},
        (8, "duplicate_in_file"),
    ),
    ("large.csv", large_with_a_broken_last_line, 200_000, {"malformed_line": 1}, (200_002, "malformed_line")),
]
