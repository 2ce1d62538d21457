"""Errors a person reads: every refusal carries a Chinese and an English message."""

from __future__ import annotations


class BilingualError(Exception):
    """An error with a message in Chinese (shown by default) and one in English."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} ({message_en})")

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en
