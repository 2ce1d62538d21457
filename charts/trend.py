"""Monthly trend figures from the long KPI series (period_start, kpi_id, value)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts.theme import ACCENT, PRIMARY, base_layout, empty_figure

LABELS = {
    "zh": {
        "cases": "办件量",
        "online_rate": "网办率",
        "month": "月份",
        "empty": "所选期间没有数据",
        "target": "网办率目标",
    },
    "en": {
        "cases": "Cases",
        "online_rate": "Online rate",
        "month": "Month",
        "empty": "No data in this period",
        "target": "Online target",
    },
}


def cases_and_online_rate(
    series: pd.DataFrame, lang: str = "zh", title: str | None = None, online_target: float | None = None
) -> go.Figure:
    """Bars of monthly cases with the online rate as a line on a second axis."""
    labels = LABELS.get(lang, LABELS["zh"])
    fig = go.Figure()
    wide = series.pivot_table(index="period_start", columns="kpi_id", values="value", aggfunc="first")
    if wide.empty or "cases" not in wide:
        return empty_figure(labels["empty"], title)
    months = [pd.Timestamp(p).strftime("%Y-%m") for p in wide.index]
    fig.add_bar(
        x=months, y=wide["cases"], name=labels["cases"], marker_color=PRIMARY, yaxis="y", hovertemplate="%{y:,.0f}"
    )
    if "online_rate" in wide:
        fig.add_scatter(
            x=months,
            y=wide["online_rate"],
            name=labels["online_rate"],
            mode="lines+markers",
            line={"color": ACCENT, "width": 3},
            yaxis="y2",
            hovertemplate="%{y:.1%}",
        )
    if online_target is not None:
        fig.add_scatter(
            x=months,
            y=[online_target] * len(months),
            name=labels["target"],
            mode="lines",
            line={"color": ACCENT, "dash": "dash", "width": 1.5},
            yaxis="y2",
            hoverinfo="skip",
        )
    fig.update_layout(
        yaxis={"title": labels["cases"], "tickformat": ",d"},
        yaxis2={
            "title": labels["online_rate"],
            "overlaying": "y",
            "side": "right",
            "tickformat": ".0%",
            "range": [0, 1],
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 0.2,
            "showgrid": False,
        },
        xaxis={"type": "category"},
    )
    return base_layout(fig, title)
