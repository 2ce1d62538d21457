"""Errors a person reads: every refusal carries a Chinese and an English message."""

from __future__ import annotations

from text import Text


class BilingualError(Exception):
    """An error with a message in Chinese (shown by default) and one in English.

    ``str()`` is "中文 (English)" followed by ``detail`` (for the log: a path, the underlying error), verbatim.
    """

    def __init__(self, message_zh: str, message_en: str, *, detail: str = "") -> None:
        self.text = Text(message_zh, message_en)
        super().__init__(f"{message_zh} ({message_en}){detail}")

    @property
    def message_zh(self) -> str:
        return self.text.zh

    @property
    def message_en(self) -> str:
        return self.text.en

    def message(self, lang: str = "zh") -> str:
        return self.text(lang)
