"""UI text in Chinese (default) and English; pages ask for text by key."""

from __future__ import annotations

import streamlit as st

LANGS = {"zh": "中文", "en": "English"}

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "一网通办效能监测看板", "en": "E-Gov Service Monitor"},
    "nav_overview": {"zh": "总览", "en": "Overview"},
    "nav_uploads": {"zh": "上传记录", "en": "Uploads"},
    "language": {"zh": "语言 / Language", "en": "Language / 语言"},
    "month": {"zh": "月份", "en": "Month"},
    "cases": {"zh": "办件量", "en": "Cases"},
    "online_rate": {"zh": "网办率", "en": "Online rate"},
    "median_days": {"zh": "办理时长中位数", "en": "Median processing time"},
    "workdays": {"zh": "个工作日", "en": "working days"},
    "natural_days": {"zh": "自然日", "en": "natural days"},
    "of": {"zh": "／", "en": " of "},
    "no_data": {
        "zh": "数据库中还没有办件数据。请用 `python cli.py ingest 文件` 导入平台导出的办件表，"
        "或用 `python cli.py demo` 载入演示数据。",
        "en": "No cases in the database yet. Load an export with `python cli.py ingest FILE`, "
        "or the demo data with `python cli.py demo`.",
    },
    "unknown": {"zh": "未知", "en": "unknown"},
    "trend_title": {"zh": "近 12 个月办件量与网办率", "en": "Cases and online rate, last 12 months"},
    "data_source": {"zh": "数据库", "en": "Database"},
    "uploads_title": {"zh": "上传记录", "en": "Upload history"},
    "uploads_empty": {"zh": "尚无上传。", "en": "No uploads yet."},
    "local_mode": {
        "zh": "本地模式：未配置用户，仅限本机访问",
        "en": "Local mode: no users configured; this machine only",
    },
}


def lang() -> str:
    """The chosen language: the session's choice, else ?lang= in the URL, else Chinese."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang", "zh")
        st.session_state["lang"] = wanted if wanted in LANGS else "zh"
    return st.session_state["lang"]


def t(key: str) -> str:
    entry = TEXT[key]
    return entry.get(lang(), entry["zh"])
