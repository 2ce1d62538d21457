"""Small page pieces: KPI tiles with target and traffic light, empty states, safe Excel downloads."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, Literal

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

import numfmt
import settings
from cells import neutralise
from metrics.catalog import get as kpi_def
from metrics.filters import Filters
from metrics.kpis import KpiResult
from metrics.page_queries import CASE_COUNT, Context
from metrics.status import gap_text, target_state
from text import Text
from ui import fmt
from ui.i18n import lang, t

#: Streamlit's colour names for the three target states (their hues are set in .streamlit/config.toml to
#: metrics.status.STATE_COLORS, so the screen and the reports agree).
_BADGE = {"met": "green", "close": "orange", "far": "red", "none": "gray"}
#: A department of the 红黑榜: rank, name, rate and its basis.
_BOARD_ROW = Text("{rank}. {name}　{value}（{share}）", "{rank}. {name}  {value} ({share})")
#: The unit of a change in days on a tile.
_DAYS_CHANGE = Text("工作日", "days")


def format_value(kpi_id: str, value: float | None, *, tile: bool = False) -> str:
    """A KPI's figure; on a tile, days read "0.1 days" in English (the tile says they are working days)."""
    unit = kpi_def(kpi_id).unit
    if unit == "rate":
        return fmt.percent(value)
    if unit == "days":
        if tile and lang() != "zh":
            return fmt.days(value, lang(), unit="natural")
        return fmt.days(value, lang())
    decimals = kpi_def(kpi_id).decimals
    if decimals and value is not None:  # a mean of counts (每旅程平均跑动)
        return numfmt.fixed(value, decimals)
    return fmt.count(value, lang())


def change_text(kpi_id: str, value: float | None, previous: float | None) -> str | None:
    """The change against the comparison period in the KPI's unit; None when either side is unknown."""
    if value is None or previous is None:
        return None
    unit = kpi_def(kpi_id).unit
    diff = value - previous
    if unit == "rate":
        return f"{fmt.signed(diff * 100)} {t('points')}"
    if unit == "days":
        return f"{fmt.signed(diff)} {_DAYS_CHANGE(lang())}"
    if kpi_def(kpi_id).decimals:
        return fmt.signed(diff, kpi_def(kpi_id).decimals)
    if previous and not fmt.is_zero_change(diff, 0):
        return f"{fmt.signed(diff, 0, thousands=True)} ({fmt.signed(diff / previous * 100, 0)}%)"
    return fmt.signed(diff, 0, thousands=True)


def _is_zero(kpi_id: str, value: float, previous: float) -> bool:
    unit = kpi_def(kpi_id).unit
    diff = value - previous
    return fmt.is_zero_change(
        diff * 100 if unit == "rate" else diff, 1 if unit != "count" else kpi_def(kpi_id).decimals
    )


def _target_text(kpi_id: str, target: float | None) -> str:
    if target is None:
        return t("no_target")
    sign = "≥" if kpi_def(kpi_id).higher_is_better else "≤"
    return f"{t('target')} {sign}{format_value(kpi_id, target)}"


def state_badge(kpi_id: str, value: float | None, target: float | None) -> str:
    """The target state as a coloured badge that also reads without colour: ``✖ 未达标 · 差 6.7 个百分点``."""
    state = target_state(kpi_id, value, target)
    if state.state == "none":
        return ""
    gap = gap_text(kpi_id, state, lang())
    text = f"{state.symbol} {state.word(lang())}" + (f" · {gap}" if gap else "")
    return f":{_BADGE[state.state]}-badge[{text}]"


def comparison_label(filters: Filters | None) -> str | None:
    """While a month runs, a tile's change compares with the same days of last month, and says so.

    A whole month compares with the whole month before, which the scope line says once for all tiles.
    """
    from ui import filters as ui_filters

    if filters is not None and ui_filters.is_running(filters):
        return t("vs_same_days")
    return None


def kpi_tile(
    kpi_id: str,
    result: KpiResult,
    previous: KpiResult | None,
    target: float | None,
    extra: str | None = None,
    *,
    filters: Filters | None = None,
    link: tuple[str, str] | None = None,
    definition: str | None = None,
) -> None:
    """One KPI: value, change against the comparison period, target state in words, and its definition.

    ``previous`` is None when the comparison period has no data (the first month): the change reads "—".
    ``link`` is (page file, label) for a tile that opens its list. ``definition``: the 口径说明 when it is not the
    catalogue's own (a journey KPI computed with another window).
    """
    kpi = kpi_def(kpi_id)
    value = result.get("value")
    before = previous.get("value") if previous is not None else None
    delta = change_text(kpi_id, value, before)
    zero = delta is not None and value is not None and before is not None and _is_zero(kpi_id, value, before)
    with st.container(border=True, key=f"tile_{kpi_id}"):
        st.metric(
            kpi.name(lang()),
            format_value(kpi_id, value, tile=True) if value is not None else t("unknown"),
            delta=delta if delta is not None else "—",
            delta_color="off"
            if zero or delta is None or not kpi.directional
            else ("normal" if kpi.higher_is_better else "inverse"),
            delta_arrow="off" if zero or delta is None else "auto",
            delta_description=comparison_label(filters),
            help=definition or kpi.definition(lang()),
        )
        badge = state_badge(kpi_id, value, target)
        basis = []
        if kpi.default_target is not None or target is not None:
            basis.append(_target_text(kpi_id, target))
        if kpi.unit == "rate" and not kpi.mean_of_zh and result.get("denominator") is not None:
            basis.append(f"{fmt.count(result.get('numerator'), lang())}/{fmt.count(result['denominator'], lang())}")
        if kpi.unit == "days" and lang() != "zh":
            basis.append(t("workdays_short"))
        if extra:
            basis.append(extra)
        reason = result.get("reason")
        if reason:
            basis.append(Text(**reason)(lang()))
        lines = [badge, " · ".join(basis)]
        st.caption("  \n".join(line for line in lines if line) or "&nbsp;")
        if link:
            st.page_link(link[0], label=link[1], icon=":material/list:")


def kpi_tiles(
    rows: list[list[str]],
    results: Mapping[str, KpiResult],
    previous: Mapping[str, KpiResult] | None,
    targets: Mapping[str, float | None],
    *,
    filters: Filters,
    extras: dict[str, str | None] | None = None,
    links: dict[str, tuple[str, str]] | None = None,
    definitions: dict[str, str] | None = None,
) -> None:
    """Rows of tiles, one column each; ``previous`` from :func:`comparable` (None: nothing to compare with)."""
    for row in rows:
        for column, kpi_id in zip(st.columns(len(row)), row, strict=True):
            with column:
                kpi_tile(
                    kpi_id,
                    results[kpi_id],
                    None if previous is None else previous.get(kpi_id),
                    targets.get(kpi_id),
                    extra=(extras or {}).get(kpi_id),
                    filters=filters,
                    link=(links or {}).get(kpi_id),
                    definition=(definitions or {}).get(kpi_id),
                )


def comparable(previous: dict[str, KpiResult] | None) -> dict[str, KpiResult] | None:
    """The comparison period's results, or None when it has no cases (the first month with data)."""
    if not previous:
        return None
    cases = previous["cases"].get("value") if previous.get("cases") else None
    return previous if cases else None


def remember_done(page: str, message: str) -> None:
    """Say ``message`` at the top of ``page`` on its next run (after the rerun an action asks for)."""
    st.session_state[f"{page}_flash"] = message


def show_done(page: str) -> None:
    """What the last action on ``page`` did (:func:`remember_done`), once, as a success line."""
    message = st.session_state.pop(f"{page}_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


def empty_state(message_key: str, detail: str | None = None) -> None:
    """An explained empty state instead of a blank chart."""
    st.info(t(message_key) + (f"\n\n{detail}" if detail else ""))


def excel_bytes(frames: dict[str, pd.DataFrame], title: str | None = None) -> bytes:
    """An XLSX with one sheet per frame, its scope as the title row; formula-like text is neutralised."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}
    ) as xl:
        for sheet, frame in frames.items():
            safe = frame.copy()
            for column in safe.columns:
                if safe[column].dtype == object or str(safe[column].dtype).startswith("str"):
                    safe[column] = safe[column].map(lambda v: neutralise(v) if isinstance(v, str) else v)
            name = neutralise(sheet)[:31].replace("/", "-")
            safe.to_excel(xl, sheet_name=name, index=False, startrow=2 if title else 0)
            worksheet = xl.sheets[name]
            if title:
                worksheet.write_string(0, 0, neutralise(title))
            for i, column in enumerate(safe.columns):
                width = max([len(str(column))] + [len(str(v)) for v in safe[column].head(200)])
                worksheet.set_column(i, i, min(40, max(8, width * 1.6)))
    return buffer.getvalue()


def download_excel(
    label: str, frames: dict[str, pd.DataFrame], file_name: str, key: str, title: str | None = None
) -> None:
    st.download_button(
        label,
        excel_bytes(frames, title),
        file_name=file_name,
        key=key,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
    )


def labelled(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The chosen columns under their Chinese (or English) headings."""
    from ui.i18n_dashboard import COLUMN_LABELS

    return frame[columns].rename(columns={c: COLUMN_LABELS.get(c, Text.same(c))(lang()) for c in columns})


def _fixed(digits: int) -> Callable[[Any], str]:
    """A table column's number format: ``digits`` decimals, "—" where there is no value."""
    return lambda v: "—" if v is None or pd.isna(v) else numfmt.fixed(v, digits)


def show_table(
    frame: pd.DataFrame,
    columns: list[str],
    *,
    percent: tuple[str, ...] = (),
    decimals: dict[str, int] | None = None,
    key: str | None = None,
    height: int | Literal["auto", "content", "stretch"] = "auto",
    select: bool = False,
) -> list[int]:
    """A table under translated headings, written one way: thousands separators, rates with one decimal,
    missing values as "—" (never "None" or "NaN"), text from the data shown as text.

    Formats go through a Styler, so sorting by a column still sorts its numbers. ``select``: a click on a row
    chooses it (the page runs again); returns the chosen rows' positions in ``frame`` (none without ``select``).
    """
    decimals = decimals or {}
    shown = labelled(readable_text(inert(frame)), columns)
    formats: dict[str, Callable[[Any], str]] = {}
    for field in columns:
        label = column_label(field)
        series = frame[field]
        if field in percent:
            formats[label] = fmt.percent
        elif field in decimals:
            formats[label] = _fixed(decimals[field])
        elif _numbers(series):
            present = series.dropna()
            formats[label] = _fixed(0 if all(float(v).is_integer() for v in present) else 1)  # one way per column
    styler = shown.style.format(formats, na_rep="—")
    if not select:
        st.dataframe(styler, hide_index=True, width="stretch", key=key, height=height)
        return []
    event = st.dataframe(
        styler, hide_index=True, width="stretch", key=key, height=height, on_select="rerun", selection_mode="single-row"
    )
    return list(event.selection.rows)


def show_table_with_download(
    frame: pd.DataFrame,
    columns: list[str],
    *,
    key: str,
    sheet: str,
    file_name: str,
    download_key: str,
    title: str,
) -> None:
    """A table of fields (:func:`show_table`) and under it the same columns, under the same headings, as an
    Excel file (:func:`download_excel`, sheet ``sheet``, ``title`` above the table)."""
    show_table(frame, columns, key=key)
    download_excel(t("download_excel"), {sheet: labelled(frame, columns)}, file_name, key=download_key, title=title)


def full_height(frame: pd.DataFrame) -> int:
    """The height in pixels that shows every row of ``frame`` without scrolling: Streamlit's 35 px a row, the
    heading row and the 3 px border (for short tables, such as one row per KPI)."""
    return 35 * (len(frame) + 1) + 3


def inert(frame: pd.DataFrame | Styler) -> pd.DataFrame | Styler:
    """The frame as a spreadsheet may safely open it: text that would start a formula (``=`` ``+`` ``-`` ``@``, tab,
    carriage return) gets a leading ``'`` (:func:`cells.neutralise`, as in the Excel downloads),
    in the cells, the headings and the index; numbers stay numbers.

    Every table goes through here (:func:`show_table`, :func:`show_frame`): Streamlit's own "download as CSV" in a
    table's toolbar then writes what the table shows, and no cell of it runs in Excel or WPS. A Styler keeps its
    formats (they apply by position) over its data made inert.
    """
    if isinstance(frame, Styler):
        safe = inert(frame.data)
        frame.data, frame.index, frame.columns = safe, safe.index, safe.columns
        return frame
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out[column] = pd.Series([neutralise(v) for v in values], index=values.index, dtype=values.dtype)
    out.columns = pd.Index([neutralise(c) for c in out.columns]) if len(out.columns) else out.columns
    if pd.api.types.is_object_dtype(out.index) or pd.api.types.is_string_dtype(out.index):
        out.index = out.index.map(neutralise)
    return out


def show_frame(frame: pd.DataFrame | Styler, **options) -> None:
    """A table of prepared columns (headings and text already as shown), through :func:`inert`; ``options`` go to
    st.dataframe (hide_index, width, height, key, column_config). Tables of fields use :func:`show_table`."""
    st.dataframe(inert(frame), **options)


def _numbers(series: pd.Series) -> bool:
    """A column of numbers (missing values allowed), not of flags or text."""
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    present = series.dropna()
    return bool(len(present)) and bool(
        present.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all()
    )


def readable_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing text (a case without a department) as "—" instead of None; numbers are left to the formats."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        present = values.dropna()
        if not pd.api.types.is_numeric_dtype(values) and len(present) and present.map(type).eq(str).all():
            out[column] = values.astype(object).where(values.notna(), "—")
    return out


def column_label(field: str) -> str:
    from ui.i18n_dashboard import COLUMN_LABELS

    return COLUMN_LABELS.get(field, Text.same(field))(lang())


def page_header(
    title_key: str,
    *,
    check_cases: bool = True,
    all_towns: bool = False,
    comparison: Callable[[Filters], str | None] | None = None,
) -> Filters:
    """Title, the period line and the empty states every dashboard page starts with; stops when there is nothing.

    ``all_towns``: the page compares every town (全县对比), so the town choice is dropped from its scope.
    ``comparison``: the page's own words for what its changes compare with, when not the usual (None: usual).
    """
    from dataclasses import replace

    from ui import filters as ui_filters
    from ui.metrics_cache import ask

    st.title(t(title_key))
    filters = ui_filters.current()
    if filters is None:
        empty_state("no_data")
        st.stop()
    if all_towns:
        filters = replace(filters, towns=())
    missing = ui_filters.towns_left_out(filters)
    ui_filters.scope_line(filters, missing, comparison=comparison(filters) if comparison else None)
    if check_cases and not ask(CASE_COUNT, Context(filters))["cases"]["value"]:
        empty_state("no_cases_selection")
        st.stop()
    return filters if all_towns else ui_filters.like_for_like(filters, missing)


def _choose_department(department: str) -> None:
    """A 红黑榜 button: filter every page to this department (a callback, before the widgets are drawn)."""
    st.session_state["f_dept"] = [department]


def department_board(
    board: dict[str, dict[str, list]], filters: Filters, targets: dict | None = None, area: str = "town"
) -> None:
    """部门红黑榜: the bottom departments of the town on 网办率 and 按时办结率, each a button that filters to it.

    A department that meets the town's target is not one to press: it is left off ("其余均已达标"). ``area``
    is what the view covers (``store.towns.area_kind``): the title says 全镇, 全县 or 所选乡镇 by it.
    """
    area = t(f"area_{area}")
    st.markdown(f"**{t('board_title').format(area=area)}**")
    columns = st.columns(len(board))
    for column, (kpi_id, part) in zip(columns, board.items(), strict=True):
        with column:
            title = (
                t("board_online")
                if kpi_id == "online_rate"
                else (t("board_on_time") if kpi_id == "on_time_rate" else kpi_def(kpi_id).name(lang()))
            )
            st.caption(title)
            goal = (targets or {}).get(kpi_id)
            rows = [r for r in part["rows"] if target_state(kpi_id, r["value"], goal).state != "met"]
            if not part["rows"]:
                st.caption(t("board_none"))
            elif not rows:
                st.caption(t("board_all_met").format(area=area))
            for rank, row in enumerate(rows, start=1):
                share = f"{fmt.count(row['numerator'], lang())}/{fmt.count(row['denominator'], lang())}"
                text = _BOARD_ROW(lang()).format(
                    rank=rank, name=row["department"], value=fmt.percent(row["value"]), share=share
                )
                st.button(
                    fmt.md_text(text),
                    key=f"board_{kpi_id}_{rank}",
                    on_click=_choose_department,
                    args=(row["department"],),
                    type="tertiary",
                    help=t("board_filter_help"),
                    disabled=list(filters.departments) == [row["department"]],
                )
            if part["too_few"]:
                names = "、".join(part["too_few"][:4]) + ("…" if len(part["too_few"]) > 4 else "")
                st.caption(fmt.md_text(t("too_few_note").format(n=settings.MIN_SAMPLE, names=names)))
