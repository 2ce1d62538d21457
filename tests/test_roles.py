"""Roles in the app: login, expiry, viewers refused on every restricted page, local mode, single sign-on."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import ROOT, button, demo_copy_with_users, errors, login, start_app
from ui.fmt import md_text

RESTRICTED = {"views/upload.py": "analyst", "views/settings.py": "analyst", "views/users.py": "admin"}


@pytest.fixture
def db_path(small_demo_db: Path, tmp_path: Path) -> Path:
    return demo_copy_with_users(small_demo_db, tmp_path)


@pytest.fixture(autouse=True)
def no_lockouts():
    """Failed-login counts live in the process; start and end each test without any."""
    from ui.auth import _failures

    _failures.clear()
    yield
    _failures.clear()


def refused(at: AppTest) -> bool:
    return any("您没有权限使用此页面" in e for e in errors(at))


def assert_nothing_to_change(at: AppTest) -> None:
    """Nothing on the page lets the user change data: no uploader, no inputs, only the sign-out button."""
    assert not at.file_uploader
    assert not at.number_input and not at.text_input
    assert [b.label for b in at.button] == ["退出登录"]
    assert not at.get("download_button")


def test_login_form_first_and_nothing_else(db_path, monkeypatch):
    at = start_app(db_path, monkeypatch)
    assert [s.value for s in at.main.subheader] == ["登录"]
    assert not at.metric and not at.dataframe
    assert not [b for b in at.button if b.label == "使用单位统一身份认证登录"]  # no [auth] configured


def test_viewer_is_refused_on_every_restricted_page(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "boss")
    for page, role in RESTRICTED.items():
        at.switch_page(page).run()
        assert not at.exception, at.exception
        assert refused(at), (page, errors(at))
        assert ("分析员" if role == "analyst" else "管理员") in errors(at)[0]
        assert_nothing_to_change(at)
    # The history is open to viewers, but removal and the rejects download are not offered.
    at.switch_page("views/uploads.py").run()
    assert at.dataframe and not refused(at)
    assert [b.label for b in at.button] == ["退出登录"]
    assert not at.get("download_button")
    # Data quality is for everyone.
    at.switch_page("views/data_quality.py").run()
    assert not at.exception and not errors(at)
    assert at.title[0].value == "数据质量"


def test_no_pages_folder_beside_app_py(monkeypatch):
    """The pages stay in views/: with a pages/ folder beside app.py, Streamlit 1.67 (``uses_pages_directory``)
    runs pages/NAME.py alone, with no login and no filters, for a deep link before app.py has run once."""
    from streamlit.runtime.pages_manager import PagesManager

    assert not (ROOT / "pages").exists(), "move the page files to views/: Streamlit would run pages/ without app.py"
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)  # decided afresh, as in a new server process
    PagesManager(str(ROOT / "app.py"))
    assert PagesManager.uses_pages_directory is False


def test_restricted_pages_refuse_even_when_the_entry_script_is_skipped(db_path, monkeypatch):
    """Without the shim that keeps Streamlit's pages-folder mode off (no pages/ folder: it does not start, and
    app.py runs), an anonymous visitor gets only the login form on every restricted page."""
    monkeypatch.setenv("EGOV_DB", str(db_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)  # no run_as_server shim
    at.run()
    for page in RESTRICTED:
        at.switch_page(page).run()
        assert not at.exception, at.exception
        assert [s.value for s in at.main.subheader] == ["登录"], page
        assert not at.file_uploader and not at.number_input and not at.dataframe


def test_analyst_may_upload_and_set_targets_but_not_manage_users(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "ana")
    at.switch_page("views/upload.py").run()
    assert at.file_uploader and not errors(at)
    at.switch_page("views/settings.py").run()
    assert at.title[0].value == "指标目标值" and not errors(at)
    at.switch_page("views/users.py").run()
    assert refused(at)
    assert "管理员" in errors(at)[0]


def test_wrong_password_then_lockout(db_path, monkeypatch):
    import settings

    at = start_app(db_path, monkeypatch)
    login(at, "boss", "not-the-password")
    assert "用户名或密码不正确。" in errors(at)
    login(at, "nobody", "whatever-it-is")
    assert "用户名或密码不正确。" in errors(at)  # an unknown name gets the same answer
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        login(at, "boss", "not-the-password")
    login(at, "boss")  # now even the right password waits
    assert any("密码错误次数过多" in e for e in errors(at)), errors(at)
    assert [s.value for s in at.main.subheader] == ["登录"]


def test_session_expires_after_idle_time(db_path, monkeypatch):
    import settings

    at = login(start_app(db_path, monkeypatch), "ana")
    at.switch_page("views/upload.py").run()
    assert at.file_uploader
    state = dict(at.session_state["auth"])
    state["seen_at"] = time.time() - settings.SESSION_IDLE_MINUTES * 60 - 5
    at.session_state["auth"] = state
    at.run()
    assert not at.file_uploader
    assert [s.value for s in at.main.subheader] == ["登录"]
    assert "登录已超时，请重新登录。" in [i.value for i in at.info]


def test_sessions_end_after_the_maximum_age_even_when_active(db_path, monkeypatch):
    import settings

    at = login(start_app(db_path, monkeypatch), "boss")
    state = dict(at.session_state["auth"])
    state["login_at"] = time.time() - settings.SESSION_MAX_HOURS * 3600 - 5
    at.session_state["auth"] = state
    at.run()
    assert [s.value for s in at.main.subheader] == ["登录"]


def test_a_role_change_applies_at_the_next_click(db_path, monkeypatch):
    from store import users
    from store.db import Database

    at = login(start_app(db_path, monkeypatch), "ana")
    at.switch_page("views/upload.py").run()
    assert at.file_uploader
    db = Database(db_path)  # the same in-process database the app holds open
    users.set_role(db, "ana", "viewer", by="zhang")
    at.run()  # the session began as an analyst: signed out (tests/test_sessions.py)
    assert [s.value for s in at.main.subheader] == ["登录"] and not at.file_uploader
    login(at, "ana")
    at.switch_page("views/upload.py").run()
    assert refused(at) and not at.file_uploader
    users.remove_user(db, "ana", by="zhang")
    at.run()
    assert [s.value for s in at.main.subheader] == ["登录"]
    assert "您的账号已被管理员删除。" in [i.value for i in at.info]


def test_logout(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "boss")
    assert any("当前用户：boss（查看者（领导））" in c.value for c in at.sidebar.caption)
    at.sidebar.button(key="logout").click().run()
    assert [s.value for s in at.main.subheader] == ["登录"]
    assert "已退出登录。" in [i.value for i in at.info]


def test_local_mode_everyone_is_admin_with_a_banner_until_the_first_admin_exists(small_demo_db, tmp_path, monkeypatch):
    shutil.copy(small_demo_db, tmp_path / "egov.duckdb")
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    at = start_app(tmp_path / "egov.duckdb", monkeypatch)
    assert any("本地模式：尚无用户" in c.value for c in at.sidebar.caption)  # in the sidebar, not atop each page
    at.switch_page("views/users.py").run()
    assert not errors(at)
    assert at.selectbox(key="users_add_role").options == ["管理员"]  # the first user must be an admin
    at.text_input(key="users_add_name").input("zhang")
    at.text_input(key="users_add_password").input("admin-pass-1")
    at.text_input(key="users_add_confirm").input("admin-pass-1")
    button(at, "创建用户").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.main.subheader] == ["登录"]  # local mode is over
    assert not any("本地模式：尚无用户" in c.value for c in at.sidebar.caption)
    login(at, "zhang")
    at.switch_page("views/users.py").run()
    assert at.dataframe[0].value.iloc[0]["用户名"] == "zhang"


def test_admin_manages_users_and_every_change_is_audited(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "zhang")
    at.switch_page("views/users.py").run()
    at.text_input(key="users_add_name").input("li")
    at.selectbox(key="users_add_role").set_value("analyst")
    at.text_input(key="users_add_password").input("li-pass-123")
    at.text_input(key="users_add_confirm").input("li-pass-123")
    button(at, "创建用户").click().run()
    assert "已创建用户 li。" in [s.value for s in at.success]

    at.selectbox(key="users_pick").set_value("li").run()
    at.selectbox(key="users_role_li").set_value("viewer")
    button(at, "修改角色").click().run()
    assert "li 的角色已改为“查看者（领导）”。" in [s.value for s in at.success]
    at.selectbox(key="users_pick").set_value("li").run()
    at.text_input(key="users_pw1_li").input("new-pass-456")
    at.text_input(key="users_pw2_li").input("new-pass-456")
    button(at, "重置密码").click().run()
    assert "已重置 li 的密码。" in [s.value for s in at.success]
    at.selectbox(key="users_pick").set_value("li").run()
    button(at, "删除用户 li…").click().run()
    button(at, "确认删除").click().run()
    assert "已删除用户 li。" in [s.value for s in at.success]

    # The last admin cannot demote themself: a message, not a traceback.
    at.selectbox(key="users_pick").set_value("zhang").run()
    at.selectbox(key="users_role_zhang").set_value("viewer")
    button(at, "修改角色").click().run()
    assert any("最后一位管理员" in e for e in errors(at))

    audit = at.dataframe[-1].value
    assert list(audit["操作"])[:4] == ["删除用户", "修改密码", "变更角色", "新增用户"]
    assert set(audit["操作人"][:4]) == {"zhang"}
    con = duckdb.connect(str(db_path))
    assert con.execute("SELECT count(*) FROM users WHERE name = 'li'").fetchone()[0] == 0


def test_single_sign_on_button_only_when_configured_and_mapped_by_email(db_path, monkeypatch):
    from store import users
    from store.db import Database

    db = Database(db_path)
    users.set_email(db, "boss", "Boss@Shayan.gov.cn", by="zhang")
    db.close()
    auth = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id"}

    at = start_app(db_path, monkeypatch)
    assert not [b for b in at.button if b.label == "使用单位统一身份认证登录"]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = auth
    at.run()
    assert [b.label for b in at.button if b.label == "使用单位统一身份认证登录"]

    # Signed in at the identity provider with a known e-mail: the user's role applies.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = auth
    at.user = {"is_logged_in": True, "email": "boss@shayan.gov.cn", "email_verified": True, "name": "Boss"}
    at.run()
    assert not at.exception, at.exception
    assert not at.main.subheader or at.main.subheader[0].value != "登录"
    at.switch_page("views/upload.py").run()
    assert refused(at)

    # An identity nobody added is told so, and is not let in.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = auth
    at.user = {"is_logged_in": True, "email": "stranger@example.com", "email_verified": True}
    at.run()
    shown = md_text("stranger@example.com")  # escaped: the identity's claim never becomes a link
    assert any(shown in e and "尚未在本看板中授权" in e for e in errors(at))


def test_analyst_sets_targets_on_the_settings_page(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "ana")
    at.switch_page("views/settings.py").run()
    table = at.dataframe[0].value.set_index("指标")
    assert table.loc["网办率", "当前目标"] == "60.0%" and table.loc["网办率", "设置人 · 时间"] == "默认值"
    at.selectbox(key="settings_kpi").set_value("online_rate").run()
    at.number_input(key="settings_value_online_rate___town__").set_value(70.0)
    button(at, "保存目标").click().run()
    assert not at.exception, at.exception
    assert "已将“网办率”在“全镇（总体）”的目标设为 70.0%。" in [s.value for s in at.success]
    table = at.dataframe[0].value.set_index("指标")
    assert table.loc["网办率", "当前目标"] == "70.0%" and table.loc["网办率", "设置人 · 时间"].startswith("ana · ")

    at.selectbox(key="settings_scope").set_value("民政办").run()
    at.number_input(key="settings_value_online_rate_民政办").set_value(45.0)
    button(at, "保存目标").click().run()
    assert at.dataframe[-1].value.iloc[0]["部门"] == "民政办"
    button(at, "恢复默认").click().run()
    assert "“网办率”已恢复默认目标。" in [s.value for s in at.success]

    from metrics import targets
    from store.db import Database

    with Database(db_path) as db:
        cur = db.cursor()
        assert targets.get_targets(cur)["online_rate"] == pytest.approx(0.7)
        assert targets.get_targets(cur, "民政办")["online_rate"] == pytest.approx(0.7)
        actions = cur.execute(
            "SELECT actor, details->>'department' FROM audit WHERE action = 'target_set' ORDER BY audit_id"
        ).fetchall()
    assert actions == [("ana", None), ("ana", "民政办"), ("ana", "民政办")]


def test_every_new_page_speaks_english(tmp_path, monkeypatch):
    # An empty database in local mode: every page open. (Empty, because AppTest formats the sidebar's
    # month choices outside the script run, where the language is unknown, and then cannot find them.)
    at = start_app(tmp_path / "egov.duckdb", monkeypatch, lang="en")
    assert any("Local mode: no users yet" in c.value for c in at.sidebar.caption)
    titles = {
        "views/upload.py": "Upload data",
        "views/uploads.py": "Upload history",
        "views/data_quality.py": "Data quality",
        "views/settings.py": "KPI targets",
        "views/users.py": "Users and audit log",
    }
    for page, title in titles.items():
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert at.title[0].value == title
        assert not errors(at), (page, errors(at))


def test_an_expired_single_sign_on_session_ends_the_identity_too(db_path, monkeypatch):
    import settings
    from store import users
    from store.db import Database

    with Database(db_path) as db:
        users.set_email(db, "ana", "ana@shayan.gov.cn", by="zhang")
    start_app(db_path, monkeypatch)  # the server-like navigation for the AppTest below
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.user = {"is_logged_in": True, "email": "ana@shayan.gov.cn", "email_verified": True}
    at.run()
    assert at.session_state["auth"]["via"] == "sso"
    state = dict(at.session_state["auth"])
    state["seen_at"] = time.time() - settings.SESSION_IDLE_MINUTES * 60 - 5
    at.session_state["auth"] = state
    at.run()
    assert [s.value for s in at.main.subheader] == ["登录"]  # not signed straight back in by the cookie
    assert "登录已超时，请重新登录。" in [i.value for i in at.info]
