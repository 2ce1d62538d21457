"""网办分析 Online adoption: online rate by department and item, channel mix, drill-down to cases."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from charts.adoption import channel_mix_area, online_rate_bars
from charts.theme import department_colors
from ui import filters as ui_filters
from ui.i18n import lang, t
from ui.metrics_cache import PageCalls, filter_options
from ui.widgets import page_header, show_table, show_table_with_download

language = lang()
filters = page_header("nav_adoption")

colors = department_colors(filter_options()["all_units"])
calls = PageCalls("adoption", filters)
targets = calls("targets")
by_dept = calls("by_department")
by_item = calls("by_item")
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
    mix = calls("channel_mix")
    st.plotly_chart(
        channel_mix_area(mix, channel_labels, language, t("channel_mix"), online_target=targets.get("online_rate")),
        width="stretch",
        key="adoption_mix",
    )

rate_columns = ["cases", "online_cases", "online_rate", "fully_online_rate"]
rates = ("online_rate", "fully_online_rate")
st.subheader(t("adoption_by_item"))
show_table(
    by_item.sort_values("cases", ascending=False), ["service_item", *rate_columns], percent=rates, key="adoption_items"
)

st.subheader(t("drill_down"))
departments = list(by_dept.sort_values("cases", ascending=False)["department"])
a, b = st.columns(2)
with a:
    department = st.selectbox(t("pick_department"), departments, key="drill_department")
items_of = by_item[by_item["service_item"].isin(filter_options()["items_by_department"].get(department, []))]
item_names = list(items_of.sort_values("cases", ascending=False)["service_item"])
with b:
    item = st.selectbox(
        t("pick_item"), [None, *item_names], key="drill_item", format_func=lambda v: t("all") if v is None else v
    )
show_table(
    items_of.sort_values("cases", ascending=False), ["service_item", *rate_columns], percent=rates, key="drill_items"
)
cases = calls("cases", drill_department=department, drill_item=item)
st.caption(f"{t('case_list')} · {len(cases):,} {t('rows')}")
shown = ui_filters.readable(cases)
columns = [
    *ui_filters.town_column(), "case_id", "service_item", "channel", "status", "submitted_at", "completed_at", "visits"
]  # fmt: skip
scope = replace(filters, departments=(department,), items=(item,) if item else ())
show_table_with_download(
    shown,
    columns,
    key="drill_cases",
    sheet=t("case_list")[:20],
    file_name=f"{ui_filters.scope_file_stem(scope, t('case_list_file'))}.xlsx",
    download_key="drill_download",
    title=f"{t('case_list')} · {ui_filters.scope_text(scope)}",
)
