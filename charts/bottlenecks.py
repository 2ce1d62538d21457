"""Bottleneck figures: the process map, department ranking, handover heat map, work in progress, rework."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque

import pandas as pd
import plotly.graph_objects as go

from charts.theme import (
    PRIMARY,
    base_layout,
    clean_values,
    date_axis,
    department_colors,
    empty_figure,
    number_text,
    percent_text,
    plot_text,
    plot_texts,
    rate_text_positions,
)
from text import NOTE, Text, in_language

REWORK_COLOR = "#d55e00"  # Okabe–Ito vermillion
LINE_DASHES = ("solid", "dash", "dot", "dashdot")

STAT_COLUMNS = {  # the median / p90 / mean switch: waiting_time columns and directly_follows columns
    "median": ("median_wait_hours", "median_hours"),
    "p90": ("p90_wait_hours", "p90_hours"),
    "mean": ("mean_wait_hours", "mean_hours"),
}
TEXT = {
    "empty_events": Text(
        "没有环节数据（只导入了办件表），无法绘制流程图", "No step data (only a case file was loaded): no process map"
    ),
    "hours": Text("小时", "hours"),
    "count": Text("次数", "Count"),
    "wait": Text("等待", "wait"),
    "cases": Text("件", "cases"),
    "from": Text("移出部门", "From"),
    "to": Text("接收部门", "To"),
    "open": Text("在办件数", "Open cases"),
    "day": Text("日期", "Day"),
    "rework": Text("返工率", "Rework rate"),
    "empty": Text("所选范围内没有数据", "No data in this selection"),
    "share": Text("占全部办理时间", "of all case time"),
    "share_axis": Text("占全部办理时间的比例", "Share of all case time"),
    "median_wait": Text("中位等待", "median wait"),
}
#: The handover matrix shows the busiest departments only: it says so.
_TOP_OF = Text("前 {shown} 个部门（按移交次数，共 {total} 个）", "Top {shown} of {total} departments by handovers")


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


#: Node boxes in data units (layers are 1 apart on x, rows 1 apart on y).
NODE_HALF_WIDTH = 0.32
NODE_HALF_HEIGHT = 0.24
NODE_FILL = "#f4f7fb"
NODE_LINE = "#1f5fa8"


def _inside(point: tuple[float, float], centre: tuple[float, float], pad: float = 0.0) -> bool:
    return abs(point[0] - centre[0]) < NODE_HALF_WIDTH + pad and abs(point[1] - centre[1]) < NODE_HALF_HEIGHT + pad


def _bezier(points: list[tuple[float, float]], t: float) -> tuple[float, float]:
    """A point of the Bézier curve with these control points (de Casteljau)."""
    pts = list(points)
    while len(pts) > 1:
        pts = [((1 - t) * a[0] + t * b[0], (1 - t) * a[1] + t * b[1]) for a, b in zip(pts, pts[1:], strict=False)]
    return pts[0]


def _leave(control: list[tuple[float, float]], centre: tuple[float, float], t_in: float, t_out: float) -> float:
    """The curve parameter where the curve crosses the edge of the box around ``centre`` (bisection)."""
    for _ in range(40):
        mid = (t_in + t_out) / 2
        if _inside(_bezier(control, mid), centre):
            t_in = mid
        else:
            t_out = mid
    return t_out


def _hits(control: list[tuple[float, float]], t0: float, t1: float, others: list[tuple[float, float]]) -> int:
    """How many of 40 points of the curve between ``t0`` and ``t1`` fall in (or next to) another box."""
    points = [_bezier(control, t0 + (t1 - t0) * k / 39) for k in range(40)]
    return sum(_inside(p, c, pad=0.03) for p in points for c in others)


def _edge_path(
    source: str, target: str, pos: dict[str, tuple[float, float]]
) -> tuple[list[tuple[float, float]], float, float]:
    """Control points of an edge's curve and the parameters where it leaves the source box and enters the target's.

    Forward edges are straight unless another box is in the way; otherwise, and for backward edges
    (loops), the edge bows to one side (backward edges upwards first, so both directions of a pair
    show), as little as clears the other boxes; a self-loop arcs over its box.
    """
    (x0, y0), (x1, y1) = pos[source], pos[target]
    if source == target:
        top = y0 + NODE_HALF_HEIGHT
        control = [(x0 - 0.14, top), (x0 - 0.4, top + 0.55), (x0 + 0.4, top + 0.55), (x0 + 0.14, top)]
        return control, 0.0, 1.0
    others = [c for step, c in pos.items() if step not in (source, target)]

    def clipped(control: list[tuple[float, float]]) -> tuple[list[tuple[float, float]], float, float]:
        t_start = _leave(control, (x0, y0), 0.0, 0.5)
        t_end = 1.0 - _leave(control[::-1], (x1, y1), 0.0, 0.5)  # the reversed curve leaves the target box
        return control, t_start, t_end

    straight = clipped([(x0, y0), (x1, y1)])
    if x1 > x0 and _hits(*straight, others) == 0:
        return straight
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
    normal = (-(y1 - y0) / length, (x1 - x0) / length)  # left of the direction of travel
    upwards = normal[1] > 0 or (normal[1] == 0 and normal[0] > 0)
    sides = [1.0, -1.0] if upwards == (x1 <= x0) else [-1.0, 1.0]
    best, best_hits = None, None
    least = 0.45 if x1 <= x0 else 0.2  # a backward edge keeps clear of the forward one of its pair
    for bow in (b for b in (0.2, 0.3, 0.45, 0.65, 0.9, 1.2, 1.6, 2.2, 3.0) if b >= least):
        for side in sides:
            mid = ((x0 + x1) / 2 + side * normal[0] * bow, (y0 + y1) / 2 + side * normal[1] * bow)
            candidate = clipped([(x0, y0), mid, (x1, y1)])
            hits = _hits(*candidate, others)
            if hits == 0:
                return candidate
            if best_hits is None or hits < best_hits:
                best, best_hits = candidate, hits
    return best if best is not None else straight


def _label_point(
    control: list[tuple[float, float]],
    t_start: float,
    t_end: float,
    placed: list[tuple[float, float]],
    boxes: list[tuple[float, float]],
) -> tuple[float, float]:
    """Where an edge's count goes: the middle of its visible part, or the nearest point along it that is
    clear of the boxes and of the labels already placed."""
    fallback = _bezier(control, (t_start + t_end) / 2)
    for share in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78):
        point = _bezier(control, t_start + (t_end - t_start) * share)
        if any(_inside(point, c, pad=0.05) for c in boxes):
            continue
        if all(abs(point[0] - q[0]) > 0.16 or abs(point[1] - q[1]) > 0.12 for q in placed):
            return point
    return fallback


def _wait_scale() -> list[list]:
    """Short waits light, long waits dark: Viridis reversed, its pale yellow end cut off (it vanishes on white)."""
    import plotly.colors as pc

    stops = [i / 8 for i in range(9)]
    colours = pc.sample_colorscale("Viridis", [0.82 * (1 - s) for s in stops])
    return [[s, c] for s, c in zip(stops, colours, strict=True)]


def _node_label(step: str, count: float) -> str:
    """ "<b>name</b><br>count"; a long name on two lines (cut after 12 characters)."""
    name = (
        plot_text(step)
        if len(step) <= 6
        else f"{plot_text(step[:6])}<br>{plot_text(step[6:12])}{'…' if len(step) > 12 else ''}"
    )
    return f"<b>{name}</b><br>{number_text(count)}"


def process_map(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    stat: str = "median",
    lang: str = "zh",
    title: str | None = None,
    min_count: int = 1,
) -> go.Figure:
    """Steps as boxes; arrows coloured by waiting time (the chosen statistic) and as wide as the volume.

    Arrows run from box edge to box edge (never through a box), each carries its count on a white
    label, and the colour scale (Viridis) reads for colour-blind viewers.
    """
    text = in_language(TEXT, lang)
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
    pos: dict[str, tuple[float, float]] = {}
    for layer_x, steps in by_layer.items():
        # The busiest step of each layer on the centre line, the others alternately above and below it,
        # so the main path reads as a straight line from left to right.
        for i, step in enumerate(steps):
            offset = (i + 1) // 2 * (1 if i % 2 else -1)
            pos[step] = (float(layer_x), float(offset))
    waits = edges[edge_col].astype(float)
    lo, hi = float(waits.min()), float(waits.max())
    max_count = float(edges["count"].max())
    import plotly.colors as pc

    scale = _wait_scale()
    fig = go.Figure()
    mid_x: list[float] = []
    mid_y: list[float] = []
    hover: list[str] = []
    drawn: list[tuple[float, float]] = []
    # The busiest edges first: they get the middle of their curve for their count label.
    for row in edges.sort_values("count", ascending=False, kind="stable").itertuples(index=False):
        wait = float(getattr(row, edge_col))
        share = 0.0 if hi == lo or pd.isna(wait) else (wait - lo) / (hi - lo)
        colour = pc.sample_colorscale(scale, [share])[0]
        width = 1 + 7 * (row.count / max_count)
        control, t_start, t_end = _edge_path(row.source, row.target, pos)
        samples = [_bezier(control, t_start + (t_end - t_start) * k / 48) for k in range(49)]
        tip = samples[-1]
        # The arrow's own shaft covers the last ~0.12 units; the line trace stops where it starts.
        tail_index = max(
            (k for k, p in enumerate(samples[:-1]) if ((p[0] - tip[0]) ** 2 + (p[1] - tip[1]) ** 2) ** 0.5 >= 0.12),
            default=0,
        )
        body = samples[: tail_index + 1]
        fig.add_scatter(
            x=[p[0] for p in body],
            y=[p[1] for p in body],
            mode="lines",
            line={"color": colour, "width": width},
            opacity=0.9,
            hoverinfo="skip",
            showlegend=False,
        )
        fig.add_annotation(
            x=tip[0],
            y=tip[1],
            ax=body[-1][0],
            ay=body[-1][1],
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=2,
            arrowsize=max(0.5, 1.6 / width**0.5),  # heads of thick arrows not oversized
            arrowwidth=width,
            arrowcolor=colour,
            standoff=0,
            startstandoff=0,
            text="",
            opacity=0.9,
        )
        drawn.extend(samples)
        label_at = _label_point(control, t_start, t_end, list(zip(mid_x, mid_y, strict=True)), list(pos.values()))
        edge_hover = (
            f"{plot_text(row.source)} → {plot_text(row.target)}<br>{text['count']} {number_text(row.count)}<br>"
            f"{text['wait']} {number_text(wait, 1)} {text['hours']}"
        )
        fig.add_annotation(
            x=label_at[0],
            y=label_at[1],
            xref="x",
            yref="y",
            text=number_text(row.count),
            showarrow=False,
            font={"size": 11, "color": "#222"},
            bgcolor="rgba(255,255,255,0.9)",
            borderpad=1,
            hovertext=edge_hover,
        )
        mid_x.append(label_at[0])
        mid_y.append(label_at[1])
        hover.append(edge_hover)
    fig.add_scatter(
        x=mid_x,
        y=mid_y,
        mode="markers",
        marker={"size": 14, "opacity": 0},
        hovertext=hover,
        hoverinfo="text",
        showlegend=False,
    )
    steps = list(nodes["step"])
    node_x = [pos[s][0] for s in steps]
    node_y = [pos[s][1] for s in steps]
    node_labels = [_node_label(str(s), c) for s, c in zip(steps, nodes["count"], strict=True)]
    for step, text_ in zip(steps, node_labels, strict=True):
        x, y = pos[step]
        # Boxes above the lines (layer "above"), so no line can show through a box; labels above the boxes.
        fig.add_shape(
            type="rect",
            x0=x - NODE_HALF_WIDTH,
            x1=x + NODE_HALF_WIDTH,
            y0=y - NODE_HALF_HEIGHT,
            y1=y + NODE_HALF_HEIGHT,
            xref="x",
            yref="y",
            fillcolor=NODE_FILL,
            line={"color": NODE_LINE, "width": 2},
            layer="above",
        )
        fig.add_annotation(x=x, y=y, xref="x", yref="y", text=text_, showarrow=False, font={"size": 12})
    fig.add_scatter(
        x=node_x,
        y=node_y,
        mode="markers",
        text=node_labels,
        showlegend=False,
        hoverinfo="text",
        hovertext=[
            f"{plot_text(s)}<br>{number_text(c)} {text['count']}" for s, c in zip(steps, nodes["count"], strict=True)
        ],
        marker={"size": 40, "opacity": 0, "symbol": "square"},
    )
    fig.add_scatter(
        x=[None],
        y=[None],
        mode="markers",
        showlegend=False,
        hoverinfo="skip",
        marker={
            "colorscale": scale,
            "cmin": lo,
            "cmax": hi if hi > lo else lo + 1,
            "color": [lo],
            "showscale": True,
            "colorbar": {
                "title": {"text": NOTE(lang).format(text["wait"], text["hours"])},
                "thickness": 12,
            },
        },
    )
    xs = [p[0] for p in drawn] + node_x
    ys = [p[1] for p in drawn] + node_y
    fig.update_xaxes(
        visible=False, range=[min(min(xs), min(node_x) - 0.6) - 0.1, max(max(xs), max(node_x) + 0.6) + 0.1]
    )
    fig.update_yaxes(
        visible=False, range=[min(min(ys), min(node_y) - 0.9) - 0.1, max(max(ys), max(node_y) + 0.9) + 0.1]
    )
    fig.update_layout(hovermode="closest")
    rows = max(len(v) for v in by_layer.values())
    return base_layout(fig, title, height=max(420, 110 * rows + 80))


def department_ranking(
    table: pd.DataFrame,
    stat: str = "share",
    lang: str = "zh",
    title: str | None = None,
    colors: dict[str, str] | None = None,
    top: int = 15,
) -> go.Figure:
    """Departments by their share of all case time (``stat="share"``, the measure of the ranked findings), or by
    a waiting statistic (median / p90 / mean hours); hover gives the other figures."""
    text = in_language(TEXT, lang)
    share = stat == "share"
    col = "share_of_case_time" if share else STAT_COLUMNS[stat][0]
    if table.empty or col not in table:
        return empty_figure(text["empty"], title)
    data = table.dropna(subset=[col]).sort_values(col).tail(top)
    if data.empty:
        return empty_figure(text["empty"], title)
    median = data["median_wait_hours"] if "median_wait_hours" in data else pd.Series([None] * len(data))
    fig = go.Figure(
        go.Bar(
            x=clean_values(data[col], 4 if share else 1),
            y=plot_texts(data["department"]),
            orientation="h",
            marker_color=[(colors or {}).get(d, PRIMARY) for d in data["department"]],
            customdata=list(zip(data["count"], data["share_of_case_time"], median, strict=True)),
            text=[percent_text(v) if share else number_text(v, 1) for v in data[col]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>%{customdata[1]:.1%} "
            + text["share"]
            + "<br>"
            + text["count"]
            + " %{customdata[0]:,.0f}<br>"
            + text["median_wait"]
            + " %{customdata[2]:,.1f} "
            + text["hours"]
            + "<extra></extra>",
        )
    )
    if share:
        fig.update_xaxes(title=text["share_axis"], range=[0, 1], tickformat=".0%", automargin=True)
    else:
        fig.update_xaxes(
            title=NOTE(lang).format(text["wait"], text["hours"]),
            rangemode="tozero",
            tickformat=",",
            automargin=True,
        )
    fig.update_yaxes(automargin=True)
    fig.update_layout(showlegend=False)
    return base_layout(fig, title, height=max(320, 26 * len(data) + 100)).update_layout(margin={"r": 60})


#: The heat map keeps the departments with the most handovers (in and out), so that every label shows.
HEATMAP_TOP = 10


def _short(name: str, limit: int = 8) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def handover_heatmap(
    matrix: pd.DataFrame, lang: str = "zh", title: str | None = None, top: int = HEATMAP_TOP
) -> go.Figure:
    """Handover counts between departments (rows hand over to columns); hover adds the median delay.

    Only the ``top`` departments by handovers (sent + received) are shown, every one labelled on both
    axes (long names shortened, the full name in the hover); the title says so when some are left out.
    """
    text = in_language(TEXT, lang)
    if matrix.empty:
        return empty_figure(text["empty"], title)
    volume = pd.concat([matrix.groupby("from_unit")["count"].sum(), matrix.groupby("to_unit")["count"].sum()])
    totals = volume.groupby(level=0).sum()
    # Most handovers first; ties by name, so the choice does not depend on row order.
    ranked = sorted(totals.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))
    units = [u for u, _ in ranked[:top]]
    data = matrix[matrix["from_unit"].isin(units) & matrix["to_unit"].isin(units)]
    counts = data.pivot_table(index="from_unit", columns="to_unit", values="count", aggfunc="sum").reindex(
        index=units, columns=units
    )
    delays = data.pivot_table(
        index="from_unit", columns="to_unit", values="median_delay_hours", aggfunc="first"
    ).reindex(index=units, columns=units)
    names = [plot_text(u) for u in units]
    ticks = [plot_text(_short(str(u))) for u in units]
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=names,
            y=names,
            colorscale="Blues",
            customdata=delays.to_numpy(),
            hovertemplate=text["from"]
            + " %{y}<br>"
            + text["to"]
            + " %{x}<br>"
            + text["count"]
            + " %{z:,.0f}<br>"
            + text["wait"]
            + " %{customdata:,.1f} "
            + text["hours"]
            + "<extra></extra>",
            colorbar={"title": {"text": text["count"]}, "thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    axis = {"tickmode": "array", "tickvals": names, "ticktext": ticks, "automargin": True, "tickfont": {"size": 11}}
    fig.update_xaxes(title=text["to"], tickangle=-45, **axis)
    fig.update_yaxes(title=text["from"], autorange="reversed", **axis)
    fig.update_layout(xaxis_showgrid=False, yaxis_showgrid=False)
    if len(totals) > len(units):
        note = _TOP_OF(lang).format(shown=len(units), total=len(totals))
        title = f"{title}<br><sup>{note}</sup>" if title else note
    fig = base_layout(fig, title, height=max(440, 34 * len(units) + 200))
    fig.update_layout(hovermode="closest", margin={"t": 80 if title else 20, "r": 20})
    return fig


def wip_lines(
    wip: pd.DataFrame,
    lang: str = "zh",
    title: str | None = None,
    colors: dict[str, str] | None = None,
    top: int = 8,
    *,
    as_of: dt.date | None = None,
) -> go.Figure:
    """Cases open at each day's end for the busiest departments, up to ``as_of`` (never into the future)."""
    text = in_language(TEXT, lang)
    if not wip.empty and as_of is not None:
        wip = wip[pd.to_datetime(wip["day"]) <= pd.Timestamp(as_of)]
    if wip.empty:
        return empty_figure(text["empty"], title)
    colors = colors if colors is not None else department_colors(wip["department"])
    means = wip.groupby("department")["open_cases"].mean()
    leaders = [d for d, _ in sorted(means.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))[:top]]
    fig = go.Figure()
    used: dict[str | None, int] = defaultdict(int)
    for dept in leaders:
        part = wip[wip["department"] == dept].sort_values("day")
        colour = colors.get(dept)
        # With more units than colours two departments can share one: the second line is dashed.
        dash = LINE_DASHES[used[colour] % len(LINE_DASHES)]
        used[colour] += 1
        fig.add_scatter(
            x=pd.to_datetime(part["day"]),
            y=clean_values(part["open_cases"]),
            mode="lines",
            name=plot_text(dept),
            line={"color": colour, "width": 2, "dash": dash},
            hovertemplate="%{y:,.0f}",
        )
    fig.update_yaxes(title=text["open"], rangemode="tozero", tickformat=",d")
    date_axis(fig, "day", days=wip["day"])
    base_layout(fig, title, height=400 + 22 * ((len(leaders) + 1) // 2))
    # The legend under the plot: up to eight department names would cover the title above it.
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "xanchor": "left"},
        margin={"b": 40 + 22 * ((len(leaders) + 1) // 2)},
    )
    return fig


def rework_bars(rework: pd.DataFrame, lang: str = "zh", title: str | None = None, top: int = 12) -> go.Figure:
    """Rework rate per step: the bar's length is the rate its label shows (0–100%); counts in the hover.

    The steps shown are the ``top`` with the most repeated cases, ordered by rate.
    """
    text = in_language(TEXT, lang)
    data = rework[rework["cases_repeated"] > 0] if not rework.empty else rework
    if not data.empty:
        data = data.dropna(subset=["rework_rate"])
    if data.empty:
        return empty_figure(text["empty"], title)
    data = data.sort_values(["cases_repeated", "step"]).tail(top).sort_values(["rework_rate", "cases_repeated"])
    fig = go.Figure(
        go.Bar(
            x=clean_values(data["rework_rate"]),
            y=[plot_text(s) for s in data["step"]],
            orientation="h",
            marker_color=REWORK_COLOR,
            customdata=data[["cases_repeated", "cases"]].to_numpy(),
            text=[percent_text(r) for r in data["rework_rate"]],
            textposition=rate_text_positions(data["rework_rate"]),
            insidetextanchor="start",
            cliponaxis=False,
            hovertemplate="%{y}<br>"
            + text["rework"]
            + " %{x:.1%}<br>%{customdata[0]:,.0f} / %{customdata[1]:,.0f} "
            + text["cases"]
            + "<extra></extra>",
        )
    )
    fig.update_xaxes(title=text["rework"], tickformat=".0%", range=[0, 1], automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(showlegend=False, hovermode="closest")
    return base_layout(fig, title, height=max(300, 28 * len(data) + 120))
