"""Online adoption figures: online rate by unit, channel mix over time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts.theme import (
    PRIMARY,
    base_layout,
    channel_color,
    channel_colors,
    clean_values,
    empty_figure,
    number_text,
    percent_text,
    plot_text,
    plot_texts,
    rate_text_positions,
    target_line,
)
from text import Text, in_language

#: The canonical channel colours (kept as a name for old imports; the source is charts.theme.channel_colors).
CHANNEL_COLORS = channel_colors()
TEXT = {
    "online_rate": Text("网办率", "Online rate"),
    "cases": Text("办件量", "Cases"),
    "target": Text("目标", "Target"),
    "empty": Text("所选范围内没有办件", "No cases in this selection"),
    "share": Text("占比", "Share"),
    "month": Text("月份", "Month"),
}


def online_rate_bars(
    frame: pd.DataFrame,
    key: str,
    lang: str = "zh",
    title: str | None = None,
    target: float | None = None,
    colors: dict[str, str] | None = None,
    top: int = 25,
) -> go.Figure:
    """Horizontal bars of online rate per department or item, with volumes in the hover and the target."""
    text = in_language(TEXT, lang)
    data = frame.dropna(subset=["online_rate"]) if not frame.empty else frame
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values(["online_rate", "cases"], ascending=[True, True]).tail(top)
    fig = go.Figure(
        go.Bar(
            x=clean_values(data["online_rate"]),
            y=plot_texts(data[key]),
            orientation="h",
            marker_color=[(colors or {}).get(u, PRIMARY) for u in data[key]],
            customdata=data[["cases", "online_cases"]].to_numpy(),
            hovertemplate="%{y}<br>"
            + text["online_rate"]
            + " %{x:.1%}<br>%{customdata[1]:,.0f} / %{customdata[0]:,.0f}"
            "<extra></extra>",
            text=[
                f"{percent_text(r)} ({number_text(c)})" for r, c in zip(data["online_rate"], data["cases"], strict=True)
            ],
            # Inside the bar when it fits, just outside a short bar: the axis never runs past 100%.
            textposition=rate_text_positions(data["online_rate"]),
            insidetextanchor="start",
            cliponaxis=False,
        )
    )
    target_line(fig, target, lang)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(showlegend=False)
    return base_layout(fig, title, height=max(320, 26 * len(data) + 100))


def channel_mix_area(
    mix: pd.DataFrame,
    labels: dict[str, str],
    lang: str = "zh",
    title: str | None = None,
    online_target: float | None = None,
) -> go.Figure:
    """Monthly channel shares stacked to 100%, with the online-rate target as a line."""
    text = in_language(TEXT, lang)
    if mix.empty:
        return empty_figure(text["empty"], title)
    wide = mix.pivot_table(index="period_start", columns="channel", values="share", aggfunc="sum").fillna(0.0)
    months = [pd.Timestamp(p).strftime("%Y-%m") for p in wide.index]
    fig = go.Figure()
    order = [c for c in CHANNEL_COLORS if c in wide.columns] + sorted(
        (c for c in wide.columns if c not in CHANNEL_COLORS), key=str
    )
    for channel in order:
        fig.add_bar(
            x=months,
            y=clean_values(wide[channel]),
            name=plot_text(labels.get(channel, channel)),
            marker_color=channel_color(channel),
            hovertemplate="%{y:.1%}",
        )
    # The online-rate target: the share of the two online channels (the bottom of the stack).
    target_line(fig, online_target, lang, axis="y")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    base_layout(fig, title, height=420)
    fig.update_layout(
        barmode="stack",
        xaxis={"type": "category", "tickangle": -45},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
        margin={"b": 110},
    )
    return fig
