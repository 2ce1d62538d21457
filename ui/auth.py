"""Who is using the app, and may they do this: login, sessions that expire, role checks.

Roles come from the ``users`` table (:mod:`store.users`). The session holds the signed-in account's
``user_id`` (never reused) and credential ``epoch``, with the time of login and of the last
interaction; :func:`current_user` re-checks both times, and re-reads the account by its id, on every
run: a removed account, or one whose password, SSO e-mail or role changed since the session began
(a newer epoch), is signed out at its next click. A user removed and added again under the same
name is a new account, so an old session never becomes the new one. Every restricted page calls :func:`require_role` at its top and
every restricted action calls it again before acting: hiding a page from the menu is not enough.

With no users in the database the app is in *local mode*: everyone is admin, a banner says so, and
only connections from this machine are served. Single sign-on through ``st.login`` (OIDC) is
offered when ``.streamlit/secrets.toml`` has an ``[auth]`` section; the identity's e-mail must be
verified by the provider (the ``email_verified`` claim is true) and belong to a user here, whose role
then applies. Wrong passwords are counted in the database before each check
(:func:`store.users.login`), so parallel guesses cannot get past the limit.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Mapping
from typing import NoReturn

import duckdb
import streamlit as st

import scope
import settings
from store import users
from store.db import DatabaseBusy
from store.users import User, role_label, role_rank
from text import Text
from ui.fmt import md_text
from ui.i18n import lang, t
from ui.state import get_db

log = logging.getLogger(__name__)

LOCAL_USER = User("local", "admin", None, False)
_STATE = "auth"  # session_state key: {"user_id", "epoch", "name", "via", "login_at", "seen_at"}
_NOTICE = "auth_notice"  # a message for the login screen (session expired, logged out)

#: This module's own words, beside the shared ones of ui.i18n.
_TEXT: dict[str, Text] = {
    "session_changed": Text(
        "账号信息已变更（密码、角色、乡镇范围或单点登录邮箱），请重新登录。",
        "Your account has changed (password, role, towns or single-sign-on e-mail); please sign in again.",
    ),
    "sso_unverified": Text(
        "统一身份认证未确认邮箱 {email} 属于您，无法据此登录。请先在单位统一身份认证系统中验证邮箱，或联系管理员。",
        "The identity provider has not verified that {email} is yours, so it cannot sign you in. Verify the e-mail "
        "at the provider first, or ask the admin.",
    ),
    "login_unavailable": Text(
        "暂时无法登录：数据库无法记录本次登录尝试。请稍后再试，或联系管理员。",
        "Signing in is not possible just now: the database cannot record the attempt. Try again later, or ask "
        "the admin.",
    ),
}


def _say(key: str) -> str:
    return _TEXT[key](lang())


# --- modes ----------------------------------------------------------------------------------------


def local_mode() -> bool:
    """True while the database has no users: everyone is admin (this machine only)."""
    with get_db().reading() as cur:
        return users.user_count(cur) == 0


def _secrets_auth() -> Mapping | None:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets.toml at all, or an unreadable one
        return None
    return section if isinstance(section, Mapping) and section else None


def sso_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` configures single sign-on (an ``[auth]`` section)."""
    return _secrets_auth() is not None


def sso_provider() -> str | None:
    """The provider to pass to ``st.login``: None for a default one, else the first named ``[auth.NAME]``."""
    section = _secrets_auth() or {}
    if "client_id" in section:
        return None
    for key, value in section.items():
        if isinstance(value, Mapping):
            return str(key)
    return None


def _sso_claims() -> tuple[str | None, bool]:
    """The e-mail of the single-sign-on identity, when one is signed in, and whether the provider verified it."""
    try:
        if not st.user.get("is_logged_in"):
            return None, False
        email = st.user.get("email")
        verified = st.user.get("email_verified") is True  # missing, False or anything else: not verified
    except Exception:
        return None, False
    return (str(email), verified) if email else (None, False)


def _sso_identity() -> str | None:
    """The e-mail of the signed-in single-sign-on identity, only when the provider says it is verified."""
    email, verified = _sso_claims()
    return email if verified else None


# --- the session ----------------------------------------------------------------------------------


def _start_session(user: User, via: str) -> None:
    now = time.time()
    st.session_state[_STATE] = {
        "user_id": user.user_id,
        "epoch": user.epoch,
        "name": user.name,  # for display only: the account is the id
        "via": via,
        "login_at": now,
        "seen_at": now,
    }


def _end_session(notice: str | None = None) -> None:
    st.session_state.pop(_STATE, None)
    if notice:
        st.session_state[_NOTICE] = notice


def _expired(state: dict, now: float) -> bool:
    idle = now - float(state.get("seen_at", 0))
    age = now - float(state.get("login_at", 0))
    return idle > settings.SESSION_IDLE_MINUTES * 60 or age > settings.SESSION_MAX_HOURS * 3600


def current_user() -> User | None:
    """The signed-in user (local mode: the local admin), or None; checks expiry and the user's row."""
    if local_mode():
        return LOCAL_USER
    with get_db().reading() as cur:
        return _session_user(cur)


def _session_user(cur: duckdb.DuckDBPyConnection) -> User | None:
    state = st.session_state.get(_STATE)
    if state is None:
        email = _sso_identity()
        if email and sso_configured():
            user = users.find_by_email(cur, email)
            if user is not None:
                _start_session(user, "sso")
                return user
        return None
    now = time.time()
    if _expired(state, now):
        _end_session(t("session_expired"))
        if state.get("via") == "sso":  # else the identity cookie would sign the user straight in again
            _sso_logout()
        return None
    if state.get("user_id") is None:  # a session from before sessions carried the account: sign in again
        _end_session(_say("session_changed"))
        return None
    user = users.get_user_by_id(cur, state["user_id"])
    if user is None:  # removed while signed in (a new account of the same name has another id)
        _end_session(t("session_user_gone"))
        return None
    if user.epoch != state.get("epoch"):  # password, SSO e-mail or role changed since this session began
        _end_session(_say("session_changed"))
        if state.get("via") == "sso":
            _sso_logout()
        return None
    state["seen_at"] = now
    return user


def actor() -> str | None:
    """The name recorded in the audit log and the upload history for this session."""
    user = current_user()
    return user.name if user else None


def is_town_user(user: User | None = None) -> bool:
    """The signed-in user is limited to some towns (:mod:`scope`): county-wide changes are not theirs."""
    user = user if user is not None else current_user()
    return user is not None and user.towns is not None


def refuse_town_user(user: User, message_key: str) -> None:
    """Stop a page or an action a town user may not use (the county's targets, the catalogue), with a message."""
    if is_town_user(user):
        st.error(t(message_key).format(towns="、".join(user.towns or ())))
        st.stop()


def has_role(min_role: str) -> bool:
    user = current_user()
    return user is not None and role_rank(user.role) >= role_rank(min_role)


def require_role(min_role: str) -> User:
    """Stop the page unless the user has at least ``min_role``: the login form, or an error and nothing else.

    The login form is drawn here too (not only by ``app.py``), so that a page file run without app.py
    (``streamlit run views/upload.py``) still asks who is there. The server never runs one so: the pages live in
    ``views/``, not in a ``pages/`` folder beside app.py, because with such a folder Streamlit 1.67
    (``PagesManager.uses_pages_directory``) runs ``pages/NAME.py`` alone (no login, no filters) for a deep link
    before app.py has run once in the process; ``tests/test_roles.py`` fails should that folder appear.
    """
    user = current_user()
    if user is None:
        login_screen()
    if scope.current() != user.towns:  # a page run without app.py: limit it all the same (app.py sets it first)
        scope.set_scope(user.towns)
    if role_rank(user.role) < role_rank(min_role):
        st.error(t("forbidden").format(role=role_label(min_role, lang()), mine=role_label(user.role, lang())))
        st.stop()
    return user


# --- login and logout -----------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _failures() -> dict[str, list[float]]:
    """Kept for callers that clear it (tests); failed attempts now live in the database (``login_failures``)."""
    return {}


def try_password_login(name: str, password: str) -> User | None:
    """Check a name and password; starts the session on success. Shows why on failure.

    :func:`store.users.login` counts the attempt before it checks the password, in one write.
    """
    name = (name or "").strip()
    if not name or not password:
        st.error(t("login_missing"))
        return None
    try:
        user = users.login(
            get_db(),
            name,
            password,
            max_failures=settings.LOGIN_MAX_FAILURES,
            window_seconds=settings.LOGIN_LOCKOUT_MINUTES * 60,
        )
    except users.LoginLocked:
        st.error(t("login_locked").format(minutes=settings.LOGIN_LOCKOUT_MINUTES))
        return None
    except DatabaseBusy:
        raise  # the app says "busy" and tries again
    except Exception:  # the attempt could not be counted (a full disk, a read-only folder): no check without it
        log.exception("login attempt could not be recorded")
        st.error(_say("login_unavailable"))
        return None
    if user is None:
        st.error(t("login_failed"))
        return None
    _start_session(user, "password")
    st.session_state.pop(_NOTICE, None)
    return user


def login_screen() -> NoReturn:
    """The sign-in form (and the single-sign-on button when configured); stops the run."""
    st.title(t("app_title"))
    st.subheader(t("login_title"))
    notice = st.session_state.get(_NOTICE)
    if notice:
        st.info(notice)
    email, verified = _sso_claims()
    if email and sso_configured():  # signed in at the identity provider, but not let in here
        if verified:  # not a user here
            st.error(t("sso_not_authorised").format(email=md_text(email)))
        else:  # the provider does not vouch for the e-mail: it maps to nobody
            st.error(_say("sso_unverified").format(email=md_text(email)))
        if st.button(t("sso_logout"), key="sso_logout"):
            _sso_logout()
        st.stop()
    column = st.columns([2, 3])[0]  # a form of a sensible width on a wide page
    with column, st.form("login_form"):
        name = st.text_input(t("login_name"), key="login_name")
        password = st.text_input(t("login_password"), type="password", key="login_password")
        submitted = st.form_submit_button(t("login_submit"), type="primary")
    if submitted and try_password_login(name, password):
        st.rerun()
    if sso_configured():
        with column:
            st.divider()
            if st.button(t("sso_login"), key="sso_login", icon=":material/badge:"):
                try:
                    st.login(sso_provider())
                except Exception:  # Authlib missing or [auth] incomplete: say so, the details go to the log
                    logging.getLogger(__name__).exception("single sign-on could not start")
                    st.error(t("sso_broken"))
    st.caption(t("login_help"))
    st.stop()


def _sso_logout() -> None:
    """End the single-sign-on identity (its cookie) too; a no-op where it cannot be done."""
    with contextlib.suppress(Exception):  # no [auth] section any more: nothing to end
        st.logout()


def logout() -> None:
    state = st.session_state.get(_STATE) or {}
    _end_session(t("logged_out"))
    if state.get("via") == "sso":
        _sso_logout()
    st.rerun()


def sidebar_account(user: User) -> None:
    """Who is signed in, with the role, and the logout button (not in local mode)."""
    with st.sidebar:
        if user is LOCAL_USER:
            st.caption(t("local_mode_sidebar"))
            return
        st.caption(t("signed_in_as").format(name=user.name, role=role_label(user.role, lang())))
        if user.towns is not None:
            st.caption(t("signed_in_towns").format(towns=md_text("、".join(user.towns) or "—")))
        if st.button(t("logout"), key="logout", icon=":material/logout:"):
            logout()


def local_mode_guard() -> None:
    """Local mode serves this machine only: refuse other computers until users exist."""
    try:
        remote = st.context.ip_address
    except Exception:
        remote = None
    if isinstance(remote, str) and remote:  # None for this machine (and not a str under AppTest)
        st.error(t("local_mode_remote"))
        st.stop()
    with st.sidebar:  # not on top of every page: the leader's first screen is for the figures
        st.caption(f":material/lock_open: {t('local_mode_short')}", help=t("local_mode_banner"))
