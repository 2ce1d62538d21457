"""Monthly trend figures from the long KPI series (period_start, kpi_id, value)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from charts.theme import ACCENT, PRIMARY, base_layout, clean_values, empty_figure, short_date, target_line
from text import Text, in_language

#: The running month's bar: lighter and hatched.
PARTIAL_OPACITY = 0.45

LABELS = {
    "cases": Text("办件量", "Cases"),
    "online_rate": Text("网办率", "Online rate"),
    "month": Text("月份", "Month"),
    "empty": Text("所选期间没有数据", "No data in this period"),
    "target": Text("网办率目标", "Online target"),
    "to": Text("截至", "to"),
    "running": Text("本月未完", "month to date"),
}


def cases_and_online_rate(
    series: pd.DataFrame,
    lang: str = "zh",
    title: str | None = None,
    online_target: float | None = None,
    *,
    partial_month: str | None = None,
    as_of: dt.date | None = None,
) -> go.Figure:
    """Bars of monthly cases with the online rate as a line on a second axis (0–100%).

    ``partial_month`` ("YYYY-MM", the running month) is drawn lighter and hatched and annotated
    "截至 12-01" / "to 12-01" with ``as_of``: its cases are a part month, not a fall.
    """
    labels = in_language(LABELS, lang)
    fig = go.Figure()
    wide = series.pivot_table(index="period_start", columns="kpi_id", values="value", aggfunc="first")
    if wide.empty or "cases" not in wide:
        return empty_figure(labels["empty"], title)
    months = [pd.Timestamp(p).strftime("%Y-%m") for p in wide.index]
    partial = [m == partial_month for m in months]
    fig.add_bar(
        x=months,
        y=clean_values(wide["cases"]),
        name=labels["cases"],
        marker={
            "color": PRIMARY,
            "opacity": [PARTIAL_OPACITY if p else 1.0 for p in partial],
            # "overlay": the hatching is drawn over the bar's own colour (the default "replace" leaves white
            # lines on nothing, and the running month's bar vanished).
            "pattern": {
                "shape": ["/" if p else "" for p in partial],
                "fgcolor": "white",
                "solidity": 0.3,
                "fillmode": "overlay",
            },
        },
        yaxis="y",
        hovertemplate="%{y:,.0f}",
    )
    if "online_rate" in wide:
        fig.add_scatter(
            x=months,
            y=clean_values(wide["online_rate"]),
            name=labels["online_rate"],
            mode="lines+markers",
            line={"color": ACCENT, "width": 3},
            marker={"symbol": ["circle-open" if p else "circle" for p in partial], "size": 8},
            yaxis="y2",
            hovertemplate="%{y:.1%}",
            cliponaxis=False,
        )
    target_line(fig, online_target, lang, axis="y", yref="y2")
    if any(partial):
        i = partial.index(True)
        note = f"{labels['to']} {short_date(as_of)}" if as_of is not None else labels["running"]
        fig.add_annotation(
            x=months[i],
            y=float(wide["cases"].iloc[i]) if pd.notna(wide["cases"].iloc[i]) else 0.0,
            yref="y",
            text=note,
            showarrow=False,
            yanchor="bottom",
            yshift=2,
            font={"size": 11, "color": "#555"},
            bgcolor="rgba(255,255,255,0.85)",
        )
    fig.update_layout(
        yaxis={"title": labels["cases"], "tickformat": ",d", "rangemode": "tozero"},
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
        # "YYYY-MM" categories: never English month names.
        xaxis={"type": "category"},
    )
    return base_layout(fig, title)
