"""The one error a refused file raises: a code, a Chinese and an English message, and where."""

from __future__ import annotations

from errors import BilingualError
from text import COMMA, NOTE, Text


class IngestRefused(BilingualError):
    """A file that cannot be loaded at all; the database is left exactly as it was."""

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        *,
        sheet: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message_zh, message_en)
        self.code = code
        self.sheet = sheet
        self.column = column
        self.row = row


def first_line(exc: BaseException) -> str:
    """An exception's first line, cut short: enough for a refusal's message, never a whole parser dump (its kind
    when it says nothing)."""
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def refusal_message(exc: IngestRefused, lang: str = "zh") -> str:
    """One line for the page: the message, plus the sheet/column/row it concerns when known."""
    where = []
    if exc.sheet:
        where.append(_SHEET(lang).format(exc.sheet))
    if exc.row:
        where.append(_ROW(lang).format(exc.row))
    return NOTE(lang).format(exc.message(lang), COMMA(lang).join(where)) if where else exc.message(lang)


_SHEET = Text("工作表 {}", "sheet {}")
_ROW = Text("第 {} 行", "row {}")
