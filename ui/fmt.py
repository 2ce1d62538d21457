"""Numbers the way Chinese reports write them: 万 for large counts, % with one decimal, 天."""

from __future__ import annotations

import math


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: float | None, lang: str = "zh") -> str:
    if _missing(value):
        return "—"
    n = int(round(value))
    if lang == "zh" and abs(n) >= 100_000:
        return f"{n / 10_000:.1f}万".replace(".0万", "万")
    return f"{n:,}"


def percent(value: float | None, digits: int = 1) -> str:
    return "—" if _missing(value) else f"{value * 100:.{digits}f}%"


def days(value: float | None, lang: str = "zh", unit: str = "working") -> str:
    if _missing(value):
        return "—"
    if lang == "zh":
        return f"{value:.1f} {'工作日' if unit == 'working' else '天'}"
    return f"{value:.1f} {'working days' if unit == 'working' else 'days'}"
