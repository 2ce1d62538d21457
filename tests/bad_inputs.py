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
    # hostile files (issue 13), at the product's own limits: each is refused while it is read
    ("sparse_keys.jsonl", None, "too_many_columns", ["列过多"]),
    ("sparse_keys.xes", None, "too_many_columns", ["列过多"]),
    ("wide.csv", None, "too_many_columns", ["列过多", "1,000"]),
    ("endless_line.csv", None, "line_too_long", ["表头行过长"]),
    ("endless_tag.xes.gz", None, "broken_xml", ["标签"]),
]


def file_content(name: str, content: bytes | None) -> bytes:
    """The bytes of a corpus entry (workbooks are built when asked for)."""
    if content is None:
        return {
            "protected.xlsx": encrypted_xlsx,
            "empty_sheet.xlsx": empty_sheet_xlsx,
            "sparse_keys.jsonl": lambda: jsonl_sparse_keys(1_500),
            "sparse_keys.xes": lambda: xes_sparse_keys(1_500),
            "wide.csv": lambda: csv_wide_header(1_500),
            "endless_line.csv": lambda: csv_one_endless_line(2),
            "endless_tag.xes.gz": lambda: xes_gz_endless_tag(4),
        }[name]()
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


# --- hostile files: each a few KB on disk that asks a reader for far more (issue 13) -----------------------------


def _tiny_workbook(value: object = "办件编号") -> dict[str, bytes]:
    """The parts of a one-cell workbook written by openpyxl, by name, to be tampered with."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = value
    book.active["B1"] = "事项名称"
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(out) as archive:
        return {member: archive.read(member) for member in archive.namelist()}


def _zip(parts: dict[str, bytes], big: tuple[str, bytes, int] | None = None) -> bytes:
    """A zip of ``parts``; ``big`` = (member, chunk, times) is written streaming, so it is never held whole."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for member, data in parts.items():
            if big and member == big[0]:
                continue
            archive.writestr(member, data)
        if big:
            with archive.open(big[0], "w", force_zip64=True) as fh:
                for _ in range(big[2]):
                    fh.write(big[1])
    return out.getvalue()


def xlsx_huge_dimension() -> bytes:
    """A two-cell workbook whose <dimension> claims every cell of the sheet (A1:XFD1048576): about 2 KB."""
    import re

    parts = _tiny_workbook()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', sheet
    ).encode()
    return _zip(parts)


def xlsx_huge_shared_string(megabytes: int) -> bytes:
    """A workbook whose one shared string is ``megabytes`` MB of one letter (1,000 MB compress to about 1 MB)."""
    import re

    parts = _tiny_workbook()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    cells = iter(("0", "1"))
    sheet = re.sub(
        r'<c r="([A-Z]+1)" t="inlineStr"><is><t>[^<]*</t></is></c>',
        lambda m: f'<c r="{m[1]}" t="s"><v>{next(cells)}</v></c>',
        sheet,
    )
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSst" Target="sharedStrings.xml" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
    )
    head = b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>'
    chunk = b"a" * (1 << 20)
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for member, data in parts.items():
            if member != "xl/sharedStrings.xml":
                archive.writestr(member, data)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(head)
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write("</t></si><si><t>事项名称</t></si></sst>".encode())
    return out.getvalue()


def xlsx_rows(n: int) -> bytes:
    """A workbook of ``n`` case rows (written streaming by openpyxl's write-only mode)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("办件")
    sheet.append(HEADER.split(","))
    for i in range(n):
        sheet.append([f"B{i}", "临时救助申请", "民政办", "窗口", "2026-10-12 09:00", "2026-10-13 10:00"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xes_gz_bomb(megabytes: int) -> bytes:
    """A gzipped XES log padded with ``megabytes`` MB of one repeated attribute (1 GB gzips to about 1 MB)."""
    out = io.BytesIO()
    pad = b'<int key="pad" value="1"/>'
    chunk = pad * ((1 << 20) // len(pad))
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as fh:
        fh.write(b'<?xml version="1.0"?><log><trace><string key="concept:name" value="C1"/>')
        for _ in range(megabytes):
            fh.write(chunk)
        fh.write('<event><string key="concept:name" value="受理"/></event></trace></log>'.encode())
    return out.getvalue()


def xes_gz_endless_tag(megabytes: int) -> bytes:
    """A gzipped XES log whose one tag is ``megabytes`` MB of blanks (the XML parser slows down on it)."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as fh:
        fh.write(b'<?xml version="1.0"?><log><trace><event><string key="concept:name"')
        for _ in range(megabytes):
            fh.write(b" " * (1 << 20))
        fh.write(' value="受理"/></event></trace></log>'.encode())
    return out.getvalue()


def xes_sparse_keys(n: int) -> bytes:
    """``n`` events, each with a key no other event has: ``n`` columns from a file of about 80 bytes per event."""
    events = "".join(
        f'<event><string key="concept:name" value="受理"/><string key="k{i}" value="x"/></event>' for i in range(n)
    )
    return f'<?xml version="1.0"?><log><trace><string key="concept:name" value="C1"/>{events}</trace></log>'.encode()


def jsonl_sparse_keys(n: int) -> bytes:
    """``n`` records, each with a key of its own."""
    return "".join(f'{{"办件编号": "B{i}", "k{i}": 1}}\n' for i in range(n)).encode()


def jsonl_deeply_nested(depth: int = 100_000) -> bytes:
    """Three good records around one nested ``depth`` levels deep (Python's JSON parser recurses per level)."""
    good = '{"办件编号": "B%d", "事项名称": "临时救助申请", "申请渠道": "窗口", "申请时间": "2026-10-12 09:00"}\n'
    return (good % 1 + good % 2 + '{"办件编号": ' + "[" * depth + "]" * depth + "}\n" + good % 3).encode()


def csv_wide_header(columns: int) -> bytes:
    """A header of ``columns`` names and one row."""
    names = ",".join(f"列{i}" for i in range(columns))
    return (names + "\n" + ",".join("x" for _ in range(columns)) + "\n").encode()


def csv_one_endless_line(megabytes: int) -> bytes:
    """``a,`` repeated over ``megabytes`` MB with no line break: a header with millions of columns."""
    return b"a," * (megabytes << 19)


def csv_long_line_after_the_head(megabytes: int = 11, good_rows: int = 40) -> bytes:
    """Good rows, one of ``megabytes`` MB (past the line bound), good rows again: only the long one is refused."""
    long_row = "B_LONG,临时救助申请,民政办,窗口,2026-10-12 09:00," + "x" * (megabytes << 20)
    return csv_bytes([*rows(good_rows), long_row, *rows(5, start=good_rows)])


def parquet_file(path: Path, select_sql: str) -> Path:
    """A Parquet file of ``select_sql``, written by DuckDB (zstd: identical rows and blobs compress to little)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"COPY ({select_sql}) TO '{path}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    return path
