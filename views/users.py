"""用户与审计 Users and audit log (admins): add, remove, change role, reset password; who did what.

In local mode (no users yet) the local admin creates the first account here, which must be an
admin; from then on everyone signs in. Each change is written with its audit row in one
transaction, and the role is checked again at the moment of acting.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.catalog import KPI_BY_ID
from metrics.catalog import get as kpi_def
from store import audit, users
from store.towns import towns
from store.users import ROLES, UserError, role_label
from text import CLAUSE_SEP, COLON, COMMA, Text
from ui.auth import LOCAL_USER, require_role
from ui.history import KIND_LABELS
from ui.i18n import lang, t
from ui.messages import failure
from ui.state import get_db
from ui.widgets import format_value, remember_done, show_done, show_frame

me = require_role("admin")
language = lang()
db = get_db()
first_user = me is LOCAL_USER
ALL_ACTIONS = t("audit_all")  # fixed at draw time: format functions may run after the script


def act(change, done_message: str) -> None:
    """Run one user change after re-checking the role; a flash message, or the reason it was refused."""
    acting = require_role("admin")
    try:
        change(acting.name)
    except UserError as exc:
        st.error(exc.message(language))
        return
    except Exception as exc:
        st.error(failure(exc, "user change"))
        return
    remember_done("users", done_message)
    st.rerun()


st.title(t("users_title"))
show_done("users")

with db.reading() as cur:
    rows = users.list_users(cur)
    known_towns = towns(cur)  # an admin is never limited: every town holding data
if rows:
    frame = pd.DataFrame(rows)
    show_frame(
        pd.DataFrame(
            {
                t("users_name"): frame["name"],
                t("users_role"): [role_label(r, language) for r in frame["role"]],
                t("users_email"): frame["email"].fillna(""),
                t("users_password"): [t("yes") if p else t("no") for p in frame["has_password"]],
                t("users_created"): [f"{c:%Y-%m-%d %H:%M}" for c in frame["created_at"]],
                t("users_towns"): [
                    "、".join(v) if isinstance(v, (list, tuple)) or hasattr(v, "tolist") else t("users_towns_all")
                    for v in frame["towns"]
                ],
                t("users_created_by"): frame["created_by"].fillna("—"),
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info(t("users_none"))

# --- add ------------------------------------------------------------------------------------------
st.subheader(t("users_add"))
if first_user:
    st.caption(t("users_first_admin"))
with st.form("users_add_form", clear_on_submit=False):
    c1, c2 = st.columns(2)
    name = c1.text_input(t("users_name"), key="users_add_name")
    role = c2.selectbox(
        t("users_role"),
        ["admin"] if first_user else list(ROLES),
        format_func=lambda r: role_label(r, language),
        key="users_add_role",
    )
    c3, c4 = st.columns(2)
    password = c3.text_input(
        t("login_password"), type="password", key="users_add_password", help=t("users_password_help")
    )
    confirm = c4.text_input(t("users_confirm"), type="password", key="users_add_confirm")
    email = st.text_input(t("users_email"), key="users_add_email", help=t("users_email_help"))
    add_towns = st.multiselect(
        t("users_towns"),
        known_towns,
        key="users_add_towns",
        help=t("users_towns_help"),
        placeholder=t("users_towns_all"),
        accept_new_options=True,
    )
    add = st.form_submit_button(t("users_add_submit"), type="primary")
if add:
    if password != confirm:
        st.error(t("users_mismatch"))
    else:
        message = t("users_added_first") if first_user else t("users_added")
        act(
            lambda by: users.add_user(
                db, name, role, password or None, email=email or None, by=by, towns=add_towns or None
            ),
            message.format(name=name.strip()),
        )

# --- manage one ------------------------------------------------------------------------------------
if rows:
    st.subheader(t("users_manage"))
    names = [r["name"] for r in rows]
    who = st.selectbox(t("users_name"), names, key="users_pick")
    row = next(r for r in rows if r["name"] == who)
    col_role, col_pw, col_mail = st.columns(3)
    with col_role, st.form(f"users_role_form_{who}"):
        new_role = st.selectbox(
            t("users_role"),
            list(ROLES),
            index=ROLES.index(row["role"]),
            format_func=lambda r: role_label(r, language),
            key=f"users_role_{who}",
        )
        if st.form_submit_button(t("users_role_submit")):
            act(
                lambda by: users.set_role(db, who, new_role, by=by),
                t("users_role_done").format(name=who, role=role_label(new_role, language)),
            )
    with col_pw, st.form(f"users_pw_form_{who}", clear_on_submit=True):
        pw1 = st.text_input(t("users_new_password"), type="password", key=f"users_pw1_{who}")
        pw2 = st.text_input(t("users_confirm"), type="password", key=f"users_pw2_{who}")
        if st.form_submit_button(t("users_pw_submit")):
            if pw1 != pw2:
                st.error(t("users_mismatch"))
            else:
                act(lambda by: users.set_password(db, who, pw1, by=by), t("users_pw_done").format(name=who))
    with col_mail, st.form(f"users_mail_form_{who}"):
        new_mail = st.text_input(t("users_email"), value=row["email"] or "", key=f"users_mail_{who}")
        if st.form_submit_button(t("users_mail_submit")):
            act(lambda by: users.set_email(db, who, new_mail or None, by=by), t("users_mail_done").format(name=who))

    with st.form(f"users_towns_form_{who}"):
        new_towns = st.multiselect(
            t("users_towns"),
            sorted(set(known_towns) | set(row["towns"] or [])),
            default=list(row["towns"] or []),
            key=f"users_towns_{who}",
            help=t("users_towns_help"),
            placeholder=t("users_towns_all"),
            accept_new_options=True,
        )
        if st.form_submit_button(t("users_towns_submit")):
            act(
                lambda by: users.set_towns(db, who, new_towns or None, by=by),
                t("users_towns_done").format(name=who, towns="、".join(new_towns) or t("users_towns_all")),
            )

    pending = st.session_state.get("users_remove_pending")
    if pending != who:
        if st.button(t("users_remove").format(name=who), key="users_remove", icon=":material/person_remove:"):
            st.session_state["users_remove_pending"] = who
            st.rerun()
    else:
        warning = t("users_remove_confirm").format(name=who)
        if who == me.name:
            warning += " " + t("users_remove_self")
        st.warning(warning, icon=":material/warning:")
        yes, no = st.columns(2)
        if yes.button(t("uploads_remove_yes"), key="users_remove_yes", type="primary"):
            st.session_state.pop("users_remove_pending", None)
            act(lambda by: users.remove_user(db, who, by=by), t("users_removed").format(name=who))
        if no.button(t("uploads_remove_no"), key="users_remove_no"):
            st.session_state.pop("users_remove_pending", None)
            st.rerun()

# --- audit log -----------------------------------------------------------------------------------
#: Words for the keys of an audit row's details (never the raw JSON).
DETAIL_LABELS = {
    "role": Text("角色", "role"), "email": Text("邮箱", "e-mail"), "password": Text("已设密码", "password set"),
    "from": Text("原为", "from"), "to": Text("改为", "to"), "department": Text("部门", "department"),
    "default": Text("默认目标", "default"), "month": Text("月份", "month"), "version": Text("版本", "version"),
    "data_version": Text("数据版本", "data version"), "note": Text("说明", "note"), "changed_kpis": Text("变化的指标", "changed"),
    "snapshot_id": Text("快照编号", "snapshot"), "upload_id": Text("上传编号", "upload"), "file_name": Text("文件", "file"),
    "rows": Text("行数", "rows"), "kind": Text("类型", "kind"), "rows_loaded": Text("导入行", "rows loaded"),
    "rows_rejected": Text("拒收行", "rows rejected"), "rows_skipped": Text("跳过行", "rows skipped"),
    "cases_loaded": Text("办件", "cases"), "events_loaded": Text("环节", "events"), "mapping": Text("列映射", "mapping"),
    "via": Text("途径", "via"), "case_rows": Text("删除办件行", "case rows removed"),
    "event_rows": Text("删除环节行", "event rows removed"), "service_item_rows": Text("删除目录行", "catalogue rows removed"),
    "rejected_rows": Text("删除拒收行", "rejected rows removed"),
}  # fmt: skip
VIA = {"app": Text("看板", "the app"), "cli": Text("命令行", "command line")}
YES, NO = Text("是", "yes"), Text("否", "no")


def _value(key: str, value: object, action: str, kpi_id: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return (YES if value else NO)(language)
    if key == "role" or (action == "role_change" and key in ("from", "to")):
        return role_label(str(value), language)
    if key == "kind":
        return KIND_LABELS.get(str(value), Text.same(str(value)))(language)
    if key == "via":
        return VIA.get(str(value), Text.same(str(value)))(language)
    if isinstance(value, dict):  # a column mapping: 源列 → 字段
        return COMMA(language).join(f"{k}→{v}" for k, v in value.items() if v)
    if key == "changed_kpis" and isinstance(value, list):
        return "、".join(kpi_def(k).name(language) if k in KPI_BY_ID else str(k) for k in value) or "—"
    if action == "target_set" and kpi_id in KPI_BY_ID and isinstance(value, (int, float)):
        return format_value(kpi_id, float(value))  # in the KPI's own unit: 60.0% / 0 件 / 0.5 工作日
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return "、".join(str(v) for v in value)
    return str(value)


def _details(action: str, details: object, target: str = "") -> str:
    """An audit row's details in words: 角色：分析员；邮箱：—."""
    if not isinstance(details, dict) or not details:
        return ""
    parts = []
    for key, value in details.items():
        label = DETAIL_LABELS.get(key, Text.same(key))(language)
        parts.append(f"{label}{COLON(language)}{_value(key, value, action, target)}")
    return CLAUSE_SEP(language).join(parts)


def _target(entry: dict) -> str:
    """What an action was on: a KPI's name rather than its id."""
    target = entry["target"] or ""
    if entry["action"] == "target_set" and target in KPI_BY_ID:
        return kpi_def(target).name(language)
    return target


st.subheader(t("audit_title"))
action_filter = st.selectbox(
    t("audit_action"),
    ["", *audit.ACTIONS],
    format_func=lambda a: ALL_ACTIONS if not a else audit.ACTIONS[a](language),
    key="audit_filter",
)
with db.reading() as cur:
    entries = audit.list_audit(cur, limit=500, action=action_filter or None)
if entries:
    show_frame(
        pd.DataFrame(
            {
                t("audit_when"): [f"{e['logged_at']:%Y-%m-%d %H:%M:%S}" for e in entries],
                t("audit_who"): [e["actor"] or "—" for e in entries],
                t("audit_action"): [audit.ACTIONS.get(e["action"], Text.same(e["action"]))(language) for e in entries],
                t("audit_target"): [_target(e) for e in entries],
                t("audit_details"): [_details(e["action"], e["details"], e["target"] or "") for e in entries],
            }
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption(t("audit_empty"))
