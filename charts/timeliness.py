"""Timeliness figures: processing time per item against its promise, on-time rate per department."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts.theme import ACCENT, base_layout, empty_figure, target_line

TEXT = {
    "zh": {
        "empty": "所选范围内没有已办结的办件",
        "promised": "承诺时限",
        "days": "办理时长（承诺时限的单位：工作日/自然日）",
        "on_time": "按时办结率",
        "target": "目标",
        "completed": "办结",
    },
    "en": {
        "empty": "No completed cases in this selection",
        "promised": "Promised limit",
        "days": "Processing time (in the promise's unit: working / natural days)",
        "on_time": "On-time rate",
        "target": "Target",
        "completed": "completed",
    },
}


def processing_vs_promise(items: pd.DataFrame, lang: str = "zh", title: str | None = None, top: int = 20) -> go.Figure:
    """Per item, a box from the quartiles (whiskers min and p90) with the promised limit as a diamond."""
    text = TEXT.get(lang, TEXT["zh"])
    data = items[items["completed"].fillna(0) > 0].dropna(subset=["median_days"]) if not items.empty else items
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values("completed", ascending=False).head(top).iloc[::-1]
    fig = go.Figure()
    labels = [
        f"{s}（{int(n):,}）" if lang == "zh" else f"{s} ({int(n):,})"
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
            marker_color="#1f5fa8",
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
        hovertemplate=text["promised"] + " %{x}<extra></extra>",
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
    text = TEXT.get(lang, TEXT["zh"])
    data = frame.dropna(subset=["on_time_rate"]) if not frame.empty else frame
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values("on_time_rate", ascending=True)
    fig = go.Figure(
        go.Bar(
            x=data["on_time_rate"].astype(float),
            y=data["department"],
            orientation="h",
            marker_color=[(colors or {}).get(d, "#1f5fa8") for d in data["department"]],
            customdata=data[["with_due", "overdue_completed"]].to_numpy(),
            text=[f"{r:.1%}" for r in data["on_time_rate"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>"
            + text["on_time"]
            + " %{x:.1%}<br>%{customdata[1]} / %{customdata[0]}<extra></extra>",
        )
    )
    target_line(fig, target, text["target"])
    lo = max(0.0, float(data["on_time_rate"].min()) - 0.1)
    fig.update_xaxes(tickformat=".0%", range=[lo, 1.08])
    fig.update_layout(showlegend=False)
    return base_layout(fig, title, height=max(320, 28 * len(data) + 100))
