"""Charts that do not mislead (issue 12, item 8): every expectation is worked out from the frames built here.

Bars start at zero, rate axes stop at 100%, lines stop at the as-of day, a bar is as long as its label
says, every heat-map label shows, arrows end at the edge of a box, one colour per department and per
channel, one target-line style, numeric date ticks, the running month marked, numbers formatted.
"""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import pandas as pd
import plotly.colors as pc
import pytest

from charts import report
from charts.adoption import channel_mix_area, online_rate_bars
from charts.bottlenecks import (
    NODE_HALF_HEIGHT,
    NODE_HALF_WIDTH,
    department_ranking,
    handover_heatmap,
    process_map,
    rework_bars,
    wip_lines,
)
from charts.quality import cases_per_month, rejects_over_time
from charts.theme import (
    PALETTE,
    channel_colors,
    department_colors,
    number_text,
    percent_text,
    target_label,
)
from charts.timeliness import on_time_by_department
from charts.trend import cases_and_online_rate
from store.channels import CHANNELS

CHANNEL_LABELS = {"online": "网上", "mobile": "移动端", "window": "窗口", "self_service": "自助", "post": "邮寄"}
UNITS = ["社保所", "民政办", "自然资源所", "市场监管所", "县公安局"]


def annotations_text(fig) -> str:
    return " ".join(a.text or "" for a in fig.layout.annotations)


def bar_colours(fig) -> dict[str, str]:
    bar = fig.data[0]
    return dict(zip(bar.y, bar.marker.color, strict=True))


def on_time_frame(rates: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "department": list(rates),
            "on_time_rate": list(rates.values()),
            "with_due": [1200] * len(rates),
            "overdue_completed": [3] * len(rates),
        }
    )


def online_frame(rates: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "department": list(rates),
            "cases": [12345] * len(rates),
            "online_cases": [int(12345 * r) for r in rates.values()],
            "online_rate": list(rates.values()),
        }
    )


def trend_series(months: list[str], cases: list[float], rates: list[float]) -> pd.DataFrame:
    rows = []
    for m, c, r in zip(months, cases, rates, strict=True):
        start = dt.date.fromisoformat(m + "-01")
        rows += [(start, "cases", c), (start, "online_rate", r)]
    return pd.DataFrame(rows, columns=["period_start", "kpi_id", "value"])


MIX = pd.DataFrame(
    {
        "period_start": [dt.date(2026, 11, 1)] * 4,
        "channel": ["window", "online", "post", "mobile"],  # not in canonical order
        "cases": [50, 30, 5, 15],
        "share": [0.5, 0.3, 0.05, 0.15],
    }
)


# 1. Bars from zero, rate axes 0–100% -------------------------------------------------------------------------


def test_on_time_axis_is_zero_to_one_hundred_percent_with_labels_inside():
    # The reported case: rates near 100% ran on a 90%–105% (screen) / 120% (PDF) axis.
    fig = on_time_by_department(on_time_frame({"甲": 1.0, "乙": 0.96, "丙": 0.02}), "zh", target=0.98)
    assert tuple(fig.layout.xaxis.range) == (0, 1) and fig.layout.xaxis.tickformat == ".0%"
    bar = fig.data[0]
    positions = dict(zip(bar.y, bar.textposition, strict=True))
    # A 100% bar carries its label inside (the axis needs no room beyond 100%); a 2% bar just outside it.
    assert positions["甲"] == "inside" and positions["乙"] == "inside" and positions["丙"] == "outside"
    assert list(bar.text) == ["2.0%", "96.0%", "100.0%"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: online_rate_bars(online_frame({"甲": 1.0, "乙": 0.5}), "department", target=0.6),
        lambda: rework_bars(
            pd.DataFrame({"step": ["审核"], "cases": [10], "cases_repeated": [10], "rework_rate": [1.0]})
        ),
        lambda: report.department_online_rate(
            [{"department": "甲", "online_rate": 1.0, "online_cases": 5, "channel_known": 5}], 0.6
        ),
    ],
    ids=["online_rate_bars", "rework_bars", "report_department_online_rate"],
)
def test_rate_bars_never_run_past_one_hundred_percent(build):
    fig = build()
    assert tuple(fig.layout.xaxis.range) == (0, 1)


def test_report_rate_axes_stop_at_one_hundred_percent():
    trend = report.trend([{"month": "2026-10", "cases": 10, "online_rate": 1.0, "on_time_rate": 1.0}])
    assert tuple(trend.layout.yaxis2.range) == (0, 1) and trend.layout.yaxis.rangemode == "tozero"
    assert all(t.cliponaxis is False for t in trend.data if t.type == "scatter")  # 100% markers drawn whole
    # A share of 90%: 25% room for its label would be 112.5% — capped at 100%.
    share = report.bottleneck_share([{"department": "甲", "share_of_case_time": 0.9}])
    assert tuple(share.layout.xaxis.range) == (0, 1)
    small = report.bottleneck_share([{"department": "甲", "share_of_case_time": 0.2}])
    assert tuple(small.layout.xaxis.range) == pytest.approx((0, 0.25))


def test_value_axes_of_bar_charts_start_at_zero():
    waits = pd.DataFrame(
        {
            "department": ["甲", "乙"],
            "median_wait_hours": [120.0, 130.0],  # far from zero: autorange alone could start at 100
            "p90_wait_hours": [1.0, 2.0],
            "mean_wait_hours": [1.0, 2.0],
            "count": [4, 6],
            "share_of_case_time": [0.2, 0.8],
        }
    )
    assert department_ranking(waits, "median").layout.xaxis.rangemode == "tozero"
    # The default measure is the findings' one, the share of all case time: a rate axis of exactly 0–100%,
    # bars ordered by share (乙 0.8 largest, drawn last = on top), labels the same shares.
    by_share = department_ranking(waits)
    assert tuple(by_share.layout.xaxis.range) == (0, 1)
    assert list(by_share.data[0].y) == ["甲", "乙"] and list(by_share.data[0].x) == [0.2, 0.8]
    assert list(by_share.data[0].text) == ["20.0%", "80.0%"]
    trend = cases_and_online_rate(trend_series(["2026-10", "2026-11"], [1000.0, 1010.0], [0.5, 0.6]))
    assert trend.layout.yaxis.rangemode == "tozero" and tuple(trend.layout.yaxis2.range) == (0, 1)
    days = report.department_processing_days([{"department": "甲", "median_working_days": 3, "p90_working_days": 9}])
    assert days.layout.xaxis.rangemode == "tozero"
    months = pd.DataFrame({"month": ["2026-10", "2026-11"], "cases": [900, 950], "flagged": [False, False]})
    months["median"] = 925.0
    assert cases_per_month(months, 0.5).layout.yaxis.rangemode == "tozero"
    rejects = pd.DataFrame({"month": ["2026-10"], "reason_zh": ["缺少日期"], "reason_en": ["no date"], "rows": [3]})
    assert rejects_over_time(rejects).layout.yaxis.rangemode == "tozero"
    mix = channel_mix_area(MIX, CHANNEL_LABELS)
    assert tuple(mix.layout.yaxis.range) == (0, 1)


# 2. Work in progress stops at the as-of day -------------------------------------------------------------------


def wip_frame(day_type=dt.date) -> pd.DataFrame:
    days = [dt.date(2026, 11, 28) + dt.timedelta(days=i) for i in range(34)]  # 11-28 … 12-31
    frame = pd.DataFrame(
        {
            "day": days * 2,
            "department": ["甲"] * 34 + ["乙"] * 34,
            "open_cases": list(range(34)) + [5] * 34,
        }
    )
    if day_type is pd.Timestamp:
        frame["day"] = pd.to_datetime(frame["day"])
    return frame


@pytest.mark.parametrize("day_type", [dt.date, pd.Timestamp], ids=["date", "timestamp"])
def test_wip_lines_stop_at_the_as_of_day(day_type):
    as_of = dt.date(2026, 12, 1)
    fig = wip_lines(wip_frame(day_type), "zh", "在办", None, 8, as_of=as_of)  # old positional arguments still work
    assert len(fig.data) == 2
    for trace in fig.data:
        xs = [pd.Timestamp(x).date() for x in trace.x]
        # 11-28, 11-29, 11-30, 12-01: four days, none after the as-of day.
        assert xs == [dt.date(2026, 11, 28) + dt.timedelta(days=i) for i in range(4)]
    jia = next(t for t in fig.data if t.name == "甲")
    assert list(jia.y) == [0, 1, 2, 3]
    # Without as_of, the old behaviour: every row.
    assert len(wip_lines(wip_frame()).data[0].x) == 34
    # All rows after the as-of day: an explained empty figure, not a blank one.
    assert "没有数据" in annotations_text(wip_lines(wip_frame(), as_of=dt.date(2026, 1, 1)))


# 3. Rework: the bar is as long as its label says ---------------------------------------------------------------


def test_rework_bar_length_is_the_rate_and_count_is_in_the_hover():
    rework = pd.DataFrame(
        {
            "step": ["审核", "补正", "受理"],
            "cases": [1000, 40, 500],
            "cases_repeated": [50, 20, 5],
            "rework_rate": [50 / 1000, 20 / 40, 5 / 500],
        }
    )
    bar = rework_bars(rework, "zh").data[0]
    # Ordered by rate, the highest on top (Plotly draws the first category at the bottom).
    assert list(bar.y) == ["受理", "审核", "补正"]
    assert list(bar.x) == pytest.approx([0.01, 0.05, 0.5])
    assert list(bar.text) == ["1.0%", "5.0%", "50.0%"]
    assert [list(c) for c in bar.customdata] == [[5, 500], [50, 1000], [20, 40]]
    assert "customdata[0]:,.0f" in bar.hovertemplate and "%{x:.1%}" in bar.hovertemplate


# 4. Handover heat map: top 10, every label, a title that says so --------------------------------------------


def test_handover_heatmap_top_ten_every_label_shown():
    units = [f"部门{i:02d}" for i in range(14)]
    rows = []
    # 部门k hands (k + 1) cases to the next department: sent k+1, received k; volume 2k+1 (部门00: 1 + 14 = 15).
    for k, unit in enumerate(units):
        rows.append((unit, units[(k + 1) % 14], k + 1, 2.0))
    matrix = pd.DataFrame(rows, columns=["from_unit", "to_unit", "count", "median_delay_hours"])
    volume = {u: 0 for u in units}
    for f, t, c, _ in rows:
        volume[f] += c
        volume[t] += c
    expected = sorted(units, key=lambda u: (-volume[u], u))[:10]  # 部门13 (27) … 部门04 (9)
    fig = handover_heatmap(matrix, "zh", "部门间移交（行移交给列）")
    heat = fig.data[0]
    assert list(heat.x) == expected and list(heat.y) == expected
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.tickmode == "array" and len(axis.tickvals) == len(axis.ticktext) == 10
        assert axis.automargin is True
    assert "前 10 个部门" in fig.layout.title.text and "共 14 个" in fig.layout.title.text
    assert "<br>" in fig.layout.title.text  # the note on its own line: the title is not cut
    # 部门12 hands 13 cases to 部门13.
    assert heat.z[expected.index("部门12")][expected.index("部门13")] == 13
    small = handover_heatmap(matrix[matrix["from_unit"].isin(units[:3])], "en", "Handovers")
    assert small.layout.title.text == "Handovers"  # nothing left out, nothing to say


def test_heatmap_long_names_shortened_on_the_axis_full_in_the_hover():
    name = "县人力资源和社会保障局劳动监察大队"
    matrix = pd.DataFrame(
        {"from_unit": [name, "民政办"], "to_unit": ["民政办", name], "count": [3, 1], "median_delay_hours": [1, 2]}
    )
    fig = handover_heatmap(matrix)
    assert name in list(fig.data[0].x)
    assert all(len(t) <= 8 for t in fig.layout.xaxis.ticktext)


# 5. Process map: arrows end at box edges, legible counts, colour-blind-safe scale -----------------------------

NODES = pd.DataFrame(
    {
        "step": ["申请", "受理", "预审", "不予受理", "审核", "补正", "办结"],
        "count": [1200, 1150, 60, 30, 1500, 300, 1200],
        "start_count": [1200, 0, 0, 0, 0, 0, 0],
        "end_count": [0, 0, 0, 30, 0, 0, 1200],
    }
)
# Layers (breadth-first): 申请 | 受理 (centre), 预审 (above), 不予受理 (below) | 审核, 补正 | 办结.
# 预审 → 不予受理 runs straight down through the 受理 box unless it bows around it; 补正 → 审核 is a loop back.
EDGES = pd.DataFrame(
    {
        "source": ["申请", "申请", "申请", "预审", "受理", "审核", "补正", "审核"],
        "target": ["受理", "预审", "不予受理", "不予受理", "审核", "补正", "审核", "办结"],
        "count": [1150, 60, 10, 20, 1200, 300, 300, 1200],
        "median_hours": [1.0, 4.0, 6.0, 8.0, 5.0, 2.0, 30.0, 3.0],
        "p90_hours": [2.0] * 8,
        "mean_hours": [1.5] * 8,
    }
)


def node_centres(fig) -> dict[str, tuple[float, float]]:
    node_trace = fig.data[-2]
    names = [t.split("<br>")[0].removeprefix("<b>").removesuffix("</b>") for t in node_trace.text]
    return dict(zip(names, zip(node_trace.x, node_trace.y, strict=True), strict=True))


def strictly_inside(point, centre, eps=1e-6) -> bool:
    return abs(point[0] - centre[0]) < NODE_HALF_WIDTH - eps and abs(point[1] - centre[1]) < NODE_HALF_HEIGHT - eps


def on_edge(point, centre, eps=1e-3) -> bool:
    dx, dy = abs(point[0] - centre[0]), abs(point[1] - centre[1])
    return (abs(dx - NODE_HALF_WIDTH) < eps and dy <= NODE_HALF_HEIGHT + eps) or (
        abs(dy - NODE_HALF_HEIGHT) < eps and dx <= NODE_HALF_WIDTH + eps
    )


def test_process_map_arrows_end_at_the_edge_of_the_boxes():
    fig = process_map(NODES, EDGES, "median", "zh")
    centres = node_centres(fig)
    boxes = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(boxes) == len(NODES) and all(s.layer == "above" for s in boxes)  # boxes drawn over any line
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == len(EDGES)
    tips = [(a.x, a.y) for a in arrows]
    for tip in tips:
        assert not any(strictly_inside(tip, c) for c in centres.values())
        assert sum(on_edge(tip, c) for c in centres.values()) == 1  # the tip touches exactly one box
    assert all(a.standoff == 0 for a in arrows)  # the geometry, not a pixel guess, ends the arrow
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == len(EDGES)
    for trace in lines:
        for point in zip(trace.x, trace.y, strict=True):
            assert not any(strictly_inside(point, c) for c in centres.values())
    # 预审 → 不予受理 would pass through the 受理 box: it bows around it instead.
    above, middle, below = centres["预审"], centres["受理"], centres["不予受理"]
    assert above[0] == middle[0] == below[0] and above[1] > middle[1] > below[1]
    (detour,) = [t for t in fig.data if t.mode == "lines" and t.line.width == pytest.approx(1 + 7 * 20 / 1200)]
    assert max(abs(x - middle[0]) for x in detour.x) > NODE_HALF_WIDTH
    # Both directions of the 审核 ⇄ 补正 pair show: the loop back is not drawn on top of the forward edge.
    forward = next(t for t in fig.data if t.mode == "lines" and t.line.width == pytest.approx(1 + 7 * 300 / 1200))
    loops = [t for t in fig.data if t.mode == "lines" and t.line.width == pytest.approx(1 + 7 * 300 / 1200)]
    assert len(loops) == 2 and list(loops[0].y) != list(loops[1].y) and forward in loops


def test_process_map_counts_legible_and_colour_blind_safe():
    fig = process_map(NODES, EDGES, "median", "zh")
    labels = [a for a in fig.layout.annotations if not a.showarrow and a.bgcolor]
    assert sorted(a.text for a in labels) == sorted(["1,150", "60", "10", "20", "1,200", "300", "300", "1,200"])
    assert all(a.font.size >= 11 for a in labels)
    node_labels = [a.text for a in fig.layout.annotations if not a.showarrow and not a.bgcolor]
    assert "<b>审核</b><br>1,500" in node_labels
    colour_by_wait = {}
    for arrow, wait in zip(
        [a for a in fig.layout.annotations if a.showarrow],
        EDGES.sort_values("count", ascending=False, kind="stable")["median_hours"],
        strict=True,
    ):
        colour_by_wait[wait] = pc.unlabel_rgb(arrow.arrowcolor)
    for r, g, _ in colour_by_wait.values():
        assert not (r > 150 and g < 110), "no red in the wait scale"
    # Longer waits are darker (luminance falls with the wait).
    luminance = [0.2126 * r + 0.7152 * g + 0.0722 * b for _, (r, g, b) in sorted(colour_by_wait.items())]
    assert luminance == sorted(luminance, reverse=True)


# 6. One colour per department and per channel ----------------------------------------------------------------


def test_department_colours_follow_the_sorted_names_not_the_order_of_appearance():
    a = department_colors(UNITS)
    b = department_colors(list(reversed(UNITS)) + ["民政办", None, float("nan"), ""])
    assert a == b
    assert list(a) == sorted(UNITS)
    assert [a[u] for u in sorted(UNITS)] == PALETTE[:5]


def test_a_department_has_the_same_colour_in_every_chart():
    colors = department_colors(UNITS)
    rates = {"社保所": 0.9, "民政办": 0.5, "县公安局": 0.99}
    waits = pd.DataFrame(
        {
            "department": list(rates),
            "median_wait_hours": [1.0, 2.0, 3.0],
            "p90_wait_hours": [1.0, 2.0, 3.0],
            "mean_wait_hours": [1.0, 2.0, 3.0],
            "count": [1, 2, 3],
            "share_of_case_time": [0.1, 0.2, 0.3],
        }
    )
    rows = [{"department": d, "online_rate": r, "share_of_case_time": r / 2} for d, r in rates.items()]
    figures = [
        online_rate_bars(online_frame(rates), "department", colors=colors),
        on_time_by_department(on_time_frame(rates), colors=colors),
        department_ranking(waits, colors=colors),
        report.department_online_rate(rows, 0.6, colors=colors),
        report.bottleneck_share(rows, colors=colors),
    ]
    for fig in figures:
        assert bar_colours(fig) == {d: colors[d] for d in rates}
    wip = pd.DataFrame({"day": [dt.date(2026, 11, 1)] * 3, "department": list(rates), "open_cases": [1, 2, 3]})
    assert {t.name: t.line.color for t in wip_lines(wip, colors=colors).data} == {d: colors[d] for d in rates}


def test_report_colours_without_a_mapping_follow_the_sorted_departments():
    rows = [{"department": d, "online_rate": 0.5} for d in ["乙", "甲", "丙"]]
    expected = {d: PALETTE[i] for i, d in enumerate(sorted(["乙", "甲", "丙"]))}
    assert bar_colours(report.department_online_rate(rows, None)) == expected


def test_channel_colours_fixed_and_the_same_in_page_and_report():
    palette = channel_colors()
    assert tuple(palette) == CHANNELS == ("online", "mobile", "window", "self_service", "post", "other")
    assert len(set(palette.values())) == 6
    area = channel_mix_area(MIX, CHANNEL_LABELS)
    by_label = {t.name: t.marker.color for t in area.data if t.type == "bar"}
    page = {code: by_label[CHANNEL_LABELS[code]] for code in MIX["channel"]}
    donut = report.channel_mix([{"channel": c, "cases": n} for c, n in zip(MIX["channel"], MIX["cases"], strict=True)],
                               CHANNEL_LABELS)  # fmt: skip
    pie = donut.data[0]
    in_report = dict(zip(MIX["channel"], pie.marker.colors, strict=True))
    assert page == in_report == {code: palette[code] for code in MIX["channel"]}
    # Canonical order in the stack whatever the row order: online at the bottom.
    assert [t.name for t in area.data if t.type == "bar"] == ["网上", "移动端", "窗口", "邮寄"]


# 7. One target-line style ------------------------------------------------------------------------------------


def target_shapes(fig):
    return [s for s in fig.layout.shapes if s.type == "line"]


def test_every_target_line_has_one_style_and_label():
    rates = {"甲": 0.5, "乙": 0.7}
    figures = {
        "online_rate_bars": online_rate_bars(online_frame(rates), "department", target=0.6),
        "on_time": on_time_by_department(on_time_frame(rates), target=0.6),
        "channel_mix": channel_mix_area(MIX, CHANNEL_LABELS, online_target=0.6),
        "trend": cases_and_online_rate(trend_series(["2026-11"], [10.0], [0.5]), online_target=0.6),
        "report": report.department_online_rate([{"department": "甲", "online_rate": 0.5}], 0.6),
    }
    styles = set()
    for name, fig in figures.items():
        (shape,) = target_shapes(fig)
        styles.add((shape.line.dash, shape.line.color, shape.line.width))
        assert "目标 60%" in annotations_text(fig), name
    assert len(styles) == 1 and next(iter(styles))[0] == "dash"
    en = online_rate_bars(online_frame(rates), "department", "en", target=0.6)
    assert "Target 60%" in annotations_text(en)
    assert target_label(0.975) == "目标 97.5%" and target_label(0.9, "en") == "Target 90%"
    assert not target_shapes(online_rate_bars(online_frame(rates), "department", target=None))


# 8. Date axes: numbers, not English month names ---------------------------------------------------------------

ENGLISH_MONTHS = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def test_date_axes_have_numeric_tick_formats():
    wip = wip_lines(wip_frame(), "zh", as_of=dt.date(2026, 12, 6))
    assert wip.layout.xaxis.type == "date"
    assert wip.layout.xaxis.tickformat == "%m-%d" and wip.layout.xaxis.hoverformat == "%Y-%m-%d"
    # Spanning two years, the day ticks carry the year.
    two_years = wip_frame()
    two_years["day"] = two_years["day"] + pd.Timedelta(days=20)
    assert wip_lines(two_years).layout.xaxis.tickformat == "%Y-%m-%d"
    months = ["2025-12", "2026-01", "2026-02"]
    monthly = [
        cases_and_online_rate(trend_series(months, [1.0, 2.0, 3.0], [0.1, 0.2, 0.3])),
        channel_mix_area(MIX, CHANNEL_LABELS),
        report.trend([{"month": m, "cases": 1} for m in months]),
    ]
    for fig in monthly:
        # Month axes are "YYYY-MM" categories: Plotly writes them as given.
        assert fig.layout.xaxis.type == "category"
        for trace in fig.data:
            assert all(re.fullmatch(r"\d{4}-\d{2}", str(x)) for x in trace.x)
    for fig in [wip, *monthly]:
        assert not ENGLISH_MONTHS.search(fig.to_json())


# 9. The running month -----------------------------------------------------------------------------------------


def test_partial_month_is_lighter_hatched_and_annotated():
    months = ["2026-10", "2026-11", "2026-12"]
    series = trend_series(months, [300.0, 320.0, 12.0], [0.5, 0.55, 0.6])
    fig = cases_and_online_rate(series, "zh", "趋势", 0.6, partial_month="2026-12", as_of=dt.date(2026, 12, 1))
    bar = fig.data[0]
    assert list(bar.marker.opacity) == [1.0, 1.0, pytest.approx(0.45)]
    assert list(bar.marker.pattern.shape) == ["", "", "/"]
    # The hatching lies over the bar's colour; "replace" (Plotly's default) drew white lines on nothing, so
    # the running month's bar was invisible in the browser.
    assert bar.marker.pattern.fillmode == "overlay"
    (note,) = [a for a in fig.layout.annotations if "截至" in (a.text or "")]
    assert note.text == "截至 12-01" and note.x == "2026-12" and note.y == 12.0
    en = cases_and_online_rate(series, "en", partial_month="2026-12", as_of=dt.date(2026, 12, 1))
    assert "to 12-01" in annotations_text(en)
    # Old callers: no partial month, every bar alike, no note.
    old = cases_and_online_rate(series, "zh", "趋势", 0.6)
    assert set(old.data[0].marker.opacity) == {1.0} and "截至" not in annotations_text(old)


# 10. Numbers in labels and hovers -----------------------------------------------------------------------------


def test_labels_have_thousands_separators_one_decimal_and_no_negative_zero():
    assert percent_text(-0.0) == "0.0%" and percent_text(-0.00001) == "0.0%" and percent_text(0.12345) == "12.3%"
    assert number_text(-0.0001, 1) == "0.0" and number_text(1234567) == "1,234,567"
    bars = online_rate_bars(online_frame({"甲": 1 / 3, "乙": -0.0}), "department")
    assert list(bars.data[0].text) == ["0.0% (12,345)", "33.3% (12,345)"]
    assert all(v >= 0 and str(v) != "-0.0" for v in bars.data[0].x)
    on_time = on_time_by_department(on_time_frame({"甲": 0.9}))
    assert "%{customdata[1]:,.0f} / %{customdata[0]:,.0f}" in on_time.data[0].hovertemplate
    rows = [{"department": "甲", "online_rate": 0.5, "online_cases": 1234, "channel_known": 2468}]
    assert report.department_online_rate(rows, None).data[0].text == ("50.0%（1,234/2,468）",)
    donut = report.channel_mix([{"channel": "online", "cases": 12345}], CHANNEL_LABELS)
    assert ":,.0f" in donut.data[0].hovertemplate and "%{percent:.1%}" in donut.data[0].texttemplate


# The real frames: every chart from the small demo database ------------------------------------------------------


def test_real_frames_from_the_demo_database(small_demo_db):
    from metrics import adoption, bottlenecks, timeliness
    from metrics.filters import Filters

    con = duckdb.connect(str(small_demo_db), read_only=True)
    try:
        cur = con.cursor()
        last = cur.execute("SELECT max(submitted_at)::DATE FROM cases").fetchone()[0]
        month = Filters(last.replace(day=1), last)
        as_of = last - dt.timedelta(days=3)
        wip = bottlenecks.work_in_progress(cur, Filters(last.replace(day=1), last + dt.timedelta(days=40)))
        fig = wip_lines(wip, as_of=as_of)
        assert fig.data and max(pd.Timestamp(x).date() for t in fig.data for x in t.x) <= as_of
        on_time = on_time_by_department(timeliness.department_processing(cur, month), target=0.95)
        assert tuple(on_time.layout.xaxis.range) == (0, 1)
        online = online_rate_bars(adoption.online_rate_by(cur, month, "department"), "department", target=0.6)
        assert tuple(online.layout.xaxis.range) == (0, 1)
        heat = handover_heatmap(bottlenecks.handover_matrix(cur, month, "department"))
        assert len(heat.layout.xaxis.tickvals) == len(heat.data[0].x) <= 10
        rework = rework_bars(bottlenecks.rework_by_step(cur, month))
        if rework.data:
            assert all(0 <= x <= 1 for x in rework.data[0].x)
        nodes, edges = bottlenecks.process_nodes(cur, month), bottlenecks.directly_follows(cur, month)
        pmap = process_map(nodes, edges)
        centres = node_centres(pmap)
        for a in pmap.layout.annotations:
            if a.showarrow:
                assert not any(strictly_inside((a.x, a.y), c) for c in centres.values())
    finally:
        con.close()
