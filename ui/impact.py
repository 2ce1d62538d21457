"""The upload page's "what will change" block: :class:`ingest.impact.Impact` in words a town analyst reads at once.

Shown in the check section, before the import button: the period the file covers, new and updated cases, the
cases per month before and after, what the service catalogue does not list, and a warning when the file
overlaps months already loaded. Names from the file go through :func:`ui.fmt.md_text` or
:func:`ui.widgets.show_frame` (inert text: no markup, no links); numbers and dates are the app's own.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from ingest.impact import CatalogChange, Impact, Named
from text import CLAUSE_SEP, LIST_SEP
from ui.fmt import md_text
from ui.i18n import lang, t
from ui.widgets import show_frame

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Names listed in a sentence (the count says how many there are in all); overlapping months named in the warning.
MAX_NAMES_SHOWN = 10
MAX_OVERLAP_SHOWN = 6


def month_label(month: str | None) -> str:
    """A YYYY-MM month as people write it (2026年10月 / Oct 2026); cases without a submission time say so."""
    if not month:
        return t("up_impact_no_month")
    year, number = month.split("-")
    return t("up_impact_month_label").format(year=year, month=int(number), name=MONTHS_EN[int(number) - 1])


def _day(value: dt.datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d}"


def names_text(named: tuple[Named, ...], total: int) -> str:
    """The first names with their cases (甲（20 件）、乙（10 件）等), each inert."""
    shown = named[:MAX_NAMES_SHOWN]
    text = LIST_SEP(lang()).join(t("up_impact_name").format(name=md_text(n.name), n=n.cases) for n in shown)
    return text + (t("up_impact_more") if total > len(shown) else "")


def summary_line(impact: Impact) -> str:
    """Period, new and updated cases in one line (本文件覆盖 … 至 … · 新办件 320 · 更新已有办件 80（其中 5 件…）)."""
    held = t("up_impact_held").format(n=impact.held_cases)
    if impact.older:
        held += t("up_impact_older").format(n=impact.older)
    parts = [
        t("up_impact_period").format(first=_day(impact.first_submitted), last=_day(impact.last_submitted)),
        t("up_impact_new").format(n=impact.new_cases),
        held,
    ]
    return " · ".join(parts)


def months_frame(impact: Impact) -> pd.DataFrame:
    """月份 / 导入前 / 导入后 / 变化, one row per month the load touches (numbers stay numbers: see MONTH_FORMATS)."""
    return pd.DataFrame(
        [
            {
                t("up_impact_month"): month_label(m.month),
                t("up_impact_before"): m.before,
                t("up_impact_after"): m.after,
                t("up_impact_change"): m.change,
            }
            for m in impact.months
        ],
        columns=[t("up_impact_month"), t("up_impact_before"), t("up_impact_after"), t("up_impact_change")],
    )


def month_formats() -> dict:
    """Thousands separators for the counts and a sign on the change (a "+3" text cell would read as a formula)."""
    counts = st.column_config.NumberColumn(format="localized")
    return {
        t("up_impact_before"): counts,
        t("up_impact_after"): counts,
        t("up_impact_change"): st.column_config.NumberColumn(format="%+d"),
    }


def overlap_text(impact: Impact) -> str:
    """The months already loaded, each with what the file does there (2026年10月已有 2,740 件，本文件将更新其中 80 件…)."""
    parts = []
    for m in impact.overlap[:MAX_OVERLAP_SHOWN]:
        part = t("up_impact_overlap_month").format(month=month_label(m.month), before=m.before, updated=m.updated)
        if m.new:
            part += t("up_impact_overlap_new").format(n=m.new)
        parts.append(part)
    rest = len(impact.overlap) - MAX_OVERLAP_SHOWN
    if rest > 0:
        parts.append(t("up_impact_overlap_more").format(n=rest))
    return t("up_impact_overlap").format(months=CLAUSE_SEP(lang()).join(parts))


def catalogue_lines(impact: Impact) -> list[str]:
    """What the file's departments and items are against the service catalogue."""
    if not impact.catalog_loaded:
        return [t("up_impact_no_catalog")]
    if not impact.unlisted_department_count and not impact.unlisted_item_count:
        return [t("up_impact_all_listed")]
    out = []
    if impact.unlisted_item_count:
        out.append(
            t("up_impact_items").format(
                n=impact.unlisted_item_count,
                cases=impact.unlisted_item_cases,
                names=names_text(impact.unlisted_items, impact.unlisted_item_count),
            )
        )
    if impact.unlisted_department_count:
        out.append(
            t("up_impact_departments").format(
                n=impact.unlisted_department_count,
                cases=impact.unlisted_department_cases,
                names=names_text(impact.unlisted_departments, impact.unlisted_department_count),
            )
        )
    return out


def _plain_names(names: tuple[str, ...], total: int) -> str:
    shown = names[:MAX_NAMES_SHOWN]
    return LIST_SEP(lang()).join(md_text(n) for n in shown) + (t("up_impact_more") if total > len(shown) else "")


def catalog_change_lines(c: CatalogChange) -> list[str]:
    """A catalogue upload: new, changed, unchanged and dropped items, and the cases it leaves unlisted."""
    out = [t("up_impact_catalog").format(items=c.items, new=c.new, changed=c.changed, unchanged=c.unchanged)]
    if c.new_names:
        out.append(t("up_impact_catalog_new").format(names=_plain_names(c.new_names, c.new)))
    if c.changed_names:
        out.append(t("up_impact_catalog_changed").format(names=_plain_names(c.changed_names, c.changed)))
    if c.dropped:
        out.append(t("up_impact_catalog_dropped").format(n=c.dropped, names=_plain_names(c.dropped_names, c.dropped)))
    if c.cases_unlisted_before is None:
        out.append(t("up_impact_catalog_cases_first").format(after=c.cases_unlisted_after))
    else:
        out.append(t("up_impact_catalog_cases").format(after=c.cases_unlisted_after, before=c.cases_unlisted_before))
    return out


def show_impact(impact: Impact | None) -> None:
    """The block itself; nothing when the load would refuse or skip the file (the page says so above)."""
    if impact is None:
        return
    st.markdown(f"**{t('up_impact_title')}**")
    if impact.kind == "catalog":
        for line in catalog_change_lines(impact.catalog) if impact.catalog else []:
            st.markdown(line)
        return
    st.markdown(summary_line(impact))
    if impact.events_older:
        st.markdown(t("up_impact_events").format(n=impact.events_older, cases=impact.cases_events_older))
    if impact.months:
        show_frame(months_frame(impact), hide_index=True, column_config=month_formats())
        st.caption(t("up_impact_months_caption") if impact.changed_months else t("up_impact_unchanged"))
    for line in catalogue_lines(impact):
        st.markdown(line)
    if impact.overlap:
        st.warning(overlap_text(impact), icon=":material/warning:")
