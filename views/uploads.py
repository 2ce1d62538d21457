"""上传记录 Upload history: what was loaded, when, by whom, with its counts.

Everyone may read the history. Analysts and admins may also download a past upload's rejected
rows and remove an upload with everything it brought (earlier versions of its cases count again);
removal asks for confirmation, and the role is checked again at the moment of removing.

A user limited to towns sees their towns' uploads (and the county's catalogue, which their figures use) and
may remove only an upload all of whose rows are their towns' (:func:`store.uploads.visible`, ``removable``;
``remove_upload`` refuses any other all the same).
"""

from __future__ import annotations

import streamlit as st

import scope
from ingest.errors import IngestRefused, refusal_message
from ingest.load import remove_upload
from ingest.rejects import rejects_xlsx, stored_rejects
from metrics import precomputed_views
from store import audit
from store.uploads import list_uploads, removable, visible
from text import Text
from ui.auth import has_role, require_role
from ui.fmt import md_text
from ui.history import KIND_LABELS, uploads_table
from ui.i18n import lang, t
from ui.messages import failure
from ui.state import get_db
from ui.widgets import remember_done, show_done, show_frame

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

require_role("viewer")  # signed in at all: app.py asks first; this holds should the file ever run alone
language = lang()
db = get_db()
TOWNS = scope.current()  # this run's towns, for the bytes made after it
st.title(t("uploads_title"))
show_done("uploads")
with db.reading() as cur:
    rows = list_uploads(cur)
if not rows:
    st.info(t("uploads_empty"))
    st.stop()
show_frame(uploads_table(rows, language), hide_index=True, width="stretch")

if not has_role("analyst"):
    st.stop()

loaded = [r for r in rows if r["status"] == "loaded"]
if not loaded:
    st.stop()


def describe(upload_id: int) -> str:
    r = next(r for r in loaded if r["upload_id"] == upload_id)
    kind = KIND_LABELS.get(r["kind"], Text.same(r["kind"]))(language)
    return f"#{r['upload_id']} · {r['file_name']} · {kind} · {r['loaded_at']:%Y-%m-%d %H:%M}"


def _rejects_bytes(upload_id: int, towns: tuple[str, ...] | None) -> bytes:
    """Made when asked for, maybe after the run: within the towns of the run that offered it."""
    with scope.scoped(towns), db.reading() as cur:
        if not visible(cur, upload_id):
            return b""
        return rejects_xlsx(stored_rejects(cur, upload_id), language)


with db.reading() as cur:
    ids = [r["upload_id"] for r in reversed(loaded) if removable(cur, r["upload_id"])]
left, right = st.columns(2)
with left, st.container(border=True):
    st.markdown(f"**{t('uploads_rejects_title')}**")
    with_rejects = [r["upload_id"] for r in reversed(loaded) if r["rows_rejected"]]
    if with_rejects:
        chosen = st.selectbox(t("uploads_pick"), with_rejects, format_func=describe, key="uploads_rejects_pick")
        st.download_button(
            t("up_download_rejects"),
            data=lambda chosen=chosen, towns=TOWNS: _rejects_bytes(chosen, towns),  # when asked for
            file_name=f"{t('up_rejects_file')}-{chosen}.xlsx",
            mime=XLSX_MIME,
            key="uploads_rejects_dl",
            icon=":material/download:",
        )
    else:
        st.caption(t("uploads_no_rejects"))

with right, st.container(border=True):
    st.markdown(f"**{t('uploads_remove_title')}**")
    st.caption(t("uploads_remove_help"))
    if not ids:
        st.caption(t("uploads_none_removable"))
        st.stop()
    target = st.selectbox(t("uploads_pick"), ids, format_func=describe, key="uploads_remove_pick")
    pending = st.session_state.get("uploads_remove_pending")
    if pending != target:
        if st.button(t("uploads_remove"), key="uploads_remove", icon=":material/delete:"):
            st.session_state["uploads_remove_pending"] = target
            st.rerun()
    else:
        r = next(r for r in loaded if r["upload_id"] == target)
        st.warning(
            t("uploads_remove_confirm").format(
                id=target,
                file=md_text(r["file_name"]),
                cases=r["cases_loaded"],
                events=r["events_loaded"],
                rows=r["rows_loaded"],
            ),
            icon=":material/warning:",
        )
        yes, no = st.columns(2)
        if yes.button(t("uploads_remove_yes"), key="uploads_remove_yes", type="primary"):
            acting = require_role("analyst")  # checked again at the moment of acting
            st.session_state.pop("uploads_remove_pending", None)
            try:
                removed = remove_upload(db, target, removed_by=acting.name)
                audit.record_now(db, acting.name, "remove_upload", target, {"file_name": r["file_name"], **removed})
            except IngestRefused as exc:
                st.error(md_text(refusal_message(exc, language)))
            except Exception as exc:
                st.error(md_text(failure(exc, f"removal of upload {target}")))
            else:
                precomputed_views.refresh_soon(db)  # the pages compute live until it is done
                remember_done("uploads", t("uploads_removed").format(id=target, file=md_text(r["file_name"])))
                st.rerun()
        if no.button(t("uploads_remove_no"), key="uploads_remove_no"):
            st.session_state.pop("uploads_remove_pending", None)
            st.rerun()
