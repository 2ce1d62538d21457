"""Figures of the monthly report, built from a snapshot's frozen content (lists of dicts), never from the database.

Every label that comes from the data passes through :func:`charts.theme.plot_text`: Plotly reads a few HTML-like
tags in text (``<b>``, ``<a href>``), so data text is entity-escaped and shows literally, inert.
``print_mode`` fixes the width to an A4 column and uses the report's print fonts (TrueType, so
that Chromium embeds them in the PDF instead of drawing Type 3 outlines).
"""

from __future__ import annotations

import plotly.graph_objects as go

from charts.theme import (
    ACCENT,
    FONT_FAMILY,
    GREY,
    PRIMARY,
    base_layout,
    channel_color,
    clean_values,
    department_colors,
    number_text,
    percent_text,
    plot_text,
    rate_text_positions,
    target_line,
)

#: TrueType fonts for the PDF: Latin from Liberation Sans, CJK from WenQuanYi Zen Hei (fonts-wqy-zenhei).
PRINT_FONT_FAMILY = "Liberation Sans, Arial, WenQuanYi Zen Hei, sans-serif"
#: An A4 page is 210 mm wide; with 15 mm margins the column is 180 mm = 680 CSS pixels.
PRINT_WIDTH = 680


def _colour(colors: dict[str, str], department: str | None) -> str:
    """A department's bar colour; grey for one not named (or not in the palette)."""
    return GREY if department is None else colors.get(department, GREY)


def _finish(fig: go.Figure, title: str | None, height: int, print_mode: bool) -> go.Figure:
    fig = base_layout(fig, title, height=height)
    fig.update_layout(hovermode="closest", font={"family": PRINT_FONT_FAMILY if print_mode else FONT_FAMILY})
    if print_mode:
        fig.update_layout(width=PRINT_WIDTH, autosize=False)
    return fig


def _empty(text: str, title: str | None, print_mode: bool) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, font={"size": 15, "color": GREY})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig, title, 220, print_mode)


def trend(rows: list[dict], title: str | None = None, *, print_mode: bool = False) -> go.Figure:
    """Cases per month as bars; online rate and on-time rate as lines on a percent axis."""
    if not rows:
        return _empty("没有数据", title, print_mode)
    months = [r["month"] for r in rows]
    fig = go.Figure()
    fig.add_bar(x=months, y=clean_values(r.get("cases") for r in rows), name="办件量", marker_color="#9db9dc",
                hovertemplate="%{x}：%{y:,.0f} 件<extra></extra>")  # fmt: skip
    fig.add_scatter(x=months, y=clean_values(r.get("online_rate") for r in rows), name="网办率", yaxis="y2",
                    mode="lines+markers", line={"color": PRIMARY, "width": 3}, cliponaxis=False,
                    hovertemplate="%{x}：网办率 %{y:.1%}<extra></extra>")  # fmt: skip
    fig.add_scatter(x=months, y=clean_values(r.get("on_time_rate") for r in rows), name="按时办结率", yaxis="y2",
                    mode="lines+markers", line={"color": ACCENT, "width": 2, "dash": "dot"}, cliponaxis=False,
                    hovertemplate="%{x}：按时办结率 %{y:.1%}<extra></extra>")  # fmt: skip
    # Months are "YYYY-MM" categories (never English month names); the rate axis stops at 100%.
    fig.update_layout(
        xaxis={"type": "category"},
        yaxis={"title": {"text": "办件量（件）"}, "tickformat": ",d", "rangemode": "tozero"},
        yaxis2={"title": {"text": "比率"}, "overlaying": "y", "side": "right", "tickformat": ".0%",
                "range": [0, 1], "dtick": 0.2, "showgrid": False},
    )  # fmt: skip
    return _finish(fig, title, 340, print_mode)


def _hbar_height(n: int) -> int:
    return max(200, 70 + 26 * n)


def department_online_rate(
    rows: list[dict],
    target: float | None,
    title: str | None = None,
    *,
    print_mode: bool = False,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Online rate per department (horizontal bars, largest volume on top) on a 0–100% axis, with the target.

    ``colors`` is :func:`charts.theme.department_colors` of all units (as on the pages); without it the
    colours follow the sorted departments of ``rows``.
    """
    rows = [r for r in rows if r.get("online_rate") is not None]
    if not rows:
        return _empty("没有渠道数据", title, print_mode)
    rows = list(reversed(rows))  # Plotly draws the first category at the bottom
    colors = colors if colors is not None else department_colors(r.get("department") for r in rows)
    names = [plot_text(r.get("department")) for r in rows]
    values = clean_values(r["online_rate"] for r in rows)
    texts = [
        f"{percent_text(v)}（{number_text(r.get('online_cases') or 0)}/{number_text(r.get('channel_known') or 0)}）"
        for v, r in zip(values, rows, strict=True)
    ]
    fig = go.Figure()
    fig.add_bar(y=names, x=values, orientation="h", marker_color=[_colour(colors, r.get("department")) for r in rows],
                text=texts, textposition=rate_text_positions(values), insidetextanchor="start", cliponaxis=False,
                hovertemplate="%{y}：%{x:.1%}<extra></extra>", name="网办率")  # fmt: skip
    target_line(fig, target, "zh")
    fig.update_layout(showlegend=False, xaxis={"tickformat": ".0%", "range": [0, 1]}, yaxis={"automargin": True})
    return _finish(fig, title, _hbar_height(len(rows)), print_mode)


def department_processing_days(rows: list[dict], title: str | None = None, *, print_mode: bool = False) -> go.Figure:
    """Median and 90th-percentile processing time per department, in working days."""
    rows = [r for r in rows if r.get("median_working_days") is not None]
    if not rows:
        return _empty("没有已办结的办件", title, print_mode)
    rows = list(reversed(rows))
    names = [plot_text(r.get("department")) for r in rows]
    fig = go.Figure()
    fig.add_bar(y=names, x=clean_values(r.get("median_working_days") for r in rows), orientation="h", name="中位数",
                marker_color=PRIMARY, hovertemplate="%{y}：中位 %{x:,.1f} 个工作日<extra></extra>")  # fmt: skip
    fig.add_bar(y=names, x=clean_values(r.get("p90_working_days") for r in rows), orientation="h", name="90 分位",
                marker_color="#9db9dc", hovertemplate="%{y}：90 分位 %{x:,.1f} 个工作日<extra></extra>")  # fmt: skip
    fig.update_layout(barmode="group", xaxis={"title": {"text": "工作日"}, "rangemode": "tozero"},
                      yaxis={"automargin": True})  # fmt: skip
    return _finish(fig, title, _hbar_height(len(rows)) + 10 * len(rows), print_mode)


def bottleneck_share(
    rows: list[dict],
    title: str | None = None,
    *,
    print_mode: bool = False,
    top: int = 10,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Share of all case time spent waiting at each department (the largest ``top``), on an axis from 0."""
    rows = [r for r in rows if r.get("share_of_case_time") is not None][:top]
    if not rows:
        return _empty("没有可分析的环节或办理时长", title, print_mode)
    rows = list(reversed(rows))
    colors = colors if colors is not None else department_colors(r.get("department") for r in rows)
    names = [plot_text(r.get("department")) for r in rows]
    values = clean_values(r["share_of_case_time"] for r in rows)
    top_value = max(v or 0.0 for v in values)
    fig = go.Figure()
    fig.add_bar(y=names, x=values, orientation="h", marker_color=[_colour(colors, r.get("department")) for r in rows],
                text=[percent_text(v) for v in values], textposition=rate_text_positions(values), insidetextanchor="start",
                cliponaxis=False, hovertemplate="%{y}：%{x:.1%}<extra></extra>")  # fmt: skip
    # Room for the labels of short bars, but a share never runs past 100%.
    fig.update_layout(showlegend=False, xaxis={"tickformat": ".0%", "range": [0, min(1.0, top_value * 1.25) or 1.0]},
                      yaxis={"automargin": True})  # fmt: skip
    return _finish(fig, title, _hbar_height(len(rows)), print_mode)


def channel_mix(rows: list[dict], labels: dict, title: str | None = None, *, print_mode: bool = False) -> go.Figure:
    """The month's cases by channel, as a donut, each channel in its fixed colour (charts.theme.channel_colors)."""
    if not rows:
        return _empty("没有渠道数据", title, print_mode)
    fig = go.Figure(
        go.Pie(
            labels=[plot_text(labels.get(r.get("channel"), r.get("channel"))) for r in rows],
            values=[r.get("cases") for r in rows],
            hole=0.5, sort=False, textinfo="label+percent", texttemplate="%{label} %{percent:.1%}",
            textposition="outside", direction="clockwise",
            marker={"colors": [channel_color(r.get("channel")) for r in rows]},
            hovertemplate="%{label}：%{value:,.0f} 件（%{percent:.1%}）<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(showlegend=False)
    return _finish(fig, title, 300, print_mode).update_layout(margin={"t": 40, "b": 40})
