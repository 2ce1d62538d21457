"""Raw ID and phone numbers (and names) of the input reach no table, no export and no log."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.pii_values import ID_NUMBERS, NAMES, PHONES

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def text_of(path: Path) -> str:
    """Everything a person or a program could read out of one output file."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if path.suffix in (".xlsx", ".zip"):
        with zipfile.ZipFile(path) as zf:
            return "\n".join(
                zf.read(n).decode("utf-8", "replace")
                for n in zf.namelist()
                if not n.endswith((".pdf", ".xlsx", ".parquet", ".duckdb"))
            )
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pandas().to_csv()
    return data.decode("utf-8", "replace")


def test_no_raw_personal_data_anywhere(tmp_path):
    db = tmp_path / "egov.duckdb"
    logs = tmp_path / "logs"
    env = {**os.environ, "EGOV_LOG_DIR": str(logs)}

    def cli(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "cli.py", *args, "--db", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr

    for source in ("cases_title_total_gbk.csv", "cases_merged_title.xlsx", "cases_legacy.xls"):
        source_bytes = (DATA / source).read_bytes()
        assert ID_NUMBERS[0].encode() in source_bytes or source.endswith(("xlsx", "xls"))
        cli("ingest", str(DATA / source))
    out = tmp_path / "reports"
    cli("snapshot", "--month", "2026-10", "--out", str(out))
    cli("backup", "--out", str(tmp_path / "backup.zip"))
    outputs = [p for p in out.rglob("*") if p.is_file()] + list(logs.rglob("*.log"))
    assert any(p.suffix == ".pdf" for p in outputs) and any(p.suffix == ".parquet" for p in outputs)
    assert any(p.suffix == ".log" for p in outputs)
    with zipfile.ZipFile(tmp_path / "backup.zip") as zf:
        restored = tmp_path / "restored.duckdb"
        restored.write_bytes(zf.read("egov.duckdb"))
    import duckdb

    con = duckdb.connect(str(restored), read_only=True)
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    database_text = "\n".join(repr(con.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    con.close()
    for where, text in [("database", database_text)] + [(p.name, text_of(p)) for p in outputs]:
        for needle in ID_NUMBERS + PHONES + NAMES:
            assert needle not in text, f"{needle} found in {where}"
