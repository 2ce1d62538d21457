"""Load one file as one upload: stage, map, normalise, validate and write in a single transaction.

The stages have their own modules: :mod:`ingest.intake` (the file read, its rows opened, the mapping),
:mod:`ingest.validate` (normalised and checked rows), :mod:`ingest.write` (the rows into the model's tables);
which version of a case counts, and an upload's history and removal, are the model's (:mod:`store.uploads`).

Rows that fail validation are kept in ``rejected_rows`` with their row number, reason and column;
the good rows load. A bad optional field (a time limit, visits, satisfaction) does not cost its row:
the field is left empty and a warning kept in ``field_warnings``. A file with no usable rows, or where
more than half the rows fail, is refused whole and nothing changes. Loading the same bytes again is
recognised by SHA-256 and skipped; an overlapping export adds new versions of the cases it repeats,
and the version with the later known state counts, whatever the load order
(:data:`store.uploads.CASE_VERSION_ORDER`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

import clock
import settings
from ingest import intake, isolation, normalize, personal, write
from ingest.errors import IngestRefused
from ingest.intake import FileScan
from ingest.mapping import Mapping
from ingest.readers import Source, file_format
from ingest.reasons import short_reason
from ingest.staging import SourceInfo
from ingest.upload_bytes import temp_copy
from ingest.validate import VALID, normalise_and_count, refuse_if_unusable
from store import facets, uploads
from store.db import Database
from store.rows import one

Progress = Callable[[str, float], None]


@dataclass
class IngestResult:
    upload_id: int | None
    file_name: str
    kind: str
    rows_total: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_skipped: int = 0
    cases_loaded: int = 0
    events_loaded: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    duplicate_of: int | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Loaded rows with a field left empty (a warning, ``field_warnings``), and how many per reason.
    rows_warned: int = 0
    warned_by_reason: dict[str, int] = field(default_factory=dict)
    #: Loaded rows older than what the database already holds for their case: kept, but not current
    #: (the conflict rule of :func:`store.uploads.refresh_current_cases`). Rows of a case file, events of a step file.
    rows_superseded: int = 0
    #: The personal-data columns (found by header or by value): masked, never stored raw; and those of
    #: them found by their values (:mod:`ingest.personal`).
    personal_columns: list[str] = field(default_factory=list)
    personal_by_value: list[str] = field(default_factory=list)
    #: The town the upload went into, and the towns of its loaded rows (a file with a town column may hold several).
    town: str = settings.DEFAULT_TOWN
    towns: list[str] = field(default_factory=list)

    def elsewhere(self) -> bool:
        return towns_worth_saying(self.towns)

    def as_dict(self) -> dict:
        return asdict(self)


def towns_worth_saying(towns: list[str]) -> bool:
    """An upload's towns (``IngestResult.towns``) other than the default one alone, or several: worth saying (a
    one-town installation never says it)."""
    return bool(towns) and towns != [settings.DEFAULT_TOWN]


def ingest_file(
    db: Database,
    path: str | Path,
    *,
    name: str | None = None,
    kind: str = "auto",
    mapping: str | dict[str, str | None] | None = None,
    sheet: str | None = None,
    loaded_by: str | None = None,
    progress: Progress | None = None,
    max_rows: int | None = None,
    town: str | None = None,
) -> IngestResult:
    """Load one file; raises :class:`IngestRefused` (database unchanged) when it cannot be loaded.

    ``mapping`` is a saved mapping's name or TOML path, or a dict of canonical field -> source
    column overriding the automatic mapping. ``name`` is the file name shown in the history
    (uploads arrive under temporary paths); it is only ever stored as text. A file with more than
    ``max_rows`` data rows is refused whole. ``town`` is the town the file goes into (default
    ``settings.DEFAULT_TOWN``); a file with a town column (乡镇 …) says each row's, the rows without one
    are ``town``'s. Within a town scope (:mod:`scope`: a town user) a town outside it, a row naming one, or
    the catalogue is refused.
    """
    path = Path(path)
    name = Path(name or path.name).name
    town = intake.scoped_upload_town(town)
    report = progress or (lambda stage, fraction: None)
    report("hash", 0.0)
    scan = intake.scan_file(path)
    cur = db.cursor()
    try:
        known = intake.loaded_before(cur, scan.sha256, town)
    finally:
        cur.close()
    if known is not None:
        return IngestResult(None, name, kind, duplicate_of=known)
    report("read", 0.1)
    # A file other than CSV is parsed before the write lock is taken: a long parse blocks no other writer.
    parsed = None if file_format(path, name) == "csv" else isolation.parse(path, name, sheet=sheet, max_rows=max_rows)
    try:
        result = _ingest_locked(db, path, name, scan, parsed, kind, mapping, sheet, loaded_by, report, max_rows, town)
    finally:
        if parsed is not None:
            parsed.close()
    if result.duplicate_of is not None:
        return result
    report("done", 1.0)
    logging.getLogger("egov.ingest").info(
        "upload #%s %s kind=%s loaded=%s rejected=%s skipped=%s by=%s",
        result.upload_id,
        result.file_name,
        result.kind,
        result.rows_loaded,
        result.rows_rejected,
        result.rows_skipped,
        loaded_by,
    )
    return result


def _ingest_locked(
    db: Database,
    path: Path,
    name: str,
    scan: FileScan,
    parsed: isolation.Parsed | None,
    kind: str,
    mapping: str | dict[str, str | None] | None,
    sheet: str | None,
    loaded_by: str | None,
    report: Progress,
    max_rows: int | None,
    town: str,
) -> IngestResult:
    """The write itself, under the single writer's lock and in one transaction."""
    with db.write() as cur:
        previous = intake.loaded_before(
            cur, scan.sha256, town
        )  # again, under the lock: another load may have just taken it
        if previous is not None:
            return IngestResult(None, name, kind, duplicate_of=previous)
        normalize.install_macros(cur)
        with intake.bounded_memory(db), intake.memory_refusal():
            source = (
                Source(parsed.load_into(cur)) if parsed else intake.open_source(cur, path, name, sheet, scan, max_rows)
            )
            try:
                mapped = intake.resolve_mapping(source.info, kind, mapping)
                intake.mark_personal(cur, source.info, mapped, source)
                report("validate", 0.4)
                result = _load_staged(
                    cur,
                    db,
                    source.info,
                    mapped,
                    name=name,
                    sha=scan.sha256,
                    loaded_by=loaded_by,
                    report=report,
                    source=source,
                    max_rows=max_rows,
                    town=town,
                )
                intake.drop_temp(cur)
            finally:
                source.close()
    return result


def _load_staged(
    cur: duckdb.DuckDBPyConnection,
    db: Database,
    info: SourceInfo,
    mapped: Mapping,
    *,
    name: str,
    sha: str,
    loaded_by: str | None,
    report: Progress,
    source: Source | None = None,
    max_rows: int | None = None,
    town: str = settings.DEFAULT_TOWN,
) -> IngestResult:
    kind = mapped.kind
    checked = normalise_and_count(cur, db, info, mapped, source, town)
    loaded, rejected, skipped, by_reason, total = (
        checked.loaded,
        checked.rejected,
        checked.skipped,
        checked.by_reason,
        checked.total,
    )
    refuse_if_unusable(checked, max_rows)
    intake.refuse_rows_out_of_scope(cur, kind)

    report("write", 0.6)
    upload_id = one(cur.execute("SELECT nextval('upload_id_seq')"))[0]
    source_names = mapped.source_names(info.columns)
    warnings = list(info.warnings) + _calendar_warnings(cur, kind)
    result = IngestResult(
        upload_id,
        name,
        kind,
        rows_total=total,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rows_skipped=skipped,
        rejected_by_reason=by_reason,
        encoding=info.encoding,
        sheet=info.sheet,
        header_row=info.header_row,
        mapping=source_names,
        warnings=warnings,
        rows_warned=checked.warned,
        warned_by_reason=checked.warned_by_reason,
        personal_columns=[info.columns[i] for i in mapped.personal_indices()],
        personal_by_value=[info.columns[i] for i in sorted(mapped.pii_by_value)],
        town=town,
        towns=_towns(cur, kind),
    )
    if kind == "catalog":
        write.write_catalog(cur, upload_id)
    elif kind == "events":
        result.events_loaded, result.cases_loaded = write.write_events(cur, upload_id, mapped)
    else:
        result.cases_loaded = write.write_cases(cur, upload_id)
    result.rows_superseded = _superseded(cur, upload_id, kind)
    report("finish", 0.9)
    if kind != "catalog":
        facets.refresh(cur)
    write.write_rejects(cur, upload_id, info)
    write.write_field_warnings(cur, upload_id)
    warnings += result_messages(result)
    cur.execute(
        """
        INSERT INTO uploads (upload_id, file_name, sha256, kind, file_format, encoding, sheet, header_row, mapping,
                             rows_total, rows_loaded, rows_rejected, rows_skipped, cases_loaded, events_loaded,
                             warnings, loaded_by, loaded_at, town)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            upload_id,
            name,
            sha,
            kind,
            info.file_format,
            info.encoding,
            info.sheet,
            info.header_row,
            json.dumps(source_names, ensure_ascii=False),
            total,
            loaded,
            rejected,
            skipped,
            result.cases_loaded,
            result.events_loaded,
            json.dumps(warnings, ensure_ascii=False),
            loaded_by,
            clock.now(),
            town,
        ],
    )
    return result


def _towns(cur: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    """The towns of the file's valid rows (the catalogue is the county's: none)."""
    if kind == "catalog":
        return []
    return [r[0] for r in cur.execute(f"SELECT DISTINCT town FROM _norm WHERE {VALID} ORDER BY 1").fetchall()]


def _superseded(cur: duckdb.DuckDBPyConnection, upload_id: int, kind: str) -> int:
    """Rows of this upload that lost to a version already held (see :func:`store.uploads.refresh_current_cases`)."""
    if kind == "catalog":
        return 0
    table = "event_rows" if kind == "events" else "case_rows"
    return int(one(cur.execute(f"SELECT count(*) FROM {table} WHERE upload_id = ? AND NOT is_current", [upload_id]))[0])


def result_messages(result: IngestResult) -> list[str]:
    """What the upload's report says beyond its counts: the personal data masked, fields left empty, rows
    older than the data held.

    Each is one line, Chinese then English, as the other upload warnings; they are stored with the upload,
    shown on the upload page and printed by the CLI.
    """
    out = []
    if note := personal.found_message(result.personal_columns):
        out.append(note)
    if result.warned_by_reason:
        zh = "；".join(f"{short_reason(r, 'zh')} {n} 行" for r, n in result.warned_by_reason.items())
        en = "; ".join(f"{short_reason(r, 'en')}: {n}" for r, n in result.warned_by_reason.items())
        out.append(
            f"{result.rows_warned} 行有字段无法识别，该字段已置空，该行照常载入（行号与原值随本次上传保存）：{zh} "
            f"({result.rows_warned} rows had a field that could not be read; it was left empty and the rows loaded; row numbers and values are kept with the upload: {en})"
        )
    if result.rows_superseded:
        n = result.rows_superseded
        out.append(
            f"{n} 行比库中已有的记录旧（已有记录的状态更新，如已办结），已保存但不覆盖现有数据 "
            f"({n} rows were older than the data already held (e.g. held as completed); kept, but they do not replace it)"
        )
    return out


def _calendar_warnings(cur: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    if kind == "catalog":
        return []
    time_col = "event_time" if kind == "events" else "submitted_at"
    years = [
        r[0]
        for r in cur.execute(
            f"""SELECT DISTINCT year(n.{time_col}) FROM _norm n JOIN calendar c ON c.day = n.{time_col}::DATE
            WHERE n.reason IS NULL AND NOT n.is_skip AND c.source = 'weekend_rule' ORDER BY 1"""
        ).fetchall()
    ]
    if not years:
        return []
    ys = ", ".join(str(y) for y in years)
    return [
        f"{ys} 年不在法定节假日日历内，工作日按周一至周五计算；请用 `python cli.py calendar` 导入当年调休安排 "
        f"(year(s) {ys} are outside the official holiday calendar; working days count Monday-Friday)"
    ]


def ingest_bytes(db: Database, data: bytes, name: str, **kwargs) -> IngestResult:
    """Load uploaded bytes: written to a private temp file whose path never comes from ``name``."""
    with temp_copy(data, name) as tmp:
        return ingest_file(db, tmp, name=name, **kwargs)


def remove_upload(db: Database, upload_id: int, removed_by: str | None = None) -> dict[str, int]:
    """Remove an upload and everything it brought; earlier versions of its cases count again.

    The removal is the model's (:func:`store.uploads.remove`); a missing or removed upload is refused here,
    in words, as a refused file is. Within a town scope (:mod:`scope`) an upload is removed only when all it
    brought is of the scope's towns (a catalogue, the county's, never); another's is refused as if it did not
    exist only when it is not visible at all (:func:`store.uploads.visible`).
    """
    with db.write() as cur:
        status = uploads.upload_status(cur, upload_id)
        if status is not None and not uploads.visible(cur, upload_id):
            status = None  # another town's upload: not even its existence is told
        if status is None:
            raise IngestRefused("no_such_upload", f"没有编号为 {upload_id} 的上传", f"no upload with id {upload_id}")
        if status == "removed":
            raise IngestRefused(
                "already_removed", f"上传 {upload_id} 已被删除", f"upload {upload_id} is already removed"
            )
        if not uploads.removable(cur, upload_id):
            raise IngestRefused(
                "remove_out_of_scope",
                f"上传 {upload_id} 含有您乡镇范围以外的数据（或是全县的事项目录），不能删除",
                f"upload {upload_id} holds data outside your towns (or is the county's catalogue); not removed",
            )
        removed = uploads.remove(cur, upload_id, removed_by)
    logging.getLogger("egov.ingest").info("upload #%s removed by %s: %s", upload_id, removed_by, removed)
    return removed
