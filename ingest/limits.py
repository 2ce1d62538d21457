"""Bounds on the work one file may cause, checked while it streams in, each with a refusal in words.

A reader counts rows, columns and unpacked bytes as it goes and stops at the first bound it passes,
so a file of a few kilobytes that claims a million columns or unpacks to gigabytes is refused after
reading about as much as the bound allows, never after the whole file. The values live in
:mod:`settings` (README "异常输入 / Bad input"); a page may lower the row bound (``max_rows``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import settings
from ingest.errors import IngestRefused

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_line_bytes: int
    max_unpacked_bytes: int

    @classmethod
    def current(cls, max_rows: int | None = None) -> Limits:
        """The settings' bounds; ``max_rows`` (the upload page's) lowers the row bound, never raises it."""
        rows = settings.MAX_FILE_ROWS if max_rows is None else min(max_rows, settings.MAX_FILE_ROWS)
        return cls(
            max_rows=rows,
            max_columns=settings.MAX_COLUMNS,
            max_cell_chars=settings.MAX_CELL_CHARS,
            max_line_bytes=settings.MAX_LINE_BYTES,
            max_unpacked_bytes=settings.MAX_UNPACKED_MB << 20,
        )

    def check_rows(self, count: int) -> None:
        if count > self.max_rows:
            raise too_many_rows(self.max_rows)

    def check_columns(self, count: int) -> None:
        if count > self.max_columns:
            raise too_many_columns(count, self.max_columns)


def too_many_rows(limit: int) -> IngestRefused:
    return IngestRefused(
        "too_many_rows",
        f"文件过大：数据行超过每个文件 {limit:,} 行的上限，已停止读取，整个文件未导入。请按月份或部门拆分后分别上传。",
        f"file too large: over the limit of {limit:,} data rows per file; reading stopped and nothing was loaded. "
        "Split it (e.g. by month) and upload the parts.",
    )


def too_many_columns(count: int, limit: int) -> IngestRefused:
    return IngestRefused(
        "too_many_columns",
        f"列过多：文件有 {count:,} 列（或字段名），上限 {limit:,} 列；请确认导出的是办件表",
        f"too many columns: the file has {count:,} columns (or keys), the limit is {limit:,}; "
        "check that this is a case export",
    )


def unpacked_too_large(limit_bytes: int) -> IngestRefused:
    return IngestRefused(
        "unpacked_too_large",
        f"文件过大：解压后超过 {limit_bytes >> 20:,} MB（可能是压缩炸弹），已停止读取，未写入任何数据；"
        "请确认文件是政务服务平台的原始导出",
        f"file too large: it unpacks to more than {limit_bytes >> 20:,} MB (possibly a compression bomb); "
        "reading stopped and nothing was written. Check that this is the platform's own export",
    )


def cell_too_large(limit: int) -> IngestRefused:
    return IngestRefused(
        "cell_too_large",
        f"单元格过长：有单元格超过 {limit:,} 个字符（Excel 单元格的上限），文件可能已损坏",
        f"a cell is longer than {limit:,} characters (Excel's limit for one cell); the file may be damaged",
    )


def line_too_long(limit: int) -> IngestRefused:
    return IngestRefused(
        "line_too_long",
        f"表头行过长：前 {limit >> 20 or 1} MB 内找不到表头的换行，文件可能不是办件表",
        f"the header line is too long: no line break within the first {limit >> 20 or 1} MB; "
        "this may not be a case export",
    )


class BoundedReader(io.RawIOBase):
    """A binary stream that refuses to yield more than ``limit`` bytes (a decompressing stream, say)."""

    def __init__(self, inner: io.BufferedIOBase, limit: int) -> None:
        self._inner = inner
        self._left = limit
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer)
        data = self._inner.read(min(len(view), self._left + 1))
        if len(data) > self._left:
            raise unpacked_too_large(self._limit)
        self._left -= len(data)
        view[: len(data)] = data
        return len(data)


#: Longest stretch of an XML file without a ``>``: every tag and value of a real log is far shorter (a cell holds
#: at most MAX_CELL_CHARS characters), and the XML parser slows down quadratically on one endless token.
XML_MAX_TOKEN_BYTES = 1 << 20


class XmlPacer(io.RawIOBase):
    """Passes XML through, refusing it once ``XML_MAX_TOKEN_BYTES`` go by without the end of a tag."""

    def __init__(self, inner, limit: int = XML_MAX_TOKEN_BYTES) -> None:
        self._inner = inner
        self._limit = limit
        self._run = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer)
        data = self._inner.read(len(view))
        end = data.rfind(b">")
        self._run = len(data) - end - 1 if end >= 0 else self._run + len(data)
        if self._run > self._limit:
            raise IngestRefused(
                "broken_xml",
                f"XES 文件结构异常：超过 {self._limit >> 20} MB 的内容不含任何标签结尾，已停止读取",
                f"the XES file is malformed: more than {self._limit >> 20} MB without the end of a tag; reading stopped",
            )
        view[: len(data)] = data
        return len(data)
