"""Uploaded files as bytes: a private temp copy, then its preview, sheets or columns for the upload page.

Uploaded files arrive as bytes with a name chosen by the user's computer. That name is only ever
shown as text: the bytes go to a fresh temp directory under a fixed name (keeping only a safe
suffix, which the readers use to tell the format); :func:`ingest.load.ingest_bytes` loads from the same copy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import scratch
import settings
from ingest import isolation
from ingest.errors import IngestRefused
from ingest.limits import Limits
from ingest.mapping import Mapping, auto_map, detect_kind
from ingest.preview import Preview, preview_file
from ingest.readers import csv_source, file_format
from ingest.staging import SourceInfo
from store.db import Database

UPLOAD_TYPES = ["csv", "txt", "xlsx", "xls", "parquet", "jsonl", "ndjson", "xes", "gz"]


def safe_suffix(name: str) -> str:
    """The file's suffix when it is harmless (``.csv``, ``.xes.gz``), else nothing."""
    lower = name.lower()
    suffix = ".xes.gz" if lower.endswith(".xes.gz") else Path(lower).suffix
    return suffix if suffix.replace(".", "").isalnum() and len(suffix) <= 10 else ""


@contextmanager
def temp_copy(data: bytes, name: str) -> Iterator[Path]:
    """The bytes in a private temp file (``upload<suffix>``) in this process's scratch folder, removed afterwards:
    for a preview and for a load alike."""
    tmp_dir = Path(scratch.mkdtemp(prefix="egov-upload-"))
    try:
        path = tmp_dir / f"upload{safe_suffix(name)}"
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def preview_bytes(db: Database, data: bytes, name: str, **kwargs) -> Preview:
    """:func:`ingest.preview.preview_file` for uploaded bytes; nothing is written to the database."""
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
