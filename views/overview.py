"""总览 Overview: the leaders' first screen.

Five questions answered above the fold at 1366×768: are we on target (tiles with state words), what changed
(each tile's change), which departments to press (the 红黑榜), which cases are about to breach (the overdue
and at-risk tiles, linking to their lists). The trend, bottlenecks and 摆设 services follow.
"""

from __future__ import annotations

import streamlit as st

from charts.trend import cases_and_online_rate
from text import Text
from ui import filters as ui_filters
from ui.fmt import md_text
from ui.i18n import lang, t
from ui.metrics_cache import PageCalls
from ui.widgets import comparable, department_board, kpi_tiles, page_header, show_table

#: The tiles, in reading order: adoption on the first row, timeliness and the cases to chase on the second.
TILE_ROWS = [
    ["cases", "online_rate", "fully_online_rate", "max_one_visit_rate", "bad_ratings"],
    ["on_time_rate", "median_processing_days", "resubmission_rate", "open_overdue_cases", "at_risk_cases"],
]
LIST_PAGE = "views/timeliness.py"

language = lang()
filters = page_header("app_title")

calls = PageCalls("overview", filters)
results = calls("tiles")
previous = comparable(calls("previous"))
targets = calls("targets")
warning = calls("calendar_warning")
if warning:
    st.warning(warning.get(language) if isinstance(warning, dict) else str(warning), icon=":material/event_busy:")

participation = results["rating_participation"].get("value")
kpi_tiles(
    TILE_ROWS,
    results,
    previous,
    targets,
    filters=filters,
    extras={"bad_ratings": f"{t('participation')} {participation:.1%}" if participation is not None else None},
    links={kpi_id: (LIST_PAGE, t("tile_open_list")) for kpi_id in ("open_overdue_cases", "at_risk_cases")},
)

department_board(calls("weakest_departments"), filters, calls("town_targets"), area=calls("area"))

series = calls("trend")
st.plotly_chart(
    cases_and_online_rate(
        series,
        language,
        title=t("trend_title"),
        online_target=targets.get("online_rate"),
        partial_month=f"{filters.start:%Y-%m}" if ui_filters.is_running(filters) else None,
        as_of=filters.as_of(),
    ),
    width="stretch",
    key="overview_trend",
)

left, right = st.columns(2)
with left:
    st.subheader(t("top_bottlenecks"))
    findings = calls("findings")
    if not findings:
        st.caption(t("no_bottlenecks"))
    for i, finding in enumerate(findings, start=1):
        st.markdown(f"**{i}.** {md_text(Text.of(finding, 'text')(language))}")
with right:
    st.subheader(t("name_only"))
    items = calls("name_only")
    if items.empty:
        st.caption(t("name_only_none"))
    else:
        show_table(
            items, ["service_item", "department", "cases", "online_cases", "online_share"], percent=("online_share",)
        )

st.subheader(t("at_risk_title"))
at_risk = ui_filters.readable(calls("at_risk"))
if at_risk.empty:
    st.caption(t("at_risk_none"))
else:
    columns = [*ui_filters.town_column(), "case_id", "service_item", "department", "due_at", "workdays_left"]
    show_table(at_risk, [*columns, "submitted_at"])
