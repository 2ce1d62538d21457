"""The whole bad-input corpus through the upload page, as an analyst drops each file.

A refused file: one clear message naming the problem, no traceback, no enabled 导入 button, and
nothing in the database changed. A file with some bad rows: the validation report counts them by
reason, and loading keeps each rejected row with its line number and reason.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import settings
from tests.apptest_support import button, demo_copy_with_users, errors, login, start_app
from tests.bad_inputs import DATA, PARTLY_REJECTED, REFUSED, file_content
from tests.test_upload_page import drop, open_upload_page, report

TABLES = ("uploads", "case_rows", "event_rows", "rejected_rows", "service_item_rows", "audit")


def table_rows(db_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(db_path))
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def analyst_db(small_demo_db: Path, tmp_path_factory) -> Path:
    return demo_copy_with_users(small_demo_db, tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def analyst(analyst_db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    return login(start_app(analyst_db, monkeypatch, tmp_path), "ana")


def import_buttons(at) -> list:
    return [b for b in at.button if b.label == "导入"]


def test_every_refused_file_is_explained_and_changes_nothing(analyst, analyst_db):
    at = open_upload_page(analyst)
    before = table_rows(analyst_db)
    for name, content, _code, words in REFUSED:
        drop(at, (name, file_content(name, content)))
        messages = errors(at)
        assert len(messages) == 1 and words[0] in messages[0], (name, messages)
        assert "Traceback" not in messages[0] and "Error" not in messages[0], (name, messages)
        assert all(b.disabled for b in import_buttons(at)), name
    assert table_rows(analyst_db) == before


@pytest.mark.parametrize(
    ("name", "build", "loaded", "by_reason", "first"), PARTLY_REJECTED, ids=[r[0] for r in PARTLY_REJECTED]
)
def test_bad_rows_are_reported_then_kept_with_line_and_reason(
    analyst, analyst_db, name, build, loaded, by_reason, first
):
    at = open_upload_page(analyst)
    drop(at, (name, build()))
    rejected = sum(by_reason.values())
    shown = report(at)
    assert (shown["可导入"], shown["拒收"]) == (f"{loaded:,}", f"{rejected:,}"), shown
    assert any(d.label == "下载拒收行（Excel）" for d in at.get("download_button"))
    button(at, "导入").click().run()
    assert not at.exception, at.exception
    assert any("已导入为上传" in s.value for s in at.success), [s.value for s in at.success]
    con = duckdb.connect(str(analyst_db))
    try:
        upload_id, kept = con.execute(
            "SELECT upload_id, rows_rejected FROM uploads WHERE file_name = ? ORDER BY upload_id DESC LIMIT 1", [name]
        ).fetchone()
        lines = con.execute(
            "SELECT row_number, reason FROM rejected_rows WHERE upload_id = ? ORDER BY row_number", [upload_id]
        ).fetchall()
    finally:
        con.close()
    assert kept == rejected and len(lines) == rejected and lines[0] == first


def test_a_file_over_the_row_limit_is_refused_whole(analyst, analyst_db, monkeypatch):
    monkeypatch.setattr(settings, "MAX_UPLOAD_ROWS", 4)
    at = open_upload_page(analyst)
    assert "4 行" in " ".join(c.value for c in at.caption)
    before = table_rows(analyst_db)
    drop(at, ("cases.csv", (DATA / "cases_title_total_gbk.csv").read_bytes()))  # five data rows
    assert any("超过每个文件 4 行的上限" in e for e in errors(at)), errors(at)
    assert all(b.disabled for b in import_buttons(at))
    assert table_rows(analyst_db) == before
