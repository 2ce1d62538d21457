"""设置 Settings (analysts and admins): each KPI's target, for the whole town or one department.

The dashboard colours a KPI by whether it meets its target; the catalogue in ``metrics.catalog``
ships sensible defaults, and this page lets the town set its own (stored in ``targets``, every
change audited). Clearing a target returns to the default. Targets are the county's: a user limited
to towns reads them here but cannot change them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import catalog, targets
from metrics.targets import TargetError
from store.targets import list_targets
from ui import fmt
from ui.auth import refuse_town_user, require_role
from ui.i18n import lang, t
from ui.messages import failure
from ui.state import get_db
from ui.widgets import full_height, remember_done, show_done, show_frame

user = require_role("analyst")
language = lang()
db = get_db()
TOWN = "__town__"
TOWN_LABEL = t("settings_town")  # fixed at draw time: format functions may run after the script


def shown(kpi: catalog.Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.unit == "rate":
        return fmt.percent(value)
    if kpi.unit == "days":
        return fmt.days(value, language)
    return fmt.count(value, language)


def departments() -> list[str]:
    with db.reading() as cur:
        rows = cur.execute(
            """SELECT department FROM cases WHERE department IS NOT NULL
               UNION SELECT department FROM service_items WHERE department IS NOT NULL ORDER BY 1"""
        ).fetchall()
    return [r[0] for r in rows]


st.title(t("settings_title"))
st.caption(t("settings_intro"))
show_done("settings")

with db.reading() as cur:
    overall = targets.get_targets(cur)
    set_rows = list_targets(cur)
own_counts: dict[str, int] = {}
for row in set_rows:
    if row["department"] is not None:
        own_counts[row["kpi_id"]] = own_counts.get(row["kpi_id"], 0) + 1
set_overall = {row["kpi_id"]: row for row in set_rows if row["department"] is None}

table = pd.DataFrame(
    [
        {
            t("settings_kpi"): kpi.name(language),
            t("settings_direction"): t("settings_higher") if kpi.higher_is_better else t("settings_lower"),
            t("settings_default"): shown(kpi, kpi.default_target),
            t("settings_current"): shown(kpi, overall[kpi.id]),
            t("settings_source"): (
                f"{set_overall[kpi.id]['updated_by'] or '—'} · {set_overall[kpi.id]['updated_at']:%Y-%m-%d %H:%M}"
                if kpi.id in set_overall
                else t("settings_is_default")
            ),
            t("settings_departments"): own_counts.get(kpi.id, 0),
        }
        for kpi in catalog.KPIS
    ]
)
show_frame(table, hide_index=True, width="stretch", height=full_height(table))
refuse_town_user(user, "town_user_targets")  # the county's targets: read, not changed (set_target refuses too)

st.subheader(t("settings_edit"))
left, right = st.columns(2)
kpi_id = left.selectbox(
    t("settings_kpi"), list(catalog.KPI_IDS), format_func=lambda k: catalog.get(k).name(language), key="settings_kpi"
)
scope = right.selectbox(
    t("settings_scope"),
    [TOWN, *departments()],
    format_func=lambda d: TOWN_LABEL if d == TOWN else d,
    key="settings_scope",
)
kpi = catalog.get(kpi_id)
department = None if scope == TOWN else scope
st.caption(kpi.definition(language))
with db.reading() as cur:
    current = targets.target_for(cur, kpi_id, department)
own = next(
    (r for r in set_rows if r["kpi_id"] == kpi_id and r["department"] == department),
    None,
)

if kpi.unit == "rate":
    label, step, factor, upper, number = t("settings_value_rate"), 1.0, 100.0, 100.0, "%.1f"
elif kpi.unit == "days":
    label, step, factor, upper, number = t("settings_value_days"), 0.5, 1.0, None, "%.1f"
else:
    label, step, factor, upper, number = t("settings_value_count"), 1.0, 1.0, None, "%.0f"
with st.form(f"settings_form_{kpi_id}_{scope}"):
    value = st.number_input(
        label,
        min_value=0.0,
        max_value=upper,
        value=float(current * factor) if current is not None else 0.0,
        step=step,
        format=number,
        key=f"settings_value_{kpi_id}_{scope}",
    )
    st.caption(
        t("settings_now").format(
            value=shown(kpi, current),
            source=t("settings_src_own")
            if own
            else (t("settings_src_town") if department and kpi_id in set_overall else t("settings_src_default")),
        )
    )
    save = st.form_submit_button(t("settings_save"), type="primary")
if st.button(t("settings_reset"), key="settings_reset", disabled=own is None):
    acting = require_role("analyst")  # checked again at the moment of acting
    try:
        targets.set_target(db, kpi_id, None, department=department, by=acting.name)
    except Exception as exc:
        st.error(fmt.md_text(failure(exc, f"clearing target {kpi_id}")))
    else:
        remember_done("settings", t("settings_cleared").format(kpi=kpi.name(language)))
        st.rerun()
if save:
    acting = require_role("analyst")  # checked again at the moment of acting
    try:
        targets.set_target(db, kpi_id, value / factor, department=department, by=acting.name)
    except TargetError as exc:
        st.error(fmt.md_text(exc.message(language)))
    except Exception as exc:
        st.error(fmt.md_text(failure(exc, f"setting target {kpi_id}")))
    else:
        saved = t("settings_saved").format(
            kpi=kpi.name(language),
            scope=fmt.md_text(department or t("settings_town")),
            value=shown(kpi, value / factor),
        )
        remember_done("settings", saved)
        st.rerun()

dept_rows = [r for r in set_rows if r["department"] is not None]
if dept_rows:
    st.subheader(t("settings_dept_targets"))
    show_frame(
        pd.DataFrame(
            [
                {
                    t("settings_kpi"): catalog.get(r["kpi_id"]).name(language)
                    if r["kpi_id"] in catalog.KPI_BY_ID
                    else r["kpi_id"],
                    t("dq_department"): r["department"],
                    t("settings_current"): shown(catalog.KPI_BY_ID[r["kpi_id"]], r["value"])
                    if r["kpi_id"] in catalog.KPI_BY_ID
                    else r["value"],
                    t("settings_source"): f"{r['updated_by'] or '—'} · {r['updated_at']:%Y-%m-%d %H:%M}",
                }
                for r in dept_rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
