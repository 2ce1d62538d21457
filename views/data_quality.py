"""数据质量 Data quality: can the dashboard's figures be trusted, and what should the analyst fix?

Open to every role: leaders who read a 满意度 or a month's 办件量 should see how complete the data
behind it is. Only aggregates and case ids are shown (no personal data is stored at all); the
rejected rows themselves download from the upload history, for analysts.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import scope
from charts.quality import cases_per_month, rejects_over_time
from ingest import quality
from ingest.mapping import FIELD_LABELS_EN, FIELD_LABELS_ZH
from ingest.reasons import short_reason
from text import LIST_SEP, NOTE, Text
from ui import fmt
from ui.auth import has_role, require_role
from ui.i18n import lang, t
from ui.state import get_db
from ui.widgets import full_height, readable_text, show_frame

require_role("viewer")
language = lang()
db = get_db()
version = db.data_version()
key = str(db.path)


@st.cache_data(show_spinner=False, max_entries=16)
def load(db_path: str, data_version: int, towns: tuple[str, ...] | None) -> dict:
    """The checks of this data version for the run's towns (:mod:`scope`): a key part, and set around the reads."""
    with scope.scoped(towns), get_db().reading() as cur:
        return _load(cur)


def _load(cur) -> dict:
    return {
        "cases": quality.case_count(cur),
        "coverage": quality.field_coverage(cur),
        "rejects": quality.rejects_by_month(cur),
        "warnings": quality.field_warnings_by_reason(cur),
        "months": quality.thin_months(cur),
        "departments": quality.thin_department_months(cur),
        "missing": quality.missing_keys(cur),
        "missing_by_upload": quality.missing_keys_by_upload(cur),
        "missing_sample": quality.missing_keys_sample(cur),
        "catalog": quality.catalog_gaps(cur),
        "catalog_items": quality.catalog_gap_items(cur),
        "catalog_departments": quality.catalog_gap_departments(cur),
    }


st.title(t("dq_title"))
data = load(key, version, scope.current())
if not data["cases"]:
    st.info(t("dq_no_data"))
    st.stop()
st.caption(t("dq_intro").format(cases=fmt.count(data["cases"], language)))

# 1. Field coverage
st.subheader(t("dq_coverage"))
cov = data["coverage"]
table = pd.DataFrame(
    {
        t("dq_field"): cov[Text.fields("label")(language)],
        t("dq_share"): cov["share"].fillna(0.0) * 100,
        t("dq_filled"): [fmt.count(n, language) for n in cov["filled"]],
        t("dq_basis"): [
            NOTE(language).format(b, f"{n:,}")
            for b, n in zip(cov[Text.fields("basis")(language)], cov["total"], strict=True)
        ],
    }
)
show_frame(
    table,
    hide_index=True,
    width="stretch",
    height=full_height(table),
    column_config={
        t("dq_share"): st.column_config.ProgressColumn(t("dq_share"), format="%.1f%%", min_value=0, max_value=100),
    },
)
weak = cov[(cov["share"].notna()) & (cov["share"] < 0.8)]
if not weak.empty:
    names = LIST_SEP(language).join(weak[Text.fields("label")(language)])
    st.warning(t("dq_coverage_weak").format(fields=names))

# 2. Rejected rows over time
st.subheader(t("dq_rejects"))
rejects = data["rejects"]
if rejects.empty:
    st.success(t("dq_rejects_none"), icon=":material/check_circle:")
else:
    st.plotly_chart(rejects_over_time(rejects, language), width="stretch")
    pivot = rejects.pivot_table(
        index=Text.fields("reason")(language), columns="month", values="rows", aggfunc="sum", fill_value=0
    )
    pivot.index.name = t("up_reason")
    show_frame(pivot, width="stretch")
    st.caption(t("dq_rejects_help"))

# 2b. Fields left empty on rows that loaded (承诺时限 99999天, 跑动次数 -3, 满意度 6): why the coverage misses them
warnings = data["warnings"]
if not warnings.empty:
    st.subheader(t("dq_warnings"))
    shown = pd.DataFrame(
        {
            t("dq_warnings_reason"): [short_reason(r, language) for r in warnings["reason"]],
            t("dq_warnings_field"): [
                Text(FIELD_LABELS_ZH.get(c, c), FIELD_LABELS_EN.get(c, c))(language) for c in warnings["column_name"]
            ],
            t("up_count"): warnings["rows"].astype("int64"),
            t("dq_warnings_uploads"): warnings["uploads"].astype("int64"),
        }
    )
    show_frame(shown, hide_index=True)
    st.caption(t("dq_warnings_help"))

# 3. Months and departments with suspiciously few cases
st.subheader(t("dq_thin"))
months = data["months"]
st.plotly_chart(cases_per_month(months, quality.THIN_SHARE, language), width="stretch")
flagged = months[months["flagged"]]
if flagged.empty:
    st.success(t("dq_thin_none").format(share=f"{quality.THIN_SHARE:.0%}"), icon=":material/check_circle:")
else:
    shown = pd.DataFrame(
        {
            t("month"): flagged["month"],
            t("cases"): [fmt.count(v, "en") for v in flagged["cases"]],
            t("dq_median"): [fmt.count(v, "en") for v in flagged["median"]],
            t("dq_ratio"): [fmt.percent(r) for r in flagged["ratio"]],
            t("dq_note"): [t("dq_latest") if latest else "" for latest in flagged["latest"]],
        }
    )
    st.warning(t("dq_thin_found").format(n=len(flagged), share=f"{quality.THIN_SHARE:.0%}"))
    show_frame(shown, hide_index=True)
departments = data["departments"]
st.markdown(f"**{t('dq_thin_departments')}**")
if departments.empty:
    st.caption(t("dq_thin_departments_none"))
else:
    show_frame(
        pd.DataFrame(
            {
                t("dq_department"): departments["department"],
                t("month"): departments["month"],
                t("cases"): [fmt.count(v, "en") for v in departments["cases"]],
                t("dq_median"): [f"{v:,.1f}".replace(".0", "") for v in departments["median"]],
                t("dq_ratio"): [fmt.percent(r) for r in departments["ratio"]],
                t("dq_note"): [t("dq_latest") if latest else "" for latest in departments["latest"]],
            }
        ),
        hide_index=True,
    )
st.caption(
    t("dq_thin_help").format(
        share=f"{quality.THIN_SHARE:.0%}",
        months=quality.MIN_MONTHS_FOR_DEPARTMENT,
        median=quality.MIN_MEDIAN_FOR_DEPARTMENT,
    )
)

# 4. Cases without department or item
st.subheader(t("dq_missing"))
missing = data["missing"]
cols = st.columns(3)
cols[0].metric(t("dq_no_department"), fmt.count(missing["no_department"], language))
cols[1].metric(t("dq_no_item"), fmt.count(missing["no_item"], language))
cols[2].metric(t("dq_neither"), fmt.count(missing["neither"], language))
if missing["no_department"] or missing["no_item"]:
    by_upload = data["missing_by_upload"].rename(
        columns={
            "upload_id": t("dq_upload"),
            "file_name": t("dq_file"),
            "cases": t("cases"),
            "no_department": t("dq_no_department"),
            "no_item": t("dq_no_item"),
        }
    )
    show_frame(by_upload, hide_index=True)
    with st.expander(t("dq_missing_sample").format(n=len(data["missing_sample"]))):
        show_frame(
            data["missing_sample"].rename(
                columns={
                    "case_id": t("dq_case_id"),
                    "submitted_at": t("dq_submitted"),
                    "department": t("dq_department"),
                    "service_item": t("dq_item"),
                    "file_name": t("dq_file"),
                    "source_row": t("dq_row"),
                }
            ),
            hide_index=True,
        )
else:
    st.success(t("dq_missing_none"), icon=":material/check_circle:")

# 5. Items and departments the service catalogue does not know (only counted against a catalogue that exists)
st.subheader(t("dq_catalog"))
gaps = data["catalog"]
if not gaps["catalog_items"]:
    st.info(t("dq_catalog_none"), icon=":material/info:")
    if has_role("analyst"):
        st.page_link("views/upload.py", label=t("dq_catalog_upload_link"), icon=":material/upload_file:")
else:
    checks_departments = gaps["departments"] is not None
    cols = st.columns(4 if checks_departments else 2)
    cols[0].metric(t("dq_catalog_unknown_items"), fmt.count(gaps["items"], language))
    cols[1].metric(t("dq_catalog_item_cases"), fmt.count(gaps["item_cases"], language))
    if checks_departments:
        cols[2].metric(t("dq_catalog_unknown_departments"), fmt.count(gaps["departments"], language))
        cols[3].metric(t("dq_catalog_department_cases"), fmt.count(gaps["department_cases"], language))
    else:
        st.info(t("dq_catalog_no_departments"), icon=":material/info:")
    item_gap = bool(gaps["item_cases"])
    department_gap = checks_departments and bool(gaps["department_cases"])
    if item_gap:
        st.warning(
            t("dq_catalog_items_found").format(
                items=fmt.count(gaps["items"], language),
                cases=fmt.count(gaps["item_cases"], language),
                share=fmt.percent(gaps["item_cases"] / gaps["cases_with_item"]),
            )
        )
    if department_gap:
        st.warning(
            t("dq_catalog_departments_found").format(
                departments=fmt.count(gaps["departments"], language),
                cases=fmt.count(gaps["department_cases"], language),
                share=fmt.percent(gaps["department_cases"] / gaps["cases_with_department"]),
            )
        )
    if not item_gap and not department_gap:
        known = "dq_catalog_all_known" if checks_departments else "dq_catalog_items_known"
        st.success(t(known), icon=":material/check_circle:")
    elif not item_gap:
        st.success(t("dq_catalog_items_known"), icon=":material/check_circle:")
    elif checks_departments and not department_gap:
        st.success(t("dq_catalog_departments_known"), icon=":material/check_circle:")
    items = data["catalog_items"]
    if not items.empty:
        st.markdown(f"**{t('dq_catalog_top_items').format(shown=len(items), n=fmt.count(gaps['items'], language))}**")
        shown = {
            t("dq_item"): items["service_item"],
            t("dq_item_code"): items["item_code"],
            t("dq_department"): items["department"],
            t("cases"): items["cases"].astype("int64"),
            t("dq_first_month"): items["first_month"],
            t("dq_last_month"): items["last_month"],
        }
        if items["item_code"].isna().all():
            del shown[t("dq_item_code")]
        show_frame(readable_text(pd.DataFrame(shown)), hide_index=True)
    departments_out = data["catalog_departments"]
    if not departments_out.empty:
        title = t("dq_catalog_top_departments").format(
            shown=len(departments_out), n=fmt.count(gaps["departments"], language)
        )
        st.markdown(f"**{title}**")
        show_frame(
            readable_text(
                pd.DataFrame(
                    {
                        t("dq_department"): departments_out["department"],
                        t("dq_items"): departments_out["items"].astype("int64"),
                        t("cases"): departments_out["cases"].astype("int64"),
                        t("dq_first_month"): departments_out["first_month"],
                        t("dq_last_month"): departments_out["last_month"],
                    }
                )
            ),
            hide_index=True,
        )
    st.caption(
        t("dq_catalog_help").format(
            items=fmt.count(gaps["catalog_items"], language),
            departments=fmt.count(gaps["catalog_departments"], language),
        )
    )
