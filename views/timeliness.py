"""办理时效 Timeliness: processing time against the promise, on-time rates, overdue and at-risk lists."""

from __future__ import annotations

import streamlit as st

from charts.theme import department_colors
from charts.timeliness import on_time_by_department, processing_vs_promise
from metrics.page_queries import TIMELINESS_IDS
from text import NOTE
from ui import filters as ui_filters
from ui.i18n import lang, t
from ui.metrics_cache import PageCalls, filter_options
from ui.widgets import comparable, kpi_tiles, page_header, show_table, show_table_with_download

language = lang()
filters = page_header("nav_timeliness")
calls = PageCalls("timeliness", filters)
tiles = [i for i in TIMELINESS_IDS if i != "cases"]  # 办件量 only says whether last month can be compared
results = calls("tiles")
targets = calls("targets")
previous = comparable(calls("previous"))
kpi_tiles([tiles[:3], tiles[3:]], results, previous, targets, filters=filters)

colors = department_colors(filter_options()["all_units"])
items = calls("by_item")
st.plotly_chart(
    processing_vs_promise(items, language, t("processing_vs_promise")), width="stretch", key="timeliness_items"
)
departments = calls("by_department")
st.plotly_chart(
    on_time_by_department(
        departments, language, t("on_time_by_department"), target=targets.get("on_time_rate"), colors=colors
    ),
    width="stretch",
    key="timeliness_departments",
)
st.subheader(t("department_table"))
show_table(
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
    percent=("on_time_rate", "speedup_rate"),
    decimals={"median_working_days": 1, "p90_working_days": 1},
    key="timeliness_table",
)

#: The columns that matter first (due date, how late), so they are visible without scrolling sideways.
list_columns = [*ui_filters.town_column(), "case_id", "service_item", "department", "due_at"]
overdue = ui_filters.readable(calls("overdue"))
at_risk = ui_filters.readable(calls("at_risk"))
#: Each list full width, in tabs: every column that matters (due date, how late) visible without scrolling.
case_lists = [
    ("open_overdue_title", "open_overdue_none", overdue, "workdays_overdue", "overdue"),
    ("at_risk_title", "at_risk_none", at_risk, "workdays_left", "at_risk"),
]
tabs = st.tabs(
    [NOTE(language).format(t(title), f"{len(frame):,}") for title, _, frame, _, _ in case_lists]
)  # fmt: skip
for tab, (title, none, frame, measure, key) in zip(tabs, case_lists, strict=True):
    with tab:
        if frame.empty:
            st.caption(t(none))
            continue
        columns = [*list_columns, measure, "channel", "submitted_at"]
        show_table_with_download(
            frame,
            columns,
            key=f"{key}_table",
            sheet=t(title)[:31],
            file_name=f"{ui_filters.scope_file_stem(filters, t(title))}.xlsx",
            title=f"{t(title)} · {ui_filters.scope_text(filters)}",
            download_key=f"{key}_download",
        )
