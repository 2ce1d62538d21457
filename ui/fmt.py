"""Numbers the way Chinese reports write them: 万 for large counts, % with one decimal, 天."""

from __future__ import annotations

import math
import re

import numfmt
from text import Text

#: The unit after a number of days.
_WORKING_DAYS, _DAYS = Text("工作日", "working days"), Text("天", "days")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: float | None, lang: str = "zh") -> str:
    if value is None or _missing(value):
        return "—"
    n = int(round(value))
    if lang == "zh" and abs(n) >= 100_000:
        return f"{n / 10_000:.1f}万".replace(".0万", "万")
    return f"{n:,}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if value is None or _missing(value) else numfmt.percent(value, digits)


def days(value: float | None, lang: str = "zh", unit: str = "working") -> str:
    if _missing(value):
        return "—"
    return f"{value:.1f} {(_WORKING_DAYS if unit == 'working' else _DAYS)(lang)}"


#: Characters Markdown, GitHub's extensions, KaTeX and Streamlit's directives read as markup: each is escaped.
_MD_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:@=^\"'])")
#: Streamlit and GitHub's Markdown turn some plain text into markup *after* escapes are read: ``:material/…:``,
#: ``:streamlit:`` and emoji shortcodes become icons and images, bare ``https://…``, ``www.…`` and ``a@b.c`` become
#: links. An invisible word joiner after each ``:`` and ``@`` (and inside ``www.``) breaks those patterns.
_JOINER = "\u2060"
_JOIN_AFTER = re.compile(r"(?<=[:@])(?=\S)|(?i:(?<=www)(?=\\\.))")


def md_text(text: object) -> str:
    """Text from the data (a department, an item, a file or column name, a note) shown in Markdown as the text it
    is, never as markup: no link, image, emphasis, heading, table, HTML tag, ``:color[…]`` / ``:material/…:``
    directive, emoji, LaTeX ``$…$`` or autolinked address. Use it for every data string that reaches
    st.markdown / caption / info / warning / error / success / toast / title / subheader, a widget label or a
    ``help`` text (Streamlit reads all of those as Markdown)."""
    text = str(text).replace("&", "&amp;").replace("\r", " ").replace("\n", " ")
    return _JOIN_AFTER.sub(_JOINER, _MD_MARKUP.sub(r"\\\1", text))


def signed(value: float, digits: int = 1, thousands: bool = False) -> str:
    """A change with its sign, never "-0.0": what rounds to zero is written without a sign."""
    rounded = round(value, digits)
    if rounded == 0:
        return f"{0:.{digits}f}"
    return f"{rounded:+,.{digits}f}" if thousands else f"{rounded:+.{digits}f}"


def is_zero_change(value: float, digits: int = 1) -> bool:
    return round(value, digits) == 0


def one_language(text: str, lang: str = "zh") -> str:
    """One language of a stored bilingual line, "中文 (English)" as the loader writes its warnings."""
    zh, sep, en = str(text).partition(" (")
    if not sep or not en.endswith(")"):
        return str(text)
    return Text(zh, en[:-1])(lang)
