"""Global filters in the sidebar, shared by every page and kept in the URL.

A view can be bookmarked or sent: ``?month=2026-10&dept=民政办&channel=online`` restores it (and
``&town=柳林镇`` in a county database: the town filter is there only when more than one town holds data).
The widgets live in app.py's run (drawn before the page), their values in session state; pages
read the result with :func:`current`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

import pandas as pd
import streamlit as st

import clock
import scope
from metrics.filters import Filters, default_month
from text import LIST_SEP, NOTE, Text
from ui.fmt import md_text
from ui.i18n import lang, t
from ui.metrics_cache import filter_options

CHANNEL_LABELS = {
    "online": Text("网上办理", "Online"),
    "mobile": Text("移动端", "Mobile"),
    "window": Text("窗口", "Window"),
    "self_service": Text("自助终端", "Self-service"),
    "post": Text("邮寄", "Post"),
    "other": Text("其他", "Other"),
}
STATUS_LABELS = {
    "open": Text("在办", "Open"),
    "completed": Text("已办结", "Completed"),
    "rejected": Text("不予受理", "Rejected"),
    "withdrawn": Text("撤回", "Withdrawn"),
}
#: The default month when the sidebar last ran (:func:`_follow_default_month`).
_DEFAULT_SEEN = "_f_month_default"
_KEYS = {"month": "f_month", "dept": "f_dept", "item": "f_item", "channel": "f_channel", "town": "f_town"}
#: The days of a running month so far, and its scope: 2026-12（本月至今，1–15 日）.
_DAYS, _DAY_ONE = Text("1–{last} 日", "1–{last}"), Text("1 日", "day 1")
_RUNNING = Text("{month}（{mtd}，{days}）", "{month} ({mtd}, {days})")


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, Text.same(channel))(lang())


def with_channel_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """A case list with readable channel names instead of the canonical codes."""
    if frame.empty or "channel" not in frame:
        return frame
    return frame.assign(channel=frame["channel"].map(lambda c: channel_label(c) if isinstance(c, str) else c))


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, Text.same(status))(lang())


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A case list as a person reads it: channel and status in words, times as text, blanks for missing values.

    Streamlit draws a missing value as "None"; a leader should see an empty cell instead.
    """
    if frame.empty:
        return frame
    out = with_channel_labels(frame)
    if "status" in out:
        out = out.assign(status=out["status"].map(lambda s: status_label(s) if isinstance(s, str) else ""))
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            # A due date is a day (its 23:59 says nothing); other times keep the minute.
            out[column] = series.dt.strftime("%Y-%m-%d" if column == "due_at" else "%Y-%m-%d %H:%M").fillna("")
        elif series.dtype == object and series.map(lambda v: isinstance(v, (pd.Timestamp,))).any():
            out[column] = series.map(lambda v: v.strftime("%Y-%m-%d %H:%M") if isinstance(v, pd.Timestamp) else "")
        elif series.isna().any() and not pd.api.types.is_numeric_dtype(series):
            out[column] = series.astype(object).where(series.notna(), "")
    return out


def _from_url(options: dict) -> None:
    """On a session's first run, take the filters from the URL (ignoring values that do not exist)."""
    if st.session_state.get("_filters_from_url"):
        return
    st.session_state["_filters_from_url"] = True
    qp = st.query_params
    month = qp.get("month")
    state = st.session_state
    state.setdefault(_KEYS["month"], month if month in options["months"] else default_month(options["months"]))
    state.setdefault(_KEYS["dept"], [d for d in qp.get_all("dept") if d in options["departments"]])
    state.setdefault(_KEYS["item"], [i for i in qp.get_all("item") if i in options["items"]])
    state.setdefault(_KEYS["channel"], [c for c in qp.get_all("channel") if c in options["channels"]])
    state.setdefault(_KEYS["town"], [c for c in qp.get_all("town") if c in options["towns"]])


def _to_url() -> None:
    """Write the current filters into the URL, leaving other parameters (lang) alone."""
    wanted = {
        "month": st.session_state.get(_KEYS["month"]),
        "dept": st.session_state.get(_KEYS["dept"]) or [],
        "item": st.session_state.get(_KEYS["item"]) or [],
        "channel": st.session_state.get(_KEYS["channel"]) or [],
        "town": st.session_state.get(_KEYS["town"]) or [],
    }
    for key, value in wanted.items():
        current = st.query_params.get_all(key)
        target = [value] if isinstance(value, str) else list(value or [])
        if current != target:
            if target:
                st.query_params[key] = target if len(target) > 1 else target[0]
            elif key in st.query_params:
                del st.query_params[key]


def _follow_default_month(months: list[str]) -> None:
    """A month that was the default moves on with it: a leader on last month's figures sees the new month once
    it is uploaded (or once the month turns); a month chosen by hand stays. A month no longer in the data (its
    upload removed) falls back to the default."""
    state = st.session_state
    default = default_month(months)
    was_default = state.get(_DEFAULT_SEEN)
    if state.get(_KEYS["month"]) not in months or (
        was_default is not None and state.get(_KEYS["month"]) == was_default and default != was_default
    ):
        state[_KEYS["month"]] = default
    state[_DEFAULT_SEEN] = default


def sidebar() -> None:
    """Draw the filter widgets (call once per run, before the page)."""
    options = filter_options()
    _from_url(options)
    _follow_default_month(options["months"])
    with st.sidebar:
        st.subheader(t("filters"))
        if not options["months"]:
            st.caption(t("filters_no_data"))
            return
        if is_county(options):
            st.multiselect(t("town"), options["towns"], key=_KEYS["town"], placeholder=t("all_towns"))
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


def is_county(options: dict | None = None) -> bool:
    """More than one town holds data: the town is then a filter, a column and part of every scope."""
    return len((options or filter_options())["towns"]) > 1


def town_column() -> list[str]:
    """``["town"]`` for a case list in a county database (a case id says whose only with its town), else none."""
    return ["town"] if is_county() else []


def _month_label(month: str) -> str:
    if month == clock.running_month():
        return NOTE(lang()).format(month, t("month_to_date"))
    return month


def _clear(key: str) -> None:
    """A scope-line button: drop one filter (a callback, so it runs before the widgets are drawn again)."""
    st.session_state[_KEYS[key]] = []


def day_span(last: int) -> str:
    """The days of a running month so far: 1–15 日 / 1–15, or 1 日 / day 1 on the first."""
    return (_DAYS if last > 1 else _DAY_ONE)(lang()).format(last=last)


def _join(names: Iterable[object]) -> str:
    return LIST_SEP(lang()).join(str(n) for n in names)


def is_running(filters: Filters) -> bool:
    """The running month as chosen in the sidebar (its last day too, which is not over until midnight)."""
    return filters.is_month_to_date() or (
        filters.start is not None and f"{filters.start:%Y-%m}" == clock.running_month() and filters.end == clock.today()
    )


def scope_parts(filters: Filters) -> list[tuple[str | None, str]]:
    """What the page shows, in reading order: (filter key or None, text) for the month and each dimension.

    The key is set for a dimension that is filtered (so the scope line can offer to clear it).
    """
    month = f"{filters.start:%Y-%m}" if filters.start else ""
    if is_running(filters) and filters.end:
        span = _RUNNING(lang()).format(month=month, mtd=t("month_to_date"), days=day_span(filters.end.day))
    else:
        span = month
    names = {"dept": filters.departments, "item": filters.items}
    parts: list[tuple[str | None, str]] = []
    if filters.towns:
        parts.append(("town", _join(filters.towns)))
    elif scope.current() is not None:  # a town user: their towns, always said
        parts.append((None, _join(scope.current() or ())))
    elif is_county():
        parts.append((None, t("scope_all_towns")))
    parts.append((None, span))
    for key, all_key in (("dept", "scope_all_departments"), ("item", "scope_all_items")):
        chosen = names[key]
        parts.append((key, _join(chosen)) if chosen else (None, t(all_key)))
    channels = [channel_label(c) for c in filters.channels]
    parts.append(("channel", _join(channels)) if channels else (None, t("scope_all_channels")))
    return parts


def scope_text(filters: Filters) -> str:
    """``2026-11 · 民政办 · 全部事项 · 全部渠道``: the scope of a page, its downloads and their titles."""
    return " · ".join(text for _, text in scope_parts(filters))


def scope_file_stem(filters: Filters, what: str) -> str:
    """A download's file name: what it is and its scope, with nothing that could be a path."""
    parts = [what, *filters.towns, filters.label(), *filters.departments, *filters.items, *filters.channels]
    stem = "_".join(re.sub(r"[^\w\u4e00-\u9fff.-]+", "-", p).strip("-.") for p in parts if p)
    return stem[:120] or "download"


def scope_line(filters: Filters, missing: list[str] | None = None, *, comparison: str | None = None) -> None:
    """The scope under a page's title — month, department, item, channel — each chosen filter with a clear button.

    A projected screen or a forwarded screenshot then always says whose figures these are. ``comparison``
    replaces the words on what the changes compare with (a page that does not compare yet says so).
    """
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="scope_line"):
        for key, text in scope_parts(filters):
            if key is None:
                st.markdown(f"**{md_text(text)}**" if text and text[0].isdigit() else md_text(text), width="content")
            else:
                st.button(
                    md_text(text),
                    key=f"scope_clear_{key}",
                    icon=":material/close:",
                    help=t("scope_clear"),
                    on_click=_clear,
                    args=(key,),
                    type="secondary",
                )
        compare = comparison or (
            t("changes_vs_same_days").format(days=day_span(filters.end.day))
            if is_running(filters) and filters.end
            else t("changes_vs_last_month")
        )
        st.caption(f"{t('as_of')} {filters.as_of():%Y-%m-%d} · {compare}", width="content")
    if missing:  # the view's towns with no cases of its month (towns_left_out)
        names = LIST_SEP(lang()).join(missing[:6]) + ("…" if len(missing) > 6 else "")
        st.warning(md_text(t("scope_towns_missing").format(n=len(missing), towns=names)), icon=":material/info:")


def like_for_like(filters: Filters, missing: list[str]) -> Filters:
    """A county view of a month some towns (``missing``: :func:`towns_left_out`) have no cases of yet, narrowed to the
    towns that have: the same figures for the month, and its change against last month compares the same towns."""
    if not missing:
        return filters
    present = [town for town in (filters.towns or filter_options()["towns"]) if town not in missing]
    return replace(filters, towns=tuple(present)) if present else filters


def towns_left_out(filters: Filters) -> list[str]:
    """The towns of the view with no cases in its month (a county view only; a chosen town is its own view)."""
    from metrics.page_queries import TOWNS_MISSING, Context
    from ui.metrics_cache import ask

    missing = ask(TOWNS_MISSING, Context(filters))  # asked on every page: declared with the page's calls
    if not is_county() or len(filters.towns) == 1:
        return []
    return [town for town in missing if not filters.towns or town in filters.towns]


def current() -> Filters | None:
    """The chosen filters, or None when the database has no cases."""
    month = st.session_state.get(_KEYS["month"])
    if not month:
        return None
    base = Filters.month_as_seen(month)
    return Filters(
        start=base.start,
        end=base.end,
        departments=tuple(st.session_state.get(_KEYS["dept"]) or ()),
        items=tuple(st.session_state.get(_KEYS["item"]) or ()),
        channels=tuple(st.session_state.get(_KEYS["channel"]) or ()),
        # A town user's choice within their towns only (a crafted state or link naming another is dropped;
        # the where clause would give nothing of it anyway).
        towns=tuple(scope.limit(st.session_state.get(_KEYS["town"]) or ())),
    )
