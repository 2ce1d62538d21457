"""Sessions belong to an account, not a name (issue 13): the account's id and credential epoch, a lockout
that parallel guesses cannot race, the last admin kept, and single sign-on only for verified e-mails."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from store import users
from store.db import Database
from store.users import UserError
from tests.apptest_support import ROOT, button, demo_copy_with_users, errors, login, start_app
from tests.conftest import database_at_version
from ui.fmt import md_text

CHANGED = "账号信息已变更（密码、角色、乡镇范围或单点登录邮箱），请重新登录。"
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id"}


@pytest.fixture
def db_path(small_demo_db: Path, tmp_path: Path) -> Path:
    return demo_copy_with_users(small_demo_db, tmp_path)


def on_login_screen(at: AppTest) -> bool:
    return [s.value for s in at.main.subheader] == ["登录"]


def infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


# --- the session is the account's, at its epoch ------------------------------------------------------


def test_a_password_reset_signs_the_old_session_out_at_its_next_click(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "ana")
    at.switch_page("views/upload.py").run()
    assert at.file_uploader
    old_epoch = at.session_state["auth"]["epoch"]
    with Database(db_path) as db:
        users.set_password(db, "ana", "brand-new-pass-1", by="zhang")
        assert users.get_user(db.cursor(), "ana").epoch == old_epoch + 1
    at.run()
    assert not at.exception, at.exception
    assert on_login_screen(at) and not at.file_uploader
    assert CHANGED in infos(at)
    assert "auth" not in at.session_state
    login(at, "ana", "brand-new-pass-1")  # the new password works
    assert not on_login_screen(at)


def test_a_session_of_a_removed_user_never_becomes_the_new_admin_of_the_same_name(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "ana")  # an analyst
    with Database(db_path) as db:
        old_id = users.get_user(db.cursor(), "ana").user_id
        users.remove_user(db, "ana", by="zhang")
        new = users.add_user(db, "ana", "admin", "other-admin-pass", by="zhang")
    assert new.user_id != old_id  # ids are never reused
    at.switch_page("views/users.py").run()
    assert not at.exception, at.exception
    assert on_login_screen(at)
    assert "您的账号已被管理员删除。" in infos(at)
    assert not at.dataframe
    at.switch_page("views/upload.py").run()
    assert on_login_screen(at) and not at.file_uploader


def test_a_role_change_signs_the_session_out(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "boss")
    with Database(db_path) as db:
        users.set_role(db, "boss", "analyst", by="zhang")  # even a promotion: the session began as a viewer
    at.switch_page("views/upload.py").run()
    assert on_login_screen(at) and not at.file_uploader
    assert CHANGED in infos(at)
    login(at, "boss")
    at.switch_page("views/upload.py").run()
    assert at.file_uploader  # signed in again, with the new role


def test_a_session_dict_with_an_old_epoch_or_another_id_is_signed_out(db_path, monkeypatch):
    at = login(start_app(db_path, monkeypatch), "zhang")
    state = dict(at.session_state["auth"])
    at.session_state["auth"] = {**state, "epoch": state["epoch"] - 1}
    at.run()
    assert on_login_screen(at) and CHANGED in infos(at)
    with Database(db_path) as db:
        boss_id = users.get_user(db.cursor(), "boss").user_id
    # The name in the session does not make the account: its id does (boss, a viewer, at epoch 0 too).
    at.session_state["auth"] = {**state, "name": "zhang", "user_id": boss_id, "seen_at": time.time()}
    at.switch_page("views/users.py").run()
    assert not on_login_screen(at)
    assert any("您没有权限使用此页面" in e for e in errors(at)), errors(at)


def test_user_ids_come_from_a_sequence_and_existing_databases_get_them(tmp_path):
    path = tmp_path / "old.duckdb"
    con = database_at_version(path, 6)
    hashed = users._hasher.hash("admin-pass-1")
    con.execute(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ('zhang', 'admin', ?, now()), "
        "('boss', 'viewer', NULL, now())",
        [hashed],
    )
    con.close()
    with Database(path) as db:
        cur = db.cursor()
        rows = dict(cur.execute("SELECT name, user_id FROM users").fetchall())
        assert None not in rows.values() and len(set(rows.values())) == 2
        zhang = users.login(db, "zhang", "admin-pass-1")
        assert zhang is not None and zhang.user_id == rows["zhang"] and zhang.epoch == 0
        users.remove_user(db, "boss", by="zhang")
        again = users.add_user(db, "boss", "viewer", "viewer-pass-1", by="zhang")
        assert again.user_id > max(rows.values())
        assert users.get_user_by_id(cur, rows["boss"]) is None
        users.set_email(db, "boss", "boss@shayan.gov.cn", by="zhang")
        assert users.get_user_by_id(cur, again.user_id).epoch == 1


# --- the lockout cannot be raced ------------------------------------------------------------------


def _counting_verifier(monkeypatch) -> list[int]:
    """Count every argon2 verification: the module's hasher, wrapped."""
    calls: list[int] = []
    lock = threading.Lock()
    real = users._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            with lock:
                calls.append(1)
            time.sleep(0.02)  # a slower check widens the window a racing attempt would slip through
            return real.verify(stored, password)

        def __getattr__(self, name: str):
            return getattr(real, name)

    monkeypatch.setattr(users, "_hasher", Counting())
    return calls


def _in_parallel(n: int, attempt) -> list[object]:
    barrier = threading.Barrier(n)
    outcomes: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            result = attempt()
        except users.LoginLocked:
            result = "locked"
        except Exception as exc:  # reported below
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_thirty_parallel_wrong_passwords_reach_argon2_at_most_the_limit(tmp_db, monkeypatch):
    import settings

    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1")
    calls = _counting_verifier(monkeypatch)
    outcomes = _in_parallel(30, lambda: users.login(tmp_db, "zhang", "wrong-password"))
    assert len(outcomes) == 30
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(calls) <= settings.LOGIN_MAX_FAILURES
    assert outcomes.count("locked") >= 30 - settings.LOGIN_MAX_FAILURES
    assert all(o is None for o in outcomes if o != "locked")
    with pytest.raises(users.LoginLocked):  # now even the right password waits
        users.login(tmp_db, "zhang", "admin-pass-1")
    assert len(calls) <= settings.LOGIN_MAX_FAILURES
    # The window passes: the right password signs in and clears the count.
    assert users.login(tmp_db, "zhang", "admin-pass-1", window_seconds=0) is not None
    assert tmp_db.cursor().execute("SELECT count(*) FROM login_failures WHERE name = 'zhang'").fetchone()[0] == 0


def test_the_login_form_counts_before_it_checks(tmp_db, monkeypatch):
    """The app's own login path, 30 threads at once against one Database."""
    import settings
    from ui import auth

    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1")
    monkeypatch.setattr(auth, "get_db", lambda: tmp_db)
    monkeypatch.setattr(auth.st, "error", lambda *a, **k: None)  # no page to draw on in these threads
    calls = _counting_verifier(monkeypatch)
    outcomes = _in_parallel(30, lambda: auth.try_password_login("zhang", "wrong-password"))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(calls) <= settings.LOGIN_MAX_FAILURES


# --- the last admin stays -----------------------------------------------------------------------------


def test_the_only_admin_cannot_be_removed_or_demoted_even_alone(tmp_db):
    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1")
    for change in (
        lambda: users.remove_user(tmp_db, "zhang"),
        lambda: users.set_role(tmp_db, "zhang", "analyst"),
        lambda: users.set_role(tmp_db, "zhang", "viewer"),
    ):
        with pytest.raises(UserError, match="最后一位管理员"):
            change()
    assert users.get_user(tmp_db.cursor(), "zhang").role == "admin"
    users.add_user(tmp_db, "li", "admin", "admin-pass-2")
    users.remove_user(tmp_db, "zhang", by="li")  # another admin remains
    with pytest.raises(UserError, match="最后一位管理员"):
        users.remove_user(tmp_db, "li")
    assert users.user_count(tmp_db.cursor()) == 1


def test_the_users_page_refuses_to_remove_or_demote_the_only_admin(small_demo_db, tmp_path, monkeypatch):
    path = demo_copy_with_users(small_demo_db, tmp_path, names=("zhang",))
    at = login(start_app(path, monkeypatch), "zhang")
    at.switch_page("views/users.py").run()
    at.selectbox(key="users_pick").set_value("zhang").run()
    button(at, "删除用户 zhang…").click().run()
    button(at, "确认删除").click().run()
    assert not at.exception, at.exception
    assert any("最后一位管理员" in e for e in errors(at)), errors(at)
    at.selectbox(key="users_role_zhang").set_value("viewer")
    button(at, "修改角色").click().run()
    assert any("最后一位管理员" in e for e in errors(at)), errors(at)
    at.run()
    assert not on_login_screen(at)  # still signed in, still admin, no local mode
    assert not any("本地模式" in c.value for c in at.sidebar.caption)
    with Database(path) as db:
        assert [(u["name"], u["role"]) for u in users.list_users(db.cursor())] == [("zhang", "admin")]


# --- single sign-on only for a verified e-mail ----------------------------------------------------------


def _sso_app(db_path: Path, monkeypatch, claims: dict) -> AppTest:
    start_app(db_path, monkeypatch)  # the server-like navigation for the AppTest below
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, **claims}
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("verified", [False, None, "true"], ids=["false", "missing", "a-string"])
def test_single_sign_on_refuses_an_unverified_email(db_path, monkeypatch, verified):
    with Database(db_path) as db:
        users.set_email(db, "zhang", "zhang@shayan.gov.cn", by="zhang")
    claims = {"email": "zhang@shayan.gov.cn"}
    if verified is not None:
        claims["email_verified"] = verified
    at = _sso_app(db_path, monkeypatch, claims)
    assert on_login_screen(at)
    assert "auth" not in at.session_state
    shown = md_text("zhang@shayan.gov.cn")  # escaped: the claim is the person's own text, never a link
    assert any(f"未确认邮箱 {shown} 属于您" in e for e in errors(at)), errors(at)
    at.switch_page("views/users.py").run()
    assert on_login_screen(at) and not at.dataframe


def test_single_sign_on_accepts_the_email_once_verified(db_path, monkeypatch):
    with Database(db_path) as db:
        users.set_email(db, "zhang", "zhang@shayan.gov.cn", by="zhang")
    at = _sso_app(db_path, monkeypatch, {"email": "zhang@shayan.gov.cn", "email_verified": False})
    assert on_login_screen(at) and "auth" not in at.session_state
    at = _sso_app(db_path, monkeypatch, {"email": "Zhang@Shayan.gov.cn", "email_verified": True})
    assert not on_login_screen(at)
    assert at.session_state["auth"]["via"] == "sso"
    at.switch_page("views/users.py").run()
    assert not errors(at) and at.dataframe
