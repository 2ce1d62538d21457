"""The upload history as a table, shared by the history page and the upload page."""

from __future__ import annotations

import datetime as dt

import pandas as pd

import clock
from text import Text

#: list_uploads() column -> its heading, in display order.
COLUMNS: dict[str, Text] = {
    "upload_id": Text("编号", "ID"),
    "file_name": Text("文件", "File"),
    "town": Text("乡镇", "Town"),
    "status": Text("状态", "Status"),
    "kind": Text("类型", "Kind"),
    "rows_loaded": Text("导入行", "Loaded"),
    "rows_rejected": Text("拒绝行", "Rejected"),
    "rows_skipped": Text("跳过行", "Skipped"),
    "cases_loaded": Text("办件", "Cases"),
    "events_loaded": Text("环节", "Events"),
    "encoding": Text("编码", "Encoding"),
    "loaded_by": Text("导入人", "By"),
    "loaded_at": Text("导入时间", "Loaded at"),
}
#: Counts written with thousands separators.
COUNT_COLUMNS = ("rows_loaded", "rows_rejected", "rows_skipped", "cases_loaded", "events_loaded")

KIND_LABELS: dict[str, Text] = {
    "cases": Text("办件", "cases"),
    "events": Text("环节事件", "events"),
    "catalog": Text("事项目录", "catalogue"),
}
STATUS_LABELS: dict[str, Text] = {"loaded": Text("已导入", "imported"), "removed": Text("已删除", "removed")}


def status_text(status: str, removed_at: dt.datetime | None, lang: str = "zh", today: dt.date | None = None) -> str:
    """已导入, or 已删除 with when ("已删除 11-03 14:20"): a removed upload's figures left the dashboard then.

    The year is left out while it is the current one (``today``, default the town's date), as a person writes it.
    """
    words = STATUS_LABELS.get(status, Text.same(status))(lang)
    if status != "removed" or removed_at is None or pd.isna(removed_at):
        return words
    when = pd.Timestamp(removed_at)
    shown = f"{when:%m-%d %H:%M}" if when.year == (today or clock.today()).year else f"{when:%Y-%m-%d %H:%M}"
    return f"{words} {shown}"


def uploads_frame(rows: list[dict], lang: str = "zh", limit: int | None = None) -> pd.DataFrame:
    """The rows of ``list_uploads`` newest first (``limit``: only the newest so many), in the chosen language.

    ``list_uploads`` keeps the order of the log (oldest first, as the CLI prints it); a person looking at a
    history expects the latest upload on top, so the order is turned here, for every page that shows it.
    The town column is there only when the uploads went into more than one town (a catalogue: the county's).
    """
    newest = sorted(rows, key=lambda r: r["upload_id"], reverse=True)[:limit]
    several = len({r.get("town") for r in rows if r.get("kind") != "catalog"}) > 1
    columns = [c for c in COLUMNS if c != "town" or several]
    frame = pd.DataFrame(newest, columns=columns) if newest else pd.DataFrame(columns=columns)
    if several:
        frame["town"] = [r.get("town") if r.get("kind") != "catalog" else "—" for r in newest]
    frame["kind"] = [KIND_LABELS.get(k, Text.same(k))(lang) for k in frame["kind"]]
    frame["status"] = [status_text(r["status"], r.get("removed_at"), lang) for r in newest]
    for column in ("encoding", "loaded_by"):
        frame[column] = frame[column].astype("string").fillna("—")
    return frame[columns].rename(columns={k: v(lang) for k, v in COLUMNS.items()})


def uploads_table(rows: list[dict], lang: str = "zh", limit: int | None = None) -> pd.io.formats.style.Styler:
    """:func:`uploads_frame` with counts as "41,594" (the Styler keeps them numbers for sorting)."""
    frame = uploads_frame(rows, lang, limit)
    counts = {COLUMNS[c](lang): "{:,.0f}" for c in COUNT_COLUMNS}
    return frame.style.format(counts, na_rep="—")
