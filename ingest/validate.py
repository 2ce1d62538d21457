"""Normalise and validate a file's rows in one pass: ``_norm``, each row with its reason or none.

Each row gets the first failing check's reason (:data:`ingest.reasons.REASONS`); a bad optional field
(a time limit, visits, satisfaction) is a warning that leaves the field empty instead. The SQL is built
from the mapping alone (staged columns are ``c0 … cN``), so nothing a file says becomes part of a statement.
Nothing is written here but temp tables: the load (:mod:`ingest.load`) and the preview
(:mod:`ingest.preview`) both start from what this finds.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import duckdb

import clock
import settings
from ingest.channels import channel_sql
from ingest.errors import IngestRefused, first_line
from ingest.mapping import FIELD_LABELS_ZH, Mapping
from ingest.readers import Source
from ingest.reasons import reason_text
from ingest.staging import SourceInfo
from store.db import Database
from store.rows import one

#: A row that passed validation and is not skipped (a 合计 or blank row): the rows a load writes.
VALID = "reason IS NULL AND NOT is_skip"

#: An event file's lifecycle words of a completed step; its other events (start, schedule …) are skipped.
COMPLETE_LIFECYCLES = ("complete", "completed", "完成")


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
        # The row's town, else the upload's (``$town``): a case is (town, case id).
        ("town", f"coalesce(egov_text({c('town')}), $town)"),
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
    checks: list[tuple[str, str | None, str]] = [
        ("bad_offset", col, _bad_offset(mapped, col, parsed)) for col, parsed in times
    ]
    checks += [("time_out_of_range", col, _too_early(parsed)) for col, parsed in times]
    checks += [("future_time", col, _in_future(parsed)) for col, parsed in times]
    return checks


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


def normalise_and_count(
    cur: duckdb.DuckDBPyConnection,
    db: Database,
    info: SourceInfo,
    mapped: Mapping,
    source: Source | None = None,
    town: str | None = None,
) -> Validation:
    """Normalise and validate the source rows into ``_norm``; count good, rejected and skipped rows.

    ``source`` is where the rows come from (default: the staged ``_stage``); ``town`` is the upload's
    town (default ``settings.DEFAULT_TOWN``), each row's unless the file has a town column that names one.
    """
    source = source or Source(info)
    params = {
        "town": town or settings.DEFAULT_TOWN,
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
    warned = one(cur.execute(f"SELECT count(*) FROM _norm_t WHERE _warn IS NOT NULL AND {VALID}"))[0]
    warned_by_reason = dict(
        cur.execute(
            f"""SELECT w.code, count(*) FROM (SELECT unnest(_warn) AS w FROM _norm_t WHERE _warn IS NOT NULL AND {VALID})
                GROUP BY ALL ORDER BY 2 DESC, 1"""
        ).fetchall()
        if warned
        else []
    )
    return Validation(loaded, sum(by_reason.values()), skipped, by_reason, int(warned), warned_by_reason)


def refuse_if_unusable(checked: Validation, max_rows: int | None = None) -> None:
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
        zh = "；".join(f"{reason_text(r).zh} {n} 行" for r, n in top)
        en = "; ".join(f"{reason_text(r).en}: {n} rows" for r, n in top)
        raise IngestRefused(
            "mostly_rejected",
            f"{rejected}/{total} 行未通过校验，超过一半，整个文件未导入。主要原因：{zh}",
            f"{rejected} of {total} rows failed validation (more than half); the file was not loaded. Top reasons: {en}",
        )


def execute_named(cur: duckdb.DuckDBPyConnection, sql: str, params: dict) -> None:
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
        execute_named(
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
        raise IngestRefused("unreadable_csv", f"CSV 无法解析：{first_line(exc)}", f"cannot parse CSV: {exc}") from exc
    source.finish(cur)
    info.rows_read = one(cur.execute("SELECT count(*) FROM _norm_t"))[0]
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
            type_name, is_null = one(cur.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}))
            if is_null and re.fullmatch(r"[A-Z]+(\(\d+,\s*\d+\))?", type_name):
                out[name] = f"NULL::{type_name}"
    return out


def _norm_view(cur: duckdb.DuckDBPyConnection, source: Source, constant: dict[str, str], channel: bool) -> int:
    """``_norm``: the stored rows with their row number, constant fields, channel and ``_rid`` (0-based position).

    Returns the rowid of the first stored row (positions are ``rowid`` minus it).
    """
    base = int(one(cur.execute("SELECT coalesce(min(rowid), 0) FROM _norm_t"))[0])
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
        if one(cur.execute("SELECT count(*) FROM _rej_slots"))[0]:
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
    if not one(cur.execute("SELECT count(*) FROM _dup"))[0]:
        return
    raw = _raw_json_sql(mapped)
    cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")  # already collected
    if source.numbered:
        rows = f"""SELECT n._rid, {raw} AS raw FROM {source.relation} s
                   JOIN (SELECT _rid, _row FROM _norm WHERE _rid IN (SELECT _rid FROM _dup)) n ON n._row = s._row"""
    else:
        rows = f"""SELECT _rid, {raw} AS raw FROM (SELECT *, row_number() OVER () - 1 AS _rid FROM {source.relation})
                   WHERE _rid IN (SELECT _rid FROM _dup)"""
    execute_named(
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
        cur, mapped, info, source, layers, _footer_sql(mapped, info), checks, "town, case_id", params, warnings=warnings
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
    key = "town, case_id, step, event_time, started_at, step_department, handler"
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
        candidate_key="town, case_id, step",
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
