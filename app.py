"""Entry point: page set-up, language switch, login, navigation by role. Run with ``streamlit run app.py``.

Every page is registered for every role, so that a link to a restricted page reaches that page's
own role check (which refuses with a message) instead of a "page not found"; pages a role may not
use are only hidden from its menu. Before anyone signs in, no page runs at all.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

import streamlit as st
from streamlit.navigation.page import StreamlitPage

import scope
import settings
from store import logs
from store.db import DatabaseBusy
from store.users import User
from ui import auth, style
from ui import filters as ui_filters
from ui.i18n import LANGS, lang, t
from ui.state import get_db

logs.configure()
st.set_page_config(page_title="一网通办效能监测看板", page_icon=":material/monitoring:", layout="wide")

lang()  # initialise the choice from ?lang= before the switch is drawn
style.apply(lang())
with st.sidebar:
    st.radio(t("language"), list(LANGS), format_func=LANGS.get, horizontal=True, key="lang")
if st.query_params.get("lang", "zh") != st.session_state["lang"]:
    st.query_params["lang"] = st.session_state["lang"]  # keep the choice in a link one can send


def _navigation(user: User | None) -> StreamlitPage:
    """Every page for every role; pages a role may not use are hidden from its menu (they check it themselves)."""

    def shown(min_role: str) -> Literal["visible", "hidden"]:
        return "visible" if user is not None and auth.role_rank(user.role) >= auth.role_rank(min_role) else "hidden"

    users = st.Page(
        "views/users.py",
        title=t("nav_users"),
        icon=":material/manage_accounts:",
        url_path="users",
        visibility=shown("admin"),
    )
    if settings.cube_dir() is not None:  # a province's cube: the towns' comparison, and who may read it
        province = st.Page(
            "views/county.py", title=t("province_title"), icon=":material/compare:", url_path="county", default=True
        )
        menu = {t("nav_section_dashboard"): [province], t("nav_section_data"): [users]}
        return st.navigation(menu, position="sidebar" if user else "hidden")
    pages = {
        t("nav_section_dashboard"): [
            st.Page(
                "views/overview.py",
                title=t("nav_overview"),
                icon=":material/dashboard:",
                url_path="overview",
                default=True,
            ),
            st.Page("views/adoption.py", title=t("nav_adoption"), icon=":material/devices:", url_path="adoption"),
            st.Page("views/timeliness.py", title=t("nav_timeliness"), icon=":material/timer:", url_path="timeliness"),
            st.Page(
                "views/bottlenecks.py",
                title=t("nav_bottlenecks"),
                icon=":material/account_tree:",
                url_path="bottlenecks",
            ),
            st.Page("views/journeys.py", title=t("nav_journeys"), icon=":material/route:", url_path="journeys"),
            st.Page(
                "views/county.py",
                title=t("county_title"),
                icon=":material/compare:",
                url_path="county",
                visibility="visible" if _several_towns() else "hidden",
            ),
            st.Page(
                "views/snapshots.py", title=t("nav_snapshots"), icon=":material/inventory_2:", url_path="snapshots"
            ),
        ],
        t("nav_section_data"): [
            st.Page(
                "views/upload.py",
                title=t("nav_upload"),
                icon=":material/upload_file:",
                url_path="upload",
                visibility=shown("analyst"),
            ),
            st.Page("views/uploads.py", title=t("nav_uploads"), icon=":material/history:", url_path="uploads"),
            st.Page(
                "views/data_quality.py", title=t("nav_data_quality"), icon=":material/fact_check:", url_path="quality"
            ),
            st.Page(
                "views/settings.py",
                title=t("nav_settings"),
                icon=":material/flag:",
                url_path="settings",
                visibility=shown("analyst"),
            ),
            users,
        ],
    }
    return st.navigation(pages, position="sidebar" if user else "hidden")


#: The page of this run once navigation has chosen it (a busy database may stop the run before).
_chosen: list[StreamlitPage] = []


def main() -> None:
    user = auth.current_user()  # re-checked on every run: expiry, removal, role changes, towns
    # The user's towns, fixed before the menu, any filter or page code runs and reset after: every query of this
    # run (metrics.filters.where_clause, the filter options, the history, the audit, the checks) keeps to them,
    # and the menu offers the county page only to a user who sees several towns.
    with scope.scoped(user.towns if user is not None else None):
        page = _navigation(user)
        _chosen.append(page)
        if user is None:
            auth.login_screen()  # stops the run
        elif user is auth.LOCAL_USER:
            auth.local_mode_guard()
        auth.sidebar_account(user)
        ui_filters.sidebar()
        page.run()


def _several_towns() -> bool:
    """Whether the county page is in the menu; not while the file is busy (the busy notice registers the pages too)."""
    try:
        return ui_filters.is_county()
    except DatabaseBusy:
        return False


def _busy(busy: DatabaseBusy) -> None:
    """A command-line job holds the file for longer than we wait: say so, and try again by itself."""
    tries = st.session_state.get("_busy_tries", 0) + 1
    st.session_state["_busy_tries"] = tries
    retrying = tries <= settings.BUSY_RETRIES
    message = busy.message(lang())
    st.warning(f"{message}。{t('busy_retrying' if retrying else 'busy_gave_up')}", icon=":material/hourglass_top:")
    if retrying:
        if not _chosen:  # stopped before navigation: register the pages, so the retry stays on the one asked for
            _navigation(None)
        time.sleep(settings.BUSY_RETRY_SECONDS)
        st.rerun()
    st.session_state["_busy_tries"] = 0  # the next visit or click starts a new series of tries


try:
    with get_db().hold():  # one open file for the whole run: its many cursors are cheap
        main()
except DatabaseBusy as busy:  # also when the app opens the database for the first time
    _busy(busy)
except Exception:  # never a traceback for the reader: the details go to the server log
    logging.getLogger("egov").exception("page failed: %s", st.context.url)
    st.error(t("unexpected_error"), icon=":material/error:")
else:
    st.session_state["_busy_tries"] = 0
