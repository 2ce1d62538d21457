"""Global filters in the sidebar, shared by every page and kept in the URL.

A view can be bookmarked or sent: ``?month=2026-10&dept=民政办&channel=online`` restores it.
The widgets live in app.py's run (drawn before the page), their values in session state; pages
read the result with :func:`current`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from metrics.filters import Filters
from ui.data import filter_options
from ui.i18n import lang, t

CHANNEL_LABELS = {
    "online": ("网上办理", "Online"),
    "mobile": ("移动端", "Mobile"),
    "window": ("窗口", "Window"),
    "self_service": ("自助终端", "Self-service"),
    "post": ("邮寄", "Post"),
    "other": ("其他", "Other"),
}
_KEYS = {"month": "f_month", "dept": "f_dept", "item": "f_item", "channel": "f_channel"}


def channel_label(channel: str) -> str:
    zh, en = CHANNEL_LABELS.get(channel, (channel, channel))
    return zh if lang() == "zh" else en


def with_channel_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """A case list with readable channel names instead of the canonical codes."""
    if frame.empty or "channel" not in frame:
        return frame
    return frame.assign(channel=frame["channel"].map(lambda c: channel_label(c) if isinstance(c, str) else c))


def _from_url(options: dict) -> None:
    """On a session's first run, take the filters from the URL (ignoring values that do not exist)."""
    if st.session_state.get("_filters_from_url"):
        return
    st.session_state["_filters_from_url"] = True
    qp = st.query_params
    month = qp.get("month")
    state = st.session_state
    state.setdefault(_KEYS["month"], month if month in options["months"] else (options["months"] or [None])[0])
    state.setdefault(_KEYS["dept"], [d for d in qp.get_all("dept") if d in options["departments"]])
    state.setdefault(_KEYS["item"], [i for i in qp.get_all("item") if i in options["items"]])
    state.setdefault(_KEYS["channel"], [c for c in qp.get_all("channel") if c in options["channels"]])


def _to_url() -> None:
    """Write the current filters into the URL, leaving other parameters (lang) alone."""
    wanted = {
        "month": st.session_state.get(_KEYS["month"]),
        "dept": st.session_state.get(_KEYS["dept"]) or [],
        "item": st.session_state.get(_KEYS["item"]) or [],
        "channel": st.session_state.get(_KEYS["channel"]) or [],
    }
    for key, value in wanted.items():
        current = st.query_params.get_all(key)
        target = [value] if isinstance(value, str) else list(value)
        if current != target:
            if target:
                st.query_params[key] = target if len(target) > 1 else target[0]
            elif key in st.query_params:
                del st.query_params[key]


def sidebar() -> None:
    """Draw the filter widgets (call once per run, before the page)."""
    options = filter_options()
    _from_url(options)
    if st.session_state.get(_KEYS["month"]) not in options["months"]:
        st.session_state[_KEYS["month"]] = (options["months"] or [None])[0]
    with st.sidebar:
        st.subheader(t("filters"))
        if not options["months"]:
            st.caption(t("filters_no_data"))
            return
        st.selectbox(t("month"), options["months"], key=_KEYS["month"], format_func=_month_label)
        st.multiselect(t("department"), options["departments"], key=_KEYS["dept"], placeholder=t("all"))
        chosen_depts = st.session_state.get(_KEYS["dept"]) or []
        items = (
            options["items"]
            if not chosen_depts
            else sorted(
                {i for d in chosen_depts for i in options["items_by_department"].get(d, [])}
                | set(st.session_state.get(_KEYS["item"]) or [])
            )
        )
        st.multiselect(t("service_item"), items, key=_KEYS["item"], placeholder=t("all"))
        st.multiselect(
            t("channel"), options["channels"], key=_KEYS["channel"], format_func=channel_label, placeholder=t("all")
        )
    _to_url()


def _month_label(month: str) -> str:
    today = dt.date.today()
    if month == f"{today:%Y-%m}":
        return f"{month}（{t('month_to_date')}）"
    return month


def current() -> Filters | None:
    """The chosen filters, or None when the database has no cases."""
    month = st.session_state.get(_KEYS["month"])
    if not month:
        return None
    base = Filters.month(month)
    return Filters(
        start=base.start,
        end=base.end,
        departments=tuple(st.session_state.get(_KEYS["dept"]) or ()),
        items=tuple(st.session_state.get(_KEYS["item"]) or ()),
        channels=tuple(st.session_state.get(_KEYS["channel"]) or ()),
    )
