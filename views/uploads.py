"""上传记录 Upload history: what was loaded, when, by whom, with its counts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ingest.load import list_uploads
from ui.i18n import lang, t
from ui.state import get_db

COLUMNS = {
    "upload_id": ("编号", "ID"),
    "file_name": ("文件", "File"),
    "kind": ("类型", "Kind"),
    "rows_loaded": ("导入行", "Loaded"),
    "rows_rejected": ("拒绝行", "Rejected"),
    "rows_skipped": ("跳过行", "Skipped"),
    "cases_loaded": ("办件", "Cases"),
    "events_loaded": ("环节", "Events"),
    "encoding": ("编码", "Encoding"),
    "loaded_by": ("导入人", "By"),
    "loaded_at": ("导入时间", "Loaded at"),
    "status": ("状态", "Status"),
}

st.title(t("uploads_title"))
rows = list_uploads(get_db().cursor())
if not rows:
    st.info(t("uploads_empty"))
    st.stop()
i = 0 if lang() == "zh" else 1
frame = pd.DataFrame(rows)[list(COLUMNS)].rename(columns={k: v[i] for k, v in COLUMNS.items()})
st.dataframe(frame, hide_index=True, width="stretch")
