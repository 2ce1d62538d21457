"""Load one file as one upload: stage, map, normalise, validate and write in a single transaction.

Rows that fail validation are kept in ``rejected_rows`` with their row number, reason and column;
the good rows load. A bad optional field (a time limit, visits, satisfaction) does not cost its row:
the field is left empty and a warning kept in ``field_warnings``. A file with no usable rows, or where
more than half the rows fail, is refused whole and nothing changes. Loading the same bytes again is
recognised by SHA-256 and skipped; an overlapping export adds new versions of the cases it repeats,
and the version with the later known state counts, whatever the load order (:data:`CASE_VERSION_ORDER`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd

import clock
import settings
from ingest import isolation, normalize, personal
from ingest.channels import channel_sql
from ingest.derive import fill_derived, with_derived
from ingest.errors import IngestRefused
from ingest.impact import Impact
from ingest.impact import compute as compute_impact
from ingest.limits import Limits
from ingest.mapping import (
    FIELD_LABELS_ZH,
    Mapping,
    apply_overrides,
    auto_map,
    check_required,
    detect_kind,
    load_saved,
)
from ingest.readers import Source, SourceInfo, csv_source, file_format
from store import facets
from store.db import Database

Progress = Callable[[str, float], None]

#: Why a row was rejected: code -> (Chinese, English). The normalisers' check lists give the check order.
REASONS: dict[str, tuple[str, str]] = {
    "malformed_line": ("行格式错误（列数不符或引号未闭合）", "malformed line (wrong number of columns or open quote)"),
    "bad_encoding": ("含无法解码的字符（文件编码损坏）", "undecodable characters (broken encoding)"),
    "missing_id": ("办件编号为空", "missing case id"),
    "missing_step": ("环节名称为空", "missing step name"),
    "missing_item": ("事项名称为空", "missing item name"),
    "missing_time": ("缺少时间", "missing time"),
    "bad_time": ("时间无法识别", "unparseable time"),
    "bad_offset": (
        "时区偏移无效（须在 ±14:00 以内、分钟小于 60）",
        "invalid time-zone offset (must lie within ±14:00, minutes under 60)",
    ),
    "time_out_of_range": ("时间早于 2000 年", "time before 2000"),
    "future_time": (
        f"时间晚于当前时间（未来时间，允许误差 {settings.FUTURE_TOLERANCE_MINUTES} 分钟）",
        f"time in the future (later than now, {settings.FUTURE_TOLERANCE_MINUTES} minutes' tolerance)",
    ),
    "completed_before_submitted": ("办结时间早于申请时间", "completed before submitted"),
    "accepted_before_submitted": ("受理时间早于申请时间", "accepted before submitted"),
    "started_after_completed": ("开始时间晚于完成时间", "started after completed"),
    "duplicate_in_file": ("文件内重复", "duplicate within the file"),
    # Warnings: a bad optional field is left empty and its row loads; the row number, column and value are
    # kept in ``field_warnings`` (README "数值规则 / Value rules").
    "bad_promised_limit": (
        f"承诺时限无法识别或超出范围（0–{settings.MAX_LIMIT_WORKING_DAYS} 个工作日 / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} 个自然日），已置空，该行照常载入",
        f"promised time limit unreadable or out of range (0–{settings.MAX_LIMIT_WORKING_DAYS} working / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} natural days); left empty, the row loaded",
    ),
    "bad_statutory_limit": (
        f"法定时限无法识别或超出范围（0–{settings.MAX_LIMIT_WORKING_DAYS} 个工作日 / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} 个自然日），已置空，该行照常载入",
        f"statutory time limit unreadable or out of range (0–{settings.MAX_LIMIT_WORKING_DAYS} working / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} natural days); left empty, the row loaded",
    ),
    "bad_visits": (
        f"跑动次数无法识别或不在 0–{settings.MAX_VISITS} 之间，已置空，该行照常载入",
        f"visits unreadable or not within 0–{settings.MAX_VISITS}; left empty, the row loaded",
    ),
    "bad_resubmissions": (
        f"补正次数无法识别或不在 0–{settings.MAX_RESUBMISSIONS} 之间，已置空，该行照常载入",
        f"resubmissions unreadable or not within 0–{settings.MAX_RESUBMISSIONS}; left empty, the row loaded",
    ),
    "bad_satisfaction": (
        "满意度无法识别或不在 1–5 分之间，已置空，该行照常载入",
        "satisfaction unreadable or not within 1–5; left empty, the row loaded",
    ),
}

#: The codes of REASONS that are warnings (the row loads, the field is left empty), not rejections.
WARNING_REASONS = ("bad_promised_limit", "bad_statutory_limit", "bad_visits", "bad_resubmissions", "bad_satisfaction")

#: Step names that mark a finished case; in an event file that uses them, cases without one are open.
COMPLETION_STEPS = r"办结|结案|归档|发证|出证|办理完成|不予受理|不予许可|撤回|撤件|^close|closed|^end$"
COMPLETE_LIFECYCLES = ("complete", "completed", "完成")


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
    #: (the conflict rule of :func:`refresh_current_cases`). Rows of a case file, events of a step file.
    rows_superseded: int = 0
    #: The personal-data columns (found by header or by value): masked, never stored raw; and those of
    #: them found by their values (:mod:`ingest.personal`).
    personal_columns: list[str] = field(default_factory=list)
    personal_by_value: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def file_sha256(path: Path) -> str:
    return _scan(path).sha256


class FileScan(NamedTuple):
    """What one read of a file tells before it is parsed."""

    sha256: str
    holds_replacement: bool  # its bytes hold U+FFFD (EF BF BD)
    newlines: int  # line breaks: an upper bound of a CSV's records, for the row bound


def _scan(path: Path) -> FileScan:
    """SHA-256, whether U+FFFD is there and how many line breaks, in one read."""
    digest = hashlib.sha256()
    marker = "\ufffd".encode()
    found, tail, newlines = False, b"", 0
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            if not found:
                found = marker in chunk or marker in tail + chunk[:2]
                tail = chunk[-2:]
    return FileScan(digest.hexdigest(), found, newlines)


def _loaded_before(cur: duckdb.DuckDBPyConnection, sha: str) -> int | None:
    """The upload that already holds these bytes, if one does."""
    row = cur.execute(
        "SELECT upload_id FROM uploads WHERE sha256 = ? AND status = 'loaded' ORDER BY upload_id LIMIT 1", [sha]
    ).fetchone()
    return int(row[0]) if row else None


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
) -> IngestResult:
    """Load one file; raises :class:`IngestRefused` (database unchanged) when it cannot be loaded.

    ``mapping`` is a saved mapping's name or TOML path, or a dict of canonical field -> source
    column overriding the automatic mapping. ``name`` is the file name shown in the history
    (uploads arrive under temporary paths); it is only ever stored as text. A file with more than
    ``max_rows`` data rows is refused whole.
    """
    path = Path(path)
    name = Path(name or path.name).name
    report = progress or (lambda stage, fraction: None)
    report("hash", 0.0)
    scan = _scan(path)
    cur = db.cursor()
    try:
        known = _loaded_before(cur, scan.sha256)
    finally:
        cur.close()
    if known is not None:
        return IngestResult(None, name, kind, duplicate_of=known)
    report("read", 0.1)
    # A file other than CSV is parsed before the write lock is taken: a long parse blocks no other writer.
    parsed = None if file_format(path, name) == "csv" else isolation.parse(path, name, sheet=sheet, max_rows=max_rows)
    try:
        result = _ingest_locked(db, path, name, scan, parsed, kind, mapping, sheet, loaded_by, report, max_rows)
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
) -> IngestResult:
    """The write itself, under the single writer's lock and in one transaction."""
    with db.write() as cur:
        previous = _loaded_before(cur, scan.sha256)  # again, under the lock: another load may have just taken it
        if previous is not None:
            return IngestResult(None, name, kind, duplicate_of=previous)
        normalize.install_macros(cur)
        with _bounded_memory(db), _memory_refusal():
            source = Source(parsed.load_into(cur)) if parsed else _open(cur, path, name, sheet, scan, max_rows)
            try:
                mapped = _resolve_mapping(source.info, kind, mapping)
                _mark_personal(cur, source.info, mapped, source)
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
                )
                _drop_temp(cur)
            finally:
                source.close()
    return result


def _open(
    cur: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    sheet: str | None,
    scan: FileScan,
    max_rows: int | None = None,
) -> Source:
    """The file's rows: a CSV read in place by DuckDB here, any other format parsed in a child process."""
    if file_format(path, name) != "csv":
        return Source(isolation.stage(cur, path, name, sheet=sheet, max_rows=max_rows))
    limits = Limits.current(max_rows)
    source = csv_source(path, limits)
    try:
        _check_csv_rows(cur, source, limits, scan.newlines)
    except BaseException:
        source.close()
        raise
    if source._temp_file is None:  # a UTF-8 CSV read as it is: its bytes were scanned
        source.may_hold_replacement = scan.holds_replacement
    return source


def _check_csv_rows(cur: duckdb.DuckDBPyConnection, source: Source, limits: Limits, newlines: int) -> None:
    """Refuse a CSV with more data rows than the bound before it is loaded: its line breaks (counted when it
    was hashed) bound its records; only when there are more of them than the bound allows are the records
    counted, and that count stops one past the bound."""
    if newlines - source.first_row + 2 <= limits.max_rows:
        return
    count = cur.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {source.relation} LIMIT {limits.max_rows + 1})", source.params
    ).fetchone()[0]
    cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
    limits.check_rows(int(count))


#: DuckDB's memory limit while a file loads into a database file: larger intermediate results spill to
#: the database's temp folder, so that loading ten million events stays within about 1 GiB of memory.
INGEST_MEMORY_LIMIT = "640MB"


@contextmanager
def _bounded_memory(db: Database) -> Iterator[None]:
    """Lower DuckDB's memory limit for the load (file databases only: memory ones cannot spill).

    The limit belongs to the database, not to one cursor: it is set and put back on a cursor of its own,
    outside the load's transaction, so that a load that failed (its transaction aborted) still restores it
    and the person reads the load's own error, not "current transaction is aborted".
    """
    if str(db.path) == ":memory:":
        yield
        return
    side = db.cursor()
    try:
        before = side.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        side.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
        try:
            yield
        finally:
            with suppress(duckdb.Error):
                side.execute("RESET memory_limit")  # the default, exactly (its text form is rounded)
                if side.execute("SELECT current_setting('memory_limit')").fetchone()[0] != before:
                    side.execute(f"SET memory_limit = '{before}'")
    finally:
        side.close()


@contextmanager
def _memory_refusal() -> Iterator[None]:
    """DuckDB running out of memory on a file is the file's size, said in words; nothing was written."""
    try:
        yield
    except duckdb.OutOfMemoryException as exc:
        raise IngestRefused(
            "out_of_memory",
            f"文件过大：读取时超出内存上限（{INGEST_MEMORY_LIMIT}），未写入任何数据；请按月份或部门拆分后分别上传",
            f"file too large: reading it went past the memory limit ({INGEST_MEMORY_LIMIT}); nothing was written. "
            "Split it by month or department and upload the parts",
        ) from exc


def _resolve_mapping(info: SourceInfo, kind: str, mapping: str | dict | None) -> Mapping:
    overrides: dict[str, str | None] = {}
    if isinstance(mapping, str):
        saved_kind, overrides = load_saved(mapping)
        if kind == "auto" and saved_kind:
            kind = saved_kind
    elif isinstance(mapping, dict):
        overrides = dict(mapping)
    if kind == "auto":
        kind = detect_kind(info.columns)
    if kind not in ("cases", "events", "catalog"):
        raise IngestRefused("bad_kind", f"未知的文件类型：{kind}", f"unknown kind: {kind}")
    mapped = apply_overrides(auto_map(info.columns, kind), info.columns, overrides)
    check_required(mapped, info.columns)
    return mapped


def _mark_personal(cur: duckdb.DuckDBPyConnection, info: SourceInfo, mapped: Mapping, source: Source) -> None:
    """Add the columns found personal by their values (:mod:`ingest.personal`) to the header-found ones.

    A bounded sample (the first rows of the file) is judged, whatever the headers say. Every personal column
    is masked in the preview and never stored raw: one that a stored field was mapped to (经办人 holding mobile
    numbers) is taken out of that field. The case id is left alone: it is how a case is matched across uploads
    and files, so it is kept as the platform wrote it (its values are told from ID numbers by their check
    character); a case-id column that does hold ID numbers is named in a warning instead. The first ID or
    credit-code column found by value whose header names nobody else (:func:`personal.names_someone_else`)
    keys the applicant, when no header gave an ID column; a mobile-number column found by value keys nobody
    (it may be anyone's contact number).
    """
    try:
        found = personal.scan(cur, source.relation, source.params, len(info.columns))
    except duckdb.Error as exc:
        if source.numbered or isinstance(exc, duckdb.OutOfMemoryException):
            raise
        raise IngestRefused("unreadable_csv", f"CSV 无法解析：{_first_line(exc)}", f"cannot parse CSV: {exc}") from exc
    if not source.numbered:
        cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")  # the full read collects them
    case_column = mapped.fields.get("case_id")
    for index, kind in found.items():
        if index == case_column:
            zh, en = personal.KIND_LABELS[kind]
            column = _shown(info.columns[index])
            info.warnings.append(
                f"办件编号列“{column}”的值多为{zh}：办件编号按原样保存（用于匹配同一办件），请确认列映射无误 "
                f"(the case-id column “{column}” mostly holds {en}; case ids are kept as written, "
                "to match a case across uploads: check the column mapping)"
            )
            continue
        if index in mapped.personal_indices():
            continue
        mapped.pii_by_value.add(index)
        applicant = (
            kind in (personal.ID_NUMBER, personal.CREDIT_CODE)
            and mapped.kind != "catalog"
            and "id_number" not in mapped.pii
            and not personal.names_someone_else(info.columns[index])
        )
        if applicant:
            mapped.pii["id_number"] = index
        else:
            mapped.more_pii[index] = kind
    _take_out_personal(info, mapped)


def _shown(name: str) -> str:
    """A column name inside a stored "中文 (English)" line: its own " (" closed up (the page splits at it)."""
    return str(name).replace(" (", "(")


def _take_out_personal(info: SourceInfo, mapped: Mapping) -> None:
    """Personal columns feed no stored field but the case id (see :func:`_mark_personal`); each one taken
    out is said in a warning, and a required field left without a column refuses the file, in words."""
    kinds = {index: kind for kind, index in mapped.pii.items()} | mapped.more_pii
    taken: dict[int, list[str]] = {}
    for canonical, index in list(mapped.fields.items()):
        if canonical != "case_id" and index in kinds:
            del mapped.fields[canonical]
            mapped.unit_hints.pop(canonical, None)
            taken.setdefault(index, []).append(canonical)
    for index, canonicals in taken.items():
        zh, en = personal.KIND_LABELS.get(kinds[index], (kinds[index], kinds[index]))
        column = _shown(info.columns[index])
        labels_zh = "、".join(FIELD_LABELS_ZH.get(c, c) for c in canonicals)
        info.warnings.append(
            f"列“{column}”的内容是个人信息（{zh}），已遮盖，不作为“{labels_zh}”导入 "
            f"(column “{column}” holds personal data ({en}); masked, and not loaded as {', '.join(canonicals)})"
        )
    try:
        check_required(mapped, info.columns)
    except IngestRefused as exc:
        columns_zh = "、".join(f"“{info.columns[i]}”" for i in taken)
        columns_en = ", ".join(f"“{info.columns[i]}”" for i in taken)
        raise IngestRefused(
            "missing_columns",
            f"{columns_zh}的内容是个人信息，不能作为必需的字段导入；请在列映射中改选其他列。{exc.message('zh')}",
            f"{columns_en} hold personal data and cannot feed a required field; pick another column in the "
            f"mapping. {exc.message('en')}",
            column=exc.column,
        ) from exc


# --- SQL building ------------------------------------------------------------------------------


def _col(mapped: Mapping, canonical: str) -> str:
    """The staged column feeding a field (c<i>), or NULL; never a name taken from the file."""
    index = mapped.fields.get(canonical)
    return f"c{int(index)}" if index is not None else "NULL::VARCHAR"


def _pii_key_sql(mapped: Mapping) -> str:
    for pii in ("id_number", "phone"):
        if pii in mapped.pii:
            col = f"c{int(mapped.pii[pii])}"
            return (
                f"CASE WHEN egov_is_blank({col}) THEN NULL ELSE "
                f"sha256($salt || upper(regexp_replace({col}, '[\\s\\-]', '', 'g'))) END"
            )
    return "NULL::VARCHAR"


def _case_fields(mapped: Mapping, tz_param: str = "$tz") -> list[tuple[str, str]]:
    """Normalised case fields from source columns (used for case files and event files' attributes)."""
    c = lambda f: _col(mapped, f)  # noqa: E731
    promised_hint = repr(mapped.unit_hints.get("promised")) if mapped.unit_hints.get("promised") else "NULL"
    statutory_hint = repr(mapped.unit_hints.get("statutory")) if mapped.unit_hints.get("statutory") else "NULL"
    return [
        ("case_id", f"egov_clean({c('case_id')})"),
        ("service_item", f"egov_text({c('service_item')})"),
        ("item_code", f"egov_text({c('item_code')})"),
        ("department", f"egov_text({c('department')})"),
        ("channel", channel_sql(c("channel")) if "channel" in mapped.fields else "NULL::VARCHAR"),
        ("channel_raw", f"egov_text({c('channel')})"),
        ("applicant_type", f"egov_text({c('applicant_type')})"),
        ("submitted_raw_ts", f"egov_ts({c('submitted_at')}, {tz_param})"),
        ("accepted_at", f"egov_ts({c('accepted_at')}, {tz_param})"),
        ("due_at", f"egov_ts({c('due_at')}, {tz_param})"),
        ("status_raw", f"egov_text({c('status')})"),
        ("promised_days", f"egov_limit_days({c('promised')}, {promised_hint})"),
        ("promised_unit", f"egov_day_unit({c('promised')}, {promised_hint})"),
        ("statutory_days", f"egov_limit_days({c('statutory')}, {statutory_hint})"),
        ("statutory_unit", f"egov_day_unit({c('statutory')}, {statutory_hint})"),
        ("visits", f"egov_count({c('visits')}, {int(settings.MAX_VISITS)})"),
        ("resubmissions", f"egov_count({c('resubmissions')}, {int(settings.MAX_RESUBMISSIONS)})"),
        ("satisfaction", f"egov_satisfaction({c('satisfaction')})"),
        ("delivery", f"egov_text({c('delivery')})"),
        ("applicant_key", _pii_key_sql(mapped)),
    ]


def _bad_time(mapped: Mapping, canonical: str, parsed: str) -> str:
    raw = _col(mapped, canonical)
    return f"({parsed} IS NULL AND NOT egov_is_blank({raw}))"


def _located_sql(checks: list[tuple[str, str | None, str]], mapped: Mapping) -> str:
    """JSON {column, value} of the first failing check that names a column (one CASE: each check once)."""
    located = [(col, cond) for _, col, cond in checks if col is not None]
    if not located:
        return "NULL::JSON"
    return (
        "CASE "
        + " ".join(
            f"WHEN {cond} THEN json_object('column', {_sql_literal(col)}, 'value', egov_text_plain({_col(mapped, col)}))"
            for col, cond in located
        )
        + " END"
    )


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _too_early(expr: str) -> str:
    return f"({expr} < TIMESTAMP '2000-01-01')"


def _in_future(expr: str) -> str:
    """Later than ``$latest``: now (:func:`clock.now`) plus ``settings.FUTURE_TOLERANCE_MINUTES``."""
    return f"({expr} > $latest)"


def _bad_offset(mapped: Mapping, canonical: str, parsed: str) -> str:
    """The raw time was not read because its time-zone offset is impossible (beyond ±14:00, minutes ≥ 60)."""
    raw = _col(mapped, canonical)
    return (
        f"(CASE WHEN {parsed} IS NOT NULL THEN false WHEN egov_is_blank({raw}) THEN false "
        f"ELSE coalesce(egov_offset_bad(egov_time_text({raw})), false) END)"
    )


def _time_checks(mapped: Mapping, times: list[tuple[str, str]]) -> list[tuple[str, str | None, str]]:
    """Checks on the mapped timestamp columns ``times`` (column, parsed field), in order:
    an impossible offset, unreadable, before 2000, in the future."""
    times = [(col, parsed) for col, parsed in times if col in mapped.fields]
    return (
        [("bad_offset", col, _bad_offset(mapped, col, parsed)) for col, parsed in times]
        + [("time_out_of_range", col, _too_early(parsed)) for col, parsed in times]
        + [("future_time", col, _in_future(parsed)) for col, parsed in times]
    )


def _field_warnings(mapped: Mapping, fields: list[tuple[str, str, str]]) -> list[tuple[str, str, str, str]]:
    """Warnings for the mapped optional ``fields`` (code, column, parsed field): (code, column, parsed field,
    the macro telling an empty value). A warning holds where the column has something — not blank, not a
    placeholder such as - / 无 (for satisfaction, not 未评价 either) — that did not become a value."""
    return [
        (code, col, parsed, "egov_unrated" if col == "satisfaction" else "egov_placeholder")
        for code, col, parsed in fields
        if col in mapped.fields
    ]


#: The optional fields of a case (in a case file, or as an event file's case attributes) read with a warning.
_CASE_WARNINGS = [
    ("bad_promised_limit", "promised", "promised_days"),
    ("bad_statutory_limit", "statutory", "statutory_days"),
    ("bad_visits", "visits", "visits"),
    ("bad_resubmissions", "resubmissions", "resubmissions"),
    ("bad_satisfaction", "satisfaction", "satisfaction"),
]


def _raw_labels(mapped: Mapping, columns: list[str]) -> list[str]:
    """The labels of a rejected row's raw fields (the file's own headers): bound as ``$raw_labels``."""
    fields = sorted(mapped.fields.items(), key=lambda kv: kv[1])
    return [columns[index] or FIELD_LABELS_ZH.get(canonical, canonical) for canonical, index in fields]


def _raw_json_sql(mapped: Mapping) -> str:
    """A rejected row's mapped fields as JSON keyed by the file's headers, which stay bound parameters."""
    fields = sorted(mapped.fields.items(), key=lambda kv: kv[1])
    parts = [f"$raw_labels[{n}], egov_text_plain(c{int(index)})" for n, (_, index) in enumerate(fields, start=1)]
    return f"json_object({', '.join(parts)})" if parts else "NULL::JSON"


def _encoding_check(mapped: Mapping, may_hold_replacement: bool = True) -> str:
    cols = sorted(set(mapped.fields.values()))
    if not cols or not may_hold_replacement:
        return "false"
    return "(" + " OR ".join(f"coalesce(contains(c{int(i)}, '\ufffd'), false)" for i in cols) + ")"


def _footer_sql(mapped: Mapping, info: SourceInfo) -> str:
    """合计/总计 rows (in the first column or the id column) and wholly blank rows are skipped."""
    first = "c0"
    ident = _col(mapped, "case_id") if "case_id" in mapped.fields else _col(mapped, "item_name")
    footer = r"'^\s*(合\s*计|总\s*计|小\s*计|总数|合计[:：].*|total)\s*[:：]?\s*$'"
    cols = sorted(set(mapped.fields.values()))
    # Nested CASE, not AND / OR: in a SELECT list DuckDB evaluates every operand of AND / OR for every row,
    # while CASE looks at the next column only for the rows still blank (on most rows, only the first).
    blank = "true" if cols else "false"
    for i in reversed(cols):
        blank = f"CASE WHEN egov_is_blank(c{int(i)}) THEN {blank} ELSE false END"
    # The pattern needs 计, 总数 or total (any case) in the value: test that first, without lower() or a regex.
    maybe = "contains({c}, '计') OR contains({c}, '总数') OR contains({c}, 't') OR contains({c}, 'T')"
    total = "CASE WHEN {m} THEN regexp_matches(coalesce(lower({c}), ''), {f}) ELSE false END"
    return (
        f"({total.format(m=maybe.format(c=first), c=first, f=footer)} "
        f"OR {total.format(m=maybe.format(c=ident), c=ident, f=footer)} OR ({blank}))"
    )


@dataclass
class Validation:
    """What validation found, before anything is written."""

    loaded: int
    rejected: int
    skipped: int
    by_reason: dict[str, int]
    #: Loading rows with a field left empty, and the warnings per reason (a row may have several).
    warned: int = 0
    warned_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.loaded + self.rejected


def _normalise_and_count(
    cur: duckdb.DuckDBPyConnection, db: Database, info: SourceInfo, mapped: Mapping, source: Source | None = None
) -> Validation:
    """Normalise and validate the source rows into ``_norm``; count good, rejected and skipped rows.

    ``source`` is where the rows come from (default: the staged ``_stage``).
    """
    source = source or Source(info)
    params = {
        "tz": settings.timezone(),
        "salt": db.secret_salt(),
        "latest": clock.now() + dt.timedelta(minutes=settings.FUTURE_TOLERANCE_MINUTES),
    }
    normaliser = {"catalog": _normalise_catalog, "events": _normalise_events, "cases": _normalise_cases}
    normaliser[mapped.kind](cur, mapped, info, params, source)
    counts = dict(
        cur.execute(
            "SELECT coalesce(reason, CASE WHEN is_skip THEN '_skip' ELSE '_ok' END) AS r, count(*) FROM _norm_t GROUP BY r"
        ).fetchall()
    )
    skipped = counts.pop("_skip", 0) + info.skipped_rows
    loaded = counts.pop("_ok", 0)
    by_reason = dict(counts)
    if info.malformed:
        by_reason["malformed_line"] = by_reason.get("malformed_line", 0) + len(info.malformed)
    warned = cur.execute(f"SELECT count(*) FROM _norm_t WHERE _warn IS NOT NULL AND {_VALID}").fetchone()[0]
    warned_by_reason = dict(
        cur.execute(
            f"""SELECT w.code, count(*) FROM (SELECT unnest(_warn) AS w FROM _norm_t WHERE _warn IS NOT NULL AND {_VALID})
                GROUP BY ALL ORDER BY 2 DESC, 1"""
        ).fetchall()
        if warned
        else []
    )
    return Validation(loaded, sum(by_reason.values()), skipped, by_reason, int(warned), warned_by_reason)


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
) -> IngestResult:
    kind = mapped.kind
    checked = _normalise_and_count(cur, db, info, mapped, source)
    loaded, rejected, skipped, by_reason, total = (
        checked.loaded,
        checked.rejected,
        checked.skipped,
        checked.by_reason,
        checked.total,
    )
    _refuse_if_unusable(checked, max_rows)

    report("write", 0.6)
    upload_id = cur.execute("SELECT nextval('upload_id_seq')").fetchone()[0]
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
    )
    if kind == "catalog":
        _write_catalog(cur, upload_id)
    elif kind == "events":
        result.events_loaded, result.cases_loaded = _write_events(cur, upload_id, mapped)
    else:
        result.cases_loaded = _write_cases(cur, upload_id)
    result.rows_superseded = _superseded(cur, upload_id, kind)
    report("finish", 0.9)
    if kind != "catalog":
        facets.refresh(cur)
    _write_rejects(cur, upload_id, info)
    _write_field_warnings(cur, upload_id)
    warnings += result_messages(result)
    cur.execute(
        """
        INSERT INTO uploads (upload_id, file_name, sha256, kind, file_format, encoding, sheet, header_row, mapping,
                             rows_total, rows_loaded, rows_rejected, rows_skipped, cases_loaded, events_loaded,
                             warnings, loaded_by, loaded_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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
        ],
    )
    return result


def _superseded(cur: duckdb.DuckDBPyConnection, upload_id: int, kind: str) -> int:
    """Rows of this upload that lost to a version already held (see :func:`refresh_current_cases`)."""
    if kind == "catalog":
        return 0
    table = "event_rows" if kind == "events" else "case_rows"
    return int(
        cur.execute(f"SELECT count(*) FROM {table} WHERE upload_id = ? AND NOT is_current", [upload_id]).fetchone()[0]
    )


def short_reason(code: str, lang: str = "zh") -> str:
    """A reason's first clause ("满意度无法识别或不在 1–5 分之间"), for lists that say the rest once."""
    zh, en = REASONS.get(code, (code, code))
    return zh.split("，")[0] if lang == "zh" else en.split(";")[0]


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


def _refuse_if_unusable(checked: Validation, max_rows: int | None = None) -> None:
    total, rejected = checked.total, checked.rejected
    if total == 0:
        raise IngestRefused("no_rows", "文件中没有数据行（只有表头）", "the file has no data rows (header only)")
    if max_rows is not None and total > max_rows:
        raise IngestRefused(
            "too_many_rows",
            f"文件有 {total:,} 行数据，超过每个文件 {max_rows:,} 行的上限，整个文件未导入。请按月份拆分后分别上传。",
            f"the file has {total:,} data rows, over the limit of {max_rows:,} rows per file; nothing was loaded. "
            "Split it (e.g. by month) and upload the parts.",
        )
    if checked.loaded == 0 or rejected / total > settings.MAX_REJECTED_SHARE:
        top = sorted(checked.by_reason.items(), key=lambda kv: -kv[1])[:3]
        zh = "；".join(f"{REASONS.get(r, (r, r))[0]} {n} 行" for r, n in top)
        en = "; ".join(f"{REASONS.get(r, (r, r))[1]}: {n} rows" for r, n in top)
        raise IngestRefused(
            "mostly_rejected",
            f"{rejected}/{total} 行未通过校验，超过一半，整个文件未导入。主要原因：{zh}",
            f"{rejected} of {total} rows failed validation (more than half); the file was not loaded. Top reasons: {en}",
        )


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


def _run(cur: duckdb.DuckDBPyConnection, sql: str, params: dict) -> None:
    """Execute with only the named parameters the statement uses (DuckDB refuses extras)."""
    cur.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


_COLUMN_REF = re.compile(r"\bc\d+\b")


def _build_norm(
    cur: duckdb.DuckDBPyConnection,
    mapped: Mapping,
    info: SourceInfo,
    source: Source,
    layers: list[list[tuple[str, str]]],
    is_skip: str,
    checks: list[tuple[str, str | None, str]],
    duplicate_key: str,
    params: dict,
    candidate_key: str | None = None,
    warnings: list[tuple[str, str, str, str]] | None = None,
) -> None:
    """Normalise, check and number the source rows in one pass: ``_norm_t``, read through the view ``_norm``.

    ``layers`` are lists of (field, SQL) evaluated in turn (a later layer may use earlier fields).
    Each row gets its first failing check's reason; later repeats of a valid row's
    ``duplicate_key`` are then flagged ``duplicate_in_file``. Fields that do not depend on the
    file (unmapped ones, constant NULL) are not stored but added by the view, as is the channel
    (looked up once per distinct raw value) and, for a CSV read in place, the row number.
    The row's raw fields (``raw``) and the offending value are kept for rejected rows only.

    ``candidate_key`` (a prefix of ``duplicate_key``; events: case and step) groups the rows whose
    repeats are looked at: duplicates and, for events, a step's later occurrences in a case
    (``_occ``, NULL for a first occurrence).

    ``warnings`` (see :func:`_field_warnings`) do not reject a row: a valid row whose conditions hold gets
    their codes, columns and raw values in ``_warn`` (NULL on every other row), its field left empty.
    """
    params = dict(params, **source.params, raw_labels=_raw_labels(mapped, info.columns))
    occurrences = candidate_key is not None
    candidate_key = candidate_key or duplicate_key
    used = sorted({0} | set(mapped.fields.values()) | set(mapped.pii.values()))  # c0 for the 合计 check
    raw_cols = [f"c{int(i)}" for i in used]
    channel_src = (
        f"c{int(mapped.fields['channel'])}" if "channel" in mapped.fields and mapped.kind != "catalog" else None
    )
    if channel_src:  # looked up once per distinct raw value by the view, not per row
        layers = [[(n, e) for n, e in layer if n != "channel"] for layer in layers]
    constant = _constant_nulls(cur, layers, params)
    inner = f"SELECT {', '.join((['_row'] if source.numbered else []) + raw_cols)} FROM {source.relation}"
    for layer in layers:
        inner = f"SELECT *, {', '.join(f'{expr} AS {name}' for name, expr in layer)} FROM ({inner})"
    inner = f"SELECT *, {is_skip} AS is_skip{f', {channel_src} AS _channel_src' if channel_src else ''} FROM ({inner})"
    dropped = ", ".join([*raw_cols, *constant, "reason0"])
    reason = "CASE " + " ".join(f"WHEN {cond} THEN '{code}'" for code, _, cond in checks) + " END"
    cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
    try:
        # A rejected row keeps its offending column and value and its raw fields, packed in one JSON
        # value (NULL on the other rows: one slot instead of three); a valid row keeps the hash of its
        # duplicate key, so that repeats are found without reading the rows again.
        _run(
            cur,
            f"""
            CREATE OR REPLACE TEMP TABLE _norm_t AS
            SELECT * EXCLUDE ({dropped}),
                   CASE WHEN is_skip THEN NULL ELSE reason0 END AS reason,
                   CASE WHEN reason0 IS NULL AND NOT is_skip THEN hash({candidate_key}) END AS _h,
                   {"NULL::INTEGER AS _occ," if occurrences else ""}
                   CASE WHEN reason0 IS NOT NULL AND NOT is_skip
                        THEN json_object('at', {_located_sql(checks, mapped)}, 'raw', {_raw_json_sql(mapped)})
                   END AS _reject,
                   {_warn_sql(warnings or [], mapped)} AS _warn
            FROM (SELECT *, {reason} AS reason0 FROM ({inner}))
            """,
            params,
        )
    except duckdb.Error as exc:
        if source.numbered:
            raise
        raise IngestRefused("unreadable_csv", f"CSV 无法解析：{_first_line(exc)}", f"cannot parse CSV: {exc}") from exc
    source.finish(cur)
    info.rows_read = cur.execute("SELECT count(*) FROM _norm_t").fetchone()[0]
    base = _norm_view(cur, source, constant, channel_src is not None)
    _flag_duplicates(cur, mapped, info, source, duplicate_key, params, base)
    if occurrences:
        # The n-th occurrence of a step in a case (n > 1: rework), among the rows whose (case, step) repeats.
        cur.execute(
            f"""
            UPDATE _norm_t SET _occ = o.occ
            FROM (SELECT _rid, row_number() OVER (PARTITION BY {candidate_key} ORDER BY event_time, _row) AS occ
                  FROM _cand WHERE _rid NOT IN (SELECT _rid FROM _dup)) o
            WHERE _norm_t.rowid = o._rid + {int(base)} AND o.occ > 1
            """
        )


_WARN_TYPE = "STRUCT(code VARCHAR, col VARCHAR, val VARCHAR)[]"


def _warn_sql(warnings: list[tuple[str, str, str, str]], mapped: Mapping) -> str:
    """A valid row's failing warnings as a list of {code, col, val} (NULL when none): see :func:`_build_norm`.

    Cheap for the usual row: a raw value that became a value (or is NULL) is all it looks at. The raw value's
    other tests run in a lambda, where they cannot be hoisted and computed for every row.
    """
    if not warnings:
        return f"NULL::{_WARN_TYPE}"
    maybe = [
        (code, col, f"({parsed} IS NULL AND {_col(mapped, col)} IS NOT NULL)", empty)
        for code, col, parsed, empty in warnings
    ]
    items = ", ".join(
        f"CASE WHEN {guard} THEN list_transform([{_col(mapped, col)}], lambda r: CASE WHEN egov_is_blank(r) OR {empty}(r) "
        f"THEN NULL ELSE {{'code': {_sql_literal(code)}, 'col': {_sql_literal(col)}, 'val': egov_text_plain(r)}} END)[1] END"
        for code, col, guard, empty in maybe
    )
    any_maybe = " OR ".join(guard for _, _, guard, _ in maybe)
    return (
        f"CASE WHEN reason0 IS NOT NULL OR is_skip THEN NULL WHEN {any_maybe} THEN list_transform("
        f"[list_filter([{items}], lambda w: w IS NOT NULL)], lambda l: CASE WHEN len(l) > 0 THEN l END)[1] "
        f"END::{_WARN_TYPE}"
    )


def _constant_nulls(
    cur: duckdb.DuckDBPyConnection, layers: list[list[tuple[str, str]]], params: dict
) -> dict[str, str]:
    """Fields that are NULL whatever the file holds (unmapped ones): field -> typed NULL."""
    out = {}
    for layer in layers[:1]:  # later layers use earlier fields
        for name, expr in layer:
            if _COLUMN_REF.search(expr):
                continue
            sql = f"SELECT typeof({expr}), ({expr}) IS NULL"
            type_name, is_null = cur.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchone()
            if is_null and re.fullmatch(r"[A-Z]+(\(\d+,\s*\d+\))?", type_name):
                out[name] = f"NULL::{type_name}"
    return out


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]


def _norm_view(cur: duckdb.DuckDBPyConnection, source: Source, constant: dict[str, str], channel: bool) -> int:
    """``_norm``: the stored rows with their row number, constant fields, channel and ``_rid`` (0-based position).

    Returns the rowid of the first stored row (positions are ``rowid`` minus it).
    """
    base = int(cur.execute("SELECT coalesce(min(rowid), 0) FROM _norm_t").fetchone()[0])
    rid = f"(n.rowid - {base})"
    columns = [
        "n.* EXCLUDE (_reject)",
        *(f"{expr} AS {name}" for name, expr in constant.items()),
        "json_extract_string(n._reject, '$.at.column') AS reason_column",
        "json_extract_string(n._reject, '$.at.value') AS reason_value",
        "json_extract(n._reject, '$.raw') AS raw",
        f"{rid} AS _rid",
    ]
    relation = "_norm_t n"
    if channel:
        cur.execute(
            f"""CREATE OR REPLACE TEMP TABLE _channel_map AS
                SELECT raw, {channel_sql("raw")} AS channel
                FROM (SELECT DISTINCT _channel_src AS raw FROM _norm_t WHERE _channel_src IS NOT NULL)"""
        )
        relation += " LEFT JOIN _channel_map cm ON cm.raw = n._channel_src"
        columns.append("cm.channel AS channel")
    if not source.numbered:
        if cur.execute("SELECT count(*) FROM _rej_slots").fetchone()[0]:
            # Lines the CSV reader rejected have numbers too: later rows shift past them.
            relation += f" ASOF LEFT JOIN _rej_slots rs ON {rid} >= rs.slot"
            columns.append(f"({rid} + {int(source.first_row)} + coalesce(rs.shift, 0))::INTEGER AS _row")
        else:
            columns.append(f"({rid} + {int(source.first_row)})::INTEGER AS _row")
    cur.execute(f"CREATE OR REPLACE TEMP VIEW _norm AS SELECT {', '.join(columns)} FROM {relation}")
    return base


def _flag_duplicates(
    cur: duckdb.DuckDBPyConnection,
    mapped: Mapping,
    info: SourceInfo,
    source: Source,
    key: str,
    params: dict,
    base: int,
) -> None:
    """Later repeats of a valid row's ``key`` become ``duplicate_in_file``; equal keys are found by hash first."""
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _repeated AS SELECT _h FROM _norm_t WHERE _h IS NOT NULL GROUP BY _h HAVING count(*) > 1"
    )
    # The candidates: valid rows whose key (or its case and step) hash repeats — usually a few percent.
    cur.execute("CREATE OR REPLACE TEMP TABLE _cand AS SELECT * FROM _norm WHERE _h IN (SELECT _h FROM _repeated)")
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _dup AS
        SELECT _rid FROM (SELECT _rid, row_number() OVER (PARTITION BY {key} ORDER BY _row) AS rn FROM _cand)
        WHERE rn > 1
        """
    )
    if not cur.execute("SELECT count(*) FROM _dup").fetchone()[0]:
        return
    raw = _raw_json_sql(mapped)
    cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")  # already collected
    if source.numbered:
        rows = f"""SELECT n._rid, {raw} AS raw FROM {source.relation} s
                   JOIN (SELECT _rid, _row FROM _norm WHERE _rid IN (SELECT _rid FROM _dup)) n ON n._row = s._row"""
    else:
        rows = f"""SELECT _rid, {raw} AS raw FROM (SELECT *, row_number() OVER () - 1 AS _rid FROM {source.relation})
                   WHERE _rid IN (SELECT _rid FROM _dup)"""
    _run(
        cur,
        f"""
        UPDATE _norm_t SET reason = 'duplicate_in_file', _h = NULL, _reject = json_object('at', NULL, 'raw', d.raw)
        FROM ({rows}) d
        WHERE _norm_t.rowid = d._rid + {int(base)}
        """,
        dict(params, **source.params),
    )


def _normalise_cases(
    cur: duckdb.DuckDBPyConnection, mapped: Mapping, info: SourceInfo, params: dict, source: Source
) -> None:
    completed = f"egov_ts({_col(mapped, 'completed_at')}, $tz)"
    checks = [
        ("bad_encoding", None, _encoding_check(mapped, source.may_hold_replacement)),
        ("missing_id", "case_id", "case_id IS NULL"),
        ("bad_time", "submitted_at", _bad_time(mapped, "submitted_at", "submitted_raw_ts")),
        ("bad_time", "accepted_at", _bad_time(mapped, "accepted_at", "accepted_at")),
        ("bad_time", "completed_at", _bad_time(mapped, "completed_at", "completed_at")),
        ("bad_time", "due_at", _bad_time(mapped, "due_at", "due_at")),
        ("missing_time", "submitted_at", "submitted_at IS NULL"),
        *_time_checks(
            mapped,
            [("submitted_at", "submitted_raw_ts"), ("accepted_at", "accepted_at"), ("completed_at", "completed_at")],
        ),
        ("completed_before_submitted", "completed_at", "completed_at < submitted_at"),
        ("accepted_before_submitted", "accepted_at", "accepted_at < submitted_at"),
    ]
    # An impossible offset is named as such, not as an unreadable time: it comes before that column's bad_time.
    offsets = [c for c in checks if c[0] == "bad_offset"]
    checks = [c for c in checks if c[0] != "bad_offset"]
    first_bad_time = next(i for i, c in enumerate(checks) if c[0] == "bad_time")
    checks[first_bad_time:first_bad_time] = offsets + [_due_offset(mapped)]
    layers = [
        _case_fields(mapped),
        [("submitted_at", "coalesce(submitted_raw_ts, accepted_at)"), ("completed_at", completed)],
    ]
    warnings = _field_warnings(mapped, _CASE_WARNINGS)
    _build_norm(
        cur, mapped, info, source, layers, _footer_sql(mapped, info), checks, "case_id", params, warnings=warnings
    )


def _due_offset(mapped: Mapping) -> tuple[str, str | None, str]:
    """A given due date with an impossible offset (due dates lie ahead by nature: never ``future_time``)."""
    return ("bad_offset", "due_at", _bad_offset(mapped, "due_at", "due_at") if "due_at" in mapped.fields else "false")


def _normalise_events(
    cur: duckdb.DuckDBPyConnection, mapped: Mapping, info: SourceInfo, params: dict, source: Source
) -> None:
    c = lambda f: _col(mapped, f)  # noqa: E731
    lifecycle = c("lifecycle")
    not_complete = (
        f"(NOT egov_is_blank({lifecycle}) AND lower(trim({lifecycle})) NOT IN {tuple(COMPLETE_LIFECYCLES)!r})"
    )
    times = _time_checks(
        mapped,
        [
            ("event_time", "event_time"),
            ("started_at", "started_at"),
            ("submitted_at", "submitted_raw_ts"),
            ("accepted_at", "accepted_at"),
            ("completed_at", "case_completed_at"),
        ],
    )
    # Before 2000 stays a check on the event's own time only, as it always was; the future is checked on all.
    early = [t for t in times if t[0] == "time_out_of_range" and t[1] == "event_time"]
    checks = [
        ("bad_encoding", None, _encoding_check(mapped, source.may_hold_replacement)),
        ("missing_id", "case_id", "case_id IS NULL"),
        ("missing_step", "step", "step IS NULL"),
        ("missing_time", "event_time", f"egov_is_blank({c('event_time')})"),
        *[t for t in times if t[0] == "bad_offset"],
        _due_offset(mapped),
        ("bad_time", "event_time", _bad_time(mapped, "event_time", "event_time")),
        ("bad_time", "started_at", _bad_time(mapped, "started_at", "started_at")),
        *early,
        *[t for t in times if t[0] == "future_time"],
        ("started_after_completed", "started_at", "started_at > event_time"),
    ]
    fields = _case_fields(mapped) + [
        ("step", f"egov_text({c('step')})"),
        ("step_department", f"egov_text({c('step_department')})"),
        ("handler", f"egov_text({c('handler')})"),
        ("event_time", f"egov_ts({c('event_time')}, $tz)"),
        ("started_at", f"egov_ts({c('started_at')}, $tz)"),
        ("lifecycle", f"egov_clean({lifecycle})"),
        ("case_completed_at", f"egov_ts({c('completed_at')}, $tz)"),
        (
            "case_submitted_at",
            f"coalesce(egov_ts({c('submitted_at')}, $tz), egov_ts({c('accepted_at')}, $tz))",
        ),
    ]
    is_skip = f"({_footer_sql(mapped, info)} OR {not_complete})"
    key = "case_id, step, event_time, started_at, step_department, handler"
    warnings = _field_warnings(mapped, _CASE_WARNINGS)
    _build_norm(
        cur,
        mapped,
        info,
        source,
        [fields],
        is_skip,
        checks,
        key,
        params,
        candidate_key="case_id, step",
        warnings=warnings,
    )


def _normalise_catalog(
    cur: duckdb.DuckDBPyConnection, mapped: Mapping, info: SourceInfo, params: dict, source: Source
) -> None:
    c = lambda f: _col(mapped, f)  # noqa: E731
    checks = [
        ("bad_encoding", None, _encoding_check(mapped, source.may_hold_replacement)),
        ("missing_item", "item_name", "item_name IS NULL AND item_code IS NULL"),
    ]
    fields = [
        ("item_code", f"egov_text({c('item_code')})"),
        ("item_name", f"coalesce(egov_text({c('item_name')}), egov_text({c('item_code')}))"),
        ("department", f"egov_text({c('department')})"),
        ("online_capable", f"egov_bool({c('online_capable')})"),
        ("fully_online_capable", f"egov_bool({c('fully_online_capable')})"),
        ("promised_days", f"egov_limit_days({c('promised')}, {_hint(mapped, 'promised')})"),
        ("promised_unit", f"egov_day_unit({c('promised')}, {_hint(mapped, 'promised')})"),
        ("statutory_days", f"egov_limit_days({c('statutory')}, {_hint(mapped, 'statutory')})"),
        ("statutory_unit", f"egov_day_unit({c('statutory')}, {_hint(mapped, 'statutory')})"),
        ("max_visits", f"egov_count({c('max_visits')}, {int(settings.MAX_VISITS)})"),
    ]
    key = "coalesce(item_code, item_name)"
    warnings = _field_warnings(
        mapped,
        [
            ("bad_promised_limit", "promised", "promised_days"),
            ("bad_statutory_limit", "statutory", "statutory_days"),
            ("bad_visits", "max_visits", "max_visits"),
        ],
    )
    _build_norm(cur, mapped, info, source, [fields], _footer_sql(mapped, info), checks, key, params, warnings=warnings)


def _hint(mapped: Mapping, canonical: str) -> str:
    """The unit the column's header names (承诺时限（工作日）) as a SQL literal, or NULL."""
    hint = mapped.unit_hints.get(canonical)
    return _sql_literal(hint) if hint in ("working", "natural") else "NULL"


# --- writing -----------------------------------------------------------------------------------

_CASE_STATUS = """CASE WHEN egov_status_word(status_raw) IS NOT NULL THEN egov_status_word(status_raw)
                       WHEN completed_at IS NOT NULL THEN 'completed' ELSE 'open' END"""

#: case_rows columns in insert order; the derived figures are filled by ``with_derived``.
_CASE_ROW_COLUMNS = """case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, status, status_raw, promised_days, promised_unit,
            statutory_days, statutory_unit, due_at, due_at_source, visits, resubmissions, satisfaction, delivery,
            applicant_key, processing_days_natural, processing_days_working, source, source_row, upload_id, is_current,
            case_key"""

#: The case columns of a row set holding the ``_norm`` fields, as ``_insert_cases`` wants them.
_CASE_SELECT = f"""case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, {_CASE_STATUS} AS status, status_raw, promised_days,
            promised_unit, statutory_days, statutory_unit, due_at,
            CASE WHEN due_at IS NOT NULL THEN 'given' END AS due_at_source, visits,
            resubmissions, satisfaction, delivery, applicant_key, NULL::DOUBLE AS processing_days_natural,
            NULL::DOUBLE AS processing_days_working"""


def _insert_cases(cur: duckdb.DuckDBPyConnection, select_sql: str, params: list | dict) -> int:
    """Insert case rows (with their due dates and processing times) from a SELECT of the other columns."""
    return int(
        cur.execute(
            f"INSERT INTO case_rows ({_CASE_ROW_COLUMNS}) SELECT {_CASE_ROW_COLUMNS} FROM ({with_derived(select_sql)})",
            params,
        ).fetchone()[0]
    )


def _assign_case_keys(cur: duckdb.DuckDBPyConnection, table: str) -> None:
    """``_case_keys`` (case_id, case_key) for the cases of the temp ``table`` (case_id, first_row, …).

    A case keeps the key it has; new cases are numbered in the order they first appear in the file,
    after every key in use. (Narrow on purpose: ``table`` may be wide and large.)
    """
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _case_keys AS
        SELECT case_id, coalesce(known, (SELECT coalesce(max(case_key), 0) FROM case_rows)
               + row_number() OVER (PARTITION BY known IS NULL ORDER BY first_row)) AS case_key
        FROM (
            SELECT t.case_id, t.first_row, k.case_key AS known FROM {table} t
            LEFT JOIN (SELECT case_id, min(case_key) AS case_key FROM case_rows
                       WHERE case_key IS NOT NULL AND case_id IN (SELECT case_id FROM {table})
                       GROUP BY case_id) k USING (case_id)
        )
        """
    )


def _write_cases(cur: duckdb.DuckDBPyConnection, upload_id: int) -> int:
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _case_firsts AS
           SELECT case_id, _row AS first_row FROM _norm WHERE reason IS NULL AND NOT is_skip"""
    )
    _assign_case_keys(cur, "_case_firsts")
    count = _insert_cases(
        cur,
        f"""
        SELECT {_CASE_SELECT}, 'case_file' AS source, _row AS source_row,
            ?::INTEGER AS upload_id, true AS is_current, k.case_key
        FROM _norm JOIN _case_keys k USING (case_id) WHERE reason IS NULL AND NOT is_skip
        """,
        [upload_id],
    )
    _touch(cur, upload_id)
    refresh_current_cases(cur, "_contested")
    fill_derived(cur, upload_id)
    return count


def _touch(cur: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    """``_touched``: the cases this upload brought; ``_contested``: those of them with another version.

    Only contested cases can change which version counts: a case seen for the first time has one
    version (and, if it has events, one upload of them), inserted as the current one.
    """
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT case_id FROM case_rows WHERE upload_id = ?",
        [upload_id],
    )
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _contested AS
           SELECT DISTINCT case_id FROM case_rows
           WHERE upload_id <> ? AND case_id IN (SELECT case_id FROM _touched)""",
        [upload_id],
    )


_VALID = "reason IS NULL AND NOT is_skip"

#: event_rows columns in insert order (the derived ones last).
_EVENT_ROW_COLUMNS = """case_id, step, department, handler, started_at, completed_at, lifecycle, seq, source_row,
                        upload_id, is_current, case_key, pos, n_events, prev_completed_at, prev_step, step_occurrence,
                        prev_known_department, prev_known_completed_at"""


def _aggregate_event_cases(cur: duckdb.DuckDBPyConnection, mapped: Mapping | None = None) -> None:
    """``_case_agg``: one case per case id of an event file's valid rows in ``_norm`` (temp tables only).

    Apart from :func:`_write_events` so that the upload preview (ingest/impact.py) derives exactly the cases
    a load would, without writing.
    """
    # What the step names say, worked out once per distinct step rather than per event.
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _step_flags AS
        SELECT step, regexp_matches(lower(step), $ends) AS ends_case, regexp_matches(step, '补正|补齐|补件') AS resubmission
        FROM (SELECT DISTINCT step FROM _norm WHERE {_VALID})
        """,
        {"ends": COMPLETION_STEPS},
    )
    uses_completion_steps = bool(
        cur.execute("SELECT coalesce(bool_or(ends_case), false) FROM _step_flags").fetchone()[0]
    )
    # Derive each case from its events; attributes the event file carries (case:* or 事项名称 …) fill in.
    # Attributes the file does not have are NULL whatever the events say: not aggregated at all.
    has = _case_attributes(mapped)

    def first(col: str, kind: str = "VARCHAR") -> str:
        return f"arg_min({col}, _row) FILTER ({col} IS NOT NULL)" if has(col) else f"NULL::{kind}"

    def top(agg: str, col: str, kind: str) -> str:
        return f"{agg}({col})" if has(col) else f"NULL::{kind}"

    given_completed = top("max", "case_completed_at", "TIMESTAMP")
    _run(
        cur,
        f"""
        CREATE OR REPLACE TEMP TABLE _case_agg AS
        SELECT case_id,
            {first("service_item")} AS service_item,
            {first("item_code")} AS item_code,
            coalesce({first("department")}, arg_max(step_department, event_time)) AS department,
            {first("channel")} AS channel,
            {first("channel_raw")} AS channel_raw,
            {first("applicant_type")} AS applicant_type,
            coalesce({top("min", "case_submitted_at", "TIMESTAMP")}, min(coalesce(started_at, event_time)))
                AS submitted_at,
            {top("min", "accepted_at", "TIMESTAMP")} AS accepted_at,
            CASE WHEN {given_completed} IS NOT NULL THEN {given_completed}
                 WHEN $uses AND NOT bool_or(f.ends_case) THEN NULL
                 ELSE max(event_time) END AS completed_at,
            coalesce({first("status_raw").replace("arg_min", "arg_max")}, arg_max(step, event_time)) AS status_raw,
            {first("promised_days", "DOUBLE")} AS promised_days,
            {first("promised_unit")} AS promised_unit,
            {first("statutory_days", "DOUBLE")} AS statutory_days,
            {first("statutory_unit")} AS statutory_unit,
            {top("max", "due_at", "TIMESTAMP")} AS due_at, {top("max", "visits", "INTEGER")} AS visits,
            coalesce({top("max", "resubmissions", "INTEGER")}, count(*) FILTER (f.resubmission)) AS resubmissions,
            {top("max", "satisfaction", "INTEGER")} AS satisfaction,
            {first("delivery")} AS delivery,
            {first("applicant_key")} AS applicant_key,
            min(_row) AS first_row,
            count(*)::INTEGER AS events,
            min(coalesce(least(started_at, event_time), event_time)) AS first_at,
            max(event_time) AS last_at
        FROM _norm JOIN _step_flags f USING (step)
        WHERE {_VALID}
        GROUP BY case_id
        """,
        {"uses": uses_completion_steps},
    )


def _write_events(cur: duckdb.DuckDBPyConnection, upload_id: int, mapped: Mapping | None = None) -> tuple[int, int]:
    _aggregate_event_cases(cur, mapped)
    _assign_case_keys(cur, "_case_agg")
    cases = _insert_cases(
        cur,
        f"""
        SELECT {_CASE_SELECT}, 'events' AS source, first_row AS source_row,
            $upload::INTEGER AS upload_id, true AS is_current, k.case_key
        FROM _case_agg JOIN _case_keys k USING (case_id)
        """,
        {"upload": upload_id},
    )
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _case_events AS
           SELECT case_id, k.case_key, a.events FROM _case_agg a JOIN _case_keys k USING (case_id)"""
    )
    cur.execute(
        """INSERT INTO case_spans SELECT ?, k.case_key, case_id, events, first_at, last_at, true
           FROM _case_agg JOIN _case_keys k USING (case_id)""",
        [upload_id],
    )
    events = _insert_events(cur, upload_id, cases)
    _touch(cur, upload_id)
    refresh_current_events(cur, "_contested")
    refresh_current_cases(cur, "_contested")
    fill_derived(cur, upload_id)
    return int(events), int(cases)


def _insert_events(cur: duckdb.DuckDBPyConnection, upload_id: int, cases: int, *, streaming: bool | None = None) -> int:
    """Insert the upload's valid events with the figures derived from their case's other events.

    Each event's position, predecessor and repeat count come from the events of its case in this
    upload, ordered by completion time, then file order (``_row``). In the usual export, where each
    case's events are consecutive lines in time order, that is the file order itself, read once in
    sequence; otherwise the events are partitioned and sorted by case (same figures, more work).
    ``streaming`` forces one way (tests compare both).
    """
    if streaming is None:
        runs, in_order, unknown_department = cur.execute(
            f"""
            SELECT count(*) FILTER (WHERE new_case), coalesce(bool_and(new_case OR event_time >= prev_time), true),
                   count(*) FILTER (WHERE step_department IS NULL)
            FROM (SELECT event_time, step_department,
                         case_id IS DISTINCT FROM lag(case_id) OVER () AS new_case, lag(event_time) OVER () AS prev_time
                  FROM _norm WHERE {_VALID})
            """
        ).fetchone()
        streaming = runs == cases and bool(in_order) and unknown_department == 0
    columns = f"INSERT INTO event_rows ({_EVENT_ROW_COLUMNS})"
    if streaming:
        sql = f"""{columns}
        SELECT s.case_id, s.step, s.step_department, s.handler, s.started_at, s.event_time, s.lifecycle, s._row, s._row,
               $upload, true, a.case_key, s.pos, a.events, s.prev_time, s.prev_step,
               coalesce(s._occ, 1), s.prev_department, NULL
        FROM (
            SELECT *, (i - max(CASE WHEN new_case THEN i END) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                       + 1)::INTEGER AS pos
            FROM (
                SELECT n.*, row_number() OVER () AS i,
                       n.case_id IS DISTINCT FROM lag(n.case_id) OVER () AS new_case,
                       CASE WHEN n.case_id = lag(n.case_id) OVER () THEN lag(n.event_time) OVER () END AS prev_time,
                       CASE WHEN n.case_id = lag(n.case_id) OVER () THEN lag(n.step) OVER () END AS prev_step,
                       CASE WHEN n.case_id = lag(n.case_id) OVER () THEN lag(n.step_department) OVER () END
                           AS prev_department
                FROM (SELECT * FROM _norm WHERE {_VALID}) n
            )
        ) s JOIN _case_events a USING (case_id)
        """
    else:
        sql = f"""{columns}
        SELECT n.case_id, n.step, n.step_department, n.handler, n.started_at, n.event_time, n.lifecycle, n._row, n._row,
               $upload, true, a.case_key, pos, a.events, prev_time, prev_step, coalesce(n._occ, 1), prev_known,
               CASE WHEN prev_known_time IS DISTINCT FROM prev_time THEN prev_known_time END
        FROM (
            SELECT n.*, row_number() OVER win AS pos, lag(n.event_time) OVER win AS prev_time,
                   lag(n.step) OVER win AS prev_step, last_value(n.step_department IGNORE NULLS) OVER before AS prev_known,
                   last_value(CASE WHEN n.step_department IS NOT NULL THEN n.event_time END IGNORE NULLS) OVER before
                       AS prev_known_time
            FROM (SELECT * FROM _norm WHERE {_VALID}) n
            WINDOW win AS (PARTITION BY n.case_id ORDER BY n.event_time, n._row),
                   before AS (PARTITION BY n.case_id ORDER BY n.event_time, n._row
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        ) n JOIN _case_events a USING (case_id)
        ORDER BY a.case_key, n.event_time, n._row
        """
    return int(cur.execute(sql, {"upload": upload_id}).fetchone()[0])


#: Case attributes of an event file -> the mapped field they come from (None: always present).
_CASE_ATTRIBUTE_SOURCES: dict[str, tuple[str, ...]] = {
    "service_item": ("service_item",), "item_code": ("item_code",), "department": ("department",),
    "channel": ("channel",), "channel_raw": ("channel",), "applicant_type": ("applicant_type",),
    "case_submitted_at": ("submitted_at", "accepted_at"), "accepted_at": ("accepted_at",),
    "case_completed_at": ("completed_at",), "status_raw": ("status",), "promised_days": ("promised",),
    "promised_unit": ("promised",), "statutory_days": ("statutory",), "statutory_unit": ("statutory",),
    "due_at": ("due_at",), "visits": ("visits",), "resubmissions": ("resubmissions",),
    "satisfaction": ("satisfaction",), "delivery": ("delivery",),
}  # fmt: skip


def _case_attributes(mapped: Mapping | None):
    """Whether a case attribute of an event file can have a value (its source column is mapped)."""

    def has(attribute: str) -> bool:
        if mapped is None:
            return True
        if attribute == "applicant_key":
            return bool(set(mapped.pii) & {"id_number", "phone"})
        return any(f in mapped.fields for f in _CASE_ATTRIBUTE_SOURCES[attribute])

    return has


def _write_catalog(cur: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    cur.execute(
        """
        INSERT INTO service_item_rows
        SELECT item_code, item_name, department, online_capable, fully_online_capable, promised_days, promised_unit,
               statutory_days, statutory_unit, max_visits, _row, ?
        FROM _norm WHERE reason IS NULL AND NOT is_skip
        """,
        [upload_id],
    )


def _write_rejects(cur: duckdb.DuckDBPyConnection, upload_id: int, info: SourceInfo) -> None:
    cur.execute(
        """
        INSERT INTO rejected_rows
        SELECT ?, _row, reason, reason_column, reason_value, raw FROM _norm WHERE reason IS NOT NULL
        """,
        [upload_id],
    )
    if info.malformed:
        # The parser's message only: a malformed line's text may hold personal data we cannot map.
        cur.executemany(
            "INSERT INTO rejected_rows VALUES (?, ?, 'malformed_line', NULL, ?, NULL)",
            [(upload_id, row, message[:300]) for row, message, _ in info.malformed],
        )


def _write_field_warnings(cur: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    """Each warning of a loaded row: its row number, code, column and raw value (masked like rejected values)."""
    cur.execute(
        f"""
        INSERT INTO field_warnings
        SELECT ?, _row, w.code, w.col, w.val
        FROM (SELECT _row, unnest(_warn) AS w FROM _norm WHERE _warn IS NOT NULL AND {_VALID})
        """,
        [upload_id],
    )


#: The order in which versions of one case win (first wins), whatever order the uploads came in:
#: a case-level record over one derived from events; then the later last-known state — a finished case
#: (completed / rejected / withdrawn) over an open one, a later completion over an earlier one, more of
#: the file's own timestamps filled over fewer; ties go to the later load.
CASE_VERSION_ORDER = """CASE source WHEN 'case_file' THEN 2 ELSE 1 END DESC,
                       CASE WHEN status IN ('completed', 'rejected', 'withdrawn') THEN 1 ELSE 0 END DESC,
                       completed_at DESC NULLS LAST,
                       (submitted_at IS NOT NULL)::INTEGER + (accepted_at IS NOT NULL)::INTEGER
                           + (completed_at IS NOT NULL)::INTEGER + (due_at_source = 'given')::INTEGER DESC,
                       upload_id DESC"""

#: The same for the events of a case, which count per upload (all of one upload's events or none): the upload
#: whose events reach later wins, then the one with more events; ties go to the later load.
EVENT_VERSION_ORDER = "last_at DESC, events DESC, upload_id DESC"


def refresh_current_cases(cur: duckdb.DuckDBPyConnection, touched: str = "_touched") -> None:
    """Mark the version that counts for each case in ``_touched``, by :data:`CASE_VERSION_ORDER`.

    The data decides, not the load order: loading an older export after a newer one (or removing an upload)
    gives the same current cases as loading them in order. ``touched`` names another table of case ids to
    use instead (a fixed name from this module).
    """
    cur.execute(
        f"""
        UPDATE case_rows SET is_current = w.is_winner
        FROM (
            SELECT rowid AS rid, row_number() OVER (PARTITION BY case_id ORDER BY {CASE_VERSION_ORDER}) = 1 AS is_winner
            FROM case_rows WHERE case_id IN (SELECT case_id FROM {touched})
        ) w
        WHERE case_rows.rowid = w.rid AND case_rows.is_current <> w.is_winner
        """
    )


def refresh_current_events(cur: duckdb.DuckDBPyConnection, touched: str = "_touched") -> None:
    """For each case in ``_touched`` (or the table ``touched``) only the events of one upload count: the
    first by :data:`EVENT_VERSION_ORDER`, read from ``case_spans`` (one row per upload and case)."""
    winners = f"""(SELECT case_id, arg_min(upload_id, rank) AS winner
                   FROM (SELECT case_id, upload_id, row_number() OVER (PARTITION BY case_id ORDER BY {EVENT_VERSION_ORDER})
                                AS rank
                         FROM case_spans WHERE case_id IN (SELECT case_id FROM {touched}))
                   GROUP BY case_id) m"""
    cur.execute(
        f"""
        UPDATE event_rows SET is_current = (event_rows.upload_id = m.winner)
        FROM {winners}
        WHERE event_rows.case_id = m.case_id AND event_rows.is_current <> (event_rows.upload_id = m.winner)
        """
    )
    cur.execute(
        f"""
        UPDATE case_spans SET is_current = (case_spans.upload_id = m.winner)
        FROM {winners}
        WHERE case_spans.case_id = m.case_id AND case_spans.is_current <> (case_spans.upload_id = m.winner)
        """
    )


def _drop_temp(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("DROP VIEW IF EXISTS _norm")
    for table in (
        "_stage", "_norm_t", "_dup", "_repeated", "_channel_map", "_step_flags", "_case_agg", "_case_keys",
        "_case_firsts", "_case_events", "_cand",
        "_touched", "_contested", "_rej_slots", "_rej_errors", "_rej_scans",
    ):  # fmt: skip
        cur.execute(f"DROP TABLE IF EXISTS {table}")


# --- uploads: history and removal --------------------------------------------------------------


def list_uploads(cur: duckdb.DuckDBPyConnection, include_removed: bool = True) -> list[dict]:
    where = "" if include_removed else "WHERE status = 'loaded'"
    rel = cur.execute(
        f"""SELECT upload_id, file_name, kind, rows_total, rows_loaded, rows_rejected, rows_skipped, cases_loaded,
                   events_loaded, encoding, sheet, header_row, loaded_by, loaded_at, status, removed_at, sha256
            FROM uploads {where} ORDER BY upload_id"""
    )
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def remove_upload(db: Database, upload_id: int, removed_by: str | None = None) -> dict[str, int]:
    """Remove an upload and everything it brought; earlier versions of its cases count again."""
    with db.write() as cur:
        row = cur.execute("SELECT status FROM uploads WHERE upload_id = ?", [upload_id]).fetchone()
        if row is None:
            raise IngestRefused("no_such_upload", f"没有编号为 {upload_id} 的上传", f"no upload with id {upload_id}")
        if row[0] == "removed":
            raise IngestRefused(
                "already_removed", f"上传 {upload_id} 已被删除", f"upload {upload_id} is already removed"
            )
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE _touched AS
               SELECT case_id FROM case_rows WHERE upload_id = ? UNION SELECT case_id FROM event_rows WHERE upload_id = ?""",
            [upload_id, upload_id],
        )
        removed = {}
        for table in ("case_rows", "event_rows", "service_item_rows", "rejected_rows"):
            removed[table] = cur.execute(f"DELETE FROM {table} WHERE upload_id = ?", [upload_id]).fetchone()[0]
        cur.execute("DELETE FROM case_spans WHERE upload_id = ?", [upload_id])
        cur.execute("DELETE FROM field_warnings WHERE upload_id = ?", [upload_id])
        refresh_current_events(cur)
        refresh_current_cases(cur)
        facets.refresh(cur)
        cur.execute(
            "UPDATE uploads SET status = 'removed', removed_at = ?, removed_by = ? WHERE upload_id = ?",
            [clock.now(), removed_by, upload_id],
        )
        cur.execute("DROP TABLE IF EXISTS _touched")
    logging.getLogger("egov.ingest").info("upload #%s removed by %s: %s", upload_id, removed_by, removed)
    return removed


def ingest_bytes(db: Database, data: bytes, name: str, **kwargs) -> IngestResult:
    """Load uploaded bytes: written to a private temp file whose path never comes from ``name``."""
    suffix = "".join(Path(name).suffixes[-2:]) if name.lower().endswith(".xes.gz") else Path(name).suffix
    safe_suffix = suffix if suffix.replace(".", "").isalnum() and len(suffix) <= 10 else ""
    tmp_dir = Path(tempfile.mkdtemp(prefix="egov-upload-"))
    try:
        tmp = tmp_dir / f"upload{safe_suffix.lower()}"
        tmp.write_bytes(data)
        return ingest_file(db, tmp, name=name, **kwargs)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


# --- preview: everything the upload page shows before anything is written ----------------------


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
) -> Preview:
    """Read, map and validate without writing: what the upload page shows for confirmation.

    Raises :class:`IngestRefused` when the file cannot even be read or mapped (the page shows the
    message); a file that reads but would be refused for its rows comes back with ``refusal`` set.
    """
    path = Path(path)
    name = Path(name or path.name).name
    scan = _scan(path)
    cur = db.cursor()
    source: Source | None = None
    try:
        previous = _loaded_before(cur, scan.sha256)
        normalize.install_macros(cur)
        with _bounded_memory(db), _memory_refusal():
            source = _open(cur, path, name, sheet, scan, max_rows)
            info = source.info
            mapped = _resolve_mapping(info, kind, mapping)
            _mark_personal(cur, info, mapped, source)
            checked = _normalise_and_count(cur, db, info, mapped, source)
        refusal = None
        try:
            _refuse_if_unusable(checked, max_rows)
        except IngestRefused as exc:
            refusal = exc
        with _bounded_memory(db), _memory_refusal():
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
        _drop_temp(cur)
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
    # it is stored as written, see _mark_personal).
    for index in set(range(frame.shape[1])) - masked - {mapped.fields.get("case_id")}:
        frame.iloc[:, index] = frame.iloc[:, index].map(lambda v: "***" if personal.value_kind(v) else v)
    return frame


def _warnings_frame(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The loaded rows' field warnings, in the shape of :func:`_rejects_frame` (``fields`` empty)."""
    rows = cur.execute(
        f"""SELECT _row, w.code, w.col, w.val, NULL
            FROM (SELECT _row, unnest(_warn) AS w FROM _norm WHERE _warn IS NOT NULL AND {_VALID})
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
                "reason_zh": REASONS[reason][0],
                "reason_en": REASONS[reason][1],
                "column": column,
                "value": value,
                "fields": fields,
            }
            for row, reason, column, value, fields in rows
        ],
        columns=["row", "reason", "reason_zh", "reason_en", "column", "value", "fields"],
    )
