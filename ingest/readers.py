"""Readers: any supported file into the staging table ``_stage`` (:mod:`ingest.staging`), by its format.

UTF-8 CSV goes straight to DuckDB's CSV reader (the fast path; for a load it is not even staged, see
:class:`Source`); GBK/GB18030 is transcoded to UTF-8 in a streaming pass first, since DuckDB's
``encodings`` extension is not available here; Excel is read in Python (:mod:`ingest.spreadsheets`),
as are XES and JSON Lines, streamed here; Parquet by DuckDB.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

import duckdb
import pandas as pd

import scratch
from ingest.errors import IngestRefused, first_line
from ingest.limits import BoundedReader, Limits, XmlPacer, cell_too_large, line_too_long, unpacked_too_large
from ingest.spreadsheets import OLE_MAGIC, ZIP_MAGIC, read_xls, read_xlsx
from ingest.staging import BATCH_ROWS, HEADER_SEARCH_ROWS, SourceInfo, cell_text, find_header_row, frame_to_stage
from store.rows import one

#: Bytes looked at to detect the encoding; the whole file is still decoded strictly.
ENCODING_SAMPLE = 1 << 20
REPLACEMENT = "\ufffd"


def detect_format(name: str, head: bytes) -> str:
    lower = name.lower()
    if lower.endswith((".xes", ".xes.gz")):
        return "xes"
    if lower.endswith(".parquet") or head[:4] == b"PAR1":
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith(".xlsx") or lower.endswith(".xlsm"):
        return "xlsx"
    if lower.endswith(".xls"):
        return "xls"
    if lower.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "xls"
    return "csv"


def file_format(path: Path, name: str) -> str:
    """The reader a file needs, from its name and first bytes; refuses an empty file."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head:
        raise IngestRefused("empty_file", "文件为空", "the file is empty")
    return detect_format(name, head)


def read_into_stage(
    cur: duckdb.DuckDBPyConnection, path: Path, name: str, *, sheet: str | None = None, limits: Limits | None = None
) -> SourceInfo:
    """Stage ``path`` (shown to users as ``name``) into ``_stage`` in this process; raise IngestRefused when
    unreadable or past a limit. The app calls it through :mod:`ingest.isolation` for all but CSV."""
    fmt = file_format(path, name)
    limits = limits or Limits.current()
    if fmt in ("xlsx", "xls"):
        info = (read_xlsx if fmt == "xlsx" else read_xls)(cur, path, sheet, limits)
    else:
        reader: Callable[[duckdb.DuckDBPyConnection, Path, Limits], SourceInfo] = {
            "csv": _read_csv,
            "parquet": _read_parquet,
            "jsonl": _read_jsonl,
            "xes": _read_xes,
        }[fmt]
        info = reader(cur, path, limits)
    info.rows_read = one(cur.execute("SELECT count(*) FROM _stage"))[0]
    limits.check_rows(info.rows_read)  # what was staged, whatever a file's footer claimed
    return info


# --- CSV ---------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8, else the GB18030 family."""
    with open(path, "rb") as fh:
        sample = fh.read(ENCODING_SAMPLE)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if b"\x00" in sample[:4096]:
        if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        raise IngestRefused("binary_file", "文件不是文本表格（含二进制内容）", "the file is binary, not a text table")
    for candidate in ("utf-8", "gb18030"):  # the platforms' two encodings; GB18030 is a superset of GBK
        try:
            # final=False: a sample (or a file) cut inside a character still counts as that encoding
            codecs.getincrementaldecoder(candidate)().decode(sample, final=False)
            return candidate
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:65536], cp_isolation=["gb18030", "gbk", "big5", "utf_8"]).best()
    if best is None:
        raise IngestRefused(
            "binary_file", "无法识别文件编码，文件可能不是文本表格", "unknown encoding: not a text table"
        )
    encoding = best.encoding.lower().replace("_", "")
    if encoding in ("gbk", "gb2312", "gb18030", "hz"):
        return "gb18030"  # a superset: GBK files decode the same
    return best.encoding


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines[:HEADER_SEARCH_ROWS])
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    return max(counts, key=counts.__getitem__) if any(counts.values()) else ","


def _transcode_to_utf8(path: Path, encoding: str) -> Path:
    """Stream-decode into a UTF-8 temp file; undecodable bytes become U+FFFD (their rows are rejected)."""
    return _transcode(path, encoding)[0]


def _transcode(path: Path, encoding: str) -> tuple[Path, bool]:
    """:func:`_transcode_to_utf8`, also telling whether the text holds any U+FFFD (undecodable bytes)."""
    fd, out_name = scratch.mkstemp(suffix=".csv", prefix="egov-stage-")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    replaced = False
    try:
        with open(path, "rb") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(16 << 20):
                text = decoder.decode(chunk)
                replaced = replaced or REPLACEMENT in text
                dst.write(text)
            text = decoder.decode(b"", final=True)
            dst.write(text)
            replaced = replaced or REPLACEMENT in text
    except BaseException:
        Path(out_name).unlink(missing_ok=True)
        raise
    return Path(out_name), replaced


@dataclass
class Source:
    """Where the loader reads a file's rows from: the staged ``_stage``, or a CSV file read in place.

    ``relation`` is a SQL FROM item with the columns ``c0 … cN`` (all VARCHAR) and, when ``numbered``,
    ``_row``. A CSV file is not staged for loading: DuckDB reads it once, straight into the
    normalised rows, and the rows are numbered afterwards by their position (``first_row`` is the
    line of the first data row; lines the CSV reader rejected are stepped over, as in ``_stage``).
    Call :meth:`finish` after the relation was scanned, and :meth:`close` at the end.
    """

    info: SourceInfo
    relation: str = "_stage"
    params: dict[str, object] = field(default_factory=dict)
    numbered: bool = True
    first_row: int = 0
    may_hold_replacement: bool = True  # False: no value holds U+FFFD (the bad_encoding check cannot fail)
    _temp_file: Path | None = None
    limits: Limits | None = None  # the bounds the rejected lines count against (CSV)

    def finish(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Collect the lines the CSV reader rejected while the relation was scanned (CSV only)."""
        if self.numbered:
            return
        self.info.malformed = _malformed_lines(cur, self.limits)
        _rejected_slots(cur, self.first_row, [line for line, _, _ in self.info.malformed])

    def close(self) -> None:
        if self._temp_file is not None:
            self._temp_file.unlink(missing_ok=True)
            self._temp_file = None


def csv_source(path: Path, limits: Limits | None = None) -> Source:
    """A CSV file described, not staged (the fast path): the loader reads it in place with DuckDB."""
    return _csv_source(path, limits or Limits.current())


#: Bytes read to find a CSV file's title rows, header and delimiter: a header line longer than this is refused.
CSV_HEAD_BYTES = 1 << 20


def _head_lines(path: Path, limit: int) -> list[str]:
    """The first lines of a UTF-8 text file within ``limit`` bytes (a cut last line is left off)."""
    with open(path, "rb") as fh:
        head = fh.read(limit + 1)
    whole = len(head) <= limit
    text = head[:limit].decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)
    if not whole and lines and not lines[-1].endswith(("\n", "\r")):
        lines.pop()
    if not lines:
        raise line_too_long(limit)
    return lines[:HEADER_SEARCH_ROWS]


def _csv_source(path: Path, limits: Limits) -> Source:
    """Encoding, delimiter and header of a CSV file, and the ``read_csv`` call that yields its data rows."""
    encoding = detect_encoding(path)
    if encoding in ("utf-8", "utf-8-sig"):
        utf8_path, replaced = path, None  # unknown until scanned (see ingest.intake.open_source)
    else:
        utf8_path, replaced = _transcode(path, encoding)
    try:
        head_lines = _head_lines(utf8_path, CSV_HEAD_BYTES)
        delimiter = _sniff_delimiter(head_lines)
        rows = list(csv.reader(io.StringIO("".join(head_lines)), delimiter=delimiter))
        header_index = find_header_row(rows)
        columns = [c.strip() for c in rows[header_index]]
        while columns and not columns[-1]:
            columns.pop()  # trailing empty header cells from spreadsheet exports
        if not columns:
            raise IngestRefused("no_header", "找不到表头行", "no header row found")
        limits.check_columns(len(columns))
        skip = _physical_lines_before(head_lines, header_index, delimiter) + 1
    except csv.Error as exc:
        if utf8_path != path:
            utf8_path.unlink(missing_ok=True)
        raise IngestRefused("unreadable_csv", f"CSV 无法解析：{exc}", f"cannot parse CSV: {exc}") from exc
    except BaseException:
        if utf8_path != path:
            utf8_path.unlink(missing_ok=True)
        raise
    col_spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(columns))) + "}"
    relation = f"""read_csv($csv_path, columns = {col_spec}, header = false, skip = $csv_skip, delim = $csv_delim,
                               quote = '"', escape = '"', auto_detect = false, ignore_errors = true,
                               store_rejects = true, rejects_table = '_rej_errors',
                               rejects_scan = '_rej_scans', max_line_size = $csv_max_line)"""
    info = SourceInfo(
        "csv",
        columns,
        encoding={"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)"}.get(encoding, encoding.upper()),
        header_row=skip,
    )
    return Source(
        info,
        relation,
        {"csv_path": str(utf8_path), "csv_skip": skip, "csv_delim": delimiter, "csv_max_line": limits.max_line_bytes},
        numbered=False,
        first_row=skip + 1,
        may_hold_replacement=True if replaced is None else replaced,
        _temp_file=utf8_path if utf8_path != path else None,
        limits=limits,
    )


def _malformed_lines(cur: duckdb.DuckDBPyConnection, limits: Limits | None = None) -> list[tuple[int, str, str]]:
    """The lines DuckDB's CSV reader rejected, at most the row bound of them, each cut to 500 characters."""
    limits = limits or Limits.current()
    limits.check_rows(one(cur.execute("SELECT count(DISTINCT line) FROM _rej_errors"))[0])
    # DuckDB may report several errors for one line: keep the first of each.
    rows = cur.execute(
        "SELECT line, coalesce(arg_min(error_message, column_idx), any_value(error_message), 'malformed line'), "
        "left(coalesce(arg_min(csv_line, column_idx), any_value(csv_line)), 500) FROM _rej_errors "
        "GROUP BY line ORDER BY line"
    ).fetchall()
    return [(int(line), msg, text) for line, msg, text in rows]


def _rejected_slots(cur: duckdb.DuckDBPyConnection, first_data_line: int, rejected_lines: list[int]) -> None:
    """``_rej_slots``: the i-th rejected line (0-based) sits where good row number (line - first - i) would be."""
    cur.execute("CREATE OR REPLACE TEMP TABLE _rej_slots (slot BIGINT, shift INTEGER)")
    if rejected_lines:
        cur.executemany(
            "INSERT INTO _rej_slots VALUES (?, ?)",
            [(line - first_data_line - i, i + 1) for i, line in enumerate(sorted(rejected_lines))],
        )


def _read_csv(cur: duckdb.DuckDBPyConnection, path: Path, limits: Limits | None = None) -> SourceInfo:
    source = _csv_source(path, limits or Limits.current())
    try:
        cur.execute("DROP TABLE IF EXISTS _rej_errors; DROP TABLE IF EXISTS _rej_scans")
        cur.execute(f"CREATE OR REPLACE TEMP TABLE _stage_raw AS SELECT * FROM {source.relation}", source.params)
        source.info.malformed = _malformed_lines(cur, source.limits)
        _number_rows(cur, source.first_row, [line for line, _, _ in source.info.malformed])
        return source.info
    except duckdb.Error as exc:
        raise IngestRefused("unreadable_csv", f"CSV 无法解析：{first_line(exc)}", f"cannot parse CSV: {exc}") from exc
    finally:
        source.close()


def _physical_lines_before(lines: list[str], record_index: int, delimiter: str) -> int:
    """Physical lines taken by the first ``record_index`` records (a title may hold a quoted newline)."""
    consumed = 0
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    for _ in range(record_index):
        next(reader)
    consumed = reader.line_num
    return consumed


def _number_rows(cur: duckdb.DuckDBPyConnection, first_data_line: int, rejected_lines: list[int]) -> None:
    """Give each staged row its line number, stepping over the lines the CSV reader rejected."""
    if not rejected_lines:
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE _stage AS SELECT *, (rowid - (SELECT min(rowid) FROM _stage_raw) + ?)::INTEGER AS _row "
            "FROM _stage_raw",
            [first_data_line],
        )
    else:
        _rejected_slots(cur, first_data_line, rejected_lines)
        cur.execute(
            """
            CREATE OR REPLACE TEMP TABLE _stage AS
            SELECT s.* EXCLUDE (rid), (rid + ? + coalesce(shift, 0))::INTEGER AS _row
            FROM (SELECT *, rowid - (SELECT min(rowid) FROM _stage_raw) AS rid FROM _stage_raw) s
            ASOF LEFT JOIN _rej_slots r ON s.rid >= r.slot
            ORDER BY rid
            """,
            [first_data_line],
        )
    cur.execute("DROP TABLE _stage_raw")


# --- Parquet and JSON Lines --------------------------------------------------------------------


def _read_parquet(cur: duckdb.DuckDBPyConnection, path: Path, limits: Limits | None = None) -> SourceInfo:
    """Parquet by DuckDB, after its footer's row count and unpacked size are checked against the limits."""
    limits = limits or Limits.current()
    try:
        rows, unpacked = one(
            cur.execute(
                "SELECT (SELECT sum(num_rows) FROM parquet_file_metadata($p)), "
                "(SELECT coalesce(sum(total_uncompressed_size), 0) FROM parquet_metadata($p))",
                {"p": str(path)},
            )
        )
        names = [d[0] for d in cur.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)]).description]
    except duckdb.Error as exc:
        raise IngestRefused("unreadable_parquet", "无法读取 Parquet 文件", f"cannot read Parquet: {exc}") from exc
    limits.check_columns(len(names))
    limits.check_rows(int(rows or 0))
    if int(unpacked or 0) > limits.max_unpacked_bytes:
        raise unpacked_too_large(limits.max_unpacked_bytes)
    try:
        casts = ", ".join(f'CAST("{_quote_ident(n)}" AS VARCHAR) AS c{i}' for i, n in enumerate(names))
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT {casts}, (row_number() OVER () + 1)::INTEGER AS _row "
            "FROM read_parquet(?)",
            [str(path)],
        )
        widest = (
            one(
                cur.execute(
                    "SELECT max(greatest(" + ", ".join(f"coalesce(length(c{i}), 0)" for i in range(len(names))) + "))"
                    " FROM _stage"
                )
            )[0]
            if names
            else 0
        )
    except duckdb.Error as exc:
        raise IngestRefused("unreadable_parquet", "无法读取 Parquet 文件", f"cannot read Parquet: {exc}") from exc
    if (widest or 0) > limits.max_cell_chars:
        raise cell_too_large(limits.max_cell_chars)
    return SourceInfo("parquet", names, header_row=1)


def _quote_ident(name: str) -> str:
    """Quote a column name read from a Parquet file's own schema (only ever inside double quotes)."""
    return name.replace('"', '""')


class _KeyedStager:
    """Records whose keys are the columns (JSON Lines, XES) into ``_stage`` in batches, keys counted as they appear."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, limits: Limits) -> None:
        self.cur, self.limits = cur, limits
        self.columns: dict[str, int] = {}
        self.batch: list[tuple[int, dict[str, str | None]]] = []
        self.staged_columns = 0
        self.rows = 0

    def add(self, row_number: int, record: dict[str, str | None]) -> None:
        for key, value in record.items():
            if key not in self.columns:
                self.columns[key] = len(self.columns)
                self.limits.check_columns(len(self.columns))
            if value is not None and len(value) > self.limits.max_cell_chars:
                raise cell_too_large(self.limits.max_cell_chars)
        self.rows += 1
        self.limits.check_rows(self.rows)
        self.batch.append((row_number, record))
        if len(self.batch) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        width = len(self.columns)
        if not width:
            return
        for i in range(self.staged_columns, width):  # a key first seen in this batch: earlier rows hold NULL
            if self.staged_columns:
                self.cur.execute(f"ALTER TABLE _stage ADD COLUMN c{i} VARCHAR")
        keys = list(self.columns)
        frame = pd.DataFrame(
            [[record.get(k) for k in keys] for _, record in self.batch],
            columns=[f"c{i}" for i in range(width)],
            dtype="object",
        )
        frame["_row"] = [row for row, _ in self.batch]
        frame_to_stage(self.cur, frame, append=bool(self.staged_columns))
        self.staged_columns = width
        self.batch = []


def _read_jsonl(cur: duckdb.DuckDBPyConnection, path: Path, limits: Limits | None = None) -> SourceInfo:
    """One JSON object per line, streamed; an unreadable, too deep or too long line is a rejected row."""
    import json

    limits = limits or Limits.current()
    stager = _KeyedStager(cur, limits)
    malformed: list[tuple[int, str, str]] = []
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(_bounded_lines(fh, limits.max_line_bytes), start=1):
            limits.check_rows(stager.rows + len(malformed))  # bad lines count too: they are kept, one each
            if raw is None:
                malformed.append((line_no, f"line longer than {limits.max_line_bytes:,} bytes", ""))
                continue
            line = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except RecursionError:
                malformed.append((line_no, "invalid JSON: nested too deeply", line[:500]))
                continue
            except ValueError as exc:
                malformed.append((line_no, f"invalid JSON: {exc}", line[:500]))
                continue
            try:
                record = {str(k): _json_cell(v) for k, v in obj.items()}
            except (RecursionError, ValueError):
                malformed.append((line_no, "invalid JSON: nested too deeply", line[:500]))
                continue
            stager.add(line_no, record)
    stager.flush()
    if not stager.columns:
        raise IngestRefused("empty_file", "JSON Lines 文件中没有记录", "no records in the JSON Lines file")
    return SourceInfo("jsonl", list(stager.columns), encoding="UTF-8", header_row=None, malformed=malformed)


def _bounded_lines(fh, limit: int):
    """The file's lines as bytes, reading at most ``limit`` bytes of any one; a longer line comes as None."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the overlong line without holding it
            yield None
            continue
        yield line


def _json_cell(value: object) -> str | None:
    import json

    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return cell_text(value)


# --- XES ---------------------------------------------------------------------------------------


def _read_xes(cur: duckdb.DuckDBPyConnection, path: Path, limits: Limits | None = None) -> SourceInfo:
    """IEEE 1849 XES (also gzipped) with a hardened parser: DTDs and entities are refused, unpacking is bounded."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    limits = limits or Limits.current()
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    stager = _KeyedStager(cur, limits)
    case_attrs: dict[str, str | None] = {}
    event: dict[str, str | None] | None = None
    depth_in_trace = False
    root: Element | None = None
    trace: Element | None = None
    event_elem: Element | None = None
    events = 0
    try:
        with open(path, "rb") as raw:
            unpacked = BoundedReader(gzip.GzipFile(fileobj=raw), limits.max_unpacked_bytes) if gzipped else raw
            stream = io.BufferedReader(XmlPacer(unpacked), 1 << 16)
            for action, elem in iterparse(stream, events=("start", "end"), forbid_dtd=True):
                tag = elem.tag.rsplit("}", 1)[-1]
                if action == "start":
                    if root is None:
                        root = elem
                    if tag == "trace":
                        case_attrs, depth_in_trace, trace = {}, True, elem
                    elif tag == "event":
                        event, event_elem = {}, elem
                    continue
                if tag in ("string", "date", "int", "float", "boolean", "id") and "key" in elem.attrib:
                    key, value = elem.attrib["key"], elem.attrib.get("value")
                    if event is not None:
                        assert event_elem is not None  # set with the event, at its start
                        event.setdefault(key, value)
                        event_elem.clear()
                    elif depth_in_trace:
                        assert trace is not None  # set at the trace's start
                        case_attrs.setdefault(f"case:{key}", value)
                        trace.clear()  # read: a trace with a million attributes must not hold them all
                elif tag == "event" and event is not None:
                    events += 1
                    stager.add(events, {**case_attrs, **event})  # the n-th event of the file
                    event = None
                    done = trace if depth_in_trace else root
                    assert done is not None  # the first start tag set root
                    done.clear()  # read events go, however many a trace has
                elif tag == "trace":
                    depth_in_trace = False
                    assert root is not None
                    root.clear()  # read traces go too
    except DefusedXmlException as exc:
        raise IngestRefused(
            "unsafe_xml",
            "XES 文件包含被禁止的 DTD/实体声明（可能是 XML 炸弹），已拒绝",
            f"the XES file declares a DTD or entities (possible XML bomb): {exc}",
        ) from exc
    except (SyntaxError, OSError, EOFError) as exc:  # ParseError subclasses SyntaxError
        raise IngestRefused(
            "broken_xml", f"XES 文件不是有效的 XML：{exc}", f"the XES file is not valid XML: {exc}"
        ) from exc
    stager.flush()
    if not events:
        raise IngestRefused("empty_file", "XES 文件中没有事件", "no events in the XES file")
    return SourceInfo("xes", list(stager.columns), encoding="UTF-8")
