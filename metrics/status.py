"""Where a figure stands against its target, in three states read the same way on screen and in every report.

达标 (met), 接近 (close: within 5 percentage points for rates, 10% of the target otherwise) and 未达标 (far),
each with the gap in words ("差 6.7 个百分点"), so a projected or printed page reads without its colours.
A figure or target that is unknown has no state. The dashboard tiles, the PDF, the HTML and the workbook
all call :func:`target_state`; nothing else decides a traffic light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from metrics.catalog import KPI_BY_ID, Kpi
from text import NOTE, Text

#: A miss within this distance of the target is "close", further is "far" (rates: 5 points; others: 10%).
CLOSE_RATE_POINTS = 0.05
CLOSE_SHARE = 0.10

STATES = ("met", "close", "far", "none")
STATE_WORDS = {
    "met": Text("达标", "On target"),
    "close": Text("接近", "Close"),
    "far": Text("未达标", "Off target"),
    "none": Text("无目标", "No target"),
}
#: A miss in words, around its amount.
_SHORT = Text("差 {}", "{} short")
_OVER = Text("超出 {}", "{} over")
#: One colour per state, for every output: green, amber and red far apart in hue (about 140°, 38° and 6°), each
#: dark enough for text on white; grey for no state. .streamlit/config.toml gives the app's theme the same three.
STATE_COLORS = {"met": "#1E7B34", "close": "#B7791F", "far": "#C0392B", "none": "#80868B"}
#: A symbol per state, so the state also reads in black and white.
STATE_SYMBOLS = {"met": "✔", "close": "▲", "far": "✖", "none": "○"}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class TargetState:
    state: str  # met | close | far | none
    gap: float | None  # how far the figure misses the target, in its unit (rates as a fraction); None when met

    def word(self, lang: str = "zh") -> str:
        return STATE_WORDS[self.state](lang)

    @property
    def color(self) -> str:
        return STATE_COLORS[self.state]

    @property
    def symbol(self) -> str:
        return STATE_SYMBOLS[self.state]


def target_state(kpi: Kpi | str, value: float | None, target: float | None) -> TargetState:
    """The state of ``value`` against ``target`` for this KPI's direction and unit."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if value is None or target is None or _missing(value) or _missing(target):
        return TargetState("none", None)
    v, goal = float(value), float(target)
    gap = (goal - v) if kpi.higher_is_better else (v - goal)
    if gap <= 1e-12:
        return TargetState("met", None)
    tolerance = CLOSE_RATE_POINTS if kpi.unit == "rate" else max(1.0, abs(goal) * CLOSE_SHARE)
    return TargetState("close" if gap <= tolerance + 1e-12 else "far", gap)


def gap_text(kpi: Kpi | str, state: TargetState, lang: str = "zh") -> str:
    """The miss in words: 差 6.7 个百分点 / 多 2.0 个工作日 / 6.7 points short; empty when met or unknown."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if state.gap is None:
        return ""
    if kpi.unit == "rate":
        amount = Text(f"{state.gap * 100:.1f} 个百分点", f"{state.gap * 100:.1f} points")
    elif kpi.unit == "days":
        amount = Text(f"{state.gap:.1f} 个工作日", f"{state.gap:.1f} working days")
    else:
        noun = "个" if kpi.scope in ("catalog", "items") else "次" if kpi.scope == "journeys" else "件"
        amount = Text(f"{state.gap:,.{kpi.decimals}f} {noun}", f"{state.gap:,.{kpi.decimals}f}")
    return (_SHORT if kpi.higher_is_better else _OVER)(lang).format(amount(lang))


def state_text(kpi: Kpi | str, value: float | None, target: float | None, lang: str = "zh") -> str:
    """The state word with its gap: ``未达标（差 6.7 个百分点）``, ``达标``; empty when there is no target."""
    state = target_state(kpi, value, target)
    if state.state == "none":
        return ""
    gap = gap_text(kpi, state, lang)
    if not gap:
        return state.word(lang)
    return NOTE(lang).format(state.word(lang), gap)
