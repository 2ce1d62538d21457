"""一件事 figures: which items people file in the same journey (a matrix), which departments they must both visit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from charts.theme import PALETTE, PRIMARY, base_layout, empty_figure, plot_text
from text import Text, in_language

TEXT = {
    "empty": Text("所选月份没有可显示的事项组合", "No pair of items to show this month"),
    "applicants": Text("申请人", "Applicants"),
    "journeys": Text("旅程", "journeys"),
    "gap": Text("中位间隔", "median gap"),
    "days": Text("天", "days"),
    "people": Text("位申请人", "applicants"),
    "other": Text("其他部门", "Other departments"),
    "some": Text(
        "图中为申请人最多的 {shown} 组（共 {total} 组，全部见下表）",
        "The {shown} pairs with most applicants (all {total} in the table below)",
    ),
}
#: The matrix keeps the items of the busiest pairs, so that every label shows.
MATRIX_ITEMS = 10


def _short(name: str, limit: int = 12) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def distinct_colors(names: Sequence[str], colors: Mapping[str, str]) -> dict[str, str]:
    """The dashboard's colour of each name, unless two of ``names`` share one (the palette repeats over many
    units): then each takes its own palette colour, so no two departments of one figure look the same."""
    chosen = {n: colors.get(n, PRIMARY) for n in names}
    if len(set(chosen.values())) == len(chosen):
        return chosen
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def pair_matrix(
    pairs: Sequence[Mapping[str, Any]],
    item_departments: Mapping[str, str],
    colors: Mapping[str, str],
    lang: str = "zh",
    title: str | None = None,
    top: int = MATRIX_ITEMS,
) -> go.Figure:
    """Items filed in the same journey: a cell per pair (distinct applicants), each item marked in its department's
    colour, so a pair across two colours is two offices for one matter.

    ``pairs`` are :func:`metrics.journeys.item_pairs` rows (already without the suppressed ones), most applicants
    first; the items of the first pairs are kept until ``top`` items, grouped by department.
    """
    text = in_language(TEXT, lang)
    items: list[str] = []
    for pair in pairs:
        new = [i for i in pair["items"] if i not in items]
        if len(items) + len(new) > top:
            break
        items.extend(new)
    if not items:
        return empty_figure(text["empty"], title)
    department = {i: item_departments.get(i) for i in items}
    colors = distinct_colors(sorted({d for d in department.values() if d}), colors)
    volume = {i: sum(p["applicants"] for p in pairs if i in p["items"]) for i in items}
    items.sort(key=lambda i: (department[i] or "\uffff", -volume[i], i))
    at = {item: n for n, item in enumerate(items)}
    z: list[list[float | None]] = [[None] * len(items) for _ in items]
    hover: list[list[str]] = [[""] * len(items) for _ in items]
    drawn = 0
    for pair in pairs:
        a, b = pair["items"]
        if a not in at or b not in at:
            continue
        drawn += 1
        gap = pair.get("median_gap_days")
        words = (
            f"{plot_text(a)} + {plot_text(b)}<br>{pair['applicants']:,} {text['people']} · "
            f"{pair['journeys']:,} {text['journeys']}"
            + ("" if gap is None else f"<br>{text['gap']} {gap:.1f} {text['days']}")
        )
        for x, y in ((a, b), (b, a)):
            z[at[y]][at[x]] = pair["applicants"]
            hover[at[y]][at[x]] = words

    def tick(item: str) -> str:
        color = colors.get(department[item] or "", PRIMARY)
        return f'<span style="color:{color}">■</span> {plot_text(_short(item))}'

    names = [plot_text(i) for i in items]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            text=[[("" if v is None else f"{v:,}") for v in row] for row in z],
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="Blues",
            showscale=False,  # every cell says its number; a scale of 5 to 7 would only add decimals
            xgap=2,
            ygap=2,
            hoverongaps=False,
        )
    )
    shown_departments = dict.fromkeys(d for d in (department[i] for i in items) if d)  # in the axis's order
    for name in shown_departments:  # a legend of the departments' colours (markers drawn nowhere)
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name=plot_text(name), hoverinfo="skip",
                marker={"symbol": "square", "size": 11, "color": colors.get(name, PRIMARY)},
            )
        )  # fmt: skip
    ticks = [tick(i) for i in items]
    axis = {"tickmode": "array", "tickvals": names, "ticktext": ticks, "automargin": True, "tickfont": {"size": 11}}
    fig.update_xaxes(tickangle=-40, showgrid=False, **axis)
    fig.update_yaxes(autorange="reversed", showgrid=False, **axis)
    if drawn < len(pairs):  # say that the figure holds the busiest pairs only
        note = text["some"].format(shown=drawn, total=len(pairs))
        title = f"{title}<br><sup>{note}</sup>" if title else note
    fig = base_layout(fig, title, height=max(460, 36 * len(items) + 240))
    fig.update_layout(hovermode="closest", margin={"t": 80 if title else 40, "r": 20, "b": 40})
    return fig


def department_pair_bars(
    pairs: Sequence[Mapping[str, Any]], lang: str = "zh", title: str | None = None, top: int = 10
) -> go.Figure:
    """The pairs of departments that share the most applicants in one journey (部门壁垒 from the applicant's side)."""
    text = in_language(TEXT, lang)
    rows = list(pairs)[:top]
    if not rows:
        return empty_figure(text["empty"], title)
    rows.reverse()  # the largest on top
    labels = [f"{plot_text(p['departments'][0])} ↔ {plot_text(p['departments'][1])}" for p in rows]
    fig = go.Figure(
        go.Bar(
            x=[p["applicants"] for p in rows],
            y=labels,
            orientation="h",
            marker_color=PRIMARY,
            text=[f"{p['applicants']:,}" for p in rows],
            textposition="outside",
            cliponaxis=False,
            customdata=[p["journeys"] for p in rows],
            hovertemplate="%{y}<br>%{x:,} "
            + text["people"]
            + " · %{customdata:,} "
            + text["journeys"]
            + "<extra></extra>",
        )
    )
    fig.update_xaxes(title=text["applicants"], rangemode="tozero", tickformat=",", automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(showlegend=False, hovermode="closest")
    return base_layout(fig, title, height=max(300, 30 * len(rows) + 110)).update_layout(margin={"r": 60})
