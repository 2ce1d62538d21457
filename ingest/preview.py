"""The preview: a file read, mapped and validated as a load would, on a private cursor, nothing written.

What the upload page shows for confirmation (the first rows masked, rejected rows, warnings, what the load
would change) and what ``cli.py ingest --dry-run`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ingest import intake, normalize, personal
from ingest.errors import IngestRefused
from ingest.impact import Impact
from ingest.impact import compute as compute_impact
from ingest.mapping import Mapping
from ingest.readers import Source
from ingest.reasons import REASONS
from ingest.staging import SourceInfo
from ingest.validate import VALID, Validation, normalise_and_count, refuse_if_unusable
from store.db import Database


@dataclass
class Preview:
    """A file read, mapped and validated on a private cursor; nothing in the database changed."""

    file_name: str
    sha256: str
    info: SourceInfo
    mapping: Mapping
    validation: Validation
    sample: pd.DataFrame  # the first rows as in the file; personal-data columns masked
    rejects: pd.DataFrame  # row, reason (zh, en), column, value, the row's mapped fields
    refusal: IngestRefused | None = None  # set when loading would refuse the file
    duplicate_of: int | None = None
    #: Loaded rows' fields left empty (row, reason (zh, en), column, value), as ``rejects`` without ``fields``.
    warnings: pd.DataFrame | None = None
    #: What loading the file would change (ingest/impact.py); None when the load would refuse or skip it.
    impact: Impact | None = None

    @property
    def columns(self) -> list[str]:
        return self.info.columns

    @property
    def personal_columns(self) -> list[str]:
        """The personal-data columns, by header or by value: masked in ``sample``, never stored raw."""
        return [self.info.columns[i] for i in self.mapping.personal_indices()]

    @property
    def personal_note(self) -> str | None:
        """The report's line naming them ("已识别并遮盖：…" / "Personal data found and masked: …"), or None."""
        return personal.found_message(self.personal_columns)


PREVIEW_ROWS = 20
MAX_REJECTS_SHOWN = 100_000


def preview_file(
    db: Database,
    path: str | Path,
    *,
    name: str | None = None,
    kind: str = "auto",
    mapping: str | dict[str, str | None] | None = None,
    sheet: str | None = None,
    max_rows: int | None = None,
    town: str | None = None,
) -> Preview:
    """Read, map and validate without writing: what the upload page shows for confirmation (into ``town``).

    Raises :class:`IngestRefused` when the file cannot even be read or mapped (the page shows the
    message); a file that reads but would be refused for its rows comes back with ``refusal`` set.
    """
    path = Path(path)
    name = Path(name or path.name).name
    town = intake.upload_town(town)
    scan = intake.scan_file(path)
    cur = db.cursor()
    source: Source | None = None
    try:
        previous = intake.loaded_before(cur, scan.sha256, town)
        normalize.install_macros(cur)
        with intake.bounded_memory(db), intake.memory_refusal():
            source = intake.open_source(cur, path, name, sheet, scan, max_rows)
            info = source.info
            mapped = intake.resolve_mapping(info, kind, mapping)
            intake.mark_personal(cur, info, mapped, source)
            checked = normalise_and_count(cur, db, info, mapped, source, town)
        refusal = None
        try:
            refuse_if_unusable(checked, max_rows)
        except IngestRefused as exc:
            refusal = exc
        with intake.bounded_memory(db), intake.memory_refusal():
            impact = None if refusal or previous is not None else compute_impact(cur, mapped.kind, mapped)
        return Preview(
            name,
            scan.sha256,
            info,
            mapped,
            checked,
            _sample(cur, info, mapped, source),
            _rejects_frame(cur, info),
            refusal,
            previous,
            _warnings_frame(cur),
            impact=impact,
        )
    finally:
        intake.drop_temp(cur)
        if source is not None:
            source.close()
        cur.close()


def _sample(
    cur: duckdb.DuckDBPyConnection, info: SourceInfo, mapped: Mapping, source: Source | None = None
) -> pd.DataFrame:
    if source is None or source.numbered:
        frame = cur.execute(f"SELECT * EXCLUDE (_row) FROM _stage ORDER BY _row LIMIT {PREVIEW_ROWS}").df()
    else:  # a CSV read in place: its first rows, in file order
        frame = cur.execute(f"SELECT * FROM {source.relation} LIMIT {PREVIEW_ROWS}", source.params).df()
    frame.columns = [
        info.columns[int(c[1:])] if c[1:].isdigit() and int(c[1:]) < len(info.columns) else c for c in frame.columns
    ]
    frame = frame.iloc[:, : len(info.columns)]
    masked = set(mapped.personal_indices())
    for index in masked:
        frame.iloc[:, index] = frame.iloc[:, index].map(lambda v: None if v is None else "***")
    # Below a column's threshold, a single valid ID or mobile number is still not shown (the case id excepted:
    # it is stored as written, see intake.mark_personal).
    for index in set(range(frame.shape[1])) - masked - {mapped.fields.get("case_id")}:
        frame.iloc[:, index] = frame.iloc[:, index].map(lambda v: "***" if personal.value_kind(v) else v)
    return frame


def _warnings_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The loaded rows' field warnings, in the shape of :func:`_rejects_frame` (``fields`` empty)."""
    rows = cur.execute(
        f"""SELECT _row, w.code, w.col, w.val, NULL
            FROM (SELECT _row, unnest(_warn) AS w FROM _norm WHERE _warn IS NOT NULL AND {VALID})
            ORDER BY _row, w.code LIMIT {MAX_REJECTS_SHOWN}"""
    ).fetchall()
    return _reasons_frame(rows)


def _rejects_frame(cur: duckdb.DuckDBPyConnection, info: SourceInfo) -> pd.DataFrame:
    rows = cur.execute(
        f"SELECT _row, reason, reason_column, reason_value, raw FROM _norm WHERE reason IS NOT NULL "
        f"ORDER BY _row LIMIT {MAX_REJECTS_SHOWN}"
    ).fetchall()
    rows += [(row, "malformed_line", None, message, None) for row, message, _ in info.malformed]
    return _reasons_frame(sorted(rows, key=lambda r: r[0]))


def _reasons_frame(rows: list[tuple]) -> pd.DataFrame:
    """(row, reason, column, value, fields) tuples as the table the page and the rejects download read."""
    return pd.DataFrame(
        [
            {
                "row": row,
                "reason": reason,
                "reason_zh": REASONS[reason].zh,
                "reason_en": REASONS[reason].en,
                "column": column,
                "value": value,
                "fields": fields,
            }
            for row, reason, column, value, fields in rows
        ],
        columns=["row", "reason", "reason_zh", "reason_en", "column", "value", "fields"],
    )
