"""One look for every figure: a CJK-capable font, Chinese-friendly number formats, fixed colours.

The palette functions here (:func:`department_colors`, :func:`channel_colors`, :data:`PALETTE`,
:data:`TARGET_COLOR`) are the single source of colour for pages, the HTML/PDF report and the
XLSX workbook: all colours are ``#rrggbb`` strings, so xlsxwriter can take them as they are.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable
from typing import SupportsFloat

import pandas as pd
import plotly.graph_objects as go

import numfmt
from text import Text

#: Noto Sans CJK (Debian's fonts-noto-cjk) first, so Chinese labels never render as boxes.
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PRIMARY = "#1f5fa8"
ACCENT = "#e07b00"
GREY = "#8c8c8c"

#: A colour-blind-safe qualitative palette: Okabe–Ito (without black, yellow last) followed by
#: Paul Tol's "muted" scheme, for a township's offices and county bureaux. Beyond 16 units the
#: colours repeat; the axis labels, not the colour, name a bar.
PALETTE = [
    "#0072b2",  # Okabe–Ito blue
    "#e69f00",  # orange
    "#009e73",  # bluish green
    "#cc79a7",  # reddish purple
    "#56b4e9",  # sky blue
    "#d55e00",  # vermillion
    "#332288",  # Tol muted: indigo
    "#44aa99",  # teal
    "#882255",  # wine
    "#999933",  # olive
    "#222222",  # near black (Okabe–Ito's black)
    "#88ccee",  # cyan
    "#aa4499",  # purple
    "#117733",  # green
    "#ddcc77",  # sand
    "#f0e442",  # Okabe–Ito yellow (weak on white: last)
]

#: One fixed colour per canonical channel code (``store.channels.CHANNELS``, in its display order;
#: charts take frames, not the store, so ``tests/test_charts_honest.py`` holds the two in step).
_CHANNEL_COLORS = {
    "online": "#0072b2",  # the two online channels in blues
    "mobile": "#56b4e9",
    "window": "#e69f00",
    "self_service": "#009e73",
    "post": "#cc79a7",
    "other": "#999999",
}
#: Cases whose channel is not recorded (未注明).
UNKNOWN_CHANNEL_COLOR = "#d9d9d9"

#: Every target line: one colour, one dash, one width.
TARGET_COLOR = "#333333"
TARGET_DASH = "dash"
TARGET_WIDTH = 1.5

#: Date axes: tick labels never spelled out in English month names.
MONTH_TICKFORMAT = "%Y-%m"
DAY_TICKFORMAT = "%m-%d"
DATE_HOVERFORMAT = "%Y-%m-%d"


def base_layout(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"} if title else None,
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin={"l": 50, "r": 50, "t": 60 if title else 20, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        plot_bgcolor="white",
        hovermode="x unified",
        colorway=PALETTE,
        separators=".,",
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#e8e8e8")
    return fig


def _unit_names(units: Iterable[object]) -> list[str]:
    names = set()
    for unit in units:
        if unit is None or (isinstance(unit, float) and math.isnan(unit)) or str(unit) == "":
            continue
        names.add(str(unit))
    return sorted(names)


def plot_text(value: object, empty: str = "未注明") -> str:
    """Data text (a department, a step, an item, a channel) as Plotly shows it: literally, inert.

    Plotly reads HTML-like tags in every text it draws (labels, tick text, hover text, annotations, legend
    names: ``<a href>`` becomes a link, ``<b>``/``<br>``/``<span style>`` markup) and a text between ``$`` signs
    as LaTeX when MathJax is on the page; so ``&``, ``<``, ``>`` and ``$`` become entities, which Plotly
    draws as the characters themselves. Every chart passes data text through here; a missing name reads
    ``empty`` (未注明).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or str(value) == "":
        return empty
    return html.escape(str(value), quote=False).replace("$", "&#36;")


def plot_texts(values: Iterable[object], empty: str = "未注明") -> list[str]:
    """:func:`plot_text` of each value (a trace's labels, in order)."""
    return [plot_text(v, empty) for v in values]


def department_colors(all_units: Iterable[object]) -> dict[str, str]:
    """The same department keeps the same colour on every page and in every report.

    Colours follow the *sorted* distinct names (not the order of appearance), so the same list of
    units gives the same mapping everywhere; pass the full list of units (``filter_options()
    ["all_units"]``), not only those in one chart, for a department to keep its colour when filters change.
    """
    return {unit: PALETTE[i % len(PALETTE)] for i, unit in enumerate(_unit_names(all_units))}


def channel_colors() -> dict[str, str]:
    """One fixed colour per canonical channel code: online, mobile, window, self_service, post, other."""
    return dict(_CHANNEL_COLORS)


def channel_color(code: object) -> str:
    """The colour of one channel code; an unknown or missing channel is light grey."""
    return _CHANNEL_COLORS.get(code, UNKNOWN_CHANNEL_COLOR) if isinstance(code, str) else UNKNOWN_CHANNEL_COLOR


def percent_text(value: float | None, digits: int = 1) -> str:
    """A rate as "12.3%" (never "-0.0%")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return numfmt.percent(value, digits)


def number_text(value: float | None, digits: int = 0) -> str:
    """A count or quantity with thousands separators: "1,234" / "3.5" (never "-0.0")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return numfmt.fixed(value, digits)


def clean_values(values: Iterable[SupportsFloat | None], digits: int = 4) -> list[float | None]:
    """Values for a trace: tiny negatives that would print as "-0.0" become 0, missing become None."""
    out: list[float | None] = []
    for v in values:
        if v is None or pd.isna(v):
            out.append(None)
        else:
            f = float(v)
            out.append(0.0 if abs(f) < 0.5 * 10**-digits else f)
    return out


def rate_text_positions(values: Iterable[SupportsFloat | None], inside_from: float = 0.3) -> list[str]:
    """Where a rate bar's label goes on a 0–100% axis: inside a long bar (so the axis need not run past
    100% to make room), just outside a short one (a 0% bar still shows "0.0%")."""
    return ["inside" if v is not None and not pd.isna(v) and float(v) >= inside_from else "outside" for v in values]


_TARGET = Text("目标", "Target")


def target_label(target: float, lang: str = "zh") -> str:
    """ "目标 60%" / "Target 60%" (one decimal only when the target has one: "目标 97.5%")."""
    pct = target * 100
    shown = f"{pct:.0f}%" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}%"
    return f"{_TARGET(lang)} {shown}"


def target_line(fig: go.Figure, target: float | None, lang: str = "zh", *, axis: str = "x", yref: str = "y") -> None:
    """The one target line: dashed, :data:`TARGET_COLOR`, labelled "目标 60%" / "Target 60%".

    ``axis="x"`` draws a vertical line at ``x=target`` (horizontal bars, the value on x);
    ``axis="y"`` a horizontal line at ``y=target`` on ``yref`` (``"y2"`` for a rate on a second axis).
    ``lang`` may also be the old label text ("目标" / "Target").
    """
    if target is None:
        return
    lang = "en" if lang in ("en", "Target") else "zh"
    line = {"dash": TARGET_DASH, "color": TARGET_COLOR, "width": TARGET_WIDTH}
    text = target_label(target, lang)
    font = {"size": 12, "color": TARGET_COLOR}
    if axis == "x":
        fig.add_vline(
            x=target,
            line=line,
            annotation={"text": text, "font": font, "bgcolor": "rgba(255,255,255,0.8)"},
            annotation_position="top",
        )
    else:
        fig.add_hline(
            y=target,
            yref=yref,
            line=line,
            annotation={"text": text, "font": font, "bgcolor": "rgba(255,255,255,0.8)"},
            annotation_position="top left",
        )


def date_axis(fig: go.Figure, grain: str = "day", axis: str = "x", days: Iterable[object] | None = None) -> go.Figure:
    """A date axis with numeric tick labels ("2026-11" / "11-03"), never "Nov 1 2026".

    Day grain shows "%m-%d"; when ``days`` span more than one calendar year, "%Y-%m-%d".
    """
    tickformat = MONTH_TICKFORMAT if grain == "month" else DAY_TICKFORMAT
    if grain != "month" and days is not None:
        years = {pd.Timestamp(d).year for d in days if d is not None and not pd.isna(d)}
        if len(years) > 1:
            tickformat = DATE_HOVERFORMAT
    update = {"type": "date", "tickformat": tickformat, "hoverformat": DATE_HOVERFORMAT}
    if axis == "x":
        fig.update_xaxes(**update)
    else:
        fig.update_yaxes(**update)
    return fig


def short_date(day: dt.date | pd.Timestamp | str) -> str:
    """ "12-01" for an as-of day."""
    return pd.Timestamp(day).strftime("%m-%d")


def empty_figure(message: str, title: str | None = None, height: int = 300) -> go.Figure:
    """Never a blank chart: an empty figure says why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, title, height=height)
