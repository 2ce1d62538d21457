"""Figure builders as functions: frames in, figures out; empty frames give an explained empty figure."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from charts.adoption import channel_mix_area, online_rate_bars
from charts.bottlenecks import department_ranking, handover_heatmap, process_map, rework_bars, wip_lines
from charts.theme import FONT_FAMILY, department_colors
from charts.timeliness import on_time_by_department, processing_vs_promise
from charts.trend import cases_and_online_rate


def annotations_text(fig) -> str:
    return " ".join(a.text or "" for a in fig.layout.annotations)


def test_department_colours_are_stable_and_distinct():
    units = ["民政办", "社保所", "自然资源所", "市场监管所"]
    a = department_colors(units)
    b = department_colors(list(reversed(units)) + ["民政办"])
    assert a == b and len(set(a.values())) == 4


def test_trend_bars_line_and_target():
    series = pd.DataFrame(
        {
            "period_start": [dt.date(2026, 9, 1)] * 2 + [dt.date(2026, 10, 1)] * 2,
            "kpi_id": ["cases", "online_rate"] * 2,
            "value": [100.0, 0.4, 120.0, 0.5],
        }
    )
    fig = cases_and_online_rate(series, "zh", title="趋势", online_target=0.6)
    bars, line = fig.data
    assert list(bars.x) == ["2026-09", "2026-10"] and list(bars.y) == [100.0, 120.0]
    assert list(line.y) == [0.4, 0.5] and line.yaxis == "y2"
    (target,) = fig.layout.shapes  # the one target line, on the rate axis
    assert target.y0 == target.y1 == 0.6 and target.yref == "y2" and "目标 60%" in annotations_text(fig)
    assert FONT_FAMILY.startswith("Noto Sans CJK SC") and fig.layout.font.family == FONT_FAMILY
    empty = cases_and_online_rate(series.iloc[0:0], "zh")
    assert "没有数据" in annotations_text(empty)


def test_online_rate_bars_sorted_with_target_and_colours():
    frame = pd.DataFrame(
        {
            "department": ["甲", "乙", "丙"],
            "cases": [10, 20, 5],
            "online_cases": [5, 2, 5],
            "online_rate": [0.5, 0.1, 1.0],
        }
    )
    fig = online_rate_bars(frame, "department", "zh", target=0.6, colors={"甲": "#111111"})
    bar = fig.data[0]
    assert list(bar.y) == ["乙", "甲", "丙"]  # ascending: the best on top of a horizontal bar chart
    assert list(bar.marker.color)[1] == "#111111"
    assert any(s.x0 == 0.6 for s in fig.layout.shapes)
    assert "没有办件" in annotations_text(online_rate_bars(frame.iloc[0:0], "department"))


def test_channel_mix_stacks_to_one():
    mix = pd.DataFrame(
        {
            "period_start": [dt.date(2026, 10, 1)] * 2,
            "channel": ["online", "window"],
            "cases": [3, 1],
            "share": [0.75, 0.25],
        }
    )
    fig = channel_mix_area(mix, {"online": "网上办理", "window": "窗口"}, "zh", online_target=0.6)
    names = [t.name for t in fig.data]
    assert names[:2] == ["网上办理", "窗口"] and fig.layout.barmode == "stack"
    assert sum(t.y[0] for t in fig.data[:2]) == pytest.approx(1.0)


def test_processing_vs_promise_and_on_time():
    items = pd.DataFrame(
        {
            "service_item": ["低保"],
            "department": ["民政办"],
            "completed": [4],
            "promised_days": [5.0],
            "min_days": [1.0],
            "p25_days": [2.0],
            "median_days": [3.0],
            "p75_days": [4.0],
            "p90_days": [6.0],
        }
    )
    fig = processing_vs_promise(items, "zh")
    box, promise = fig.data
    assert list(box.median) == [3.0] and list(box.upperfence) == [6.0] and list(promise.x) == [5.0]
    assert box.y[0] == "低保（4）"
    depts = pd.DataFrame(
        {
            "department": ["民政办", "社保所"],
            "on_time_rate": [0.9, 1.0],
            "with_due": [10, 5],
            "overdue_completed": [1, 0],
        }
    )
    fig = on_time_by_department(depts, "zh", target=0.98)
    assert list(fig.data[0].y) == ["民政办", "社保所"]


def test_process_map_layout_and_filter():
    nodes = pd.DataFrame(
        {
            "step": ["申请", "受理", "审核", "补正", "办结"],
            "count": [10, 10, 12, 2, 10],
            "start_count": [10, 0, 0, 0, 0],
            "end_count": [0, 0, 0, 0, 10],
        }
    )
    edges = pd.DataFrame(
        {
            "source": ["申请", "受理", "审核", "补正", "审核"],
            "target": ["受理", "审核", "补正", "审核", "办结"],
            "count": [10, 10, 2, 2, 10],
            "median_hours": [1.0, 5.0, 2.0, 30.0, 3.0],
            "p90_hours": [2.0] * 5,
            "mean_hours": [1.5] * 5,
        }
    )
    fig = process_map(nodes, edges, "median", "zh")
    node_trace = fig.data[-2]
    positions = dict(
        zip(
            [t.split("<br>")[0].strip("<b/>") for t in node_trace.text],
            zip(node_trace.x, node_trace.y, strict=True),
            strict=True,
        )
    )
    assert positions["申请"][0] < positions["受理"][0] < positions["审核"][0] < positions["办结"][0]
    assert positions["审核"][1] == positions["办结"][1] == 0  # the main path on one line
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 5  # one arrow per edge
    widths = [a.arrowwidth for a in arrows]
    assert max(widths) == pytest.approx(8.0) and min(widths) == pytest.approx(1 + 7 * 2 / 10)
    filtered = process_map(nodes, edges, "median", "zh", min_count=5)
    assert len([a for a in filtered.layout.annotations if a.showarrow]) == 3
    assert "补正" not in " ".join(filtered.data[-2].text)
    assert "没有环节数据" in annotations_text(process_map(nodes.iloc[0:0], edges.iloc[0:0]))


def test_other_bottleneck_figures():
    waits = pd.DataFrame(
        {
            "department": ["甲", "乙"],
            "median_wait_hours": [2.0, 9.0],
            "p90_wait_hours": [5.0, 20.0],
            "mean_wait_hours": [3.0, 10.0],
            "count": [4, 6],
            "share_of_case_time": [0.2, 0.8],
        }
    )
    assert list(department_ranking(waits, "p90").data[0].x) == [5.0, 20.0]
    matrix = pd.DataFrame(
        {"from_unit": ["甲", "乙"], "to_unit": ["乙", "甲"], "count": [3, 1], "median_delay_hours": [1.5, 4.0]}
    )
    heat = handover_heatmap(matrix).data[0]
    row, col = list(heat.y).index("甲"), list(heat.x).index("乙")
    assert heat.z[row][col] == 3 and heat.z[col][row] == 1  # 甲 hands 3 cases to 乙, 乙 one to 甲
    wip = pd.DataFrame(
        {"day": [dt.date(2026, 10, 1), dt.date(2026, 10, 2)], "department": ["甲", "甲"], "open_cases": [2, 3]}
    )
    assert list(wip_lines(wip).data[0].y) == [2, 3]
    rework = pd.DataFrame({"step": ["审核"], "cases": [10], "cases_repeated": [2], "rework_rate": [0.2]})
    assert list(rework_bars(rework).data[0].x) == [0.2]  # the bar's length is the rate its label shows
    assert "没有数据" in annotations_text(rework_bars(rework.iloc[0:0]))
