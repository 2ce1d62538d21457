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
