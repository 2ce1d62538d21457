"""Users and roles, with passwords hashed by argon2id.

Three roles, each including the one before: ``viewer`` (leaders: read the dashboard), ``analyst``
(upload, remove uploads, the catalogue, targets) and ``admin`` (users, too). With no user in the
database the app runs in local mode. Every change is written together with its audit row in one
transaction. The first user must be an admin, and the last admin cannot be removed or demoted
(not even when nobody else is left: the app would fall back to local mode), so that someone can
always manage the rest.

Sessions belong to an account, not a name: every user has a ``user_id`` from a sequence, never
reused, so a user removed and added again under the same name is another account; and an
``epoch`` bumped by each change of the password, the SSO e-mail or the role, so that a session
started before the change is signed out at its next click (:mod:`ui.auth`). Wrong passwords are
counted per name in ``login_failures``; :func:`login` counts each attempt *before* checking its
password, in the single writer's transaction, so parallel guesses cannot slip past the limit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

import clock
import settings
from errors import BilingualError
from store import audit
from store.db import Database
from store.rows import one
from store.towns import clean_town
from text import Text

ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
ROLE_LABELS: dict[str, Text] = {
    "viewer": Text("查看者（领导）", "viewer (leaders)"),
    "analyst": Text("分析员", "analyst"),
    "admin": Text("管理员", "admin"),
}
MIN_PASSWORD_LENGTH = 8
_NAME = re.compile(r"^[\w\u4e00-\u9fff.@-]{1,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

_hasher = PasswordHasher()
#: Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class UserError(BilingualError, ValueError):
    """A user change that cannot be made; carries a Chinese and an English message."""


class LoginLocked(Exception):
    """Too many wrong passwords for this name lately: the password was not checked."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    email: str | None = None
    has_password: bool = True
    #: The account (never reused) and its credential epoch; not part of equality, which compares what a user is.
    user_id: int | None = field(default=None, compare=False)
    epoch: int = field(default=0, compare=False)
    #: The towns the user may see and change (sorted); None: the whole county (:mod:`scope`).
    towns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.towns is not None and not isinstance(self.towns, tuple):
            object.__setattr__(self, "towns", tuple(sorted(self.towns)))


def role_rank(role: str | None) -> int:
    """viewer 0 < analyst 1 < admin 2; an unknown role ranks below every real one."""
    return ROLES.index(role) if role in ROLES else -1


def role_label(role: str, lang: str = "zh") -> str:
    return ROLE_LABELS.get(role, Text.same(role))(lang)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(
            f"未知角色：{role}（可用：{'、'.join(ROLES)}）", f"unknown role {role!r}; use one of {', '.join(ROLES)}"
        )


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )


def _check_email(email: str | None) -> str | None:
    email = (email or "").strip().lower() or None
    if email is not None and not _EMAIL.match(email):
        raise UserError(f"邮箱格式不正确：{email}", f"not an e-mail address: {email}")
    return email


def _check_towns(towns: Iterable[str] | None, role: str) -> tuple[str, ...] | None:
    """The towns of a user as given (``--town``, the users page): None or nothing is the whole county.

    An admin manages every user (and could give themselves the county), so an admin is never limited to towns.
    """
    if towns is None:
        return None
    cleaned = []
    for name in towns:
        town = clean_town(name)
        if town is None:
            raise UserError(f"乡镇名称不可用：{name!r}", f"not a town name: {name!r}")
        cleaned.append(town)
    if not cleaned:
        return None
    if role == "admin":
        raise UserError(
            "管理员管理全部用户，不能限定乡镇：请改为分析员或查看者",
            "an admin manages every user and so sees the whole county: make the user an analyst or viewer",
        )
    return tuple(sorted(set(cleaned)))


# --- reading ---------------------------------------------------------------------------------------


def user_count(cur: duckdb.DuckDBPyConnection) -> int:
    return int(one(cur.execute("SELECT count(*) FROM users"))[0])


_USER_COLUMNS = "name, role, email, password_hash IS NOT NULL, user_id, coalesce(epoch, 0), towns"


def get_user(cur: duckdb.DuckDBPyConnection, name: str) -> User | None:
    row = cur.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE name = ?", [name]).fetchone()
    return User(*row) if row else None


def get_user_by_id(cur: duckdb.DuckDBPyConnection, user_id: int | None) -> User | None:
    """The account a session belongs to, or None once it has been removed (ids are never reused)."""
    if user_id is None:
        return None
    row = cur.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE user_id = ?", [int(user_id)]).fetchone()
    return User(*row) if row else None


def find_by_email(cur: duckdb.DuckDBPyConnection, email: str | None) -> User | None:
    """The user a single-sign-on identity maps to (e-mail compared case-insensitively)."""
    if not email:
        return None
    row = cur.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = lower(?) ORDER BY name LIMIT 1", [email.strip()]
    ).fetchone()
    return User(*row) if row else None


def list_users(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    rel = cur.execute(
        """SELECT name, role, email, password_hash IS NOT NULL AS has_password, created_at, created_by, updated_at,
                  password_changed_at, towns
           FROM users ORDER BY name"""
    )
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def _verify_hash(stored: str, password: str) -> bool:
    """One argon2 verification (the costly step :func:`login` rations)."""
    try:
        return bool(_hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(cur: duckdb.DuckDBPyConnection, name: str, password: str) -> User | None:
    """The user when the password is right, else None; always costs one argon2 verification.

    Counts nothing: a login goes through :func:`login`, which limits the attempts per name.
    """
    row = cur.execute(
        "SELECT name, role, email, password_hash, user_id, coalesce(epoch, 0), towns FROM users WHERE name = ?",
        [name.strip()],
    ).fetchone()
    stored = row[3] if row and row[3] else _DUMMY_HASH
    if not _verify_hash(stored, password or ""):
        return None
    if not row or not row[3]:
        return None
    return User(row[0], row[1], row[2], True, row[4], row[5], row[6])


#: Longest name kept in ``login_failures`` (a typed name of no user may be anything).
_ATTEMPT_NAME_CHARS = 200


def login(
    db: Database,
    name: str,
    password: str,
    *,
    max_failures: int | None = None,
    window_seconds: float | None = None,
) -> User | None:
    """A password login: the user, or None for a wrong name or password; :class:`LoginLocked` when throttled.

    The attempt is counted before its password is checked: in one write transaction the recent
    failures of the name are counted and, under the limit, a pending failure is added; only then
    does argon2 run, outside the lock. A right password clears the name's failures. So however many
    attempts arrive at once, at most ``max_failures`` of them per window reach the password check.
    """
    limit = settings.LOGIN_MAX_FAILURES if max_failures is None else max_failures
    window = settings.LOGIN_LOCKOUT_MINUTES * 60 if window_seconds is None else window_seconds
    key = (name or "").strip()[:_ATTEMPT_NAME_CHARS]
    now = time.time()
    with db.write(bump=False) as cur:  # an attempt changes nothing a page shows
        cur.execute("DELETE FROM login_failures WHERE attempted_at < ?", [now - window])
        recent = one(cur.execute("SELECT count(*) FROM login_failures WHERE name = ?", [key]))[0]
        if recent >= limit:
            raise LoginLocked(key)  # rolls the transaction back: nothing written, no data version bumped
        cur.execute("INSERT INTO login_failures VALUES (?, ?)", [key, now])
    cur = db.cursor()
    try:
        user = verify_password(cur, key, password)
    finally:
        cur.close()
    if user is not None:
        with db.write(bump=False) as cur:
            cur.execute("DELETE FROM login_failures WHERE name = ?", [key])
    return user


# --- changing (each with its audit row, in one transaction) ----------------------------------------


def _admins_after(cur: duckdb.DuckDBPyConnection, name: str, new_role: str | None) -> tuple[int, int]:
    """(admins, users) left if ``name`` took ``new_role`` (None: removed)."""
    users = cur.execute("SELECT name, role FROM users").fetchall()
    after = [(n, new_role if n == name else r) for n, r in users if not (n == name and new_role is None)]
    return sum(1 for _, r in after if r == "admin"), len(after)


def _keep_an_admin(cur: duckdb.DuckDBPyConnection, name: str, old_role: str, new_role: str | None) -> None:
    """Refuse to remove or demote the last admin, even the only user (else the app would fall back to local mode)."""
    admins, _ = _admins_after(cur, name, new_role)
    if old_role == "admin" and not admins:
        raise UserError(
            "不能删除或降级最后一位管理员：请先把另一位用户设为管理员",
            "cannot remove or demote the last admin: make another user admin first",
        )


def add_user(
    db: Database,
    name: str,
    role: str,
    password: str | None,
    *,
    email: str | None = None,
    by: str | None = None,
    towns: Iterable[str] | None = None,
) -> User:
    """Create a user. ``password`` None makes a single-sign-on-only account (needs ``email``); ``towns``
    limits the user to those towns (none: the whole county)."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise UserError(
            "用户名只能包含字母、数字、汉字和 . _ - @，最长 64 个字符",
            "a user name may hold letters, digits, Chinese characters and . _ - @, up to 64 characters",
        )
    _check_role(role)
    scoped = _check_towns(towns, role)
    email = _check_email(email)
    if password is None and email is None:
        raise UserError("没有密码的账号必须填写单点登录邮箱", "an account without a password needs an SSO e-mail")
    if password is not None:
        _check_password(password)
    hashed = _hasher.hash(password) if password is not None else None
    with db.write() as cur:
        if one(cur.execute("SELECT count(*) FROM users WHERE name = ?", [name]))[0]:
            raise UserError(f"用户 {name} 已存在", f"user {name} already exists")
        if role != "admin" and not user_count(cur):
            raise UserError(
                "第一个用户必须是管理员（admin），否则没有人能管理其他用户",
                "the first user must be an admin, or nobody could manage the others",
            )
        user_id = one(
            cur.execute(
                """INSERT INTO users (name, role, password_hash, email, created_at, created_by, password_changed_at,
                                  user_id, epoch, towns)
               VALUES (?, ?, ?, ?, ?, ?, CASE WHEN ? THEN ?::TIMESTAMP END, nextval('user_id_seq'), 0, ?::VARCHAR[])
               RETURNING user_id""",
                [name, role, hashed, email, clock.now(), by, hashed is not None, clock.now(),
                 None if scoped is None else list(scoped)],
            )
        )[0]  # fmt: skip
        audit.record(
            cur,
            by,
            "user_add",
            name,
            {
                "role": role,
                "email": email,
                "password": hashed is not None,
                "towns": None if scoped is None else list(scoped),
            },
        )
    return User(name, role, email, hashed is not None, user_id, 0, scoped)


def _require(cur: duckdb.DuckDBPyConnection, name: str) -> tuple[str, str | None]:
    row = cur.execute("SELECT role, email FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        raise UserError(f"没有用户 {name}", f"no user {name}")
    return row[0], row[1]


def remove_user(db: Database, name: str, *, by: str | None = None) -> None:
    with db.write() as cur:
        role, _ = _require(cur, name)
        _keep_an_admin(cur, name, role, None)
        cur.execute("DELETE FROM users WHERE name = ?", [name])
        audit.record(cur, by, "user_remove", name, {"role": role})


def set_password(db: Database, name: str, password: str, *, by: str | None = None) -> None:
    _check_password(password)
    hashed = _hasher.hash(password)
    with db.write() as cur:
        _require(cur, name)
        cur.execute(
            """UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ?, epoch = coalesce(epoch, 0) + 1
               WHERE name = ?""",
            [hashed, clock.now(), clock.now(), name],
        )
        audit.record(cur, by, "user_passwd", name, {})


def set_role(db: Database, name: str, role: str, *, by: str | None = None) -> None:
    _check_role(role)
    with db.write() as cur:
        old, _ = _require(cur, name)
        if old == role:
            return
        _keep_an_admin(cur, name, old, role)
        if role == "admin" and one(cur.execute("SELECT towns IS NOT NULL FROM users WHERE name = ?", [name]))[0]:
            raise UserError(
                f"{name} 限定了乡镇：管理员看全县，请先取消乡镇限定（users towns {name} --all-towns）",
                f"{name} is limited to towns and an admin sees the whole county: clear the towns first",
            )
        cur.execute(
            "UPDATE users SET role = ?, updated_at = ?, epoch = coalesce(epoch, 0) + 1 WHERE name = ?",
            [role, clock.now(), name],
        )
        audit.record(cur, by, "role_change", name, {"from": old, "to": role})


def set_email(db: Database, name: str, email: str | None, *, by: str | None = None) -> None:
    email = _check_email(email)
    with db.write() as cur:
        _, old = _require(cur, name)
        if old == email:
            return
        has_password = one(cur.execute("SELECT password_hash IS NOT NULL FROM users WHERE name = ?", [name]))[0]
        if email is None and not has_password:
            raise UserError("没有密码的账号必须保留单点登录邮箱", "an account without a password needs its SSO e-mail")
        cur.execute(  # the e-mail is the single-sign-on credential: sessions of the old one end too
            "UPDATE users SET email = ?, updated_at = ?, epoch = coalesce(epoch, 0) + 1 WHERE name = ?",
            [email, clock.now(), name],
        )
        audit.record(cur, by, "user_email", name, {"from": old, "to": email})


def set_towns(db: Database, name: str, towns: Iterable[str] | None, *, by: str | None = None) -> None:
    """Limit a user to ``towns`` (None or none: the whole county). Open sessions of the user end (a new epoch)."""
    with db.write() as cur:
        role, _ = _require(cur, name)
        scoped = _check_towns(towns, role)
        old = one(cur.execute("SELECT towns FROM users WHERE name = ?", [name]))[0]
        old = None if old is None else sorted(old)
        new = None if scoped is None else list(scoped)
        if old == new:
            return
        cur.execute(
            "UPDATE users SET towns = ?::VARCHAR[], updated_at = ?, epoch = coalesce(epoch, 0) + 1 WHERE name = ?",
            [new, clock.now(), name],
        )
        audit.record(cur, by, "user_towns", name, {"from": old, "to": new})
