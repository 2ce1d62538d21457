"""全县对比 County: the towns of the county side by side, for the county's 政务服务中心.

Who is behind and who leads (in sentences), every KPI per town with its target state and change, each town's
online rate over twelve months, who has published the month's snapshot; a town's button opens its overview.
The page compares every town, whatever the sidebar's town choice (the other filters apply).
"""

from __future__ import annotations

import streamlit as st

from charts.county import MAX_PANELS, town_online_small_multiples
from metrics.county import all_towns
from ui import county as ui_county
from ui import filters as ui_filters
from ui.i18n import lang, t
from ui.metrics_cache import PageCalls
from ui.widgets import page_header

ui_county.follow_town_button()
language = lang()
province = ui_county.province_source()  # a province's cube (EGOV_CUBE): no snapshots, no town pages
filters = all_towns(page_header("province_title" if province else "county_title", all_towns=True))
if province:
    ui_county.province_note(province)
ui_county.chosen_town_note()
if not ui_filters.is_county():
    st.info(t("county_one_town"), icon=":material/info:")

calls = PageCalls("county", filters)
table = calls("towns")
totals = calls("county")
targets = calls("targets")
published = None if province else calls("published")

st.subheader(t("county_ranking_title"))
ui_county.ranking(table, totals, province=bool(province))
if published is not None:
    ui_county.snapshot_line(table, published, f"{filters.start:%Y-%m}")

st.subheader(t("county_table_title"))
ui_county.town_table(table, targets, published)
if not province:
    ui_county.town_buttons(list(table["town"]))

st.subheader(t("county_trend_title"))
county_series = calls("county_months")
county_rate = county_series[county_series["kpi_id"] == "online_rate"].assign(
    month=lambda f: f["period_start"].map(lambda d: f"{d:%Y-%m}")
)
order = list(table.sort_values(["online_rate", "town"], na_position="last")["town"])  # the lowest rate first
st.plotly_chart(
    town_online_small_multiples(
        calls("months"), county_rate, language, order=order[:MAX_PANELS], target=targets.get("online_rate")
    ),
    width="stretch",
    key="county_small_multiples",
)
st.caption(t("county_trend_note"))
if len(order) > MAX_PANELS:
    st.caption(t("county_trend_some").format(n=MAX_PANELS, total=f"{len(order):,}"))
