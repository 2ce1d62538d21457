"""Files of a few kilobytes that ask a reader for gigabytes: each is refused while it is read, nothing changes,
and the process that serves the pages stays small (issue 13, parts 2 and 3).

The bounds are lowered here (as an operator may) so that each bomb stays small on disk and quick to build;
the readers check them while streaming, so a bomb at the real bounds is refused the same way, only later.
Peak memory is measured in a fresh interpreter (``resource.getrusage``), against a normal file of the same
format loaded the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import scratch
import settings
from ingest import isolation, write
from ingest.errors import IngestRefused
from ingest.load import ingest_file
from ingest.preview import preview_file
from store.db import Database
from tests import bad_inputs as bad

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
TABLES = ("uploads", "case_rows", "event_rows", "rejected_rows", "service_item_rows")


def table_rows(db: Database) -> dict[str, int]:
    cur = db.cursor()
    return {t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture
def file_db(tmp_path) -> Database:
    """A database file holding one good upload (memory databases skip the load's memory limit)."""
    db = Database(tmp_path / "egov.duckdb")
    ingest_file(db, DATA / "events.xes")
    yield db
    db.close()


@pytest.fixture
def small_bounds(monkeypatch):
    monkeypatch.setattr(settings, "MAX_UNPACKED_MB", 16)
    monkeypatch.setattr(settings, "MAX_FILE_ROWS", 1_000)


BOMBS = [
    ("shared_string.xlsx", lambda: bad.xlsx_huge_shared_string(64), "unpacked_too_large", "解压后超过 16 MB"),
    ("bomb.xes.gz", lambda: bad.xes_gz_bomb(64), "unpacked_too_large", "解压后超过 16 MB"),
    ("endless_tag.xes.gz", lambda: bad.xes_gz_endless_tag(64), "broken_xml", "不含任何标签结尾"),
    ("sparse.jsonl", lambda: bad.jsonl_sparse_keys(3_000), "too_many_columns", "上限 1,000 列"),
    ("sparse.xes", lambda: bad.xes_sparse_keys(3_000), "too_many_columns", "上限 1,000 列"),
    ("wide.csv", lambda: bad.csv_wide_header(200_000 // 40), "too_many_columns", "5,000 列"),
    ("endless.csv", lambda: bad.csv_one_endless_line(2), "line_too_long", "表头行过长"),
    ("rows.xlsx", lambda: bad.xlsx_rows(3_000), "too_many_rows", "超过每个文件 1,000 行的上限"),
    ("rows.csv", lambda: bad.csv_bytes(bad.rows(3_000)), "too_many_rows", "超过每个文件 1,000 行的上限"),
    ("rows.jsonl", lambda: bad.jsonl_sparse_keys(1) * 3_000, "too_many_rows", "超过每个文件 1,000 行的上限"),
]


@pytest.mark.parametrize(("name", "build", "code", "words"), BOMBS, ids=[b[0] for b in BOMBS])
def test_each_bomb_is_refused_in_words_and_changes_nothing(tmp_path, file_db, small_bounds, name, build, code, words):
    path = tmp_path / name
    path.write_bytes(build())
    assert path.stat().st_size < (3_000_000 if name.endswith(".csv") else 300_000)  # asking for far more
    before = table_rows(file_db)
    for attempt in (ingest_file, preview_file):
        with pytest.raises(IngestRefused) as info:
            attempt(file_db, path)
        assert info.value.code == code
        assert words in info.value.message_zh
        assert "Error" not in info.value.message_zh and "Exception" not in info.value.message_en
    assert table_rows(file_db) == before


def test_parquet_footer_is_checked_before_its_rows_are_read(tmp_path, file_db, small_bounds):
    many = bad.parquet_file(
        tmp_path / "many.parquet", "SELECT 'B1' AS 办件编号, '事项' AS 事项名称 FROM range(2000000)"
    )
    blobs = bad.parquet_file(
        tmp_path / "blobs.parquet",
        "SELECT 'B' || i AS 办件编号, repeat('x', 2000000) || i AS 事项名称 FROM range(20) t(i)",
    )
    assert many.stat().st_size < 100_000 and blobs.stat().st_size < 100_000
    before = table_rows(file_db)
    with pytest.raises(IngestRefused, match="超过每个文件 1,000 行的上限"):
        ingest_file(file_db, many)
    with pytest.raises(IngestRefused) as info:  # 40 MB of cells unpack past the 16 MB bound
        ingest_file(file_db, blobs)
    assert info.value.code == "unpacked_too_large"
    assert table_rows(file_db) == before


def test_an_overlong_cell_is_refused(tmp_path, file_db):
    blobs = bad.parquet_file(
        tmp_path / "blobs.parquet",
        "SELECT 'B' || i AS 办件编号, repeat('x', 40000) || i AS 事项名称 FROM range(3) t(i)",
    )
    with pytest.raises(IngestRefused) as info:
        ingest_file(file_db, blobs)
    assert info.value.code == "cell_too_large" and "32,767" in info.value.message_zh


def test_a_huge_dimension_claims_nothing(tmp_path, file_db):
    """The workbook says its sheet spans A1:XFD1048576; it has two cells, and is read as two cells."""
    path = tmp_path / "dimension.xlsx"
    path.write_bytes(bad.xlsx_huge_dimension())
    assert path.stat().st_size < 6_000
    cur = file_db.cursor()
    info = isolation.stage(cur, path, path.name)
    assert info.columns == ["办件编号", "事项名称"]
    assert cur.execute("SELECT count(*) FROM _stage").fetchone()[0] == 0


def test_a_long_csv_line_after_the_head_is_one_rejected_row(tmp_path, file_db):
    path = tmp_path / "long.csv"
    path.write_bytes(bad.csv_long_line_after_the_head(megabytes=11, good_rows=40))
    result = ingest_file(file_db, path)
    assert (result.rows_loaded, result.rejected_by_reason) == (45, {"malformed_line": 1})
    row = (
        file_db.cursor()
        .execute("SELECT row_number, value FROM rejected_rows WHERE upload_id = ?", [result.upload_id])
        .fetchone()
    )
    assert row[0] == 42 and "10000000" in row[1]  # line 1 the header, 2–41 good, 42 the long one


def test_a_deeply_nested_json_line_is_one_rejected_row(tmp_path, file_db):
    path = tmp_path / "deep.jsonl"
    path.write_bytes(bad.jsonl_deeply_nested(100_000))
    result = ingest_file(file_db, path)
    assert (result.rows_loaded, result.rejected_by_reason) == (3, {"malformed_line": 1})
    assert file_db.cursor().execute(
        "SELECT row_number FROM rejected_rows WHERE upload_id = ?", [result.upload_id]
    ).fetchall() == [(3,)]


# --- the server's memory stays bounded --------------------------------------------------------------------------

PEAK_SCRIPT = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from ingest.errors import IngestRefused
from ingest.load import ingest_file
from store.db import Database
db = Database(sys.argv[2])
try:
    outcome = ingest_file(db, sys.argv[3]).rows_loaded
except IngestRefused as exc:
    outcome = exc.code
print(json.dumps({
    "outcome": outcome,
    "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
}))
"""


def peak(tmp_path: Path, file: Path, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(ROOT), str(tmp_path / f"{file.name}.duckdb"), str(file)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_bomb_costs_the_server_no_more_memory_than_a_normal_file(tmp_path):
    """A 1,981-byte workbook claiming a million columns took the server out of memory; a shared string
    unpacking past the bound too. Parsed in the child, the server's peak is that of a normal workbook."""
    normal = tmp_path / "normal.xlsx"
    normal.write_bytes(bad.xlsx_rows(2_000))
    dimension = tmp_path / "dimension.xlsx"
    dimension.write_bytes(bad.xlsx_huge_dimension())
    shared = tmp_path / "shared.xlsx"
    shared.write_bytes(bad.xlsx_huge_shared_string(300))
    baseline = peak(tmp_path, normal)
    assert baseline["outcome"] == 2_000
    for file, outcome in ((dimension, "missing_columns"), (shared, "unpacked_too_large")):
        measured = peak(tmp_path, file, EGOV_MAX_UNPACKED_MB="200")
        assert measured["outcome"] == outcome
        assert measured["self_mb"] <= baseline["self_mb"] + 60, (file.name, measured, baseline)
        assert measured["child_mb"] <= baseline["child_mb"] + 60, (file.name, measured, baseline)


def test_a_parse_that_needs_more_memory_than_its_cap_is_refused_and_the_server_lives(tmp_path):
    """Past every bound but one: 600 MB of shared string, parsed under a 700 MB address-space cap."""
    shared = tmp_path / "shared.xlsx"
    shared.write_bytes(bad.xlsx_huge_shared_string(600))
    normal = tmp_path / "normal.xlsx"
    normal.write_bytes(bad.xlsx_rows(2_000))
    baseline = peak(tmp_path, normal)
    measured = peak(tmp_path, shared, EGOV_PARSE_MEMORY_MB="700", EGOV_MAX_CELL_CHARS="1000000000")
    assert measured["outcome"] == "parse_out_of_memory"
    assert measured["self_mb"] <= baseline["self_mb"] + 60, (measured, baseline)  # the server did not grow


# --- internal errors keep their own words ---------------------------------------------------------------------


def test_a_failed_load_reports_its_own_error_not_the_aborted_transaction(tmp_path, file_db, monkeypatch):
    """The memory limit was put back inside the aborted transaction, so the person read "TransactionException"."""

    def fails(*args, **kwargs):
        raise duckdb.ConversionException("Conversion Error: the real cause")

    before = file_db.cursor().execute("SELECT current_setting('memory_limit')").fetchone()[0]
    monkeypatch.setattr(write, "write_rejects", fails)
    path = tmp_path / "cases.csv"
    path.write_bytes(bad.csv_bytes(bad.rows(5)))
    with pytest.raises(duckdb.ConversionException, match="the real cause"):
        ingest_file(file_db, path)
    assert file_db.cursor().execute("SELECT current_setting('memory_limit')").fetchone()[0] == before


def test_running_out_of_memory_is_a_refusal_in_words(tmp_path, file_db, monkeypatch):
    def exhausts(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")

    monkeypatch.setattr(write, "write_rejects", exhausts)
    before = table_rows(file_db)
    path = tmp_path / "cases.csv"
    path.write_bytes(bad.csv_bytes(bad.rows(5)))
    with pytest.raises(IngestRefused) as info:
        ingest_file(file_db, path)
    assert info.value.code == "out_of_memory" and "文件过大" in info.value.message_zh
    assert table_rows(file_db) == before


# --- nothing is left behind --------------------------------------------------------------------------------------

LEAVER = """
import os, sys
sys.path.insert(0, sys.argv[1])
import scratch
(scratch.folder() / "egov-stage-copy.csv").write_text("申请人,身份证号")
os._exit(0)  # as after kill -9: no cleanup ran
"""


def test_a_killed_loads_temp_copy_is_swept_at_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOV_SCRATCH", str(tmp_path / "scratch"))
    subprocess.run([sys.executable, "-c", LEAVER, str(ROOT)], check=True, timeout=60, env=os.environ)
    left = list((tmp_path / "scratch").glob("p*/egov-stage-copy.csv"))
    assert len(left) == 1
    assert scratch.sweep(tmp_path / "scratch") == 0  # too young: its process might be about to lock it
    monkeypatch.setattr(scratch, "YOUNG_SECONDS", 0)
    assert scratch.sweep(tmp_path / "scratch") == 1
    assert not left[0].exists()


def test_a_running_process_keeps_its_temp_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("EGOV_SCRATCH", str(tmp_path / "scratch"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LEAVER.replace("os._exit(0)", "print('ready', flush=True); sys.stdin.read()"),
            str(ROOT),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        monkeypatch.setattr(scratch, "YOUNG_SECONDS", 0)
        assert scratch.sweep(tmp_path / "scratch") == 0
        assert len(list((tmp_path / "scratch").glob("p*/egov-stage-copy.csv"))) == 1
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_rejected_lines_count_against_the_row_bound(tmp_path, file_db):
    """Three good rows and 1,500 lines of one field each: every bad line would be kept, so they count too."""
    path = tmp_path / "junk.csv"
    path.write_bytes(bad.csv_bytes([*bad.rows(3), *["x"] * 1_500]))
    before = table_rows(file_db)
    with pytest.raises(IngestRefused) as info:
        ingest_file(file_db, path, max_rows=1_000)
    assert info.value.code == "too_many_rows"
    assert table_rows(file_db) == before


def test_blank_rows_at_the_end_of_a_sheets_head_keep_the_row_numbers_after_them(tmp_path, file_db):
    """Header on row 1, cases on rows 2–27, rows 28–30 blank, cases again from row 31: row 32's bad time is row 32."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(bad.HEADER.split(","))
    for i in range(26):
        sheet.append([f"B{i}", "临时救助申请", "民政办", "窗口", "2026-10-12 09:00", "2026-10-13 10:00"])
    for _ in range(3):
        sheet.append([])
    sheet.append(["C1", "临时救助申请", "民政办", "窗口", "2026-10-12 09:00", "2026-10-13 10:00"])
    sheet.append(["C2", "临时救助申请", "民政办", "窗口", "下午三点", "2026-10-13 10:00"])
    path = tmp_path / "gap.xlsx"
    book.save(path)
    assert [row[0] for row in sheet.iter_rows(min_row=31, max_row=32, values_only=True)] == ["C1", "C2"]
    result = ingest_file(file_db, path)
    assert result.rows_loaded == 27
    assert file_db.cursor().execute(
        "SELECT row_number, reason FROM rejected_rows WHERE upload_id = ?", [result.upload_id]
    ).fetchall() == [(32, "bad_time")]
