"""One piece of text a person reads, in Chinese and in English: the project's one bilingual shape.

A ``Text`` is read in a language by calling it, ``text(lang)`` (or ``text.get(lang)``): Chinese for ``"zh"``,
English for any other language, as every page has always chosen. A template formats in both languages at once
(``Text("{n} 件", "{n} cases").format(n=3)``), so a sentence is written as one value, not as two branches.
The language's punctuation is a ``Text`` too (:data:`LIST_SEP`, :data:`NOTE` …): "、" against ", " is text.

A leaf: it imports nothing of the project, so any layer may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Text:
    """The same words in Chinese (``zh``, shown by default) and in English (``en``)."""

    zh: str
    en: str

    @classmethod
    def same(cls, words: str) -> Text:
        """Words that read the same in both languages: a code without a label, a name from the data."""
        return cls(words, words)

    @classmethod
    def of(cls, record: Any, name: str) -> Text:
        """A record's (a dict's, a row's) ``NAME_zh`` and ``NAME_en`` as one Text: ``Text.of(finding, "text")``."""
        return cls(record[f"{name}_zh"], record[f"{name}_en"])

    @classmethod
    def fields(cls, name: str) -> Text:
        """The names of a record's two fields of ``name``, to pick a column: ``Text.fields("reason")(lang)``."""
        return cls(f"{name}_zh", f"{name}_en")

    def get(self, lang: str = "zh") -> str:
        """The words in ``lang``: Chinese for "zh", English otherwise."""
        return self.zh if lang == "zh" else self.en

    __call__ = get

    def format(self, *args: Any, **kwargs: Any) -> Text:
        """Both templates filled with the same values."""
        return Text(self.zh.format(*args, **kwargs), self.en.format(*args, **kwargs))


def in_language(texts: Mapping[str, Text], lang: str = "zh") -> dict[str, str]:
    """A table of Texts read in one language (a figure's words by key)."""
    return {key: text(lang) for key, text in texts.items()}


#: Between the items of a list: 甲、乙 / A, B.
LIST_SEP = Text("、", ", ")
#: Between clauses or entries that hold commas themselves: 甲 3 行；乙 2 行 / A: 3 rows; B: 2 rows.
CLAUSE_SEP = Text("；", "; ")
#: Between the parts of one phrase: 甲，乙 / a, b.
COMMA = Text("，", ", ")
#: After a label: 角色：管理员 / role: admin.
COLON = Text("：", ": ")
#: A thing with a note in brackets: 办件量（320） / Cases (320).
NOTE = Text("{}（{}）", "{} ({})")
#: The end of a sentence that another follows, and the gap before a sentence that follows one ended already.
FULL_STOP = Text("。", ". ")
SENTENCE_GAP = Text("", " ")
