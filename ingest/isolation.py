"""Parse a file where running out of memory cannot hurt the server: a child process with its own limits.

Every format but CSV is parsed in Python (openpyxl, xlrd, the XES and JSON Lines readers) or by
DuckDB from a file's own footer (Parquet), and a crafted file of a few kilobytes can ask any of them
for gigabytes. So :func:`stage` runs :mod:`ingest.parse_worker` with its address space and CPU time
capped (``settings.PARSE_MEMORY_MB``, ``PARSE_TIMEOUT_SECONDS``) and reads back the table it wrote,
already bounded by the limits in :mod:`ingest.limits`. CSV stays in this process on DuckDB's
reader, which honours the connection's memory limit (and its head is read within a byte bound).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

import scratch
import settings
from ingest.errors import IngestRefused
from ingest.readers import file_format
from ingest.staging import SourceInfo

#: The readers that run in the child (CSV is read in place by DuckDB).
ISOLATED_FORMATS = ("xlsx", "xls", "parquet", "jsonl", "xes")


def _too_big() -> IngestRefused:
    return IngestRefused(
        "parse_out_of_memory",
        f"文件过大或结构异常：解析需要超过 {settings.PARSE_MEMORY_MB:,} MB 内存，已停止，未写入任何数据；"
        "请拆分文件或另存为 CSV 后再上传",
        f"file too large or malformed: parsing it needs more than {settings.PARSE_MEMORY_MB:,} MB of memory; "
        "stopped, nothing was written. Split the file or save it as CSV and upload again",
    )


def _too_slow() -> IngestRefused:
    return IngestRefused(
        "parse_timeout",
        f"文件解析超时（超过 {settings.PARSE_TIMEOUT_SECONDS:,} 秒），已停止，未写入任何数据；请拆分文件或另存为 CSV",
        f"parsing took longer than {settings.PARSE_TIMEOUT_SECONDS:,} s and was stopped; nothing was written. "
        "Split the file or save it as CSV",
    )


def _failed() -> IngestRefused:
    return IngestRefused(
        "parse_failed",
        "文件无法解析（读取程序意外退出），未写入任何数据；请确认文件完好，或另存为 CSV 后再上传",
        "the file could not be parsed (the reader stopped unexpectedly); nothing was written. "
        "Check the file, or save it as CSV and upload again",
    )


def _limits_env() -> dict[str, str]:
    """The bounds as this process has them (a test or a page may have lowered one) for the child to apply."""
    names = ("MAX_FILE_ROWS", "MAX_COLUMNS", "MAX_CELL_CHARS", "MAX_LINE_BYTES", "MAX_UNPACKED_MB", "PARSE_MEMORY_MB")
    return {f"EGOV_{n}": str(getattr(settings, n)) for n in (*names, "PARSE_TIMEOUT_SECONDS")}


def _run(command: str, path: Path, name: str, sheet: str | None, max_rows: int | None) -> tuple[Path, dict | None]:
    """Run the worker; returns its output folder (the caller removes it) and its refusal, if any."""
    out = Path(scratch.mkdtemp(prefix="egov-parse-"))
    args = [sys.executable, "-m", "ingest.parse_worker", command, str(path), name, str(out), sheet or ""]
    args.append("" if max_rows is None else str(max_rows))
    env = {**os.environ, "PYTHONPATH": str(settings.ROOT), "EGOV_SCRATCH": str(scratch.root()), **_limits_env()}
    try:
        done = subprocess.run(
            args,
            cwd=settings.ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=settings.PARSE_TIMEOUT_SECONDS + 30,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise _too_slow() from exc
    refused = out / "refused.json"
    if done.returncode == 0 and refused.exists():
        try:
            return out, json.loads(refused.read_text())
        except ValueError:
            pass  # cut short: said as a failure below
    elif done.returncode == 0 and ((out / "info.json").exists() or (out / "sheets.json").exists()):
        return out, None
    shutil.rmtree(out, ignore_errors=True)
    stderr = done.stderr.decode("utf-8", "replace").lower()
    if done.returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):  # the CPU time cap
        raise _too_slow()
    out_of_memory = ("out of memory", "memoryerror", "bad_alloc", "cannot allocate")
    # A native reader that meets the address-space cap may not raise: it aborts (an uncaught std::bad_alloc) or
    # dereferences the NULL a failed allocation returned. Under the cap that is by far the likeliest cause, and
    # the refusal says "too large or malformed" — true of either.
    crashed = (-signal.SIGSEGV, -signal.SIGABRT, 128 + signal.SIGSEGV, 128 + signal.SIGABRT)
    if done.returncode in (3, -signal.SIGKILL, *crashed) or any(words in stderr for words in out_of_memory):
        raise _too_big()  # MemoryError, DuckDB's or glibc's "out of memory", a crash under the cap, or the kernel
    raise _failed()


def _raise(refused: dict) -> None:
    raise IngestRefused(refused["code"], refused["zh"], refused["en"], sheet=refused.get("sheet"))


@dataclass
class Parsed:
    """A file parsed by the child: its description and the folder holding its rows (``stage.parquet``)."""

    info: SourceInfo
    folder: Path

    def load_into(self, cur: duckdb.DuckDBPyConnection) -> SourceInfo:
        """Read the parsed rows into ``_stage`` on ``cur``."""
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE _stage AS SELECT * FROM read_parquet($p) ORDER BY _row",
            {"p": str(self.folder / "stage.parquet")},
        )
        return self.info

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def parse(path: Path, name: str, *, sheet: str | None = None, max_rows: int | None = None) -> Parsed:
    """Parse a non-CSV file in the child, holding no lock of the database; raises IngestRefused as the readers do.

    The import parses first and only then takes the database's write lock, so a long parse keeps no one
    else (a sign-in, another upload) waiting.
    """
    out, refused = _run("stage", path, name, sheet, max_rows)
    try:
        if refused:
            _raise(refused)
        fields = json.loads((out / "info.json").read_text())
        fields["malformed"] = [tuple(m) for m in fields.get("malformed", [])]
        return Parsed(SourceInfo(**fields), out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise


def stage(
    cur: duckdb.DuckDBPyConnection, path: Path, name: str, *, sheet: str | None = None, max_rows: int | None = None
) -> SourceInfo:
    """Stage a non-CSV file into ``_stage`` on ``cur`` by way of the child; raises IngestRefused as the readers do."""
    parsed = parse(path, name, sheet=sheet, max_rows=max_rows)
    try:
        return parsed.load_into(cur)
    finally:
        parsed.close()


def sheet_names(path: Path, name: str) -> list[str]:
    """A workbook's sheets, read in the child (an Excel file's shared strings are read when it opens)."""
    if file_format(path, name) not in ("xlsx", "xls"):
        return []
    out, refused = _run("sheets", path, name, None, None)
    try:
        if refused:
            _raise(refused)
        return json.loads((out / "sheets.json").read_text())
    finally:
        shutil.rmtree(out, ignore_errors=True)
