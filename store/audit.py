"""The audit log: who changed what, and when.

Uploads, removals, snapshot publications, user changes and target changes each leave one row.
:func:`record` takes the writer's cursor so the row commits in the same transaction as the change
it describes; where a change runs its own transaction (``ingest_file``, ``remove_upload``), the
caller records right after it returns.
"""

from __future__ import annotations

import getpass
import json

import duckdb

import clock
import scope
from store import uploads
from store.db import Database
from text import Text

#: Action code -> its label for the audit view.
ACTIONS: dict[str, Text] = {
    "upload": Text("上传数据", "upload"),
    "remove_upload": Text("删除上传", "remove upload"),
    "publish_snapshot": Text("发布月度快照", "publish snapshot"),
    "user_add": Text("新增用户", "add user"),
    "user_remove": Text("删除用户", "remove user"),
    "user_passwd": Text("修改密码", "change password"),
    "role_change": Text("变更角色", "change role"),
    "user_email": Text("变更单点登录邮箱", "change SSO e-mail"),
    "user_towns": Text("变更乡镇范围", "change towns"),
    "target_set": Text("设置目标值", "set target"),
}


def cli_actor(user: str | None = None) -> str:
    """Who acts from the command line: ``--user`` if given, else ``cli:<the OS account>``."""
    if user:
        return user
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        return "cli"


def record(
    cur: duckdb.DuckDBPyConnection,
    actor: str | None,
    action: str,
    target: str | int | None = None,
    details: dict | None = None,
) -> None:
    """Add one audit row on the writer's cursor ``cur`` (inside ``db.write()``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    cur.execute(
        "INSERT INTO audit (logged_at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)",
        [
            clock.now(),
            actor,
            action,
            None if target is None else str(target),
            json.dumps(details or {}, ensure_ascii=False, default=str),
        ],
    )


def record_now(
    db: Database, actor: str | None, action: str, target: str | int | None = None, details: dict | None = None
) -> None:
    """Record in a transaction of its own, for actions that ran theirs (an upload, a removal)."""
    with db.write() as cur:
        record(cur, actor, action, target, details)


def list_audit(
    cur: duckdb.DuckDBPyConnection, limit: int = 500, action: str | None = None, me: str | None = None
) -> list[dict]:
    """The newest entries first.

    Within a town scope (:mod:`scope`: a town user, ``me``) only the entries about uploads the user may see
    (:func:`store.uploads.visible`: loads and removals of their towns' uploads) and their own actions: another
    town's uploads, user changes and targets are not theirs to read.
    """
    sql = "SELECT audit_id, logged_at, actor, action, target, details FROM audit a WHERE true"
    params: list[object] = []
    allowed = scope.current()
    if allowed is not None:
        sql += f""" AND (a.actor = ? OR (a.action IN ('upload', 'remove_upload')
                    AND TRY_CAST(a.target AS BIGINT) IN (SELECT u.upload_id FROM uploads u WHERE {uploads.VISIBLE})))"""
        params += [me or "", *[list(allowed)] * uploads.VISIBLE.count("?")]
    if action:
        sql += " AND action = ?"
        params.append(action)
    sql += " ORDER BY audit_id DESC LIMIT ?"
    params.append(int(limit))
    rel = cur.execute(sql, params)
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, row, strict=True)) for row in rel.fetchall()]
    for row in rows:
        row["details"] = json.loads(row["details"]) if row["details"] else {}
    return rows
