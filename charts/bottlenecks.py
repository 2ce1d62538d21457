"""Bottleneck figures: the process map, department ranking, handover heat map, work in progress, rework."""

from __future__ import annotations

from collections import defaultdict, deque

import pandas as pd
import plotly.graph_objects as go

from charts.theme import base_layout, empty_figure

STAT_COLUMNS = {  # the median / p90 / mean switch: waiting_time columns and directly_follows columns
    "median": ("median_wait_hours", "median_hours"),
    "p90": ("p90_wait_hours", "p90_hours"),
    "mean": ("mean_wait_hours", "mean_hours"),
}
TEXT = {
    "zh": {
        "empty_events": "没有环节数据（只导入了办件表），无法绘制流程图",
        "hours": "小时",
        "count": "次数",
        "wait": "等待",
        "cases": "件",
        "from": "移出部门",
        "to": "接收部门",
        "open": "在办件数",
        "day": "日期",
        "rework": "返工率",
        "empty": "所选范围内没有数据",
        "share": "占全部办理时间",
    },
    "en": {
        "empty_events": "No step data (only a case file was loaded): no process map",
        "hours": "hours",
        "count": "Count",
        "wait": "wait",
        "cases": "cases",
        "from": "From",
        "to": "To",
        "open": "Open cases",
        "day": "Day",
        "rework": "Rework rate",
        "empty": "No data in this selection",
        "share": "of all case time",
    },
}
WAIT_SCALE = "RdYlGn_r"  # green: short waits, red: long waits


def _layers(nodes: pd.DataFrame, edges: pd.DataFrame) -> dict[str, int]:
    """Left-to-right layers: breadth-first distance from the start steps (loops do not push steps right)."""
    succ: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for s, t, c in edges[["source", "target", "count"]].itertuples(index=False):
        succ[s].append((t, c))
    starts = list(nodes.loc[nodes["start_count"] > 0, "step"]) or list(nodes.sort_values("count").tail(1)["step"])
    layer = {s: 0 for s in starts}
    queue = deque(starts)
    while queue:
        step = queue.popleft()
        for nxt, _ in sorted(succ[step], key=lambda p: -p[1]):
            if nxt not in layer:
                layer[nxt] = layer[step] + 1
                queue.append(nxt)
    deepest = max(layer.values(), default=0)
    for step in nodes["step"]:
        layer.setdefault(step, deepest + 1)
    return layer


def process_map(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    stat: str = "median",
    lang: str = "zh",
    title: str | None = None,
    min_count: int = 1,
) -> go.Figure:
    """Steps as nodes; arrows coloured by waiting time (the chosen statistic) and as wide as the volume."""
    text = TEXT.get(lang, TEXT["zh"])
    if nodes.empty or edges.empty:
        return empty_figure(text["empty_events"], title, height=420)
    edge_col = STAT_COLUMNS[stat][1]
    edges = edges[edges["count"] >= min_count].copy()
    if edges.empty:
        return empty_figure(text["empty"], title, height=420)
    shown_steps = set(edges["source"]) | set(edges["target"])
    nodes = nodes[nodes["step"].isin(shown_steps)]
    layer = _layers(nodes, edges)
    by_layer: dict[int, list[str]] = defaultdict(list)
    for step in nodes.sort_values("count", ascending=False)["step"]:
        by_layer[layer[step]].append(step)
    pos = {}
    for x, steps in by_layer.items():
        # The busiest step of each layer on the centre line, the others alternately above and below it,
        # so the main path reads as a straight line from left to right.
        for i, step in enumerate(steps):
            offset = (i + 1) // 2 * (1 if i % 2 else -1)
            pos[step] = (x, float(offset))
    waits = edges[edge_col].astype(float)
    lo, hi = float(waits.min()), float(waits.max()) if len(waits) else 1.0
    max_count = float(edges["count"].max())
    import plotly.colors as pc

    fig = go.Figure()
    mid_x, mid_y, hover = [], [], []
    for row in edges.itertuples(index=False):
        (x0, y0), (x1, y1) = pos[row.source], pos[row.target]
        share = 0.0 if hi == lo else (float(getattr(row, edge_col)) - lo) / (hi - lo)
        colour = pc.sample_colorscale(WAIT_SCALE, [share])[0]
        width = 1 + 7 * (row.count / max_count)
        bend = 0.35 if x1 <= x0 else 0.0  # loops and backward edges bow aside so both directions show
        fig.add_annotation(
            x=x1,
            y=y1 + bend * 0.3,
            ax=x0,
            ay=y0 + bend,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=2,
            arrowsize=0.8,
            arrowwidth=width,
            arrowcolor=colour,
            standoff=16,
            startstandoff=16,
            opacity=0.85,
        )
        mid_x.append((x0 + x1) / 2)
        mid_y.append((y0 + y1) / 2 + bend * 0.65)
        hover.append(
            f"{row.source} → {row.target}<br>{text['count']} {int(row.count):,}<br>"
            f"{text['wait']} {float(getattr(row, edge_col)):.1f} {text['hours']}"
        )
    fig.add_scatter(
        x=mid_x,
        y=mid_y,
        mode="markers",
        marker={"size": 10, "opacity": 0},
        hovertext=hover,
        hoverinfo="text",
        showlegend=False,
    )
    node_x = [pos[s][0] for s in nodes["step"]]
    node_y = [pos[s][1] for s in nodes["step"]]
    fig.add_scatter(
        x=node_x,
        y=node_y,
        mode="markers+text",
        text=[f"<b>{s}</b><br>{int(c):,}" for s, c in zip(nodes["step"], nodes["count"], strict=True)],
        textposition="middle center",
        showlegend=False,
        hoverinfo="text",
        hovertext=[f"{s}<br>{int(c):,} {text['count']}" for s, c in zip(nodes["step"], nodes["count"], strict=True)],
        marker={"size": 58, "color": "#f4f7fb", "line": {"color": "#1f5fa8", "width": 2}, "symbol": "square"},
        textfont={"size": 12},
    )
    fig.add_scatter(
        x=[None],
        y=[None],
        mode="markers",
        showlegend=False,
        hoverinfo="skip",
        marker={
            "colorscale": WAIT_SCALE,
            "cmin": lo,
            "cmax": hi,
            "color": [lo],
            "showscale": True,
            "colorbar": {
                "title": {
                    "text": f"{text['wait']}（{text['hours']}）"
                    if lang == "zh"
                    else f"{text['wait']} ({text['hours']})"
                },
                "thickness": 12,
            },
        },
    )
    fig.update_xaxes(visible=False, range=[-0.6, max(node_x) + 0.6])
    fig.update_yaxes(visible=False, range=[min(node_y) - 0.9, max(node_y) + 0.9])
    fig.update_layout(hovermode="closest")
    return base_layout(fig, title, height=max(420, 95 * max(len(v) for v in by_layer.values())))


def department_ranking(
    table: pd.DataFrame,
    stat: str = "median",
    lang: str = "zh",
    title: str | None = None,
    colors: dict[str, str] | None = None,
    top: int = 15,
) -> go.Figure:
    """Departments by the chosen waiting statistic; hover gives volume and share of all case time."""
    text = TEXT.get(lang, TEXT["zh"])
    col = STAT_COLUMNS[stat][0]
    if table.empty or col not in table:
        return empty_figure(text["empty"], title)
    data = table.dropna(subset=[col]).sort_values(col).tail(top)
    fig = go.Figure(
        go.Bar(
            x=data[col].astype(float),
            y=data["department"],
            orientation="h",
            marker_color=[(colors or {}).get(d, "#1f5fa8") for d in data["department"]],
            customdata=data[["count", "share_of_case_time"]].to_numpy(),
            text=[f"{v:.1f}" for v in data[col]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>%{x:.1f} " + text["hours"] + "<br>" + text["count"] + " %{customdata[0]:,}<br>"
            "%{customdata[1]:.1%} " + text["share"] + "<extra></extra>",
        )
    )
    fig.update_xaxes(
        title=f"{text['wait']}（{text['hours']}）" if lang == "zh" else f"{text['wait']} ({text['hours']})"
    )
    fig.update_layout(showlegend=False)
    return base_layout(fig, title, height=max(320, 26 * len(data) + 100))


def handover_heatmap(matrix: pd.DataFrame, lang: str = "zh", title: str | None = None, top: int = 14) -> go.Figure:
    """Handover counts between departments (rows hand over to columns); hover adds the median delay."""
    text = TEXT.get(lang, TEXT["zh"])
    if matrix.empty:
        return empty_figure(text["empty"], title)
    volume = pd.concat([matrix.groupby("from_unit")["count"].sum(), matrix.groupby("to_unit")["count"].sum()])
    units = list(volume.groupby(level=0).sum().sort_values(ascending=False).head(top).index)
    data = matrix[matrix["from_unit"].isin(units) & matrix["to_unit"].isin(units)]
    counts = data.pivot_table(index="from_unit", columns="to_unit", values="count", aggfunc="sum").reindex(
        index=units, columns=units
    )
    delays = data.pivot_table(
        index="from_unit", columns="to_unit", values="median_delay_hours", aggfunc="first"
    ).reindex(index=units, columns=units)
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=units,
            y=units,
            colorscale="Blues",
            customdata=delays.to_numpy(),
            hovertemplate=text["from"]
            + " %{y}<br>"
            + text["to"]
            + " %{x}<br>"
            + text["count"]
            + " %{z:,}<br>"
            + text["wait"]
            + " %{customdata:.1f} "
            + text["hours"]
            + "<extra></extra>",
            colorbar={"title": {"text": text["count"]}, "thickness": 12},
        )
    )
    fig.update_xaxes(title=text["to"], tickangle=-40)
    fig.update_yaxes(title=text["from"], autorange="reversed")
    return base_layout(fig, title, height=max(420, 30 * len(units) + 160))


def wip_lines(
    wip: pd.DataFrame, lang: str = "zh", title: str | None = None, colors: dict[str, str] | None = None, top: int = 8
) -> go.Figure:
    text = TEXT.get(lang, TEXT["zh"])
    if wip.empty:
        return empty_figure(text["empty"], title)
    leaders = list(wip.groupby("department")["open_cases"].mean().sort_values(ascending=False).head(top).index)
    fig = go.Figure()
    for dept in leaders:
        part = wip[wip["department"] == dept].sort_values("day")
        fig.add_scatter(
            x=part["day"],
            y=part["open_cases"],
            mode="lines",
            name=dept,
            line={"color": (colors or {}).get(dept), "width": 2},
        )
    fig.update_yaxes(title=text["open"], rangemode="tozero")
    return base_layout(fig, title)


def rework_bars(rework: pd.DataFrame, lang: str = "zh", title: str | None = None, top: int = 12) -> go.Figure:
    text = TEXT.get(lang, TEXT["zh"])
    data = rework[rework["cases_repeated"] > 0] if not rework.empty else rework
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values("cases_repeated").tail(top)
    fig = go.Figure(
        go.Bar(
            x=data["cases_repeated"],
            y=data["step"],
            orientation="h",
            marker_color="#c8332f",
            customdata=data[["cases", "rework_rate"]].to_numpy(),
            text=[f"{r:.1%}" for r in data["rework_rate"]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>%{x:,} / %{customdata[0]:,} "
            + text["cases"]
            + "<br>"
            + text["rework"]
            + " %{customdata[1]:.1%}<extra></extra>",
        )
    )
    fig.update_layout(showlegend=False)
    return base_layout(fig, title, height=max(300, 28 * len(data) + 100))
