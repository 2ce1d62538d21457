"""What a load and a preview do alike before validation: one read of the file, the duplicate check, its
rows opened, the mapping resolved, the personal columns found, and DuckDB's memory bounded meanwhile.
"""

from __future__ import annotations

import collections.abc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

import duckdb

import scope
import settings
from ingest import isolation, personal
from ingest.errors import IngestRefused, first_line
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
from ingest.readers import Source, csv_source, file_format
from ingest.staging import SourceInfo
from store.db import Database
from store.rows import one
from store.towns import MAX_TOWN_CHARS, clean_town


def file_sha256(path: Path) -> str:
    return scan_file(path).sha256


class FileScan(NamedTuple):
    """What one read of a file tells before it is parsed."""

    sha256: str
    holds_replacement: bool  # its bytes hold U+FFFD (EF BF BD)
    newlines: int  # line breaks: an upper bound of a CSV's records, for the row bound


def scan_file(path: Path) -> FileScan:
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


def loaded_before(cur: duckdb.DuckDBPyConnection, sha: str, town: str) -> int | None:
    """The upload that already holds these bytes in ``town``, if one does (the same file may go to two towns)."""
    row = cur.execute(
        "SELECT upload_id FROM uploads WHERE sha256 = ? AND town = ? AND status = 'loaded' ORDER BY upload_id LIMIT 1",
        [sha, town],
    ).fetchone()
    return int(row[0]) if row else None


def upload_town(town: str | None) -> str:
    """The town an upload goes into: ``town`` when it is a town's name, the default town when it is not given."""
    if town is None or not town.strip():
        return settings.DEFAULT_TOWN
    cleaned = clean_town(town)
    if cleaned is None:
        raise IngestRefused(
            "bad_town",
            f"乡镇名称不可用（最多 {MAX_TOWN_CHARS} 个字，不含斜杠或控制字符），文件未导入",
            f"not a town name (at most {MAX_TOWN_CHARS} characters, no slashes or control characters); "
            "nothing was loaded",
        )
    return cleaned


def open_source(
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
    count = one(
        cur.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source.relation} LIMIT {limits.max_rows + 1})", source.params
        )
    )[0]
    cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
    limits.check_rows(int(count))


#: DuckDB's memory limit while a file loads into a database file: larger intermediate results spill to
#: the database's temp folder, so that loading ten million events stays within about 1 GiB of memory.
INGEST_MEMORY_LIMIT = "640MB"


@contextmanager
def bounded_memory(db: Database) -> Iterator[None]:
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
        before = one(side.execute("SELECT current_setting('memory_limit')"))[0]
        side.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
        try:
            yield
        finally:
            with suppress(duckdb.Error):
                side.execute("RESET memory_limit")  # the default, exactly (its text form is rounded)
                if one(side.execute("SELECT current_setting('memory_limit')"))[0] != before:
                    side.execute(f"SET memory_limit = '{before}'")
    finally:
        side.close()


@contextmanager
def memory_refusal() -> Iterator[None]:
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


def resolve_mapping(info: SourceInfo, kind: str, mapping: str | dict | None) -> Mapping:
    overrides: collections.abc.Mapping[str, str | None] = {}
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


def mark_personal(cur: duckdb.DuckDBPyConnection, info: SourceInfo, mapped: Mapping, source: Source) -> None:
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
        raise IngestRefused("unreadable_csv", f"CSV 无法解析：{first_line(exc)}", f"cannot parse CSV: {exc}") from exc
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
    """Personal columns feed no stored field but the case id (see :func:`mark_personal`); each one taken
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


def drop_temp(cur: duckdb.DuckDBPyConnection) -> None:
    """Drop what a load or a preview leaves on its cursor (the readers', validation's and the write's tables)."""
    cur.execute("DROP VIEW IF EXISTS _norm")
    for table in (
        "_stage", "_norm_t", "_dup", "_repeated", "_channel_map", "_step_flags", "_case_agg", "_case_keys",
        "_case_firsts", "_case_events", "_cand",
        "_touched", "_contested", "_rej_slots", "_rej_errors", "_rej_scans",
    ):  # fmt: skip
        cur.execute(f"DROP TABLE IF EXISTS {table}")


# --- the signed-in user's towns (scope) ----------------------------------------------------------------


def scoped_upload_town(town: str | None) -> str:
    """The town an upload goes into, within the run's town scope (:mod:`scope`); refused outside it.

    A town user who names no town uploads into their town when they have one; with several they must choose.
    """
    allowed = scope.current()
    if allowed is not None and (town is None or not town.strip()) and len(allowed) == 1:
        town = allowed[0]
    chosen = upload_town(town)
    if not scope.allows(chosen):
        raise IngestRefused(
            "town_out_of_scope",
            f"您只能向自己的乡镇（{'、'.join(allowed or ())}）上传数据，不能上传到 {chosen}；文件未导入",
            f"you may upload only into your towns ({', '.join(allowed or ())}), not into {chosen}; nothing was loaded",
        )
    return chosen


def refuse_rows_out_of_scope(cur: duckdb.DuckDBPyConnection, kind: str) -> None:
    """Inside the load's transaction: refuse the whole file when a row (valid or not) names a town outside the scope.

    Whole, not those rows: nothing of another town may land, not even as a rejected row (which would keep its
    raw values under this upload), and a file holding another town's rows is the wrong file or the county's.
    The catalogue is the county's: a town user cannot load it.
    """
    allowed = scope.current()
    if allowed is None:
        return
    if kind == "catalog":
        raise IngestRefused(
            "catalog_out_of_scope",
            "事项目录是全县统一的：限定乡镇的用户不能上传目录；文件未导入",
            "the service catalogue is the county's: a user limited to towns cannot load it; nothing was loaded",
        )
    outside = [
        r[0]
        for r in cur.execute(
            "SELECT DISTINCT town FROM _norm WHERE NOT is_skip AND town IS NOT NULL "
            "AND NOT list_contains(?::VARCHAR[], town) ORDER BY 1 LIMIT 5",
            [list(allowed)],
        ).fetchall()
    ]
    if outside:
        raise IngestRefused(
            "rows_out_of_scope",
            f"文件中有其他乡镇（{'、'.join(outside)}）的数据，您只能上传自己乡镇（{'、'.join(allowed)}）的数据；文件未导入",
            f"the file holds rows of other towns ({', '.join(outside)}); you may upload only your towns' "
            f"({', '.join(allowed)}); nothing was loaded",
        )
