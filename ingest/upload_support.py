"""What the upload page needs around :mod:`ingest.load`: bytes to a private temp file, sheets, columns, rejects.

Uploaded files arrive as bytes with a name chosen by the user's computer. That name is only ever
shown as text: the bytes go to a fresh temp directory under a fixed name (keeping only a safe
suffix, which the readers use to tell the format), exactly as :func:`ingest.load.ingest_bytes` does.

The rejected rows download as Excel with every cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) prefixed with a single quote.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

import scratch
import settings
from cells import neutralise
from ingest import isolation
from ingest.errors import IngestRefused
from ingest.limits import Limits
from ingest.mapping import Mapping, auto_map, detect_kind
from ingest.preview import Preview, preview_file
from ingest.readers import SourceInfo, csv_source, file_format
from ingest.reasons import REASONS
from store.db import Database

UPLOAD_TYPES = ["csv", "txt", "xlsx", "xls", "parquet", "jsonl", "ndjson", "xes", "gz"]


def safe_suffix(name: str) -> str:
    """The file's suffix when it is harmless (``.csv``, ``.xes.gz``), else nothing."""
    lower = name.lower()
    suffix = ".xes.gz" if lower.endswith(".xes.gz") else Path(lower).suffix
    return suffix if suffix.replace(".", "").isalnum() and len(suffix) <= 10 else ""


@contextmanager
def temp_copy(data: bytes, name: str) -> Iterator[Path]:
    """The bytes in a private temp file (``upload<suffix>``), removed afterwards."""
    tmp_dir = Path(scratch.mkdtemp(prefix="egov-preview-"))
    try:
        path = tmp_dir / f"upload{safe_suffix(name)}"
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def preview_bytes(db: Database, data: bytes, name: str, **kwargs) -> Preview:
    """:func:`ingest.load.preview_file` for uploaded bytes; nothing is written to the database."""
    with temp_copy(data, name) as path:
        return preview_file(db, path, name=name, **kwargs)


def sheet_names(data: bytes, name: str) -> list[str]:
    """The workbook's sheets in order (empty for files that are not Excel, or unreadable ones)."""
    try:
        with temp_copy(data, name) as path:
            return isolation.sheet_names(path, name)
    except IngestRefused:  # an unreadable workbook: preview_file says why, in words
        return []


def file_columns(db: Database, data: bytes, name: str, sheet: str | None = None) -> tuple[SourceInfo, Mapping]:
    """The file's columns and the automatic mapping, for the mapping form when the preview cannot map.

    A CSV's columns come from its head alone (nothing else of it is read); other formats are parsed in
    the child, within the upload page's row bound. Raises :class:`IngestRefused` when the file cannot be read.
    """
    with temp_copy(data, name) as path:
        if file_format(path, name) == "csv":
            source = csv_source(path, Limits.current(settings.MAX_UPLOAD_ROWS))
            source.close()
            info = source.info
        else:
            cur = db.cursor()
            try:
                info = isolation.stage(cur, path, name, sheet=sheet, max_rows=settings.MAX_UPLOAD_ROWS)
            finally:
                cur.execute("DROP TABLE IF EXISTS _stage")
                cur.close()
    return info, auto_map(info.columns, detect_kind(info.columns))


def rejects_table(rejects: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Rejected rows as a flat table: row, reason, column, value, then the row's mapped fields."""
    zh = lang == "zh"
    heads = ("行号", "原因", "列", "值") if zh else ("Row", "Reason", "Column", "Value")
    records = []
    for rec in rejects.to_dict("records"):
        reason = rec.get("reason")
        label = REASONS.get(reason, (reason, reason))[0 if zh else 1]
        row = {heads[0]: rec.get("row"), heads[1]: label, heads[2]: rec.get("column"), heads[3]: rec.get("value")}
        fields = rec.get("fields")
        if isinstance(fields, str):
            try:
                fields = json.loads(fields)
            except ValueError:
                fields = None
        if isinstance(fields, dict):
            for key, value in fields.items():
                row.setdefault(str(key), value)
        records.append(row)
    return pd.DataFrame(records, columns=None if records else list(heads))


def rejects_xlsx(rejects: pd.DataFrame, lang: str = "zh", sheet: str | None = None) -> bytes:
    """The rejected rows as an .xlsx file, formulas neutralised, strings never turned into formulas."""
    table = rejects_table(rejects, lang)
    table = table.map(neutralise) if not table.empty else table
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer,
        engine="xlsxwriter",
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    ) as writer:
        name = sheet or ("拒收行" if lang == "zh" else "Rejected rows")
        table.to_excel(writer, sheet_name=name, index=False)
        worksheet = writer.sheets[name]
        worksheet.freeze_panes(1, 0)
        for i, column in enumerate(table.columns):
            width = max([len(str(column))] + [len(str(v)) for v in table[column].head(200).tolist()])
            worksheet.set_column(i, i, min(max(8, width * 1.6), 60))
    return buffer.getvalue()


def stored_rejects(cur: duckdb.DuckDBPyConnection, upload_id: int) -> pd.DataFrame:
    """The rejected rows kept for a past upload, in the shape :func:`rejects_table` takes."""
    return cur.execute(
        """SELECT row_number AS row, reason, column_name AS "column", value, raw AS fields
           FROM rejected_rows WHERE upload_id = ? ORDER BY row_number""",
        [int(upload_id)],
    ).df()


def mapping_overrides(preview_mapping: Mapping, columns: list[str]) -> dict[str, str | None]:
    """A mapping as the form holds it: canonical field -> column name."""
    return {f: columns[i] for f, i in preview_mapping.fields.items()}


def refusal_message(exc: IngestRefused, lang: str = "zh") -> str:
    """One line for the page: the message, plus the sheet/column/row it concerns when known."""
    where = []
    if exc.sheet:
        where.append(("工作表 " if lang == "zh" else "sheet ") + exc.sheet)
    if exc.row:
        where.append(("第 %d 行" if lang == "zh" else "row %d") % exc.row)
    suffix = f"（{'，'.join(where)}）" if where and lang == "zh" else (f" ({', '.join(where)})" if where else "")
    return exc.message(lang) + suffix


#: English labels of the canonical fields (the Chinese ones are ``ingest.mapping.FIELD_LABELS_ZH``).
FIELD_LABELS_EN: dict[str, str] = {
    "case_id": "Case ID",
    "service_item": "Service item",
    "item_code": "Item code",
    "department": "Department",
    "channel": "Channel",
    "applicant_type": "Applicant type",
    "submitted_at": "Submitted at",
    "accepted_at": "Accepted at",
    "completed_at": "Completed at",
    "status": "Status",
    "promised": "Promised time limit",
    "statutory": "Statutory time limit",
    "due_at": "Due at",
    "visits": "Visits",
    "resubmissions": "Resubmissions (补正)",
    "satisfaction": "Satisfaction",
    "delivery": "Delivery of the result",
    "step": "Step",
    "step_department": "Step department",
    "handler": "Handler",
    "event_time": "Event time",
    "started_at": "Started at",
    "lifecycle": "Lifecycle",
    "item_name": "Item name",
    "online_capable": "Online-capable",
    "fully_online_capable": "Fully online-capable",
    "max_visits": "Maximum visits",
}

#: The service catalogue's columns, as the template offers them, with one example row.
CATALOG_TEMPLATE: dict[str, object] = {
    "事项编码": "411323CL001",
    "事项名称": "最低生活保障申请",
    "实施部门": "民政办",
    "是否网上可办": "是",
    "是否全程网办": "否",
    "承诺时限（工作日）": 15,
    "法定时限（工作日）": 30,
    "最多跑动次数": 1,
}


def catalog_template_xlsx() -> bytes:
    """An empty 事项目录 workbook with the headers the automatic mapping knows, and one example row."""
    buffer = io.BytesIO()
    frame = pd.DataFrame([CATALOG_TEMPLATE])
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name="事项目录", index=False)
        writer.sheets["事项目录"].set_column(0, len(frame.columns) - 1, 18)
    return buffer.getvalue()
