"""部门瓶颈 Bottlenecks: process map, department ranking, handovers, work in progress, rework."""

from __future__ import annotations

import streamlit as st

import settings
from charts.bottlenecks import (
    department_ranking,
    handover_heatmap,
    process_map,
    rework_bars,
    wip_lines,
)
from charts.theme import department_colors
from metrics.bottlenecks import bottleneck_table
from text import Text
from ui.fmt import md_text
from ui.i18n import lang, t
from ui.metrics_cache import PageCalls, cached, filter_options
from ui.widgets import page_header, show_table

language = lang()
filters = page_header("nav_bottlenecks")

calls = PageCalls("bottlenecks", filters)
colors = department_colors(filter_options()["all_units"])
stat = (
    st.segmented_control(
        t("stat_switch"),
        ["median", "p90", "mean"],
        default="median",
        key="bottleneck_stat",
        format_func=lambda s: t(f"stat_{s}"),
    )
    or "median"
)

st.subheader(t("top_bottlenecks"))
for i, finding in enumerate(calls("findings"), start=1):
    st.markdown(f"**{i}.** {md_text(Text.of(finding, 'text')(language))}")

if not calls("has_events"):
    st.info(t("no_events"))
    table = cached(bottleneck_table, filters, "department")  # only without events: not a default view
    show_table(
        table,
        ["department", "count", "median_wait_hours", "p90_wait_hours", "share_of_case_time"],
        percent=("share_of_case_time",),
        decimals={"median_wait_hours": 1, "p90_wait_hours": 1},
        key="case_level_table",
    )
    st.stop()

nodes = calls("nodes")
edges = calls("edges")
min_count = st.slider(
    t("min_volume"),
    1,
    max(2, int(edges["count"].max()) // 4 if not edges.empty else 2),
    value=max(1, int(edges["count"].quantile(0.25)) if not edges.empty else 1),
    key="map_min_count",
)
st.plotly_chart(
    process_map(nodes, edges, stat, language, t("process_map"), min_count=min_count), width="stretch", key="process_map"
)

waits = calls("waits")
# The ranking uses the list's own measure (share of all case time) and only departments with enough events.
enough = waits["waits"].fillna(0) >= settings.MIN_SAMPLE  # the waits a figure is built on, as in the findings
ranked = waits[enough]
too_few = sorted(str(d) for d in waits.loc[~enough, "department"].dropna())
left, right = st.columns(2)
with left:
    st.plotly_chart(
        department_ranking(ranked, "share", language, t("department_ranking"), colors=colors),
        width="stretch",
        key="department_ranking",
    )
    if too_few:
        names = "、".join(too_few[:6]) + ("…" if len(too_few) > 6 else "")
        st.caption(md_text(t("too_few_note").format(n=settings.MIN_SAMPLE, names=names)))
with right:
    summary = calls("handovers")
    if summary and summary.get("handovers"):
        st.caption(
            t("handovers_summary").format(
                count=summary["handovers"],
                per_case=summary["handovers_per_case"] or 0,
                median=summary.get("median_delay_hours") or 0,
            )
        )
    st.plotly_chart(
        handover_heatmap(calls("handover_matrix"), language, t("handover_matrix")),
        width="stretch",
        key="handover_matrix",
    )

left, right = st.columns(2)
with left:
    st.plotly_chart(
        wip_lines(calls("wip"), language, t("wip"), colors=colors, as_of=filters.as_of()),
        width="stretch",
        key="wip",
    )
with right:
    st.plotly_chart(rework_bars(calls("rework"), language, t("rework")), width="stretch", key="rework")

show_table(
    waits,
    [
        "department",
        "count",
        "median_wait_hours",
        "p90_wait_hours",
        "mean_wait_hours",
        "median_service_hours",
        "share_of_case_time",
        "rework_rate",
    ],
    percent=("share_of_case_time", "rework_rate"),
    decimals={c: 1 for c in ("median_wait_hours", "p90_wait_hours", "mean_wait_hours", "median_service_hours")},
    key="waits_table",
)
