"""Entry point: page set-up, language switch, navigation. Run with ``streamlit run app.py``."""

from __future__ import annotations

import streamlit as st

from ui.i18n import LANGS, lang, t

st.set_page_config(page_title="一网通办效能监测看板", page_icon=":material/monitoring:", layout="wide")

lang()  # initialise the choice from ?lang= before the switch is drawn
with st.sidebar:
    st.radio(t("language"), list(LANGS), format_func=LANGS.get, horizontal=True, key="lang")
if st.query_params.get("lang", "zh") != st.session_state["lang"]:
    st.query_params["lang"] = st.session_state["lang"]  # keep the choice in a link one can send

pages = [
    st.Page(
        "pages/overview.py", title=t("nav_overview"), icon=":material/dashboard:", url_path="overview", default=True
    ),
    st.Page("pages/uploads.py", title=t("nav_uploads"), icon=":material/history:", url_path="uploads"),
]
st.navigation(pages).run()
