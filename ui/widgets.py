"""Small page pieces: KPI tiles with target and traffic light, empty states, safe Excel downloads."""

from __future__ import annotations

import io
import math

import pandas as pd
import streamlit as st

from ingest.upload_support import neutralise
from metrics.catalog import get as kpi_def
from metrics.filters import Filters
from ui import fmt
from ui.i18n import lang, t

#: A miss within this distance of the target is amber, further is red (rates: 5 points; others: 10%).
AMBER_RATE_POINTS = 0.05
AMBER_SHARE = 0.10
LIGHT = {"green": ":green[●]", "amber": ":orange[●]", "red": ":red[●]", "none": ":gray[○]"}


def light(kpi_id: str, value: float | None, target: float | None) -> str:
    """Traffic light of a figure against its target: green met, amber close, red far, none unknown."""
    kpi = kpi_def(kpi_id)
    if value is None or target is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    gap = (target - value) if kpi.higher_is_better else (value - target)
    if gap <= 1e-12:
        return "green"
    tolerance = AMBER_RATE_POINTS if kpi.unit == "rate" else max(1.0, abs(target) * AMBER_SHARE)
    return "amber" if gap <= tolerance else "red"


def format_value(kpi_id: str, value: float | None) -> str:
    unit = kpi_def(kpi_id).unit
    if unit == "rate":
        return fmt.percent(value)
    if unit == "days":
        return fmt.days(value, lang())
    return fmt.count(value, lang())


def _change(kpi_id: str, value: float | None, previous: float | None) -> str | None:
    if value is None or previous is None:
        return None
    unit = kpi_def(kpi_id).unit
    diff = value - previous
    if unit == "rate":
        return f"{diff * 100:+.1f} {t('points')}"
    if unit == "days":
        return f"{diff:+.1f} {t('workdays_short')}"
    if previous:
        return f"{diff:+,.0f} ({diff / previous:+.0%})"
    return f"{diff:+,.0f}"


def _target_text(kpi_id: str, target: float | None) -> str:
    if target is None:
        return t("no_target")
    sign = "≥" if kpi_def(kpi_id).higher_is_better else "≤"
    return f"{t('target')} {sign}{format_value(kpi_id, target)}"


def kpi_tile(kpi_id: str, result: dict, previous: dict | None, target: float | None, extra: str | None = None) -> None:
    """One KPI: value, change against last month, target with a traffic light, and its definition."""
    kpi = kpi_def(kpi_id)
    value = result.get("value")
    colour = light(kpi_id, value, target)
    name = kpi.name(lang())
    with st.container(border=True):
        st.metric(
            f"{LIGHT[colour]} {name}",
            format_value(kpi_id, value) if value is not None else t("unknown"),
            delta=_change(kpi_id, value, (previous or {}).get("value")),
            delta_color="normal" if kpi.higher_is_better else "inverse",
            help=kpi.definition(lang()),
        )
        lines = [_target_text(kpi_id, target)]
        if "denominator" in result and result.get("denominator") is not None:
            lines.append(f"{fmt.count(result.get('numerator'), lang())} / {fmt.count(result['denominator'], lang())}")
        if extra:
            lines.append(extra)
        reason = result.get("reason")
        if reason:
            lines.append(reason.get(lang(), reason.get("zh", "")))
        st.caption(" · ".join(lines))


def empty_state(message_key: str, detail: str | None = None) -> None:
    """An explained empty state instead of a blank chart."""
    st.info(t(message_key) + (f"\n\n{detail}" if detail else ""))


def excel_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """An XLSX with one sheet per frame; formula-like text is neutralised."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}
    ) as xl:
        for sheet, frame in frames.items():
            safe = frame.copy()
            for column in safe.columns:
                if safe[column].dtype == object or str(safe[column].dtype).startswith("str"):
                    safe[column] = safe[column].map(neutralise)
            safe.to_excel(xl, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def download_excel(label: str, frames: dict[str, pd.DataFrame], file_name: str, key: str) -> None:
    st.download_button(
        label,
        excel_bytes(frames),
        file_name=file_name,
        key=key,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
    )


def labelled(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The chosen columns under their Chinese (or English) headings."""
    from ui.i18n_dashboard import COLUMN_LABELS

    i = 0 if lang() == "zh" else 1
    return frame[columns].rename(columns={c: COLUMN_LABELS.get(c, (c, c))[i] for c in columns})


def column_label(field: str) -> str:
    from ui.i18n_dashboard import COLUMN_LABELS

    return COLUMN_LABELS.get(field, (field, field))[0 if lang() == "zh" else 1]


def page_header(title_key: str, *, check_cases: bool = True) -> Filters:
    """Title, the period line and the empty states every dashboard page starts with; stops when there is nothing."""
    from ui import filters as ui_filters
    from ui.data import cached

    st.title(t(title_key))
    filters = ui_filters.current()
    if filters is None:
        empty_state("no_data")
        st.stop()
    st.caption(f"{filters.label()} · {t('as_of')} {filters.as_of():%Y-%m-%d}")
    if check_cases and not cached("compute_kpis", filters, ["cases"])["cases"]["value"]:
        empty_state("no_cases_selection")
        st.stop()
    return filters
