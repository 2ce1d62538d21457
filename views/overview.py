"""总览 Overview: the leaders' first screen — tiles against targets, the trend, bottlenecks, 摆设, at-risk cases."""

from __future__ import annotations

import streamlit as st

from charts.trend import cases_and_online_rate
from metrics.page_queries import twelve_months
from ui.data import cached
from ui.i18n import lang, t
from ui.widgets import column_label, kpi_tile, labelled, page_header

#: The tiles, in reading order; 差评数 carries 参评率 beside it.
TILE_ROWS = [
    ["cases", "online_rate", "fully_online_rate", "max_one_visit_rate"],
    ["on_time_rate", "open_overdue_cases", "median_processing_days", "bad_ratings"],
]
TILE_IDS = [k for row in TILE_ROWS for k in row] + ["rating_participation", "at_risk_cases"]

language = lang()
filters = page_header("app_title")

department = filters.departments[0] if len(filters.departments) == 1 else None
results = cached("compute_kpis", filters, TILE_IDS)
previous = cached("previous_kpis", filters, tuple(TILE_IDS))
targets = cached("targets", department)
warning = cached("calendar_warning", filters)
if warning:
    st.warning(warning.get(language) if isinstance(warning, dict) else str(warning), icon=":material/event_busy:")

for row in TILE_ROWS:
    for column, kpi_id in zip(st.columns(4), row, strict=False):
        with column:
            extra = None
            if kpi_id == "bad_ratings":
                part = results["rating_participation"]
                extra = f"{t('participation')} {part['value']:.1%}" if part.get("value") is not None else None
            kpi_tile(kpi_id, results[kpi_id], previous.get(kpi_id), targets.get(kpi_id), extra=extra)

series = cached("kpi_series", twelve_months(filters), "month", ["cases", "online_rate"])
st.plotly_chart(
    cases_and_online_rate(series, language, title=t("trend_title"), online_target=targets.get("online_rate")),
    width="stretch",
    key="overview_trend",
)

left, right = st.columns(2)
with left:
    st.subheader(t("top_bottlenecks"))
    findings = cached("rank_bottlenecks", filters, 5)
    if not findings:
        st.caption(t("no_bottlenecks"))
    for i, finding in enumerate(findings, start=1):
        st.markdown(f"**{i}.** {finding['text_zh'] if language == 'zh' else finding['text_en']}")
with right:
    st.subheader(t("name_only"))
    items = cached("name_only_items", filters)
    if items.empty:
        st.caption(t("name_only_none"))
    else:
        st.dataframe(
            labelled(items, ["service_item", "department", "cases", "online_cases", "online_share"]),
            hide_index=True,
            width="stretch",
            column_config={column_label("online_share"): st.column_config.NumberColumn(format="percent")},
        )

st.subheader(t("at_risk_title"))
at_risk = cached("at_risk_cases", filters)
if at_risk.empty:
    st.caption(t("at_risk_none"))
else:
    st.dataframe(
        labelled(at_risk, ["case_id", "service_item", "department", "submitted_at", "due_at", "workdays_left"]),
        hide_index=True,
        width="stretch",
    )
