"""Excel workbooks (xlsx by openpyxl, xls by xlrd) into ``_stage``, row by row as they are read.

The header is found among a sheet's first rows (titles above it are common); the body then streams into
``_stage`` in batches, counted against the limits, so a large sheet never sits in memory whole. A workbook
whose parts would unpack past the bound is refused before any of its XML is parsed.
"""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from ingest.errors import IngestRefused
from ingest.limits import Limits, cell_too_large, unpacked_too_large
from ingest.staging import BATCH_ROWS, HEADER_SEARCH_ROWS, SourceInfo, cell_text, find_header_row, frame_to_stage

#: Excel's own most rows in a sheet (the header included): a workbook claiming more was not made by Excel.
XLSX_MAX_ROWS = 1_048_575
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class _RowStager:
    """Rows of a spreadsheet into ``_stage`` as they are read: the header is found among the first rows, then
    the body streams in batches, counted against the limits (trailing empty rows are dropped)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, fmt: str, limits: Limits, sheet: str | None = None) -> None:
        self.cur, self.fmt, self.limits, self.sheet = cur, fmt, limits, sheet
        self.head: list[list[str | None]] = []
        self.columns: list[str] | None = None
        self.header_row = 0
        self.body_rows = 0  # rows after the header, empty ones included (they keep their numbers)
        self.batch: list[list[str | None]] = []
        self.pending_empty: list[list[str | None]] = []
        self.created = False

    def add(self, values) -> None:
        row = [self._cell(v) for v in values]
        if self.columns is None:
            self.head.append(row)
            if len(self.head) >= HEADER_SEARCH_ROWS:
                self._find_header()
            return
        self._add_body(row)

    def _cell(self, value: object) -> str | None:
        text = cell_text(value)
        if text is not None and len(text) > self.limits.max_cell_chars:
            raise cell_too_large(self.limits.max_cell_chars)
        return text

    def _find_header(self) -> None:
        head, self.head = self.head, []
        filled = len(head)
        while filled and not any(head[filled - 1]):
            filled -= 1  # blank rows at the end of the head are left out of the header search, not out of the body
        if not filled:
            raise IngestRefused("empty_file", "表格为空", "the table is empty", sheet=self.sheet or None)
        index = find_header_row(head[:filled])
        columns = [(c or "").strip() for c in head[index]]
        while columns and not columns[-1]:
            columns.pop()
        if not columns:
            raise IngestRefused("no_header", "找不到表头行", "no header row found", sheet=self.sheet or None)
        self.limits.check_columns(len(columns))
        self.columns, self.header_row = columns, index + 1
        for row in head[index + 1 :]:
            self._add_body(row)

    def _add_body(self, row: list[str | None]) -> None:
        self.body_rows += 1
        self.limits.check_rows(self.body_rows)
        if not any(row):
            self.pending_empty.append(row)
            return
        self.batch.extend(self.pending_empty)
        self.pending_empty = []
        self.batch.append(row)
        if len(self.batch) >= BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        assert self.columns is not None
        width = len(self.columns)
        first = self.header_row + self.body_rows - len(self.pending_empty) - len(self.batch) + 1
        frame = pd.DataFrame(
            [(r[:width] + [None] * (width - len(r)))[:width] for r in self.batch],
            columns=[f"c{i}" for i in range(width)],
            dtype="object",
        )
        frame["_row"] = range(first, first + len(self.batch))
        frame_to_stage(self.cur, frame, append=self.created)
        self.created = True
        self.batch = []

    def finish(self) -> SourceInfo:
        if self.columns is None:
            self._find_header()
        self._flush()
        return SourceInfo(self.fmt, self.columns or [], header_row=self.header_row, sheet=self.sheet)


def _stage_rows(
    cur: duckdb.DuckDBPyConnection, rows, fmt: str, limits: Limits | None = None, sheet: str | None = None
) -> SourceInfo:
    """Header detection and staging for sources that arrive as rows (any iterable: it is read once)."""
    stager = _RowStager(cur, fmt, limits or Limits.current(), sheet)
    for row in rows:
        stager.add(row)
    return stager.finish()


def read_xlsx(
    cur: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, limits: Limits | None = None
) -> SourceInfo:
    import openpyxl

    limits = limits or Limits.current()
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(OLE_MAGIC):
        raise IngestRefused(
            "encrypted_workbook",
            "Excel 文件受密码保护，请先在 Excel 中取消密码再上传",
            "the workbook is password-protected; remove the password in Excel and upload again",
        )
    check_workbook_size(path, limits)
    limits = replace(limits, max_rows=min(limits.max_rows, XLSX_MAX_ROWS))
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestRefused(
            "unreadable_excel", "无法读取 Excel 文件（文件损坏或不是 xlsx）", f"cannot read the Excel file: {exc}"
        ) from exc
    try:
        ws = _pick_sheet(book.sheetnames, sheet, lambda n: book[n])
        ws.reset_dimensions()  # the file's own <dimension> may claim a million columns: read the cells it has
        return _stage_rows(cur, ws.iter_rows(values_only=True), "xlsx", limits, sheet=ws.title)
    finally:
        book.close()


def check_workbook_size(path: Path, limits: Limits) -> None:
    """Refuse a workbook whose parts unpack to more than the bound, before any XML in it is parsed."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestRefused(
            "unreadable_excel", "无法读取 Excel 文件（文件损坏或不是 xlsx）", f"cannot read the Excel file: {exc}"
        ) from exc
    if unpacked > limits.max_unpacked_bytes:
        raise unpacked_too_large(limits.max_unpacked_bytes)


def _pick_sheet(names: list[str], wanted: str | None, get):
    if wanted is None:
        return get(names[0])
    if wanted not in names:
        raise IngestRefused(
            "no_such_sheet",
            f"工作表“{wanted}”不存在；现有工作表：{'、'.join(names)}",
            f"sheet {wanted!r} not found; sheets: {', '.join(names)}",
            sheet=wanted,
        )
    return get(wanted)


def read_xls(cur: duckdb.DuckDBPyConnection, path: Path, sheet: str | None, limits: Limits | None = None) -> SourceInfo:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except xlrd.biffh.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise IngestRefused(
                "encrypted_workbook", "Excel 文件受密码保护，请先取消密码再上传", "the workbook is password-protected"
            ) from exc
        raise IngestRefused("unreadable_excel", "无法读取 xls 文件", f"cannot read the xls file: {exc}") from exc
    except Exception as exc:  # xlrd raises assorted errors on non-xls bytes
        raise IngestRefused(
            "unreadable_excel", "无法读取 xls 文件（文件损坏或格式不符）", f"cannot read the xls file: {exc}"
        ) from exc
    ws = _pick_sheet(book.sheet_names(), sheet, book.sheet_by_name)

    def rows():
        for r in range(ws.nrows):
            row: list[object] = []
            for c in range(ws.ncols):
                cell = ws.cell(r, c)
                if cell.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    row.append(None)
                else:
                    row.append(cell.value)
            yield row

    return _stage_rows(cur, rows(), "xls", limits, sheet=ws.name)
