"""One look for every figure: a CJK-capable font, Chinese-friendly number formats, fixed colours."""

from __future__ import annotations

import plotly.graph_objects as go

#: Noto Sans CJK (Debian's fonts-noto-cjk) first, so Chinese labels never render as boxes.
FONT_FAMILY = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PRIMARY = "#1f5fa8"
ACCENT = "#e07b00"


def base_layout(fig: go.Figure, title: str | None = None, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"} if title else None,
        font={"family": FONT_FAMILY, "size": 13},
        height=height,
        margin={"l": 50, "r": 50, "t": 60 if title else 20, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        plot_bgcolor="white",
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(gridcolor="#e8e8e8")
    return fig


#: A qualitative palette with enough distinct colours for a township's offices and county bureaux.
PALETTE = [
    "#1f5fa8",
    "#e07b00",
    "#2e9e44",
    "#c8332f",
    "#7b52ab",
    "#8c564b",
    "#d6589f",
    "#5f6b7a",
    "#a8a800",
    "#17a2b8",
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#9c755f",
    "#ff9da7",
    "#76b7b2",
    "#edc948",
    "#bab0ac",
    "#2f4b7c",
    "#a05195",
    "#d45087",
    "#665191",
    "#ff7c43",
    "#003f5c",
    "#488f31",
    "#de425b",
]


def department_colors(all_units: list[str]) -> dict[str, str]:
    """The same department keeps the same colour on every page: colours follow the sorted list of all units."""
    return {unit: PALETTE[i % len(PALETTE)] for i, unit in enumerate(sorted(set(all_units)))}


def target_line(fig: go.Figure, target: float | None, label: str) -> None:
    """A rate target as a dashed vertical line over horizontal bars, labelled "<label> 60%" on top."""
    if target is not None:
        fig.add_vline(
            x=target,
            line_dash="dash",
            line_color=ACCENT,
            annotation_text=f"{label} {target:.0%}",
            annotation_position="top",
        )


def empty_figure(message: str, title: str | None = None, height: int = 300) -> go.Figure:
    """Never a blank chart: an empty figure says why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return base_layout(fig, title, height=height)
