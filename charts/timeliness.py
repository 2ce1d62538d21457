"""Timeliness figures: processing time per item against its promise, on-time rate per department."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts.theme import (
    ACCENT,
    PRIMARY,
    base_layout,
    clean_values,
    empty_figure,
    number_text,
    percent_text,
    plot_text,
    plot_texts,
    rate_text_positions,
    target_line,
)
from text import NOTE, Text, in_language

TEXT = {
    "empty": Text("所选范围内没有已办结的办件", "No completed cases in this selection"),
    "promised": Text("承诺时限", "Promised limit"),
    "days": Text(
        "办理时长（承诺时限的单位：工作日/自然日）", "Processing time (in the promise's unit: working / natural days)"
    ),
    "on_time": Text("按时办结率", "On-time rate"),
    "target": Text("目标", "Target"),
    "completed": Text("办结", "completed"),
    "overdue": Text("超期", "overdue"),
}


def processing_vs_promise(items: pd.DataFrame, lang: str = "zh", title: str | None = None, top: int = 20) -> go.Figure:
    """Per item, a box from the quartiles (whiskers min and p90) with the promised limit as a diamond."""
    text = in_language(TEXT, lang)
    data = items[items["completed"].fillna(0) > 0].dropna(subset=["median_days"]) if not items.empty else items
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values("completed", ascending=False).head(top).iloc[::-1]
    fig = go.Figure()
    labels = [
        NOTE(lang).format(plot_text(s), number_text(n))
        for s, n in zip(data["service_item"], data["completed"], strict=True)
    ]
    fig.add_trace(
        go.Box(
            y=labels,
            q1=data["p25_days"].astype(float),
            median=data["median_days"].astype(float),
            q3=data["p75_days"].astype(float),
            lowerfence=data["min_days"].astype(float),
            upperfence=data["p90_days"].astype(float),
            orientation="h",
            name="",
            marker_color=PRIMARY,
            fillcolor="rgba(31,95,168,0.25)",
            showlegend=False,
        )
    )
    fig.add_scatter(
        x=data["promised_days"].astype(float),
        y=labels,
        mode="markers",
        name=text["promised"],
        marker={"symbol": "diamond", "size": 11, "color": ACCENT, "line": {"width": 1, "color": "white"}},
        hovertemplate=text["promised"] + " %{x:,.1f}<extra></extra>",
    )
    fig.update_xaxes(title=text["days"], rangemode="tozero")
    fig.update_layout(hovermode="closest")
    return base_layout(fig, title, height=max(360, 30 * len(data) + 120))


def on_time_by_department(
    frame: pd.DataFrame,
    lang: str = "zh",
    title: str | None = None,
    target: float | None = None,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """On-time rate per department on a 0–100% axis (labels inside long bars), with the target line."""
    text = in_language(TEXT, lang)
    data = frame.dropna(subset=["on_time_rate"]) if not frame.empty else frame
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values("on_time_rate", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=clean_values(data["on_time_rate"]),
            y=plot_texts(data["department"]),
            orientation="h",
            marker_color=[(colors or {}).get(d, PRIMARY) for d in data["department"]],
            customdata=data[["with_due", "overdue_completed"]].to_numpy(),
            text=[percent_text(r) for r in data["on_time_rate"]],
            # On-time rates sit near 100%: the label goes inside the bar (at its start, clear of the target line), so the axis stops at 100%.
            textposition=rate_text_positions(data["on_time_rate"]),
            insidetextanchor="start",
            cliponaxis=False,
            hovertemplate="%{y}<br>"
            + text["on_time"]
            + " %{x:.1%}<br>"
            + text["overdue"]
            + " "
            + "%{customdata[1]:,.0f} / %{customdata[0]:,.0f}<extra></extra>",
        )
    )
    target_line(fig, target, lang)
    fig.update_xaxes(tickformat=".0%", range=[0, 1], automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(showlegend=False)
    return base_layout(fig, title, height=max(320, 28 * len(data) + 100))
