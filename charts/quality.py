"""Figures of the data-quality page: rejected rows over time, cases per month against the median."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts.theme import ACCENT, PALETTE, PRIMARY, base_layout, plot_text
from text import Text, in_language

_REASON_COLOURS = PALETTE  # colour-blind safe
TEXT = {
    "rows": Text("行", "rows"),
    "cases": Text("办件量", "cases"),
    "median": Text("月度中位数", "median month"),
    "share_of_median": Text("中位数的{share:.0%}", "{share:.0%} of the median"),
}


def rejects_over_time(frame: pd.DataFrame, lang: str = "zh", title: str | None = None) -> go.Figure:
    """Stacked bars: rejected rows per upload month, one colour per reason."""
    fig = go.Figure()
    label = Text.fields("reason")(lang)
    months = sorted(frame["month"].unique())
    # Colours follow the sorted reasons, so a reason keeps its colour whatever the order of the rows.
    for i, (reason, part) in enumerate(frame.groupby(label, sort=True)):
        fig.add_bar(
            x=part["month"],
            y=part["rows"],
            name=plot_text(reason),
            marker_color=_REASON_COLOURS[i % len(_REASON_COLOURS)],
            hovertemplate="%{x}：%{y:,.0f}",
        )
    fig.update_layout(barmode="stack")
    # "YYYY-MM" categories: no English month names.
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=months)
    fig.update_yaxes(title_text=TEXT["rows"](lang), rangemode="tozero", tickformat=",d")
    return base_layout(fig, title, height=340)


def cases_per_month(frame: pd.DataFrame, share: float, lang: str = "zh", title: str | None = None) -> go.Figure:
    """Bars of cases per month, flagged months in the accent colour; the median and the threshold as lines."""
    text = in_language(TEXT, lang)
    colours = [ACCENT if flagged else PRIMARY for flagged in frame["flagged"]]
    fig = go.Figure()
    fig.add_bar(
        x=frame["month"],
        y=frame["cases"],
        marker_color=colours,
        name=text["cases"],
        hovertemplate="%{x}：%{y:,.0f}",
    )
    if not frame.empty:
        median = float(frame["median"].iloc[0])
        months = list(frame["month"])
        fig.add_scatter(
            x=months,
            y=[median] * len(months),
            mode="lines",
            line={"dash": "dot", "color": "#555"},
            name=f"{text['median']} {median:,.0f}",
        )
        fig.add_scatter(
            x=months,
            y=[median * share] * len(months),
            mode="lines",
            line={"dash": "dash", "color": ACCENT},
            name=text["share_of_median"].format(share=share),
        )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=text["cases"], rangemode="tozero", tickformat=",d")
    return base_layout(fig, title, height=360)
