"""Users, the audit log and targets in the store, and the CLI over them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from metrics import catalog, targets
from metrics.targets import TargetError
from store import audit, users
from store.targets import list_targets
from store.users import UserError

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, input=stdin, timeout=120
    )


def test_passwords_are_argon2_hashes_and_verify(tmp_db):
    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1", by="test")
    stored = tmp_db.cursor().execute("SELECT password_hash FROM users WHERE name = 'zhang'").fetchone()[0]
    assert stored.startswith("$argon2id$") and "admin-pass-1" not in stored
    cur = tmp_db.cursor()
    assert users.verify_password(cur, "zhang", "admin-pass-1") == users.User("zhang", "admin", None, True)
    assert users.verify_password(cur, "zhang", "wrong-password") is None
    assert users.verify_password(cur, "nobody", "admin-pass-1") is None


def test_first_user_is_an_admin_and_the_last_admin_stays(tmp_db):
    with pytest.raises(UserError, match="第一个用户必须是管理员"):
        users.add_user(tmp_db, "boss", "viewer", "viewer-pass-1")
    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1")
    users.add_user(tmp_db, "boss", "viewer", "viewer-pass-1")
    with pytest.raises(UserError, match="最后一位管理员"):
        users.set_role(tmp_db, "zhang", "analyst")
    with pytest.raises(UserError, match="最后一位管理员"):
        users.remove_user(tmp_db, "zhang")
    users.set_role(tmp_db, "boss", "admin", by="zhang")
    users.remove_user(tmp_db, "zhang", by="boss")  # another admin remains
    with pytest.raises(UserError, match="最后一位管理员"):  # not even the very last user: no fall back to local mode
        users.remove_user(tmp_db, "boss")
    assert users.user_count(tmp_db.cursor()) == 1


def test_bad_input_is_refused_and_leaves_no_audit_row(tmp_db):
    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1", by="test")
    before = len(audit.list_audit(tmp_db.cursor()))
    version = tmp_db.data_version()
    for call in (
        lambda: users.add_user(tmp_db, "zhang", "admin", "admin-pass-1"),  # exists
        lambda: users.add_user(tmp_db, "li", "analyst", "short"),
        lambda: users.add_user(tmp_db, "li", "boss", "long-enough-1"),
        lambda: users.add_user(tmp_db, "a b;--", "analyst", "long-enough-1"),
        lambda: users.add_user(tmp_db, "li", "analyst", None),  # no password and no e-mail
        lambda: users.add_user(tmp_db, "li", "analyst", "long-enough-1", email="not-an-email"),
        lambda: users.set_password(tmp_db, "nobody", "long-enough-1"),
    ):
        with pytest.raises(UserError):
            call()
    assert len(audit.list_audit(tmp_db.cursor())) == before
    assert tmp_db.data_version() == version


def test_sso_only_account_found_by_email(tmp_db):
    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1")
    users.add_user(tmp_db, "li", "analyst", None, email="Li@Shayan.gov.cn")
    cur = tmp_db.cursor()
    assert users.find_by_email(cur, "li@shayan.gov.cn").name == "li"
    assert users.verify_password(cur, "li", "") is None  # no password: no password login
    with pytest.raises(UserError):
        users.set_email(tmp_db, "li", None)


def test_audit_rows_commit_with_their_change(tmp_db):
    users.add_user(tmp_db, "zhang", "admin", "admin-pass-1", by="cli:root")
    users.add_user(tmp_db, "li", "analyst", "li-pass-123", by="zhang")
    users.set_role(tmp_db, "li", "viewer", by="zhang")
    users.set_password(tmp_db, "li", "li-pass-456", by="zhang")
    users.remove_user(tmp_db, "li", by="zhang")
    entries = audit.list_audit(tmp_db.cursor())
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("zhang", "user_remove", "li"),
        ("zhang", "user_passwd", "li"),
        ("zhang", "role_change", "li"),
        ("zhang", "user_add", "li"),
        ("cli:root", "user_add", "zhang"),
    ]
    assert entries[2]["details"] == {"from": "analyst", "to": "viewer"}
    assert "li-pass" not in str(entries)
    with pytest.raises(ValueError):
        audit.record(tmp_db.cursor(), "x", "no_such_action")


def test_targets_default_overall_and_per_department(tmp_db):
    cur = tmp_db.cursor()
    defaults = targets.get_targets(cur)
    assert set(defaults) == set(catalog.KPI_IDS)
    assert defaults == {k.id: k.default_target for k in catalog.KPIS}
    targets.set_target(tmp_db, "online_rate", 0.7, by="ana")
    targets.set_target(tmp_db, "online_rate", 0.4, department="民政办", by="ana")
    targets.set_target(tmp_db, "median_processing_days", 3.5, by="ana")
    assert targets.get_targets(cur)["online_rate"] == 0.7
    assert targets.get_targets(cur, "民政办")["online_rate"] == 0.4
    assert targets.get_targets(cur, "社保所")["online_rate"] == 0.7  # no own target: the town's
    assert targets.target_for(cur, "median_processing_days") == 3.5
    targets.set_target(tmp_db, "online_rate", 0.75, by="zhang")  # replaces, never duplicates
    assert [r["value"] for r in list_targets(cur) if r["kpi_id"] == "online_rate"] == [0.75, 0.4]
    targets.set_target(tmp_db, "online_rate", None, department="民政办", by="zhang")
    assert targets.get_targets(cur, "民政办")["online_rate"] == 0.75
    last = audit.list_audit(cur, limit=1)[0]
    assert (last["actor"], last["action"], last["target"]) == ("zhang", "target_set", "online_rate")
    assert last["details"]["department"] == "民政办" and last["details"]["to"] is None


@pytest.mark.parametrize(
    ("kpi_id", "value"), [("no_such_kpi", 0.5), ("online_rate", 1.5), ("online_rate", -0.1), ("cases", float("nan"))]
)
def test_impossible_targets_are_refused(tmp_db, kpi_id, value):
    with pytest.raises(TargetError):
        targets.set_target(tmp_db, kpi_id, value)
    assert list_targets(tmp_db.cursor()) == []


def test_cli_users_commands_and_audit(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    first = cli("users", "add", "boss", "--role", "viewer", "--password-stdin", "--db", db, stdin="viewer-pass-1\n")
    assert first.returncode == 1 and "第一个用户必须是管理员" in first.stderr
    assert "Traceback" not in first.stderr
    ok = cli("users", "add", "zhang", "--role", "admin", "--password-stdin", "--db", db, stdin="admin-pass-1\n")
    assert ok.returncode == 0, ok.stderr
    added = cli("users", "add", "ana", "--role", "analyst", "--password-stdin", "--db", db, stdin="ana-pass-12\n")
    assert added.returncode == 0, added.stderr
    short = cli("users", "passwd", "ana", "--password-stdin", "--db", db, stdin="short\n")
    assert short.returncode == 1 and "至少 8 个字符" in short.stderr
    assert cli("users", "passwd", "ana", "--password-stdin", "--db", db, stdin="ana-pass-34\n").returncode == 0
    assert cli("users", "role", "ana", "--role", "viewer", "--user", "zhang", "--db", db).returncode == 0
    listed = cli("users", "list", "--db", db)
    assert "zhang" in listed.stdout and "ana" in listed.stdout and "viewer" in listed.stdout
    assert cli("users", "remove", "ana", "--db", db).returncode == 0
    missing = cli("users", "remove", "ana", "--db", db)
    assert missing.returncode == 1 and "没有用户 ana" in missing.stderr

    # Uploads and removals from the command line are audited too.
    loaded = cli("ingest", str(ROOT / "tests" / "data" / "cases_title_total_gbk.csv"), "--user", "ana", "--db", db)
    assert loaded.returncode == 0, loaded.stderr
    assert cli("uploads", "remove", "1", "--user", "zhang", "--db", db).returncode == 0
    log = cli("audit", "--format", "json", "--db", db)
    import json

    actions = [(e["actor"], e["action"], e["target"]) for e in json.loads(log.stdout)]
    assert actions[:2] == [("zhang", "remove_upload", "1"), ("ana", "upload", "1")]
    assert ("zhang", "role_change", "ana") in actions
    assert [a for a in actions if a[1] == "user_passwd"][0][2] == "ana"
    assert all(actor.startswith("cli:") or actor in {"ana", "zhang"} for actor, _, _ in actions)
    from store.db import Database

    with Database(db) as check:
        assert users.verify_password(check.cursor(), "zhang", "admin-pass-1") is not None
        assert check.cursor().execute("SELECT loaded_by FROM uploads WHERE upload_id = 1").fetchone()[0] == "ana"


def test_readme_documents_the_users_commands_and_limits_as_they_are():
    import re
    import shlex

    import settings
    from cli import build_parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^(?:echo \"\$PASSWORD\" \| )?python cli\.py (users [^#\n]+?)\s*(?:#.*)?$", readme, re.M)
    assert len(commands) >= 6
    for command in commands:
        if "|" in command or "[" in command:  # the synopsis lines
            continue
        build_parser().parse_args(shlex.split(command))  # exits (fails the test) on a wrong option
    assert f"单个文件不超过 {settings.MAX_UPLOAD_MB} MB" in readme
    assert f"连续 {settings.SESSION_IDLE_MINUTES // 60} 小时无操作或登录满 {settings.SESSION_MAX_HOURS} 小时" in readme
    assert f"输错 {settings.LOGIN_MAX_FAILURES} 次密码后须等待 {settings.LOGIN_LOCKOUT_MINUTES} 分钟" in readme
