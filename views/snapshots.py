"""月度快照 Monthly snapshots: each month's status and versions, publishing (analysts), downloads (everyone),
and a month-over-month comparison read only from frozen, published figures.

Files are served from the bytes stored at publication (``reports.snapshots.file_bytes``), fetched
only when a download button is clicked.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import pandas as pd
import streamlit as st

import clock
import scope
import settings
from metrics.catalog import KPI_BY_ID
from reports import content as frozen
from reports import runs, snapshots
from reports.pdf import PdfUnavailable
from store.towns import towns as town_names
from text import FULL_STOP, NOTE, SENTENCE_GAP, Text
from ui import auth
from ui import fmt as ui_fmt
from ui.filters import is_county
from ui.fmt import md_text
from ui.i18n import lang, t
from ui.state import get_db
from ui.widgets import show_frame

log = logging.getLogger(__name__)
FILE_ICONS = {
    "pdf": ":material/picture_as_pdf:", "html": ":material/language:", "xlsx": ":material/table_view:",
    "parquet": ":material/dataset:", "csv": ":material/csv:", "json": ":material/data_object:",
    "zip": ":material/folder_zip:",
}  # fmt: skip
_DONE = "snap_done"  # session_state: the message to show after a publish and its rerun
_SHOW_MONTH = (
    "snap_show_month"  # session_state: the month the downloads open on after a publish (set before the widget)
)
_LAST_PUBLISH = "snap_last_publish"  # session_state: (month, data version, note, town, snapshot id) just published
_PUBLISHING = "snap_publishing"  # session_state: set by the button's click, so the run draws it disabled
DOUBLE_CLICK_SECONDS = 30
#: A change in words: rates rise and fall by points, counts and days grow and shrink (in English all go up or down).
_RISE, _FALL, _MORE, _LESS = Text("上升", "up"), Text("下降", "down"), Text("增加", "up"), Text("减少", "down")
_POINTS, _NO_UNIT, _FLAT = Text(" 个百分点", " pp"), Text("", ""), Text("持平", "no change")
#: What the scheduled run did: 自动发布：2026-11-01 08:00（北京时间）· …
_RUN_LINE = Text("{title}：{at}（{zone}）· {text}", "{title}: {at} ({zone}) · {text}")


@st.cache_data(show_spinner=False, max_entries=16)
def months_with_data(db_path: str, data_version: int, town: str | None = None) -> list[dict]:
    with get_db().reading() as cur:
        return frozen.months_with_data(cur, None if town == snapshots.COUNTY else town)


def scope_label(snapshot_scope: str) -> str:
    return t("snap_scope_county") if snapshot_scope == snapshots.COUNTY else snapshot_scope


def choose_scope(db) -> str | None:
    """In a county database: the town (or 全县) whose snapshots the page shows and publishes; None in one town's."""
    if not is_county():
        return None
    with db.reading() as cur:
        names = town_names(cur)
    county = [snapshots.COUNTY] if not auth.is_town_user() else []  # the county's report: a county user's
    choices = [*county, *names]
    return st.selectbox(t("snap_scope_pick"), choices, format_func=scope_label, key="snap_scope")


def month_label(month: str, language: str) -> str:
    year, mon = month.split("-")
    return Text(f"{int(year)}年{int(mon)}月", month)(language)


def value_text(kpi_id: str, result: dict | None, language: str) -> str:
    kpi = KPI_BY_ID[kpi_id]
    value = (result or {}).get("value")
    if value is None:
        return t("unknown")
    if kpi.unit == "rate":
        return ui_fmt.percent(value)
    if kpi.unit == "days":
        return ui_fmt.days(value, language)
    return ui_fmt.count(value, language)


def change_text(kpi_id: str, now: object, before: object, language: str) -> str:
    """The change in words ("上升 1.2 个百分点", "减少 12", "持平"): a table cell never starts with a sign, which a
    spreadsheet opening the table's CSV would read as a formula."""
    if now is None or before is None:
        return "—"
    kpi = KPI_BY_ID[kpi_id]
    d = float(now) - float(before)
    if kpi.unit == "rate":
        size, unit, words = round(abs(d) * 100, 1), _POINTS, (_RISE, _FALL)
        shown = f"{size:.1f}"
    elif kpi.unit == "days":
        size, unit, words = round(abs(d), 1), _NO_UNIT, (_MORE, _LESS)
        shown = f"{size:.1f}"
    else:
        size, unit, words = round(abs(d)), _NO_UNIT, (_MORE, _LESS)
        shown = f"{int(size):,}"
    if size == 0:
        return _FLAT(language)
    word = words[0] if d > 0 else words[1]
    return f"{word(language)} {shown}{unit(language)}"


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value or "—")


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{max(1, round(n / 1024))} KB"


def _status_table(months: list[dict], latest: dict[str, dict], counts: dict[str, int], language: str) -> pd.DataFrame:
    rows = []
    all_months = sorted({m["month"] for m in months} | set(latest), reverse=True)
    cases = {m["month"]: m["cases"] for m in months}
    for month in all_months:
        snap = latest.get(month)
        rows.append(
            {
                t("snap_col_month"): NOTE(language).format(month_label(month, language), t("month_to_date"))
                if month == clock.running_month()
                else month_label(month, language),
                t("snap_col_cases"): f"{cases.get(month, 0):,}",
                t("snap_col_status"): t("snap_status_published").format(version=snap["version"])
                if snap
                else t("snap_status_none"),
                t("snap_col_versions"): counts.get(month, 0),
                t("snap_col_published"): _when(snap["published_at"]) if snap else "",
                t("snap_col_by"): (snap["published_by"] or "—") if snap else "",
            }
        )
    return pd.DataFrame(rows)


def _publish_form(
    db, months: list[dict], latest: dict[str, dict], language: str, snapshot_scope: str | None = None
) -> None:
    st.subheader(t("snap_publish_title"))
    choices = [m["month"] for m in months]
    current = clock.running_month()
    finished = [m for m in choices if m < current]
    default = choices.index(finished[0]) if finished else 0
    month = st.selectbox(
        t("month"), choices, index=default, format_func=lambda m: month_label(m, language), key="snap_publish_month"
    )
    existing = latest.get(month)
    if month >= current:
        st.warning(t("snap_month_open").format(month=month_label(month, language)))
    if existing:
        st.info(
            t("snap_reissue_info").format(
                month=month_label(month, language), version=existing["version"], next=existing["version"] + 1
            )
        )
    note = st.text_input(t("snap_note"), key="snap_note", placeholder=t("snap_note_placeholder"), max_chars=500)
    if snapshot_scope is None:  # one town: the name on the cover, as always
        town = st.text_input(t("snap_town"), value=frozen.town_name(), key="snap_town", max_chars=40)
    elif snapshot_scope == snapshots.COUNTY:
        town = ""
        st.caption(t("snap_county_note"))
    else:
        town = st.text_input(t("snap_town"), value=snapshot_scope, key=f"snap_town_{snapshot_scope}", max_chars=40)
    label = (
        t("snap_reissue_button").format(version=existing["version"] + 1)
        if existing
        else t("snap_publish_button").format(month=month_label(month, language))
    )
    publishing = st.session_state.pop(_PUBLISHING, False)  # taken at once: a run cut short never publishes later
    st.button(
        label, type="primary", key="snap_publish", icon=":material/publish:", disabled=publishing,
        on_click=_clicked,
    )  # fmt: skip
    if not publishing:
        return
    user = auth.require_role("analyst")  # checked again at the moment of acting
    request = (month, db.data_version(), (note or "").strip(), (town or "").strip(), snapshot_scope)
    last = st.session_state.get(_LAST_PUBLISH)
    if last and last[0] == request and time.monotonic() - last[1] < DOUBLE_CLICK_SECONDS:
        # The same click again (a double click, or a click while the first was running): one version, not two.
        st.session_state[_DONE] = t("snap_published").format(month=month_label(month, language), version=last[2])
        st.session_state[_SHOW_MONTH] = month
        st.rerun()
    with st.spinner(t("snap_publishing")):
        try:
            if snapshot_scope is None:
                result = snapshots.publish(db, month, by=user.name, note=note, cover=town)
            else:
                result = snapshots.publish(db, month, by=user.name, note=note, town=snapshot_scope, cover=town or None)
            # Remembered before the next element is drawn (where a second click would cut this run short).
            after = (
                month,
                db.data_version(),
                request[2],
                request[3],
                snapshot_scope,
            )  # publishing wrote: the version it left
            st.session_state[_LAST_PUBLISH] = (after, time.monotonic(), result.version)
            st.session_state[_DONE] = t("snap_published").format(
                month=month_label(month, language), version=result.version
            )
            st.session_state[_SHOW_MONTH] = month  # the downloads' month picker exists in this run: set it next run
        except frozen.NoDataForMonth as exc:
            st.error(md_text(exc.message(language)))
            return
        except (snapshots.SnapshotError, PdfUnavailable) as exc:
            st.error(md_text(exc.message(language)))
            return
        except Exception:  # no traceback for the user; the log has it
            log.exception("publishing the snapshot of %s failed", month)
            st.error(t("snap_unexpected"))
            return
    st.rerun()


def _clicked() -> None:
    st.session_state[_PUBLISHING] = True


def _zone(language: str) -> str:
    zone = settings.timezone()
    return t("zone_beijing") if zone in ("Asia/Shanghai", "PRC", "Asia/Chongqing") else zone


def _last_month_status(
    db, latest: dict[str, dict], with_data: set[str], snapshot_scope: str | None, language: str
) -> None:
    """What a leader and the analyst ask first: is last month out, by whom and when; and what the cron job did."""
    month = clock.last_complete_month()
    shown = month_label(month, language)
    snap = latest.get(month)
    if snap:
        st.success(
            t("snap_last_published").format(
                month=shown, version=snap["version"], by=md_text(snap["published_by"] or "—"),
                at=_when(snap["published_at"]), zone=_zone(language),
            ),
            icon=":material/task_alt:",
        )  # fmt: skip
    elif month not in with_data:  # nothing to publish yet: the month's exports are not uploaded (the 1st, often)
        hint = t("snap_last_no_data_analyst" if auth.has_role("analyst") else "snap_last_no_data_viewer")
        gap = SENTENCE_GAP(language)
        st.info(f"{t('snap_last_no_data').format(month=shown)}{gap}{hint}", icon=":material/schedule:")
    else:
        hint = t("snap_last_missing_analyst" if auth.has_role("analyst") else "snap_last_missing_viewer")
        gap = SENTENCE_GAP(language)
        st.warning(f"{t('snap_last_missing').format(month=shown)}{gap}{hint}", icon=":material/schedule:")
    run = runs.last_run(db.path, snapshot_scope)
    if run is None:
        return
    try:
        run_month = month_label(run["month"], language) if frozen.check_month(run["month"]) else "—"
    except ValueError:  # the file beside the database is not ours to trust
        run_month = "—"
    if run["outcome"] == "failed":
        reason = run.get(Text.fields("reason")(language)) or "—"
        text = t("snap_run_failed").format(month=run_month, reason=md_text(reason.rstrip("。.")))
        text += FULL_STOP(language)
        text += t("snap_run_retry" if run.get("retry", True) else "snap_run_no_retry")
    else:
        text = t(f"snap_run_{run['outcome']}").format(month=run_month, version=run.get("version") or "—")
    at = _when(_parse_time(run.get("at")))
    line = _RUN_LINE(language).format(title=t("snap_run_title"), at=at, zone=_zone(language), text=text)
    (st.error if run["outcome"] == "failed" else st.caption)(line)


def _parse_time(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _changes_table(changes: dict, language: str) -> pd.DataFrame:
    rows = []
    for c in changes.get("kpis", []):
        if c["id"] not in KPI_BY_ID:
            continue
        rows.append(
            {
                t("snap_kpi"): KPI_BY_ID[c["id"]].name(language),
                t("snap_before"): value_text(c["id"], {"value": c.get("before")}, language),
                t("snap_after"): value_text(c["id"], {"value": c.get("after")}, language),
                t("snap_change"): change_text(c["id"], c.get("after"), c.get("before"), language),
            }
        )
    return pd.DataFrame(rows)


def _file_bytes(db, snapshot_id: int, name: str, towns: tuple[str, ...] | None = None) -> bytes:
    """A frozen file's bytes, fetched when the download is asked for, on a cursor closed at once (in shared mode a
    cursor is a connection: one left open holds the file against the CLI jobs); within the towns of the run that
    offered it (it may run after that run)."""
    with scope.scoped(towns), db.reading() as cur:
        return snapshots.file_bytes(cur, snapshot_id, name)


def _downloads(db, snaps: list[dict], language: str) -> None:
    towns = scope.current()  # the bytes may be made after this run: within its towns
    st.subheader(t("snap_downloads"))
    months = sorted({s["month"] for s in snaps}, reverse=True)
    if st.session_state.get(_SHOW_MONTH) in months:  # just published: open on it (before the widget exists)
        st.session_state["snap_month"] = st.session_state.pop(_SHOW_MONTH)
    month = st.selectbox(t("snap_pick_month"), months, format_func=lambda m: month_label(m, language), key="snap_month")
    versions = [s for s in snaps if s["month"] == month]
    for i, snap in enumerate(versions):
        with st.container(border=True):
            title = t("snap_version_title").format(month=month_label(month, language), version=snap["version"])
            st.markdown(f"**{title}**{t('snap_latest') if i == 0 else ''}")
            st.caption(
                t("snap_meta").format(
                    at=_when(snap["published_at"]), by=md_text(snap["published_by"] or "—"), dv=snap["data_version"]
                )  # fmt: skip
            )
            if snap["note"]:
                st.caption(f"{t('snap_note_label')}: {md_text(snap['note'])}")
            if snap["version"] > 1 and snap["changes"] is not None:
                with st.expander(t("snap_changes").format(version=snap["version"] - 1), expanded=i == 0):
                    frame = _changes_table(snap["changes"], language)
                    if frame.empty:
                        st.write(t("snap_no_changes"))
                    else:
                        show_frame(frame, hide_index=True, width="stretch")
            cols = st.columns(4)
            for n, f in enumerate(snap["files"]):
                sid, name = snap["snapshot_id"], f["file_name"]
                cols[n % 4].download_button(
                    t("snap_file_" + f["kind"]),
                    data=lambda sid=sid, name=name, towns=towns: _file_bytes(db, sid, name, towns),
                    file_name=name,
                    mime=f["media_type"].split(";")[0],
                    key=f"dl_{sid}_{f['kind']}",
                    on_click="ignore",
                    icon=FILE_ICONS.get(f["kind"]),
                    help=f"{md_text(name)} · {_size(f['size'])} · SHA-256 {f['sha256'][:16]}…",
                    width="stretch",
                )


def _comparison(db, snaps: list[dict], language: str) -> None:
    st.subheader(t("snap_compare_title"))
    st.caption(t("snap_compare_help"))
    latest: dict[str, dict] = {}
    for s in snaps:
        latest.setdefault(s["month"], s)
    months = sorted(latest, reverse=True)
    if len(months) < 2:
        st.info(t("snap_compare_need_two"))
        return

    def label(m: str) -> str:
        return f"{month_label(m, language)} · v{latest[m]['version']}"

    c1, c2 = st.columns(2)
    this = c1.selectbox(t("snap_compare_this"), months, format_func=label, key="snap_cmp_this")
    others = [m for m in months if m != this]
    older = [m for m in others if m < this]
    other = c2.selectbox(
        t("snap_compare_other"), others, index=others.index(older[0]) if older else 0, format_func=label,
        key="snap_cmp_other",
    )  # fmt: skip
    with db.reading() as cur:
        a = snapshots.get_snapshot(cur, latest[this]["snapshot_id"])
        b = snapshots.get_snapshot(cur, latest[other]["snapshot_id"])
    if a is None or b is None:
        return
    ka = a["content"].get("kpis") or a["content"].get("county_kpis") or {}
    kb = b["content"].get("kpis") or b["content"].get("county_kpis") or {}
    targets = a["content"].get("targets") or {}
    rows = []
    for kpi_id, result in ka.items():
        if kpi_id not in KPI_BY_ID:
            continue
        kpi = KPI_BY_ID[kpi_id]
        target = targets.get(kpi_id)
        rows.append(
            {
                t("snap_kpi"): kpi.name(language),
                label(this): value_text(kpi_id, result, language),
                label(other): value_text(kpi_id, kb.get(kpi_id), language),
                t("snap_change"): change_text(
                    kpi_id, result.get("value"), (kb.get(kpi_id) or {}).get("value"), language
                ),
                t("snap_target"): "—"
                if target is None
                else ("≥" if kpi.higher_is_better else "≤")
                + (ui_fmt.percent(target, 0) if kpi.unit == "rate" else f"{target:g}"),
            }
        )
    show_frame(pd.DataFrame(rows), hide_index=True, width="stretch", key="snap_compare_table")


language = lang()
db = get_db()
st.title(t("snap_title"))
st.caption(t("snap_intro"))
done = st.session_state.pop(_DONE, None)
if done:
    st.success(done, icon=":material/check_circle:")

snapshot_scope = choose_scope(db)
st.caption(t("snap_scope" if snapshot_scope is None else "snap_scope_towns"))
months = months_with_data(str(db.path), db.data_version(), snapshot_scope)
with db.reading() as cur:
    snaps = snapshots.list_snapshots(cur, town=snapshot_scope)
    latest = snapshots.latest_versions(cur, snapshot_scope)
if not months and not snaps:
    st.info(t("snap_no_data"))
    st.stop()

_last_month_status(db, latest, {m["month"] for m in months}, snapshot_scope, language)
counts: dict[str, int] = {}
for s in snaps:
    counts[s["month"]] = counts.get(s["month"], 0) + 1

if snaps:
    _downloads(db, snaps, language)  # what a leader comes for: last month's report
else:
    st.info(t("snap_none_yet"))

if auth.has_role("analyst"):
    if months:
        with st.container(border=True):
            _publish_form(db, months, latest, language, snapshot_scope)
else:
    st.caption(t("snap_viewer_note"))

st.subheader(t("snap_months"))
show_frame(
    _status_table(months, latest, counts, language), hide_index=True, width="stretch", height=320, key="snap_status"
)

if snaps:
    _comparison(db, snaps, language)
