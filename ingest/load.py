"""Load one file as one upload: stage, map, normalise, validate and write in a single transaction.

Rows that fail validation are kept in ``rejected_rows`` with their row number, reason and column;
the good rows load. A file with no usable rows, or where more than half the rows fail, is refused
whole and nothing changes. Loading the same bytes again is recognised by SHA-256 and skipped;
an overlapping export adds new versions of the cases it repeats, and only the newest counts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

import settings
from ingest import normalize
from ingest.channels import channel_sql
from ingest.derive import fill_derived
from ingest.errors import IngestRefused
from ingest.mapping import (
    FIELD_LABELS_ZH,
    Mapping,
    apply_overrides,
    auto_map,
    check_required,
    detect_kind,
    load_saved,
)
from ingest.readers import SourceInfo, read_into_stage
from store.db import Database

Progress = Callable[[str, float], None]

#: Why a row was rejected: code -> (Chinese, English). Order in ``_reason_sql`` is the check order.
REASONS: dict[str, tuple[str, str]] = {
    "malformed_line": ("行格式错误（列数不符或引号未闭合）", "malformed line (wrong number of columns or open quote)"),
    "bad_encoding": ("含无法解码的字符（文件编码损坏）", "undecodable characters (broken encoding)"),
    "missing_id": ("办件编号为空", "missing case id"),
    "missing_step": ("环节名称为空", "missing step name"),
    "missing_item": ("事项名称为空", "missing item name"),
    "missing_time": ("缺少时间", "missing time"),
    "bad_time": ("时间无法识别", "unparseable time"),
    "time_out_of_range": ("时间超出合理范围（2000 年前或未来）", "time out of range (before 2000 or in the future)"),
    "completed_before_submitted": ("办结时间早于申请时间", "completed before submitted"),
    "accepted_before_submitted": ("受理时间早于申请时间", "accepted before submitted"),
    "started_after_completed": ("开始时间晚于完成时间", "started after completed"),
    "duplicate_in_file": ("文件内重复", "duplicate within the file"),
}

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

    def as_dict(self) -> dict:
        return asdict(self)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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
) -> IngestResult:
    """Load one file; raises :class:`IngestRefused` (database unchanged) when it cannot be loaded.

    ``mapping`` is a saved mapping's name or TOML path, or a dict of canonical field -> source
    column overriding the automatic mapping. ``name`` is the file name shown in the history
    (uploads arrive under temporary paths); it is only ever stored as text.
    """
    path = Path(path)
    name = Path(name or path.name).name
    report = progress or (lambda stage, fraction: None)
    report("hash", 0.0)
    sha = file_sha256(path)
    with db.write() as cur:
        previous = cur.execute(
            "SELECT upload_id FROM uploads WHERE sha256 = ? AND status = 'loaded' ORDER BY upload_id LIMIT 1", [sha]
        ).fetchone()
        if previous:
            return IngestResult(None, name, kind, duplicate_of=int(previous[0]))
        normalize.install_macros(cur)
        report("read", 0.1)
        info = read_into_stage(cur, path, name, sheet=sheet)
        mapped = _resolve_mapping(info, kind, mapping)
        report("validate", 0.4)
        result = _load_staged(cur, db, info, mapped, name=name, sha=sha, loaded_by=loaded_by, report=report)
        _drop_temp(cur)
    report("done", 1.0)
    return result


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
                f"CASE WHEN egov_blank({col}) IS NULL THEN NULL ELSE "
                f"sha256($salt || upper(regexp_replace({col}, '[\\s\\-]', '', 'g'))) END"
            )
    return "NULL::VARCHAR"


def _case_columns_sql(mapped: Mapping, tz_param: str = "$tz") -> str:
    """Normalised case fields from staged columns (used for case files and event files' attributes)."""
    c = lambda f: _col(mapped, f)  # noqa: E731
    promised_hint = repr(mapped.unit_hints.get("promised")) if mapped.unit_hints.get("promised") else "NULL"
    statutory_hint = repr(mapped.unit_hints.get("statutory")) if mapped.unit_hints.get("statutory") else "NULL"
    return f"""
        egov_blank({c("case_id")}) AS case_id,
        egov_text({c("service_item")}) AS service_item,
        egov_text({c("item_code")}) AS item_code,
        egov_text({c("department")}) AS department,
        {channel_sql(c("channel"))} AS channel,
        egov_text({c("channel")}) AS channel_raw,
        egov_text({c("applicant_type")}) AS applicant_type,
        egov_ts({c("submitted_at")}, {tz_param}) AS submitted_raw_ts,
        egov_ts({c("accepted_at")}, {tz_param}) AS accepted_at,
        egov_ts({c("due_at")}, {tz_param}) AS due_at,
        egov_text({c("status")}) AS status_raw,
        egov_days({c("promised")}) AS promised_days,
        egov_day_unit({c("promised")}, {promised_hint}) AS promised_unit,
        egov_days({c("statutory")}) AS statutory_days,
        egov_day_unit({c("statutory")}, {statutory_hint}) AS statutory_unit,
        egov_int({c("visits")}) AS visits,
        egov_int({c("resubmissions")}) AS resubmissions,
        egov_satisfaction({c("satisfaction")}) AS satisfaction,
        egov_text({c("delivery")}) AS delivery,
        {_pii_key_sql(mapped)} AS applicant_key"""


def _bad_time(mapped: Mapping, canonical: str, parsed: str) -> str:
    raw = _col(mapped, canonical)
    return f"(egov_blank({raw}) IS NOT NULL AND {parsed} IS NULL)"


def _reason_sql(checks: list[tuple[str, str | None, str]], mapped: Mapping) -> str:
    """CASE expressions giving the first failing check's reason, column and offending value."""
    reason = "CASE " + " ".join(f"WHEN {cond} THEN '{code}'" for code, _, cond in checks) + " END"
    located = [(col, cond) for _, col, cond in checks if col is not None]
    if not located:
        return f"{reason} AS reason, NULL AS reason_column, NULL AS reason_value"
    column = "CASE " + " ".join(f"WHEN {cond} THEN {_sql_literal(col)}" for col, cond in located) + " END"
    value = "CASE " + " ".join(f"WHEN {cond} THEN egov_text({_col(mapped, col)})" for col, cond in located) + " END"
    return f"{reason} AS reason, {column} AS reason_column, {value} AS reason_value"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_range(expr: str) -> str:
    return f"({expr} IS NOT NULL AND ({expr} < TIMESTAMP '2000-01-01' OR {expr} > $latest))"


def _raw_json_sql(mapped: Mapping, columns: list[str]) -> str:
    """The row's mapped (never personal) fields as JSON, keyed by the file's own column names."""
    parts = []
    for canonical, index in sorted(mapped.fields.items(), key=lambda kv: kv[1]):
        label = columns[index] or FIELD_LABELS_ZH.get(canonical, canonical)
        parts.append(f"{_sql_literal(label)}, egov_text(c{int(index)})")
    return f"json_object({', '.join(parts)})" if parts else "NULL::JSON"


def _encoding_check(mapped: Mapping) -> str:
    cols = sorted(set(mapped.fields.values()))
    if not cols:
        return "false"
    return "(" + " OR ".join(f"coalesce(contains(c{int(i)}, '\ufffd'), false)" for i in cols) + ")"


def _footer_sql(mapped: Mapping, info: SourceInfo) -> str:
    """合计/总计 rows (in the first column or the id column) and wholly blank rows are skipped."""
    first = "c0"
    ident = _col(mapped, "case_id") if "case_id" in mapped.fields else _col(mapped, "item_name")
    footer = r"'^\s*(合\s*计|总\s*计|小\s*计|总数|合计[:：].*|total)\s*[:：]?\s*$'"
    cols = sorted(set(mapped.fields.values()))
    blank = " AND ".join(f"egov_blank(c{int(i)}) IS NULL" for i in cols) or "false"
    return (
        f"(regexp_matches(coalesce(lower({first}), ''), {footer}) "
        f"OR regexp_matches(coalesce(lower({ident}), ''), {footer}) OR ({blank}))"
    )


@dataclass
class Validation:
    """What validation found, before anything is written."""

    loaded: int
    rejected: int
    skipped: int
    by_reason: dict[str, int]

    @property
    def total(self) -> int:
        return self.loaded + self.rejected


def _normalise_and_count(cur: duckdb.DuckDBPyConnection, db: Database, info: SourceInfo, mapped: Mapping) -> Validation:
    """Normalise and validate the staged rows into ``_norm``; count good, rejected and skipped rows."""
    params = {
        "tz": settings.timezone(),
        "salt": db.secret_salt(),
        "latest": dt.datetime.now() + dt.timedelta(days=366),
    }
    normaliser = {"catalog": _normalise_catalog, "events": _normalise_events, "cases": _normalise_cases}
    normaliser[mapped.kind](cur, mapped, info, params)
    counts = dict(
        cur.execute(
            "SELECT coalesce(reason, CASE WHEN is_skip THEN '_skip' ELSE '_ok' END) AS r, count(*) FROM _norm GROUP BY r"
        ).fetchall()
    )
    skipped = counts.pop("_skip", 0) + info.skipped_rows
    loaded = counts.pop("_ok", 0)
    by_reason = dict(counts)
    if info.malformed:
        by_reason["malformed_line"] = by_reason.get("malformed_line", 0) + len(info.malformed)
    return Validation(loaded, sum(by_reason.values()), skipped, by_reason)


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
) -> IngestResult:
    kind = mapped.kind
    checked = _normalise_and_count(cur, db, info, mapped)
    loaded, rejected, skipped, by_reason, total = (
        checked.loaded,
        checked.rejected,
        checked.skipped,
        checked.by_reason,
        checked.total,
    )
    _refuse_if_unusable(checked)

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
    )
    if kind == "catalog":
        _write_catalog(cur, upload_id)
    elif kind == "events":
        result.events_loaded, result.cases_loaded = _write_events(cur, upload_id)
    else:
        result.cases_loaded = _write_cases(cur, upload_id)
    report("finish", 0.9)
    _write_rejects(cur, upload_id, info)
    cur.execute(
        """
        INSERT INTO uploads (upload_id, file_name, sha256, kind, file_format, encoding, sheet, header_row, mapping,
                             rows_total, rows_loaded, rows_rejected, rows_skipped, cases_loaded, events_loaded,
                             warnings, loaded_by, loaded_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, current_localtimestamp())
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
        ],
    )
    return result


def _refuse_if_unusable(checked: Validation) -> None:
    total, rejected = checked.total, checked.rejected
    if total == 0:
        raise IngestRefused("no_rows", "文件中没有数据行（只有表头）", "the file has no data rows (header only)")
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


def _validate(
    cur: duckdb.DuckDBPyConnection,
    mapped: Mapping,
    checks: list[tuple[str, str | None, str]],
    duplicate_key: str,
    params: dict,
) -> None:
    """Give each staged row its first failing check, then flag later repeats of a valid row's key."""
    _run(
        cur,
        f"""
        CREATE OR REPLACE TEMP TABLE _norm AS
        SELECT * EXCLUDE (reason, reason_column),
               CASE WHEN is_skip THEN NULL
                    WHEN reason IS NULL AND row_number() OVER (
                        PARTITION BY {duplicate_key}, reason IS NULL AND NOT is_skip ORDER BY _row) > 1
                    THEN 'duplicate_in_file' ELSE reason END AS reason,
               CASE WHEN NOT is_skip THEN reason_column END AS reason_column
        FROM (SELECT *, {_reason_sql(checks, mapped)} FROM _norm_pre)
        """,
        params,
    )


def _normalise_cases(cur: duckdb.DuckDBPyConnection, mapped: Mapping, info: SourceInfo, params: dict) -> None:
    completed = f"egov_ts({_col(mapped, 'completed_at')}, $tz)"
    checks = [
        ("bad_encoding", None, _encoding_check(mapped)),
        ("missing_id", "case_id", "case_id IS NULL"),
        ("bad_time", "submitted_at", _bad_time(mapped, "submitted_at", "submitted_raw_ts")),
        ("bad_time", "accepted_at", _bad_time(mapped, "accepted_at", "accepted_at")),
        ("bad_time", "completed_at", _bad_time(mapped, "completed_at", "completed_at")),
        ("bad_time", "due_at", _bad_time(mapped, "due_at", "due_at")),
        ("missing_time", "submitted_at", "submitted_at IS NULL"),
        ("time_out_of_range", "submitted_at", _in_range("submitted_at")),
        ("time_out_of_range", "completed_at", _in_range("completed_at")),
        ("completed_before_submitted", "completed_at", "completed_at < submitted_at"),
        ("accepted_before_submitted", "accepted_at", "accepted_at < submitted_at"),
    ]
    _run(
        cur,
        f"""
        CREATE OR REPLACE TEMP TABLE _norm_pre AS
        SELECT _row, {_footer_sql(mapped, info)} AS is_skip, {_raw_json_sql(mapped, info.columns)} AS raw,
               c.*, coalesce(c.submitted_raw_ts, c.accepted_at) AS submitted_at, {completed} AS completed_at
        FROM (SELECT *, {_case_columns_sql(mapped)} FROM _stage) c
        """,
        params,
    )
    _validate(cur, mapped, checks, "case_id", params)


def _normalise_events(cur: duckdb.DuckDBPyConnection, mapped: Mapping, info: SourceInfo, params: dict) -> None:
    c = lambda f: _col(mapped, f)  # noqa: E731
    lifecycle = c("lifecycle")
    not_complete = (
        f"(egov_blank({lifecycle}) IS NOT NULL AND lower(trim({lifecycle})) NOT IN {tuple(COMPLETE_LIFECYCLES)!r})"
    )
    checks = [
        ("bad_encoding", None, _encoding_check(mapped)),
        ("missing_id", "case_id", "case_id IS NULL"),
        ("missing_step", "step", "step IS NULL"),
        ("missing_time", "event_time", f"egov_blank({c('event_time')}) IS NULL"),
        ("bad_time", "event_time", _bad_time(mapped, "event_time", "event_time")),
        ("bad_time", "started_at", _bad_time(mapped, "started_at", "started_at")),
        ("time_out_of_range", "event_time", _in_range("event_time")),
        ("started_after_completed", "started_at", "started_at > event_time"),
    ]
    _run(
        cur,
        f"""
        CREATE OR REPLACE TEMP TABLE _norm_pre AS
        SELECT _row, ({_footer_sql(mapped, info)} OR {not_complete}) AS is_skip,
               {_raw_json_sql(mapped, info.columns)} AS raw, x.*
        FROM (SELECT *, {_case_columns_sql(mapped)},
                     egov_text({c("step")}) AS step,
                     egov_text({c("step_department")}) AS step_department,
                     egov_text({c("handler")}) AS handler,
                     egov_ts({c("event_time")}, $tz) AS event_time,
                     egov_ts({c("started_at")}, $tz) AS started_at,
                     egov_blank({lifecycle}) AS lifecycle,
                     egov_ts({c("completed_at")}, $tz) AS case_completed_at,
                     coalesce(egov_ts({c("submitted_at")}, $tz), egov_ts({c("accepted_at")}, $tz)) AS case_submitted_at
              FROM _stage) x
        """,
        params,
    )
    _validate(cur, mapped, checks, "case_id, step, event_time, started_at, step_department, handler", params)


def _normalise_catalog(cur: duckdb.DuckDBPyConnection, mapped: Mapping, info: SourceInfo, params: dict) -> None:
    c = lambda f: _col(mapped, f)  # noqa: E731
    checks = [
        ("bad_encoding", None, _encoding_check(mapped)),
        ("missing_item", "item_name", "item_name IS NULL AND item_code IS NULL"),
    ]
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _norm_pre AS
        SELECT _stage.*, {_footer_sql(mapped, info)} AS is_skip, {_raw_json_sql(mapped, info.columns)} AS raw,
               egov_text({c("item_code")}) AS item_code,
               coalesce(egov_text({c("item_name")}), egov_text({c("item_code")})) AS item_name,
               egov_text({c("department")}) AS department,
               egov_bool({c("online_capable")}) AS online_capable,
               egov_bool({c("fully_online_capable")}) AS fully_online_capable,
               egov_days({c("promised")}) AS promised_days,
               egov_day_unit({c("promised")}, NULL) AS promised_unit,
               egov_days({c("statutory")}) AS statutory_days,
               egov_day_unit({c("statutory")}, NULL) AS statutory_unit,
               egov_int({c("max_visits")}) AS max_visits
        FROM _stage
        """
    )
    _validate(cur, mapped, checks, "coalesce(item_code, item_name)", params)


# --- writing -----------------------------------------------------------------------------------

_CASE_STATUS = """CASE WHEN egov_status_word(status_raw) IS NOT NULL THEN egov_status_word(status_raw)
                       WHEN completed_at IS NOT NULL THEN 'completed' ELSE 'open' END"""


def _write_cases(cur: duckdb.DuckDBPyConnection, upload_id: int) -> int:
    cur.execute(
        f"""
        INSERT INTO case_rows (case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, status, status_raw, promised_days, promised_unit,
            statutory_days, statutory_unit, due_at, due_at_source, visits, resubmissions, satisfaction, delivery,
            applicant_key, source, source_row, upload_id, is_current)
        SELECT case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, {_CASE_STATUS}, status_raw, promised_days, promised_unit,
            statutory_days, statutory_unit, due_at, CASE WHEN due_at IS NOT NULL THEN 'given' END, visits,
            resubmissions, satisfaction, delivery, applicant_key, 'case_file', _row, ?, true
        FROM _norm WHERE reason IS NULL AND NOT is_skip
        """,
        [upload_id],
    )
    count = cur.execute("SELECT count(*) FROM case_rows WHERE upload_id = ?", [upload_id]).fetchone()[0]
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT case_id FROM case_rows WHERE upload_id = ?",
        [upload_id],
    )
    refresh_current_cases(cur)
    fill_derived(cur, upload_id)
    return int(count)


def _write_events(cur: duckdb.DuckDBPyConnection, upload_id: int) -> tuple[int, int]:
    cur.execute(
        """
        INSERT INTO event_rows (case_id, step, department, handler, started_at, completed_at, lifecycle, seq,
                                source_row, upload_id, is_current)
        SELECT case_id, step, step_department, handler, started_at, event_time, lifecycle, _row, _row, ?, true
        FROM _norm WHERE reason IS NULL AND NOT is_skip
        """,
        [upload_id],
    )
    events = cur.execute("SELECT count(*) FROM event_rows WHERE upload_id = ?", [upload_id]).fetchone()[0]
    uses_completion_steps = cur.execute(
        "SELECT count(*) > 0 FROM _norm WHERE reason IS NULL AND NOT is_skip AND regexp_matches(lower(step), ?)",
        [COMPLETION_STEPS],
    ).fetchone()[0]
    # Derive each case from its events; attributes the event file carries (case:* or 事项名称 …) fill in.
    cur.execute(
        f"""
        INSERT INTO case_rows (case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, status, status_raw, promised_days, promised_unit,
            statutory_days, statutory_unit, due_at, due_at_source, visits, resubmissions, satisfaction, delivery,
            applicant_key, source, source_row, upload_id, is_current)
        SELECT case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, {_CASE_STATUS}, status_raw, promised_days, promised_unit,
            statutory_days, statutory_unit, due_at, CASE WHEN due_at IS NOT NULL THEN 'given' END, visits,
            resubmissions, satisfaction, delivery, applicant_key, 'events', source_row, ?, true
        FROM (
            SELECT case_id,
                arg_min(service_item, _row) FILTER (service_item IS NOT NULL) AS service_item,
                arg_min(item_code, _row) FILTER (item_code IS NOT NULL) AS item_code,
                coalesce(arg_min(department, _row) FILTER (department IS NOT NULL), arg_max(step_department, event_time))
                    AS department,
                arg_min(channel, _row) FILTER (channel IS NOT NULL) AS channel,
                arg_min(channel_raw, _row) FILTER (channel_raw IS NOT NULL) AS channel_raw,
                arg_min(applicant_type, _row) FILTER (applicant_type IS NOT NULL) AS applicant_type,
                coalesce(min(case_submitted_at), min(coalesce(started_at, event_time))) AS submitted_at,
                min(accepted_at) AS accepted_at,
                CASE WHEN max(case_completed_at) IS NOT NULL THEN max(case_completed_at)
                     WHEN ? AND NOT bool_or(regexp_matches(lower(step), ?)) THEN NULL
                     ELSE max(event_time) END AS completed_at,
                coalesce(arg_max(status_raw, _row) FILTER (status_raw IS NOT NULL), arg_max(step, event_time)) AS status_raw,
                arg_min(promised_days, _row) FILTER (promised_days IS NOT NULL) AS promised_days,
                arg_min(promised_unit, _row) FILTER (promised_unit IS NOT NULL) AS promised_unit,
                arg_min(statutory_days, _row) FILTER (statutory_days IS NOT NULL) AS statutory_days,
                arg_min(statutory_unit, _row) FILTER (statutory_unit IS NOT NULL) AS statutory_unit,
                max(due_at) AS due_at, max(visits) AS visits,
                coalesce(max(resubmissions), count(*) FILTER (regexp_matches(step, '补正|补齐|补件')))
                    AS resubmissions,
                max(satisfaction) AS satisfaction,
                arg_min(delivery, _row) FILTER (delivery IS NOT NULL) AS delivery,
                arg_min(applicant_key, _row) FILTER (applicant_key IS NOT NULL) AS applicant_key,
                min(_row) AS source_row
            FROM _norm WHERE reason IS NULL AND NOT is_skip
            GROUP BY case_id
        )
        """,
        [upload_id, bool(uses_completion_steps), COMPLETION_STEPS],
    )
    cases = cur.execute("SELECT count(*) FROM case_rows WHERE upload_id = ?", [upload_id]).fetchone()[0]
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT case_id FROM case_rows WHERE upload_id = ?",
        [upload_id],
    )
    refresh_current_events(cur)
    refresh_current_cases(cur)
    fill_derived(cur, upload_id)
    return int(events), int(cases)


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


def refresh_current_cases(cur: duckdb.DuckDBPyConnection) -> None:
    """Mark the version that counts for each case in ``_touched``: case file over events, then newest."""
    cur.execute(
        """
        UPDATE case_rows SET is_current = w.is_winner
        FROM (
            SELECT rowid AS rid, row_number() OVER (
                       PARTITION BY case_id
                       ORDER BY CASE source WHEN 'case_file' THEN 2 ELSE 1 END DESC, upload_id DESC) = 1 AS is_winner
            FROM case_rows WHERE case_id IN (SELECT case_id FROM _touched)
        ) w
        WHERE case_rows.rowid = w.rid AND case_rows.is_current <> w.is_winner
        """
    )


def refresh_current_events(cur: duckdb.DuckDBPyConnection) -> None:
    """For each case in ``_touched`` only the events of its newest event upload count."""
    cur.execute(
        """
        UPDATE event_rows SET is_current = (event_rows.upload_id = m.newest)
        FROM (SELECT case_id, max(upload_id) AS newest FROM event_rows
              WHERE case_id IN (SELECT case_id FROM _touched) GROUP BY case_id) m
        WHERE event_rows.case_id = m.case_id AND event_rows.is_current <> (event_rows.upload_id = m.newest)
        """
    )


def _drop_temp(cur: duckdb.DuckDBPyConnection) -> None:
    for table in ("_stage", "_norm_pre", "_norm", "_touched", "_rej_slots", "_rej_errors", "_rej_scans"):
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
        refresh_current_events(cur)
        refresh_current_cases(cur)
        cur.execute(
            "UPDATE uploads SET status = 'removed', removed_at = current_localtimestamp(), removed_by = ? "
            "WHERE upload_id = ?",
            [removed_by, upload_id],
        )
        cur.execute("DROP TABLE IF EXISTS _touched")
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

    @property
    def columns(self) -> list[str]:
        return self.info.columns


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
) -> Preview:
    """Read, map and validate without writing: what the upload page shows for confirmation.

    Raises :class:`IngestRefused` when the file cannot even be read or mapped (the page shows the
    message); a file that reads but would be refused for its rows comes back with ``refusal`` set.
    """
    path = Path(path)
    name = Path(name or path.name).name
    sha = file_sha256(path)
    cur = db.cursor()
    try:
        previous = cur.execute(
            "SELECT upload_id FROM uploads WHERE sha256 = ? AND status = 'loaded' ORDER BY upload_id LIMIT 1", [sha]
        ).fetchone()
        normalize.install_macros(cur)
        info = read_into_stage(cur, path, name, sheet=sheet)
        mapped = _resolve_mapping(info, kind, mapping)
        checked = _normalise_and_count(cur, db, info, mapped)
        refusal = None
        try:
            _refuse_if_unusable(checked)
        except IngestRefused as exc:
            refusal = exc
        return Preview(
            name,
            sha,
            info,
            mapped,
            checked,
            _sample(cur, info, mapped),
            _rejects_frame(cur, info),
            refusal,
            int(previous[0]) if previous else None,
        )
    finally:
        _drop_temp(cur)
        cur.close()


def _sample(cur: duckdb.DuckDBPyConnection, info: SourceInfo, mapped: Mapping) -> pd.DataFrame:
    frame = cur.execute(f"SELECT * EXCLUDE (_row) FROM _stage ORDER BY _row LIMIT {PREVIEW_ROWS}").df()
    frame.columns = [
        info.columns[int(c[1:])] if c[1:].isdigit() and int(c[1:]) < len(info.columns) else c for c in frame.columns
    ]
    frame = frame.iloc[:, : len(info.columns)]
    for index in mapped.pii.values():
        frame.iloc[:, index] = frame.iloc[:, index].map(lambda v: None if v is None else "***")
    return frame


def _rejects_frame(cur: duckdb.DuckDBPyConnection, info: SourceInfo) -> pd.DataFrame:
    rows = cur.execute(
        f"SELECT _row, reason, reason_column, reason_value, raw FROM _norm WHERE reason IS NOT NULL "
        f"ORDER BY _row LIMIT {MAX_REJECTS_SHOWN}"
    ).fetchall()
    rows += [(row, "malformed_line", None, message, None) for row, message, _ in info.malformed]
    return pd.DataFrame(
        [
            {
                "row": row,
                "reason": reason,
                "reason_zh": REASONS[reason][0],
                "reason_en": REASONS[reason][1],
                "column": column,
                "value": value,
                "fields": raw,
            }
            for row, reason, column, value, raw in sorted(rows, key=lambda r: r[0])
        ],
        columns=["row", "reason", "reason_zh", "reason_en", "column", "value", "fields"],
    )
