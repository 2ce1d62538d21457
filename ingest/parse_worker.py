"""The child process that parses one file (all formats but CSV) under its own memory and time limits.

Run as ``python -m ingest.parse_worker stage|sheets FILE NAME OUT_DIR [SHEET] [MAX_ROWS]`` by
:mod:`ingest.isolation`. Its address space is capped before anything is parsed, so a file that would
need gigabytes ends this process, never the server. It writes ``stage.parquet`` (the ``_stage``
table) and ``info.json``, or ``refused.json`` with the refusal in words; exit status 3 means it ran
out of memory.
"""

from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict
from pathlib import Path

OUT_OF_MEMORY = 3


def _cap(memory_mb: int, seconds: int) -> None:
    limit = memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _sheets(path: Path, name: str) -> list[str]:
    from ingest.limits import Limits
    from ingest.readers import detect_format
    from ingest.spreadsheets import OLE_MAGIC, check_workbook_size

    head = path.read_bytes()[:4096]
    fmt = detect_format(name, head)
    if fmt == "xlsx" and not head.startswith(OLE_MAGIC):
        import openpyxl

        check_workbook_size(path, Limits.current())
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return list(book.sheetnames)
        finally:
            book.close()
    if fmt == "xls":
        import xlrd

        return list(xlrd.open_workbook(str(path), on_demand=True).sheet_names())
    return []


def main(argv: list[str]) -> int:
    import settings

    _cap(settings.PARSE_MEMORY_MB, settings.PARSE_TIMEOUT_SECONDS)
    command, path, name, out = argv[0], Path(argv[1]), argv[2], Path(argv[3])
    sheet = argv[4] if len(argv) > 4 and argv[4] else None
    max_rows = int(argv[5]) if len(argv) > 5 and argv[5] else None
    try:
        import duckdb

        from ingest.errors import IngestRefused
        from ingest.limits import Limits
        from ingest.readers import read_into_stage

        try:
            if command == "sheets":
                (out / "sheets.json").write_text(json.dumps(_sheets(path, name), ensure_ascii=False))
                return 0
            con = duckdb.connect(str(out / "work.duckdb"))
            con.execute(f"SET memory_limit = '{max(256, settings.PARSE_MEMORY_MB // 3)}MB'")
            con.execute("SET threads = 1")
            con.execute("SET preserve_insertion_order = true")
            info = read_into_stage(con, path, name, sheet=sheet, limits=Limits.current(max_rows))
            con.execute(
                "COPY (SELECT * FROM _stage ORDER BY _row) TO $p (FORMAT parquet)", {"p": str(out / "stage.parquet")}
            )
            con.close()
            (out / "info.json").write_text(json.dumps(asdict(info), ensure_ascii=False))
        except IngestRefused as exc:
            refused = {"code": exc.code, "zh": exc.message("zh"), "en": exc.message("en"), "sheet": exc.sheet}
            (out / "refused.json").write_text(json.dumps(refused, ensure_ascii=False))
        except duckdb.OutOfMemoryException:
            return OUT_OF_MEMORY
    except MemoryError:
        return OUT_OF_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
