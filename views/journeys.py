"""一件事 Journeys: how often people go from office to office and submit again for one matter.

The headline (journeys, multi-item and cross-department shares, visits, avoidable submissions, re-applications)
with its change vs last month; the pairs of items filed in the same journey as a matrix coloured by department,
a click on a pair showing example journeys (case numbers and dates only); the departments the same people must
both visit; the known bundles and the trips and submissions they would save. Small cells are never shown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.journeys import department_pair_bars, pair_matrix
from charts.theme import department_colors
from metrics import journeys
from metrics.catalog import JOURNEY_MIN_APPLICANTS, JOURNEY_WINDOW_DAYS, definition
from metrics.filters import Filters
from metrics.page_queries import page_filters
from ui import filters as ui_filters
from ui import fmt
from ui.i18n import lang, t
from ui.metrics_cache import PageCalls, cached, filter_options
from ui.widgets import comparable, full_height, kpi_tiles, page_header, show_table

language = lang()


def _comparison(period: Filters) -> str | None:
    """The scope line's comparison words: none until the month's journeys are over (see ``settled`` below)."""
    window = int(st.session_state.get("journey_window", JOURNEY_WINDOW_DAYS))
    return None if journeys.is_settled(journeys.replace_dims(period), window) else t("journeys_no_comparison")


chosen = page_header("nav_journeys", comparison=_comparison)
filters = page_filters("journeys", chosen)  # a journey crosses departments, items and channels
if chosen.departments or chosen.items or chosen.channels:
    st.info(t("journeys_filters_ignored"), icon=":material/info:")
K = JOURNEY_MIN_APPLICANTS


def _suppressed(count: int, some_shown: bool) -> None:
    """How many rows small cells left out: "另有 N 组" under a list, "共 N 组" when nothing could be shown."""
    if count:
        key = "journeys_suppressed" if some_shown else "journeys_suppressed_all"
        st.caption(t(key).format(n=fmt.count(count, language), k=K))


intro, setting = st.columns([5, 1], vertical_alignment="bottom")
with setting:
    window = int(
        st.number_input(
            t("journeys_window"),
            min_value=1,
            max_value=366,
            value=JOURNEY_WINDOW_DAYS,
            step=1,
            key="journey_window",
            help=t("journeys_window_help"),
        )
    )
with intro:
    st.caption(t("journeys_intro").format(w=window))

calls = PageCalls("journeys", filters)
summary = calls("summary", window_days=window)
results = summary["kpis"]
month = f"{filters.start:%Y-%m}"
settles = journeys.settles_on(filters, window)
settled = journeys.is_settled(filters, window)
# Until the month's late journeys are over, a change vs last month (whose journeys are) is only the calendar.
last_month = calls("previous", window_days=window)
previous = comparable(last_month) if settled else None

if summary["journeys"] is None:
    st.info(t("journeys_unknown"), icon=":material/info:")
else:
    st.markdown(
        fmt.md_text(
            t("journeys_headline").format(
                month=month,
                applicants=fmt.count(summary["applicants"], language),
                journeys=fmt.count(summary["journeys"], language),
                multi=fmt.count(summary["multi_item_journeys"], language),
                multi_rate=fmt.percent(results["multi_item_journey_rate"]["value"]),
                cross=fmt.count(summary["multi_department_journeys"], language),
                cross_rate=fmt.percent(results["multi_department_journey_rate"]["value"]),
                avoidable=fmt.count(summary["avoidable_submissions"], language),
            )
        )
    )
if not settled:
    st.caption(t("journeys_not_settled").format(month=month, w=window, day=f"{settles:%Y-%m-%d}"))
kpi_tiles(
    [list(journeys.JOURNEY_KPIS)],
    results,
    previous,
    calls("targets"),
    filters=filters,
    definitions={k: definition(k, window)(language) for k in journeys.JOURNEY_KPIS},
)
if summary["coverage"] is not None:
    keyed, total = summary["coverage_cases"]
    st.caption(
        t("journeys_coverage").format(
            share=fmt.percent(summary["coverage"]), keyed=fmt.count(keyed, language), total=fmt.count(total, language)
        )
    )
if summary["journeys"] is None:
    st.stop()

# --- items filed together ----------------------------------------------------------------------------------
st.subheader(t("journeys_pairs_title"))
pairs = summary["pairs"]
options = filter_options()
if not pairs:
    st.caption(t("journeys_no_pairs").format(k=K))
else:
    item_departments: dict[str, str] = {}
    for department, items in options["items_by_department"].items():
        for item in items:
            item_departments.setdefault(item, department)
    colors = department_colors(options["all_units"])
    st.plotly_chart(
        pair_matrix(pairs, item_departments, colors, language, t("journeys_matrix_title")),
        width="stretch",
        key="journeys_matrix",
    )
    st.caption(t("journeys_pairs_pick"))
    table = pd.DataFrame(
        [
            {
                "item_a": p["items"][0],
                "item_b": p["items"][1],
                "applicants": p["applicants"],
                "journeys": p["journeys"],
                "median_gap_days": p["median_gap_days"],
                "departments": "、".join(p["departments"]),
                "visits_total": p["visits"],
            }
            for p in pairs
        ]
    )
    picked = show_table(
        table,
        list(table.columns),
        decimals={"median_gap_days": 1},
        key=f"journeys_pairs_{month}_{window}",
        height=full_height(table) if len(table) <= 15 else "auto",
        select=True,
    )
    if picked:
        a, b = pairs[picked[0]]["items"]
        st.markdown(f"**{fmt.md_text(t('journeys_examples_title').format(a=a, b=b))}**")
        examples = cached(journeys.example_journeys, filters, [a, b], window)
        if examples.empty:
            st.caption(t("journeys_examples_none"))
        else:
            columns = ["journey_no", *ui_filters.town_column(), "case_id", "submitted_at", "service_item",
                       "department", "channel", "status"]  # fmt: skip
            show_table(ui_filters.readable(examples.rename(columns={"journey": "journey_no"})), columns)
_suppressed(summary["suppressed_pairs"], bool(pairs))

# --- departments the same people must both visit --------------------------------------------------------------
st.subheader(t("journeys_departments_title"))
department_pairs, hidden = summary["department_pairs"], summary["suppressed_department_pairs"]
if department_pairs:
    st.plotly_chart(department_pair_bars(department_pairs, language), width="stretch", key="journeys_departments")
else:
    st.caption(t("journeys_departments_none").format(k=K))
_suppressed(hidden, bool(department_pairs))

# --- known bundles ----------------------------------------------------------------------------------------------
st.subheader(t("journeys_bundles_title"))
try:
    journeys.load_bundles()
except journeys.BundleFileError as problem:
    st.warning(t("journeys_bundles_bad").format(why=problem.message(language)), icon=":material/warning:")
bundles = summary["bundles"]
if bundles:
    sentence = journeys.bundle_sentence(summary["bundle_journeys"])
    if sentence is not None:
        st.markdown(f"**{fmt.md_text(sentence(language))}**")
    frame = pd.DataFrame(
        [
            {
                "bundle": b["name"],
                "journeys": b["journeys"],
                "applicants": b["applicants"],
                "submissions_saved": b["submissions_saved"],
                "trips_saved": b["trips_saved"],
                "bundle_items": "、".join(b["items"]),
            }
            for b in bundles
        ]
    )  # most journeys first, as the snapshot and the command list them
    show_table(frame, list(frame.columns), key="journeys_bundles")
    trips = None if frame["trips_saved"].isna().any() else int(frame["trips_saved"].sum())
    st.caption(
        t("journeys_bundles_saved").format(
            submissions=fmt.count(int(frame["submissions_saved"].sum()), language),
            trips=fmt.count(trips, language),
            avoidable=fmt.count(summary["avoidable_submissions"], language),
        )
    )
    st.caption(t("journeys_bundles_note"))
else:
    st.caption(t("journeys_bundles_none").format(k=K))
if summary["suppressed_bundles"]:
    st.caption(t("journeys_suppressed_bundles").format(n=fmt.count(summary["suppressed_bundles"], language), k=K))
