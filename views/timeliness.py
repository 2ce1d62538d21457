"""办理时效 Timeliness: processing time against the promise, on-time rates, overdue and at-risk lists."""

from __future__ import annotations

import streamlit as st

from charts.theme import department_colors
from charts.timeliness import on_time_by_department, processing_vs_promise
from ui import filters as ui_filters
from ui.data import cached, filter_options
from ui.i18n import lang, t
from ui.widgets import column_label, download_excel, kpi_tile, labelled, page_header

language = lang()
filters = page_header("nav_timeliness")
ids = [
    "median_processing_days",
    "p90_processing_days",
    "on_time_rate",
    "speedup_rate",
    "open_overdue_cases",
    "at_risk_cases",
]
results = cached("compute_kpis", filters, ids)
targets = cached("targets", filters.departments[0] if len(filters.departments) == 1 else None)
previous = cached("previous_kpis", filters, tuple(ids))
for row in (ids[:3], ids[3:]):
    for column, kpi_id in zip(st.columns(3), row, strict=True):
        with column:
            kpi_tile(kpi_id, results[kpi_id], previous.get(kpi_id), targets.get(kpi_id))

colors = department_colors(filter_options()["all_units"])
items = cached("processing_time_by_item", filters)
st.plotly_chart(
    processing_vs_promise(items, language, t("processing_vs_promise")), width="stretch", key="timeliness_items"
)
departments = cached("department_processing", filters)
left, right = st.columns([2, 3])
with left:
    st.plotly_chart(
        on_time_by_department(
            departments, language, t("on_time_by_department"), target=targets.get("on_time_rate"), colors=colors
        ),
        width="stretch",
        key="timeliness_departments",
    )
with right:
    st.subheader(t("department_table"))
    percent = st.column_config.NumberColumn(format="percent")
    number = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(
        labelled(
            departments,
            [
                "department",
                "cases",
                "completed",
                "median_working_days",
                "p90_working_days",
                "on_time_rate",
                "open_overdue",
                "at_risk",
                "speedup_rate",
            ],
        ),
        hide_index=True,
        width="stretch",
        key="timeliness_table",
        column_config={
            column_label("on_time_rate"): percent,
            column_label("speedup_rate"): percent,
            column_label("median_working_days"): number,
            column_label("p90_working_days"): number,
        },
    )

list_columns = ["case_id", "service_item", "department", "channel", "submitted_at", "due_at"]
overdue = ui_filters.with_channel_labels(cached("open_overdue_cases", filters))
at_risk = ui_filters.with_channel_labels(cached("at_risk_cases", filters))
left, right = st.columns(2)
with left:
    st.subheader(
        f"{t('open_overdue_title')}（{len(overdue):,}）"
        if language == "zh"
        else f"{t('open_overdue_title')} ({len(overdue):,})"
    )
    if overdue.empty:
        st.caption(t("open_overdue_none"))
    else:
        shown = labelled(overdue, [*list_columns, "workdays_overdue"])
        st.dataframe(shown, hide_index=True, width="stretch", key="overdue_table")
        download_excel(
            t("download_excel"),
            {t("open_overdue_title"): shown},
            f"overdue-{filters.label()}.xlsx",
            key="overdue_download",
        )
with right:
    st.subheader(
        f"{t('at_risk_title')}（{len(at_risk):,}）" if language == "zh" else f"{t('at_risk_title')} ({len(at_risk):,})"
    )
    if at_risk.empty:
        st.caption(t("at_risk_none"))
    else:
        shown = labelled(at_risk, [*list_columns, "workdays_left"])
        st.dataframe(shown, hide_index=True, width="stretch", key="at_risk_table")
        download_excel(
            t("download_excel"),
            {"临期预警" if language == "zh" else "At risk": shown},
            f"at-risk-{filters.label()}.xlsx",
            key="at_risk_download",
        )
