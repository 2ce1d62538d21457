"""What every reader produces, and the pieces they share to produce it.

Every reader fills the same thing: a TEMP table ``_stage`` on the given cursor whose columns are
``c0 … cN`` (all VARCHAR) plus ``_row`` (1-based row number in the file), and a :class:`SourceInfo`
with the original column names, the detected encoding, sheet and header row, and the rows it could
not parse. Staging columns get positional names so that nothing a file says ever becomes part of a
SQL statement. Readers that find the header among the first rows share :func:`find_header_row`;
those that parse in Python hand their rows over in batches through :func:`frame_to_stage`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from ingest.errors import IngestRefused
from ingest.mapping import header_score

#: How many leading rows may hold titles before the header.
HEADER_SEARCH_ROWS = 30


@dataclass
class SourceInfo:
    file_format: str
    columns: list[str]
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None  # 1-based
    rows_read: int = 0
    malformed: list[tuple[int, str, str]] = field(default_factory=list)  # (row, error, raw line)
    skipped_rows: int = 0
    warnings: list[str] = field(default_factory=list)


# --- header detection ----------------------------------------------------------------------------


def find_header_row(rows: Sequence[Sequence[str | None]]) -> int:
    """The header is the early row naming the most known columns; else the first wide, all-text row.

    Title rows above it (often one merged cell) name nothing and fill one cell, so they lose.
    """
    if not rows:
        raise IngestRefused("no_header", "文件没有内容行", "the file has no rows")
    candidates = rows[:HEADER_SEARCH_ROWS]
    scores = [header_score(row) for row in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    if scores[best] > 0:
        return best
    widths = [sum(1 for c in row if str(c or "").strip()) for row in candidates]
    widest = max(widths)
    for i, row in enumerate(candidates):
        cells = [str(c or "").strip() for c in row if str(c or "").strip()]
        if widths[i] >= max(2, 0.8 * widest) and all(not _looks_numeric(c) for c in cells):
            return i
    return 0


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


# --- rows read in Python: cell text, and batches into _stage ------------------------------------


def cell_text(value: object) -> str | None:
    """Render a spreadsheet cell as text the normaliser understands (real dates in ISO form)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value)
    return text if text.strip() else None


#: Rows handed to DuckDB at a time by the readers that parse in Python: memory stays flat whatever the file's length.
BATCH_ROWS = 20_000


def frame_to_stage(cur: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *, append: bool = False) -> None:
    """Write (or, with ``append``, add) a batch of text rows to ``_stage``; ``_stage`` may have more columns."""
    text_cols = [c for c in frame.columns if c != "_row"]
    frame = frame.astype({c: "string" for c in text_cols})
    cur.register("_stage_frame", frame)
    try:
        casts = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in text_cols)
        if append:
            names = ", ".join([*text_cols, "_row"])
            cur.execute(f"INSERT INTO _stage ({names}) SELECT {casts}, _row::INTEGER FROM _stage_frame")
        else:
            cur.execute(
                f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT {casts}, _row::INTEGER AS _row FROM _stage_frame"
            )
    finally:
        cur.unregister("_stage_frame")
