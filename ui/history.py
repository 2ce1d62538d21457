"""The upload history as a table, shared by the history page and the upload page."""

from __future__ import annotations

import pandas as pd

#: list_uploads() column -> (Chinese, English) heading, in display order.
COLUMNS: dict[str, tuple[str, str]] = {
    "upload_id": ("编号", "ID"),
    "file_name": ("文件", "File"),
    "status": ("状态", "Status"),
    "kind": ("类型", "Kind"),
    "rows_loaded": ("导入行", "Loaded"),
    "rows_rejected": ("拒绝行", "Rejected"),
    "rows_skipped": ("跳过行", "Skipped"),
    "cases_loaded": ("办件", "Cases"),
    "events_loaded": ("环节", "Events"),
    "encoding": ("编码", "Encoding"),
    "loaded_by": ("导入人", "By"),
    "loaded_at": ("导入时间", "Loaded at"),
}
#: Counts written with thousands separators.
COUNT_COLUMNS = ("rows_loaded", "rows_rejected", "rows_skipped", "cases_loaded", "events_loaded")

KIND_LABELS: dict[str, tuple[str, str]] = {
    "cases": ("办件", "cases"),
    "events": ("环节事件", "events"),
    "catalog": ("事项目录", "catalogue"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {"loaded": ("已导入", "loaded"), "removed": ("已删除", "removed")}


def uploads_frame(rows: list[dict], lang: str = "zh") -> pd.DataFrame:
    """The rows of ``list_uploads`` with headings and kind/status words in the chosen language."""
    i = 0 if lang == "zh" else 1
    frame = pd.DataFrame(rows, columns=list(COLUMNS)) if rows else pd.DataFrame(columns=list(COLUMNS))
    frame["kind"] = [KIND_LABELS.get(k, (k, k))[i] for k in frame["kind"]]
    frame["status"] = [STATUS_LABELS.get(s, (s, s))[i] for s in frame["status"]]
    for column in ("encoding", "loaded_by"):
        frame[column] = frame[column].astype("string").fillna("—")
    return frame[list(COLUMNS)].rename(columns={k: v[i] for k, v in COLUMNS.items()})


def uploads_table(rows: list[dict], lang: str = "zh") -> pd.io.formats.style.Styler:
    """:func:`uploads_frame` with counts as "41,594" (the Styler keeps them numbers for sorting)."""
    i = 0 if lang == "zh" else 1
    frame = uploads_frame(rows, lang)
    counts = {COLUMNS[c][i]: "{:,.0f}" for c in COUNT_COLUMNS}
    return frame.style.format(counts, na_rep="—")  # type: ignore[arg-type]
