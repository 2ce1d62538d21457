"""The bad-input corpus: each file gets a clear message naming the problem and where, and changes nothing.

Through the API and through the command line (one line on stderr, exit 1, never a traceback).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.errors import IngestRefused
from ingest.load import ingest_file
from tests.bad_inputs import PARTLY_REJECTED, REFUSED, half_timestamps_garbage, write
from tests.cli_support import cli

DATA = Path(__file__).parent / "data"


def table_rows(db) -> dict[str, int]:
    cur = db.cursor()
    return {
        t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("uploads", "case_rows", "event_rows", "rejected_rows", "service_item_rows")
    }


@pytest.mark.parametrize(("name", "content", "code", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_clear_message_and_nothing_changed(tmp_path, tmp_db, name, content, code, words):
    ingest_file(tmp_db, DATA / "events.xes")
    before = table_rows(tmp_db)
    path = write(tmp_path, name, content)
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, path)
    assert info.value.code == code
    for word in words:
        assert word in info.value.message_zh + info.value.message_en, word
    assert table_rows(tmp_db) == before


@pytest.mark.parametrize(("name", "content", "code", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_through_the_cli(tmp_path, name, content, code, words):
    db = tmp_path / "egov.duckdb"
    path = write(tmp_path, name, content)
    result = cli("ingest", str(path), "--db", str(db), timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert name in result.stderr and words[0] in result.stderr


@pytest.mark.parametrize(
    ("name", "build", "loaded", "by_reason", "first"), PARTLY_REJECTED, ids=[r[0] for r in PARTLY_REJECTED]
)
def test_bad_rows_are_kept_with_their_line_and_reason(tmp_path, tmp_db, name, build, loaded, by_reason, first):
    path = write(tmp_path, name, build())
    result = ingest_file(tmp_db, path)
    assert (result.rows_loaded, result.rejected_by_reason) == (loaded, by_reason)
    got = tmp_db.cursor().execute("SELECT row_number, reason FROM rejected_rows ORDER BY row_number").fetchall()
    assert got[0] == first and len(got) == sum(by_reason.values())


def test_half_the_timestamps_garbage_names_row_column_and_value(tmp_path, tmp_db):
    ingest_file(tmp_db, write(tmp_path, "half.csv", half_timestamps_garbage()))
    got = tmp_db.cursor().execute("SELECT row_number, column_name, value FROM rejected_rows ORDER BY 1").fetchall()
    assert got == [(r, "submitted_at", "下午三点") for r in (2, 4, 6, 8, 10)]


def test_wrong_sheet_named_with_the_sheets_there(tmp_db):
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, DATA / "cases_merged_title.xlsx", sheet="Sheet9")
    assert info.value.sheet == "Sheet9" and "办件明细" in info.value.message_zh and "说明" in info.value.message_zh


def test_cli_row_limit_refuses_a_larger_file_whole(tmp_path):
    db = tmp_path / "egov.duckdb"
    path = write(tmp_path, "half.csv", half_timestamps_garbage())  # ten data rows
    result = cli("ingest", str(path), "--db", str(db), "--max-rows", "9", timeout=120)
    assert result.returncode == 1 and "超过每个文件 9 行的上限" in result.stderr, result.stderr
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM uploads").fetchone()[0] == 0
