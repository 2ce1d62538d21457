"""全县对比 figures: each town's online rate over twelve months, one small panel per town, on one 0–100% axis."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from charts.theme import (
    GREY,
    PRIMARY,
    TARGET_COLOR,
    base_layout,
    clean_values,
    empty_figure,
    percent_text,
    plot_text,
    target_label,
)
from text import Text, in_language

LABELS = {
    "county": Text("全县", "County"),
    "town": Text("本乡镇", "Town"),
    "empty": Text("所选期间没有数据", "No data in this period"),
}
#: Panels per row, and a row's height in pixels (title, 0–100% axis, month ticks).
COLUMNS = 5
ROW_HEIGHT = 150


#: The most towns drawn as panels: a province's hundreds of towns are a table, the panels show the first of ``order``.
MAX_PANELS = 24


def town_online_small_multiples(
    towns: pd.DataFrame,
    county: pd.DataFrame,
    lang: str = "zh",
    *,
    order: list[str] | None = None,
    target: float | None = None,
    title: str | None = None,
    columns: int = COLUMNS,
) -> go.Figure:
    """One panel per town (``towns``: town, month "YYYY-MM", value), the county's monthly rate (``county``: month,
    value) dashed grey in every panel; every panel 0–100%. ``order`` is the panels' order (default: by name).

    A month without cases is a gap in the town's line, not a 0%.
    """
    labels = in_language(LABELS, lang)
    if towns.empty:
        return empty_figure(labels["empty"], title)
    names = order or sorted(towns["town"].dropna().unique().tolist())
    names = [n for n in names if n in set(towns["town"])]
    cols = max(1, min(columns, len(names)))
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=True,
        shared_xaxes=True,
        subplot_titles=[_title(towns, n) for n in names],
        vertical_spacing=min(0.3 / max(rows - 1, 1), 0.12) if rows > 1 else 0.0,
        horizontal_spacing=0.05,
    )
    months = sorted(towns["month"].unique().tolist())
    county_by_month = dict(zip(county["month"], county["value"], strict=True)) if not county.empty else {}
    county_y = clean_values([county_by_month.get(m) for m in months])
    for i, name in enumerate(names):
        row, col = divmod(i, cols)
        part = towns[towns["town"] == name].set_index("month").reindex(months)
        fig.add_scatter(
            x=months,
            y=county_y,
            mode="lines",
            line={"color": GREY, "width": 1.2, "dash": "dot"},
            name=labels["county"],
            legendgroup="county",
            showlegend=i == 0,
            hovertemplate=f"{labels['county']} %{{y:.1%}}<extra></extra>",
            row=row + 1,
            col=col + 1,
        )
        fig.add_scatter(
            x=months,
            y=clean_values(part["value"]),
            mode="lines",
            line={"color": PRIMARY, "width": 2},
            name=labels["town"],
            legendgroup="town",
            showlegend=i == 0,
            hovertemplate=f"{plot_text(name)} %{{y:.1%}}<extra></extra>",
            row=row + 1,
            col=col + 1,
        )
        if target is not None:  # a line across the panel, named once in the legend ("目标 60%")
            fig.add_scatter(
                x=months,
                y=[target] * len(months),
                mode="lines",
                line={"color": TARGET_COLOR, "width": 0.8, "dash": "dash"},
                name=target_label(target, lang),
                legendgroup="target",
                showlegend=i == 0,
                hoverinfo="skip",
                row=row + 1,
                col=col + 1,
            )
    fig.update_yaxes(range=[0, 1], tickformat=".0%", tickmode="array", tickvals=[0, 0.5, 1], gridcolor="#e8e8e8")
    # Months as categories, only the first and the last labelled: twelve ticks do not fit a small panel.
    ticks = [months[0], months[-1]] if len(months) > 1 else months
    fig.update_xaxes(
        type="category", tickmode="array", tickvals=ticks, ticktext=[m[2:] for m in ticks], tickfont={"size": 10}
    )
    fig.update_annotations(font={"size": 13})
    base_layout(fig, title, height=ROW_HEIGHT * rows + (90 if title else 60))
    fig.update_layout(
        hovermode="closest",
        margin={"l": 40, "r": 20, "t": 100 if title else 70, "b": 30},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "yref": "container", "x": 1, "xanchor": "right"},
    )
    return fig


def _title(towns: pd.DataFrame, name: str) -> str:
    """A panel's title: the town and its rate in the last month ("白沙镇 20.3%"), the town's name inert."""
    part = towns[towns["town"] == name].sort_values("month")
    last = part["value"].iloc[-1] if len(part) else None
    rate = "" if last is None or pd.isna(last) else f" {percent_text(float(last))}"
    return f"{plot_text(name)}{rate}"
