"""数据上传 Upload (analysts and admins): from an export file to the dashboard without the command line.

For each dropped file: what was detected (encoding, sheet, header row, kind), a preview, the column
mapping as a form pre-filled by the automatic mapping (or a saved one), the validation report with
the rejected rows as Excel, then the load with a progress bar. Nothing is written before "导入";
the preview reads the bytes from a private temp file on a cursor of its own.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pandas as pd
import streamlit as st

import settings
from ingest.errors import IngestRefused, refusal_message
from ingest.load import IngestResult, ingest_bytes, towns_worth_saying
from ingest.mapping import (
    FIELD_LABELS_EN,
    FIELD_LABELS_ZH,
    FIELDS_BY_KIND,
    REQUIRED,
    apply_overrides,
    auto_map,
    load_saved_name,
    save_mapping,
    saved_mapping_names,
)
from ingest.preview import Preview
from ingest.reasons import reason_text, short_reason
from ingest.rejects import rejects_table, rejects_xlsx
from ingest.templates import catalog_template_xlsx
from ingest.upload_bytes import UPLOAD_TYPES, file_columns, preview_bytes, sheet_names
from metrics import precomputed_views
from store import audit
from store.towns import clean_town
from store.uploads import list_uploads
from text import CLAUSE_SEP, NOTE, Text
from ui.auth import require_role
from ui.fmt import md_text, one_language
from ui.history import KIND_LABELS, uploads_table
from ui.i18n import lang, t
from ui.impact import show_impact
from ui.messages import failure
from ui.metrics_cache import filter_options
from ui.state import get_db
from ui.widgets import show_frame

log = logging.getLogger(__name__)

KIND_CHOICES = ["auto", "cases", "events", "catalog"]
NOT_USED = "__not_used__"
#: Refusals the mapping form can fix: show the form with the file's columns.
MAPPABLE = {"missing_columns", "bad_mapping", "bad_kind"}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

user = require_role("analyst")
db = get_db()
language = lang()
state = st.session_state
previews: dict = state.setdefault("up_previews", {})  # file id -> (inputs key, Preview | IngestRefused)
mappings: dict = state.setdefault("up_mappings", {})  # (file id, sheet, kind) -> field -> column
done: dict = state.setdefault("up_done", {})  # file id -> IngestResult as dict


def field_label(field: str, kind: str, mark_required: bool = True) -> str:
    label = Text(FIELD_LABELS_ZH.get(field, field), FIELD_LABELS_EN.get(field, field))(language)
    return f"{label} *" if mark_required and field in REQUIRED.get(kind, []) else label


#: Texts the selectboxes' format functions use, fixed at draw time (format functions may run later).
AUTO_LABEL, NOT_USED_LABEL, EXAMPLE_LABEL, NO_SAVED_LABEL = (
    t("up_kind_auto"),
    t("up_not_used"),
    t("up_example"),
    t("up_saved_none"),
)


def kind_label(kind: str) -> str:
    if kind == "auto":
        return AUTO_LABEL
    return KIND_LABELS.get(kind, Text.same(kind))(language)


def download_stem(name: str) -> str:
    stem = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", name.rsplit(".", 1)[0])[:60]
    return stem or "upload"


def get_preview(fid: str, data: bytes, name: str, sheet: str | None, kind: str, overrides: dict | None):
    """The preview for these inputs, computed once per change (reruns reuse it)."""
    # The data version too: after another load the impact (what this file would change) is worked out again.
    key = json.dumps([sheet, kind, overrides, town, db.data_version()], ensure_ascii=False, sort_keys=True)
    cached = previews.get(fid)
    if cached and cached[0] == key:
        return cached[1]
    try:
        result: Preview | IngestRefused | str = preview_bytes(
            db, data, name, sheet=sheet, kind=kind, mapping=overrides, max_rows=settings.MAX_UPLOAD_ROWS, town=town
        )
    except IngestRefused as exc:
        result = exc
    except Exception as exc:  # anything else: one sentence on the page, the traceback in the server log
        result = failure(exc, f"preview of {name!r}")
    previews[fid] = (key, result)
    return result


def apply_saved(fid: str, sheet_key: str, kind_key: str, saved_key: str, default_sheet: str | None) -> None:
    """A saved mapping was picked: take its kind and columns into the form."""
    name = state.get(saved_key)
    if not name:
        return
    try:
        kind, overrides = load_saved_name(name)  # a name, never a path (names.py)
    except IngestRefused as exc:
        state[f"up_flash_{fid}"] = md_text(refusal_message(exc, language))
        return
    kind = kind if kind in KIND_CHOICES else "auto"
    state[kind_key] = kind
    mappings[(fid, state.get(sheet_key, default_sheet), kind)] = dict(overrides)


def mapping_form(fid: str, mkey: tuple, columns: list[str], kind: str, current: dict, samples: dict) -> None:
    """One selectbox per canonical field of ``kind``; applying re-runs the preview with the result."""
    version = hashlib.sha1(json.dumps([current, columns], ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:10]
    options = [NOT_USED, *columns]

    def show(option: str) -> str:
        if option == NOT_USED:
            return NOT_USED_LABEL
        example = samples.get(option)
        if not example:
            return option
        return NOTE(language).format(option, f"{EXAMPLE_LABEL}{example}")

    with st.form(f"up_mapform_{fid}"):
        st.caption(t("up_mapping_help"))
        grid = st.columns(3)
        fields = list(FIELDS_BY_KIND[kind])
        chosen: dict[str, str] = {}
        for i, field in enumerate(fields):
            column = current.get(field)
            index = options.index(column) if column in options else 0
            chosen[field] = grid[i % 3].selectbox(
                field_label(field, kind), options, index=index, format_func=show, key=f"up_map_{fid}_{version}_{field}"
            )
        save_as = st.text_input(t("up_save_as"), key=f"up_saveas_{fid}_{version}", placeholder=t("up_save_as_hint"))
        submitted = st.form_submit_button(t("up_apply_mapping"), type="primary")
    if not submitted:
        return
    overrides = {field: (None if value == NOT_USED else value) for field, value in chosen.items()}
    mappings[mkey] = overrides
    if save_as.strip():
        try:
            mapped = apply_overrides(auto_map(columns, kind), columns, overrides)
            save_mapping(save_as.strip(), mapped, columns)
            state[f"up_flash_{fid}"] = t("up_mapping_saved").format(name=md_text(save_as.strip()))
        except IngestRefused as exc:
            state[f"up_flash_{fid}"] = md_text(refusal_message(exc, language))
    st.rerun()


def sample_values(preview: Preview) -> dict[str, str]:
    """A first non-empty value per column, to show beside column names in the mapping form."""
    values = {}
    for column in preview.sample.columns:
        series = preview.sample[column].dropna()
        series = series[series.astype(str).str.strip() != ""]
        if not series.empty:
            values[str(column)] = str(series.iloc[0])[:24]
    return values


def validation_report(preview: Preview, name: str) -> None:
    v = preview.validation
    cols = st.columns(4)
    cols[0].metric(t("up_rows_total"), f"{v.total:,}")
    cols[1].metric(t("up_rows_ok"), f"{v.loaded:,}")
    cols[2].metric(t("up_rows_rejected"), f"{v.rejected:,}")
    cols[3].metric(t("up_rows_skipped"), f"{v.skipped:,}", help=t("up_rows_skipped_help"))
    if preview.personal_note:  # the personal-data columns, found by header or by value (ingest/personal.py)
        st.info(md_text(one_language(preview.personal_note, language)), icon=":material/visibility_off:")
    if v.by_reason:
        reasons = pd.DataFrame(
            [
                {t("up_reason"): reason_text(r)(language), t("up_count"): n}
                for r, n in sorted(v.by_reason.items(), key=lambda kv: -kv[1])
            ]
        )
        show_frame(reasons, hide_index=True)
    if v.warned:
        reasons = CLAUSE_SEP(language).join(
            f"{short_reason(r, language)} {n:,}" for r, n in sorted(v.warned_by_reason.items())
        )
        st.info(md_text(t("up_rows_warned").format(n=v.warned, reasons=reasons)), icon=":material/info:")
    if not preview.rejects.empty:
        with st.expander(t("up_rejects_first").format(n=min(len(preview.rejects), 200))):
            show_frame(rejects_table(preview.rejects.head(200), language), hide_index=True)
        st.download_button(
            t("up_download_rejects"),
            data=rejects_xlsx(preview.rejects, language),
            file_name=f"{t('up_rejects_file')}-{download_stem(name)}.xlsx",
            mime=XLSX_MIME,
            key=f"up_rejects_dl_{preview.sha256[:16]}",
            icon=":material/download:",
        )
    for warning in preview.info.warnings:
        st.warning(md_text(one_language(warning, language)))


def import_file(fid: str, data: bytes, name: str, sheet: str | None, preview: Preview, overrides: dict | None) -> None:
    """Load with a progress bar; the result replaces the preview. Role re-checked before writing."""
    acting = require_role("analyst")
    stages = {
        "hash": t("up_stage_hash"),
        "read": t("up_stage_read"),
        "validate": t("up_stage_validate"),
        "write": t("up_stage_write"),
        "finish": t("up_stage_finish"),
        "done": t("up_stage_done"),
    }
    bar = st.progress(0.0, text=stages["hash"])

    def progress(stage: str, fraction: float) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=stages.get(stage, stage))

    try:
        result: IngestResult = ingest_bytes(
            db,
            data,
            name,
            kind=preview.mapping.kind,
            mapping=overrides,
            sheet=sheet,
            loaded_by=acting.name,
            progress=progress,
            max_rows=settings.MAX_UPLOAD_ROWS,
            town=town,
        )
    except IngestRefused as exc:
        bar.empty()
        st.error(md_text(refusal_message(exc, language)))
        return
    except Exception as exc:
        bar.empty()
        st.error(md_text(failure(exc, f"upload of {name!r}")))
        return
    if result.duplicate_of is None:
        try:
            audit.record_now(
                db,
                acting.name,
                "upload",
                result.upload_id,
                {
                    "file_name": result.file_name,
                    "kind": result.kind,
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "rows_skipped": result.rows_skipped,
                    "cases_loaded": result.cases_loaded,
                    "events_loaded": result.events_loaded,
                    "town": result.town,
                    "towns": result.towns,
                    "mapping": result.mapping,
                    "via": "app",
                },
            )
        except Exception:  # the upload stands (its history row names who and when); say the log failed
            log.exception("audit of upload %s failed", result.upload_id)
        precomputed_views.refresh_soon(db)  # the pages compute live until it is done
    done[fid] = result.as_dict()
    previews.pop(fid, None)
    st.rerun()


def show_result(result: dict) -> None:
    if result.get("duplicate_of") is not None:
        st.info(t("up_duplicate_skipped").format(id=result["duplicate_of"]))
        return
    st.success(
        t("up_done").format(
            id=result["upload_id"],
            loaded=result["rows_loaded"],
            rejected=result["rows_rejected"],
            skipped=result["rows_skipped"],
            cases=result["cases_loaded"],
            events=result["events_loaded"],
        ),
        icon=":material/check_circle:",
    )
    towns = result.get("towns") or []
    if towns_worth_saying(towns):
        st.caption(md_text(t("up_done_towns").format(towns="、".join(towns))))
    for warning in result.get("warnings") or []:
        st.warning(md_text(one_language(warning, language)))


def handle_file(uploaded) -> None:
    """Everything for one dropped file, inside its own bordered box."""
    fid = uploaded.file_id
    name = uploaded.name
    st.markdown(f"#### :material/description: {md_text(name)}")
    if fid in done:
        show_result(done[fid])
        return
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if uploaded.size > limit:
        st.error(t("up_too_large").format(size=uploaded.size / 1024 / 1024, limit=settings.MAX_UPLOAD_MB))
        return
    data = uploaded.getvalue()
    flash = state.pop(f"up_flash_{fid}", None)
    if flash:
        st.info(flash)

    sheets = sheet_names(data, name)
    sheet_key, kind_key, saved_key = f"up_sheet_{fid}", f"up_kind_{fid}", f"up_saved_{fid}"
    cols = st.columns(3 if sheets else 2)
    sheet = None
    if sheets:
        sheet = cols[0].selectbox(t("up_sheet"), sheets, key=sheet_key, help=t("up_sheet_help"))
    kind_choice = cols[-2].selectbox(t("up_kind"), KIND_CHOICES, format_func=kind_label, key=kind_key)
    saved = saved_mapping_names()
    cols[-1].selectbox(
        t("up_saved_mapping"),
        ["", *saved],
        format_func=lambda n: n or NO_SAVED_LABEL,
        key=saved_key,
        on_change=apply_saved,
        args=(fid, sheet_key, kind_key, saved_key, sheets[0] if sheets else None),
        disabled=not saved,
        help=t("up_saved_help"),
    )
    mkey = (fid, sheet, kind_choice)
    overrides = mappings.get(mkey)
    preview = get_preview(fid, data, name, sheet, kind_choice, overrides)
    if isinstance(preview, str):
        st.error(md_text(preview), icon=":material/block:")
        return
    if isinstance(preview, IngestRefused):
        st.error(md_text(refusal_message(preview, language)), icon=":material/block:")
        if preview.code not in MAPPABLE:
            return
        try:
            info, auto = file_columns(db, data, name, sheet)
        except Exception:  # the refusal above already says why
            return
        kind = kind_choice if kind_choice != "auto" else auto.kind
        current = overrides if overrides is not None else auto.source_names(info.columns)
        st.markdown(f"**{t('up_mapping_title')}**")
        mapping_form(fid, mkey, info.columns, kind, current, {})
        return

    info = preview.info
    details = [  # our labels, then the file's own values as text (a sheet name is data)
        (t("up_format"), info.file_format),
        (t("up_encoding"), info.encoding or "—"),
        (t("up_sheet"), info.sheet or "—"),
        (t("up_header_row"), info.header_row or "—"),
        (t("up_kind"), kind_label(preview.mapping.kind)),
    ]
    st.markdown(" · ".join(f"{label}: {md_text(value)}" for label, value in details))
    with st.expander(t("up_sample").format(n=len(preview.sample)), expanded=True):
        show_frame(preview.sample.astype("string").fillna(""), hide_index=True)
        if preview.personal_columns:
            st.caption(t("up_pii_note").format(columns=md_text("、".join(preview.personal_columns))))

    current = overrides if overrides is not None else preview.mapping.source_names(info.columns)
    mapped = [f"{field_label(f, preview.mapping.kind, False)} ← {c}" for f, c in current.items() if c]
    with st.expander(t("up_mapping_title") + f"（{len(mapped)}）"):
        mapping_form(fid, mkey, info.columns, preview.mapping.kind, current, sample_values(preview))
    st.caption(md_text("；".join(mapped)))

    st.markdown(f"**{t('up_report')}**")
    validation_report(preview, name)
    show_impact(preview.impact)  # what the load will change, before anything is written
    blocked = False
    if preview.refusal is not None:
        st.error(md_text(refusal_message(preview.refusal, language)), icon=":material/block:")
        blocked = True
    if preview.duplicate_of is not None:
        st.info(t("up_duplicate").format(id=preview.duplicate_of))
        blocked = True
    if st.button(
        t("up_import"), key=f"up_import_{fid}", type="primary", disabled=blocked, icon=":material/database_upload:"
    ):
        import_file(fid, data, name, sheet, preview, overrides)


NEW_TOWN = "__new_town__"


def choose_town() -> str | None:
    """The town the dropped files go into; None (nothing can be imported) while a typed name is not a town's.

    With one town the choice stays out of the way (an expander to start a second one); with several it is a
    list of the towns, and another town can still be typed. A file's own town column wins row by row.

    A town user is offered their towns only, and no new one: a new town is the county's to start (an admin
    adds it to the user's towns, and it is offered then). ``ingest_file`` refuses any other all the same.
    """
    if user.towns is not None:
        if len(user.towns) == 1:
            st.caption(t("up_town_fixed").format(town=md_text(user.towns[0])))
            return user.towns[0]
        return st.selectbox(t("up_town"), list(user.towns), key="up_town_choice", help=t("up_town_help"))
    towns = filter_options()["towns"] or [settings.DEFAULT_TOWN]
    if len(towns) > 1:
        viewed = st.session_state.get("f_town") or []  # the town the sidebar shows, else the default town
        first = viewed[0] if len(viewed) == 1 and viewed[0] in towns else settings.DEFAULT_TOWN
        choice = st.selectbox(
            t("up_town"),
            [*towns, NEW_TOWN],
            index=towns.index(first) if first in towns else 0,
            format_func=lambda v: t("up_town_new") if v == NEW_TOWN else v,
            key="up_town_choice",
            help=t("up_town_help"),
        )
        if choice != NEW_TOWN:
            return choice
        typed = st.text_input(t("up_town_name"), key="up_town_typed", max_chars=40)
    else:
        with st.expander(t("up_town_other").format(town=towns[0])):
            typed = st.text_input(t("up_town_name"), key="up_town_typed", max_chars=40, help=t("up_town_help"))
        if not typed.strip():
            return towns[0]
    town = clean_town(typed)
    if town is None:
        st.error(t("up_town_bad"), icon=":material/block:")
    return town


st.title(t("upload_title"))
st.caption(t("upload_intro").format(limit=settings.MAX_UPLOAD_MB, rows=settings.MAX_UPLOAD_ROWS))
town = choose_town()
files = st.file_uploader(
    t("upload_files"), type=UPLOAD_TYPES, accept_multiple_files=True, key="upload_files", help=t("upload_files_help")
)
with st.expander(t("up_catalog_title")):
    st.markdown(t("up_catalog_help"))
    st.download_button(
        t("up_catalog_template"),
        data=catalog_template_xlsx(),
        file_name=Text("事项目录模板.xlsx", "service_catalogue_template.xlsx")(language),
        mime=XLSX_MIME,
        key="up_catalog_template",
        icon=":material/download:",
    )

for uploaded in (files or []) if town else []:  # no import until the town is a town
    with st.container(border=True):
        handle_file(uploaded)
if not files:
    st.info(t("upload_none"))

st.markdown(f"#### {t('up_recent')}")
with get_db().reading() as cur:
    rows = list_uploads(cur)
if rows:
    show_frame(uploads_table(rows, language, limit=5), hide_index=True, width="stretch")  # newest first
    st.page_link("views/uploads.py", label=t("up_all_history"), icon=":material/history:")
else:
    st.caption(t("uploads_empty"))
st.page_link("views/overview.py", label=t("up_to_overview"), icon=":material/dashboard:")
