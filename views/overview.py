"""总览 Overview: the month's case count, online rate and median processing time, and a 12-month trend."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from charts.trend import cases_and_online_rate
from metrics.filters import Filters
from metrics.kpis import compute_kpis, kpi_series
from ui import fmt
from ui.i18n import lang, t
from ui.state import get_db

TILE_IDS = ["cases", "online_rate", "median_processing_days"]


@st.cache_data(show_spinner=False, max_entries=64)
def months_with_data(db_path: str, data_version: int) -> list[str]:
    cur = get_db().cursor()
    rows = cur.execute("SELECT DISTINCT strftime(submitted_at, '%Y-%m') FROM cases ORDER BY 1 DESC").fetchall()
    return [r[0] for r in rows if r[0]]


@st.cache_data(show_spinner=False, max_entries=64)
def month_kpis(db_path: str, data_version: int, month: str) -> dict:
    return compute_kpis(get_db().cursor(), Filters.month(month), TILE_IDS)


@st.cache_data(show_spinner=False, max_entries=64)
def trend(db_path: str, data_version: int, month: str) -> pd.DataFrame:
    end = Filters.month(month).end
    start = (dt.date(end.year, end.month, 1) - pd.DateOffset(months=11)).date()
    return kpi_series(get_db().cursor(), Filters(start=start, end=end), grain="month", ids=["cases", "online_rate"])


db = get_db()
version = db.data_version()
key = str(db.path)
language = lang()
st.title(t("app_title"))

months = months_with_data(key, version)
if not months:
    st.info(t("no_data"))
    st.stop()

month = st.selectbox(t("month"), months, index=0, key="overview_month")
kpis = month_kpis(key, version, month)

cols = st.columns(3)
cases = kpis["cases"]
cols[0].metric(t("cases"), fmt.count(cases["value"], language))
online = kpis["online_rate"]
cols[1].metric(
    t("online_rate"),
    fmt.percent(online["value"]),
    help=f"{fmt.count(online['numerator'], language)}{t('of')}{fmt.count(online['denominator'], language)}",
)
median = kpis["median_processing_days"]
natural = fmt.days(median.get("natural_value"), language, unit="natural")
cols[2].metric(
    t("median_days"),
    fmt.days(median["value"], language),
    help=f"{t('natural_days')}: {natural}"
    if median["value"] is not None
    else (median.get("reason") or {}).get(language),
)

series = trend(key, version, month)
st.plotly_chart(cases_and_online_rate(series, language, title=t("trend_title")), width="stretch")
st.caption(f"{t('data_source')}: {db.path}")
