"""The one error a refused file raises: a code, a Chinese and an English message, and where."""

from __future__ import annotations


class IngestRefused(Exception):
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
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.sheet = sheet
        self.column = column
        self.row = row
        super().__init__(f"{message_zh} ({message_en})")

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en
