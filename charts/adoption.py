"""Online adoption figures: online rate by unit, channel mix over time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts.theme import base_layout, empty_figure, target_line

CHANNEL_COLORS = {
    "online": "#1f5fa8",
    "mobile": "#4e9ad9",
    "window": "#e07b00",
    "self_service": "#2e9e44",
    "post": "#7b52ab",
    "other": "#9a9a9a",
}
TEXT = {
    "zh": {
        "online_rate": "网办率",
        "cases": "办件量",
        "target": "目标",
        "empty": "所选范围内没有办件",
        "share": "占比",
        "month": "月份",
    },
    "en": {
        "online_rate": "Online rate",
        "cases": "Cases",
        "target": "Target",
        "empty": "No cases in this selection",
        "share": "Share",
        "month": "Month",
    },
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
    text = TEXT.get(lang, TEXT["zh"])
    data = frame.dropna(subset=["online_rate"]) if not frame.empty else frame
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values(["online_rate", "cases"], ascending=[True, True]).tail(top)
    fig = go.Figure(
        go.Bar(
            x=data["online_rate"].astype(float),
            y=data[key],
            orientation="h",
            marker_color=[(colors or {}).get(u, "#1f5fa8") for u in data[key]],
            customdata=data[["cases", "online_cases"]].to_numpy(),
            hovertemplate="%{y}<br>" + text["online_rate"] + " %{x:.1%}<br>%{customdata[1]:,} / %{customdata[0]:,}"
            "<extra></extra>",
            text=[f"{r:.0%} ({int(c):,})" for r, c in zip(data["online_rate"], data["cases"], strict=True)],
            textposition="outside",
            cliponaxis=False,
        )
    )
    target_line(fig, target, text["target"])
    fig.update_xaxes(tickformat=".0%", range=[0, 1.12])
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
    text = TEXT.get(lang, TEXT["zh"])
    if mix.empty:
        return empty_figure(text["empty"], title)
    wide = mix.pivot_table(index="period_start", columns="channel", values="share", aggfunc="sum").fillna(0.0)
    months = [pd.Timestamp(p).strftime("%Y-%m") for p in wide.index]
    fig = go.Figure()
    order = [c for c in CHANNEL_COLORS if c in wide.columns] + [c for c in wide.columns if c not in CHANNEL_COLORS]
    for channel in order:
        fig.add_bar(
            x=months,
            y=wide[channel],
            name=labels.get(channel, channel),
            marker_color=CHANNEL_COLORS.get(channel, "#9a9a9a"),
            hovertemplate="%{y:.1%}",
        )
    if online_target is not None:
        fig.add_scatter(
            x=months,
            y=[online_target] * len(months),
            mode="lines",
            name=f"{text['target']}（网办率）" if lang == "zh" else f"{text['target']} (online rate)",
            line={"color": "#c8332f", "dash": "dash", "width": 2},
            hoverinfo="skip",
        )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    base_layout(fig, title, height=420)
    fig.update_layout(
        barmode="stack",
        xaxis={"type": "category", "tickangle": -45},
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
        margin={"b": 110},
    )
    return fig
