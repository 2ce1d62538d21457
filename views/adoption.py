"""网办分析 Online adoption: online rate by department and item, channel mix, drill-down to cases."""

from __future__ import annotations

import streamlit as st

from charts.adoption import channel_mix_area, online_rate_bars
from charts.theme import department_colors
from metrics.page_queries import twelve_months
from ui import filters as ui_filters
from ui.data import cached, filter_options
from ui.i18n import lang, t
from ui.widgets import column_label, download_excel, labelled, page_header

language = lang()
filters = page_header("nav_adoption")

colors = department_colors(filter_options()["all_units"])
targets = cached("targets", None)
by_dept = cached("online_rate_by", filters, "department")
by_item = cached("online_rate_by", filters, "service_item")
channel_labels = {c: ui_filters.channel_label(c) for c in ui_filters.CHANNEL_LABELS}

left, right = st.columns(2)
with left:
    st.plotly_chart(
        online_rate_bars(
            by_dept,
            "department",
            language,
            t("adoption_by_department"),
            target=targets.get("online_rate"),
            colors=colors,
        ),
        width="stretch",
        key="adoption_dept",
    )
with right:
    mix = cached("channel_mix", twelve_months(filters), "month")
    st.plotly_chart(
        channel_mix_area(mix, channel_labels, language, t("channel_mix"), online_target=targets.get("online_rate")),
        width="stretch",
        key="adoption_mix",
    )

rate_columns = ["cases", "online_cases", "online_rate", "fully_online_rate"]
percent = st.column_config.NumberColumn(format="percent")
config = {column_label("online_rate"): percent, column_label("fully_online_rate"): percent}
st.subheader(t("adoption_by_item"))
st.dataframe(
    labelled(by_item.sort_values("cases", ascending=False), ["service_item", *rate_columns]),
    hide_index=True,
    width="stretch",
    column_config=config,
    key="adoption_items",
)

st.subheader(t("drill_down"))
departments = list(by_dept.sort_values("cases", ascending=False)["department"])
department = st.selectbox(t("pick_department"), departments, key="drill_department")
items_of = by_item[by_item["service_item"].isin(filter_options()["items_by_department"].get(department, []))]
a, b = st.columns([2, 3])
with a:
    st.dataframe(
        labelled(items_of.sort_values("cases", ascending=False), ["service_item", *rate_columns]),
        hide_index=True,
        width="stretch",
        column_config=config,
        key="drill_items",
    )
with b:
    item_names = list(items_of.sort_values("cases", ascending=False)["service_item"])
    item = st.selectbox(
        t("pick_item"), [None, *item_names], key="drill_item", format_func=lambda v: t("all") if v is None else v
    )
    cases = cached("cases_of", filters, department, item)
    st.caption(f"{t('case_list')} · {len(cases):,} {t('rows')}")
    shown = ui_filters.with_channel_labels(cases)
    columns = ["case_id", "service_item", "channel", "submitted_at", "completed_at", "status", "visits"]
    st.dataframe(labelled(shown, columns), hide_index=True, width="stretch", key="drill_cases")
    download_excel(
        t("download_excel"),
        {t("case_list")[:20]: labelled(shown, columns)},
        f"cases-{department}-{filters.label()}.xlsx",
        key="drill_download",
    )
