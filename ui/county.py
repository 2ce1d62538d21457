"""The 全县对比 page's pieces: the towns' table, the ranking in words, the snapshot line and the town buttons."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

import numfmt
from metrics import county
from metrics.catalog import get as kpi_def
from metrics.kpis import KpiResult
from metrics.status import state_text, target_state
from text import LIST_SEP, Text
from ui import fmt
from ui.i18n import lang, t
from ui.widgets import format_value, full_height, show_frame

#: The session flag a town button leaves for the page, which then opens the overview.
_GO = "_county_open_town"
OVERVIEW = "views/overview.py"
_CHANGE = Text("{}较上月", "{} Δ")


def _off_target(row: pd.Series, targets: Mapping[str, float | None], language: str, ids: list[str]) -> str:
    """The KPIs a town misses, in words as the tiles say it: 网办率 未达标（差 6.7 个百分点）; or that it has no
    cases this month (nothing uploaded yet, most likely), which is not the same as meeting every target."""
    if not row["cases"]:
        return t("county_no_cases")
    parts = []
    for kpi_id in ids:
        state = target_state(kpi_id, row[kpi_id], targets.get(kpi_id))
        if state.state in ("far", "close"):
            words = state_text(kpi_id, row[kpi_id], targets.get(kpi_id), language)
            parts.append(f"{state.symbol} {kpi_def(kpi_id).name(language)} {words}")
    return "；".join(parts) if language == "zh" else "; ".join(parts)


def _met(row: pd.Series, targets: Mapping[str, float | None], ids: list[str]) -> str:
    if not row["cases"]:
        return "—"
    states = [target_state(k, row[k], targets.get(k)).state for k in ids]
    judged = [s for s in states if s != "none"]
    return f"{judged.count('met')}/{len(judged)}" if judged else "—"


def _snapshot(town: str, published: Mapping[str, object]) -> str:
    found = published["towns"].get(town) if isinstance(published["towns"], dict) else None
    if not found:
        return t("county_snapshot_missing")
    return t("county_snapshot_done").format(version=found["version"], day=f"{found['published_at']:%m-%d}")


def town_table(
    table: pd.DataFrame, targets: Mapping[str, float | None], published: Mapping[str, object] | None
) -> None:
    """One row per town: the month's figure of every KPI (its state as symbol and colour), its change against last
    month, the targets met, what is off target in words, and the snapshot (none for a province's cube: its towns
    publish in their own databases). Sorting by a column sorts its numbers."""
    language = lang()
    shown = pd.DataFrame({t("town"): table["town"]})
    ids = county.compared(table)
    shown[t("county_met")] = [_met(r, targets, ids) for _, r in table.iterrows()]
    formats, colours = {}, {}
    for kpi_id in ids:
        name = kpi_def(kpi_id).name(language)
        unit = kpi_def(kpi_id).unit
        shown[name] = pd.to_numeric(table[kpi_id], errors="coerce")
        before = pd.to_numeric(table[f"{kpi_id}_previous"], errors="coerce")
        change = shown[name] - before
        change_label = _CHANGE(language).format(name)
        shown[change_label] = change * 100 if unit == "rate" else change
        goal = targets.get(kpi_id)
        formats[name] = _value_format(kpi_id, goal)
        formats[change_label] = _change_format(unit)
        colours[name] = _colour(kpi_id, goal)
    shown[t("county_off_target")] = [_off_target(r, targets, language, ids) for _, r in table.iterrows()]
    if published is not None:
        shown[t("county_snapshot")] = [_snapshot(town, published) for town in table["town"]]
    styler = shown.style.format(formats, na_rep="—")
    for column, colour in colours.items():
        styler = styler.map(colour, subset=[column])
    show_frame(
        styler,
        hide_index=True,
        width="stretch",
        height=min(full_height(shown), 740),
        key="county_table",
        placeholder="—",  # Streamlit draws a missing number as "None" whatever the Styler says; numbers stay numbers
        column_config={t("town"): st.column_config.TextColumn(pinned=True)},
    )
    st.caption(t("county_table_note"))


def _value_format(kpi_id: str, goal: float | None):
    def formatted(value: object) -> str:
        if value is None or isinstance(value, str) or pd.isna(value):
            return "—"
        state = target_state(kpi_id, float(value), goal)  # type: ignore[arg-type]  # a number, checked above
        symbol = f"{state.symbol} " if state.state != "none" else ""
        if kpi_def(kpi_id).unit == "days":  # a number with one decimal: the heading and the note say working days
            return symbol + numfmt.fixed(float(value))  # type: ignore[arg-type]
        return symbol + format_value(kpi_id, float(value))  # type: ignore[arg-type]

    return formatted


def _change_format(unit: str):
    def formatted(value: object) -> str:
        if value is None or isinstance(value, str) or pd.isna(value):
            return "—"
        return fmt.signed(float(value), 0 if unit == "count" else 1, thousands=unit == "count")  # type: ignore[arg-type]

    return formatted


def _colour(kpi_id: str, goal: float | None):
    def css(value: object) -> str:
        if value is None or isinstance(value, str) or pd.isna(value):
            return ""
        state = target_state(kpi_id, float(value), goal)  # type: ignore[arg-type]
        return f"color: {state.color}" if state.state != "none" else ""

    return css


def ranking(table: pd.DataFrame, totals: Mapping[str, KpiResult], *, province: bool = False) -> None:
    """The towns to press and the leading ones, in sentences; the towns left out for too few cases, named."""
    whole = county.PROVINCE_WHOLE if province else county.COUNTY_WHOLE
    said = county.ranking_text(table, totals, lang(), whole=whole)
    if said.alone:
        st.markdown(fmt.md_text(said.alone))
        return
    parts = [said.press, said.lead] if said.lead else [said.press]  # the whole order said once: one column
    for column, sentences in zip(st.columns(len(parts)), parts, strict=True):
        with column:
            for sentence in sentences:
                st.markdown(f"- {fmt.md_text(sentence)}")
    if said.left_out:
        st.caption(fmt.md_text(said.left_out))


def snapshot_line(table: pd.DataFrame, published: Mapping[str, object], month: str) -> None:
    """Which towns have published the month's snapshot, and which not yet."""
    towns = list(table["town"])
    done = [town for town in towns if town in published["towns"]]  # type: ignore[operator]
    missing = [town for town in towns if town not in done]
    text = t("county_snapshots").format(month=month, done=len(done), total=len(towns))
    if missing:
        names = LIST_SEP(lang()).join(missing[:8]) + ("…" if len(missing) > 8 else "")
        text += t("county_snapshots_missing").format(names=names)
    if published.get("county"):
        text += t("county_snapshot_county")
    (st.success if not missing else st.info)(fmt.md_text(text), icon=":material/inventory_2:")


def _open_town(town: str) -> None:
    """A town button: filter every page to this town and open the overview (a callback: before the sidebar)."""
    st.session_state["f_town"] = [town]
    st.session_state[_GO] = True


def town_buttons(towns: list[str]) -> None:
    """A button per town that filters every page to it and opens the overview."""
    st.markdown(f"**{t('county_open_title')}**")
    with st.container(horizontal=True, gap="small", key="county_towns"):
        for i, town in enumerate(towns):
            st.button(
                fmt.md_text(town),
                key=f"county_town_{i}",
                on_click=_open_town,
                args=(town,),
                icon=":material/arrow_forward:",
                help=t("county_open_help"),
            )


def follow_town_button() -> None:
    """After a town button: open the overview, filtered to the town."""
    if st.session_state.pop(_GO, False):
        st.switch_page(OVERVIEW)


def province_source() -> dict[str, object] | None:
    """Where a province's cube came from (``EGOV_CUBE``: built with, when, towns), else None."""
    from lake import province
    from ui.state import get_db

    with get_db().reading() as cur:
        return province.source(cur)


def province_note(source: Mapping[str, object]) -> None:
    """On a province's cube: where the figures come from and what is not there."""
    engine = {"spark": "Apache Spark", "duckdb": "DuckDB"}.get(str(source["built_with"]), "—")
    built = str(source["built_at"] or "—").replace("T", " ")
    text = t("province_note").format(towns=f"{source['towns']:,}", engine=engine, at=built)
    st.info(fmt.md_text(text), icon=":material/public:")


def chosen_town_note() -> None:
    """The sidebar's town choice does not narrow this page: say so when one is made."""
    chosen = st.session_state.get("f_town") or []
    if chosen:
        st.caption(fmt.md_text(t("county_town_filter_note").format(names=LIST_SEP(lang()).join(chosen))))
