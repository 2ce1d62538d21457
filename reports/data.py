"""The month's PII-free case list as Parquet and as CSV (UTF-8 with BOM, for Excel), and the zip of a snapshot.

Two audiences, two files:

- **Parquet is the machine format**: the canonical columns (``case_id``, ``channel``, ``status`` ...)
  with the values exactly as stored — typed, codes such as ``mobile`` or ``completed`` as they are,
  missing values as nulls — for analysis tools and for joining with other data. (So is the
  ``figures-*.json`` file: the frozen figures as published.)
- **The CSV is for people** who double-click it into Excel: Chinese column headings, every code by
  its label (channel ``mobile`` -> 移动端, status ``completed`` -> 已办结, time unit ``working`` ->
  工作日; an unknown channel or status reads 未注明), an empty cell for any other missing value
  (never ``None``, ``NaN`` or ``NaT``), times as ``YYYY-MM-DD HH:MM:SS`` in the town's local time as
  stored, promised limits as whole numbers, and a single case's processing time with two decimals
  (0.01 day is about a quarter of an hour; the Parquet keeps every digit). It is UTF-8 with a
  byte-order mark so Chinese shows right, and text starting with ``=``, ``+``, ``-`` or ``@`` gets a
  leading apostrophe, as in the workbook, so opening the file can never run a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from reports import fmt
from reports.xlsx import safe_text

#: Column headings of the CSV (the Parquet keeps the canonical English column names).
CSV_HEADINGS = {
    "case_id": "办件编号", "service_item": "事项名称", "item_code": "事项编码", "department": "实施部门",
    "channel": "申请渠道", "submitted_at": "申请时间", "accepted_at": "受理时间", "completed_at": "办结时间",
    "due_at": "办结时限", "status": "办件状态", "promised_days": "承诺时限", "promised_unit": "时限单位",
    "processing_days_working": "办理时长（工作日）", "processing_days_natural": "办理时长（自然日）",
    "visits": "到现场次数", "resubmissions": "补正次数",
}  # fmt: skip


def cases_parquet(cases: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(cases, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


#: Columns whose codes the CSV shows by their Chinese labels (a missing one reads as the label of None).
_LABELLED = {"channel": fmt.channel, "status": fmt.case_status, "promised_unit": fmt.promised_unit}
#: Columns written with a fixed number of decimals (a case's processing time).
_DECIMALS = {"processing_days_working": 2, "processing_days_natural": 2}


def _csv_value(value: object, column: str | None = None) -> str:
    if column in _LABELLED:
        return safe_text(_LABELLED[column](value))
    if fmt.missing(value):
        return ""
    if column in _DECIMALS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.decimal(value, _DECIMALS[column]).replace(",", "")
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return "" if pd.isna(value) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return safe_text(value)


def cases_csv(cases: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with BOM and CRLF line ends, headings in Chinese, codes labelled, formula-like text neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = list(cases.columns)
    writer.writerow([CSV_HEADINGS.get(c, c) for c in columns])
    for row in cases.itertuples(index=False):
        writer.writerow([_csv_value(v, c) for v, c in zip(row, columns, strict=True)])
    return buffer.getvalue().encode("utf-8-sig")


def zip_files(files: list[tuple[str, bytes]], when: dt.datetime) -> bytes:
    """One zip of ``(name, bytes)`` pairs, in the given order, every entry dated ``when`` (deterministic)."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=6)
    return buffer.getvalue()
