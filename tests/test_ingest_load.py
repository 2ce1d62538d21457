"""Validation, transactions, idempotence, removal and personal data of the load step."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ingest import write as write_module
from ingest.errors import IngestRefused
from ingest.load import ingest_bytes, ingest_file, remove_upload
from ingest.reasons import REASONS
from store.uploads import list_uploads
from tests.pii_values import ID_NUMBERS, NAMES, PHONES

DATA = Path(__file__).parent / "data"
HEADER = "办件编号,事项名称,实施部门,申请渠道,申请时间,受理时间,办结时间,承诺时限"


def write_csv(tmp_path: Path, name: str, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good_rows(prefix: str, n: int, day: int = 12) -> list[str]:
    return [
        f"{prefix}{i},临时救助申请,民政办,窗口,2026-10-{day:02d} 09:00,,2026-10-{day:02d} 15:00,3个工作日"
        for i in range(n)
    ]


def snapshot(db) -> dict[str, list]:
    """Every row of every canonical table, to prove that nothing changed."""
    cur = db.cursor()
    tables = ["uploads", "case_rows", "event_rows", "service_item_rows", "rejected_rows"]
    return {t: sorted(map(repr, cur.execute(f"SELECT * FROM {t}").fetchall())) for t in tables}


def test_every_rejection_reason_kept_with_row_and_column(tmp_path, tmp_db):
    rows = good_rows("OK", 12) + [
        ",临时救助申请,民政办,窗口,2026-10-12 09:00,,,3",  # line 14: missing id
        "T1,临时救助申请,民政办,窗口,昨天上午,,,3",  # line 15: unparseable submission time
        "T2,临时救助申请,民政办,窗口,,,2026-10-12 09:00,3",  # line 16: no submission time at all
        "T3,临时救助申请,民政办,窗口,1999-12-31 09:00,,,3",  # line 17: before 2000
        "T4,临时救助申请,民政办,窗口,2026-10-12 09:00,,2026-10-11 09:00,3",  # line 18: completed before
        "T5,临时救助申请,民政办,窗口,2026-10-12 09:00,2026-10-11 09:00,,3",  # line 19: accepted before
        "OK0,临时救助申请,民政办,窗口,2026-10-12 09:00,,2026-10-12 15:00,3个工作日",  # line 20: duplicate of line 2
        "T6,临时救助申请,民政办,窗口,2026-10-12 09:00,,2026-13-01 09:00,3",  # line 21: bad completion time
    ]
    result = ingest_file(tmp_db, write_csv(tmp_path, "mixed.csv", rows))
    assert (result.rows_loaded, result.rows_rejected, result.rows_total) == (12, 8, 20)
    got = (
        tmp_db.cursor()
        .execute("SELECT row_number, reason, column_name, value FROM rejected_rows ORDER BY row_number")
        .fetchall()
    )
    assert got == [
        (14, "missing_id", "case_id", None),
        (15, "bad_time", "submitted_at", "昨天上午"),
        (16, "missing_time", "submitted_at", None),
        (17, "time_out_of_range", "submitted_at", "1999-12-31 09:00"),
        (18, "completed_before_submitted", "completed_at", "2026-10-11 09:00"),
        (19, "accepted_before_submitted", "accepted_at", "2026-10-11 09:00"),
        (20, "duplicate_in_file", None, None),
        (21, "bad_time", "completed_at", "2026-13-01 09:00"),
    ]
    raw = json.loads(tmp_db.cursor().execute("SELECT raw FROM rejected_rows WHERE row_number = 15").fetchone()[0])
    assert raw["办件编号"] == "T1" and raw["申请时间"] == "昨天上午"
    assert set(result.rejected_by_reason) <= set(REASONS)


def test_event_rejection_reasons(tmp_path, tmp_db):
    header = "办件编号,环节名称,办理部门,开始时间,完成时间"
    rows = [f"C{i},审核,民政办,2026-10-12 09:00,2026-10-12 10:00" for i in range(8)] + [
        "C9,,民政办,,2026-10-12 10:00",  # line 10: missing step
        "C9,审核,民政办,,",  # line 11: missing time
        "C9,审核,民政办,2026-10-12 11:00,2026-10-12 10:00",  # line 12: started after completed
        "C0,审核,民政办,2026-10-12 09:00,2026-10-12 10:00",  # line 13: duplicate event
    ]
    result = ingest_file(tmp_db, write_csv(tmp_path, "ev.csv", rows, header))
    assert (result.events_loaded, result.cases_loaded, result.rows_rejected) == (8, 8, 4)
    got = tmp_db.cursor().execute("SELECT row_number, reason FROM rejected_rows ORDER BY 1").fetchall()
    assert got == [
        (10, "missing_step"),
        (11, "missing_time"),
        (12, "started_after_completed"),
        (13, "duplicate_in_file"),
    ]


def test_mostly_bad_file_refused_whole(tmp_path, tmp_db):
    ingest_file(tmp_db, write_csv(tmp_path, "first.csv", good_rows("A", 3)))
    before = snapshot(tmp_db)
    rows = good_rows("B", 4) + [f"X{i},事项,民政办,窗口,garbage,,,3" for i in range(5)]
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, write_csv(tmp_path, "bad.csv", rows))
    assert info.value.code == "mostly_rejected"
    assert "5/9" in info.value.message_zh and "时间无法识别" in info.value.message_zh
    assert snapshot(tmp_db) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (HEADER.encode() + b"\n", "no_rows"),
        (b"\x00\x01\x02\x03binary" * 50, "binary_file"),
        ("事项名称,申请渠道\n低保,窗口\n".encode(), "missing_columns"),
    ],
)
def test_refused_files_change_nothing(tmp_path, tmp_db, content: bytes, code: str):
    ingest_file(tmp_db, write_csv(tmp_path, "first.csv", good_rows("A", 3)))
    before = snapshot(tmp_db)
    path = tmp_path / "refused.csv"
    path.write_bytes(content)
    with pytest.raises(IngestRefused) as info:
        ingest_file(tmp_db, path)
    assert info.value.code == code
    assert snapshot(tmp_db) == before


def test_failure_midway_rolls_back(tmp_path, tmp_db, monkeypatch):
    ingest_file(tmp_db, write_csv(tmp_path, "first.csv", good_rows("A", 3)))
    before = snapshot(tmp_db)

    def explode(*args, **kwargs):
        raise RuntimeError("disk gone")

    # Cases are already inserted when the derived figures are computed: the failure must undo them.
    monkeypatch.setattr(write_module, "fill_derived", explode)
    with pytest.raises(RuntimeError):
        ingest_file(tmp_db, write_csv(tmp_path, "second.csv", good_rows("B", 5)))
    assert snapshot(tmp_db) == before
    monkeypatch.undo()
    assert ingest_file(tmp_db, write_csv(tmp_path, "second.csv", good_rows("B", 5))).rows_loaded == 5


def test_reload_and_overlapping_export_never_duplicate(tmp_path, tmp_db):
    first = write_csv(tmp_path, "sept_oct.csv", good_rows("A", 10))
    r1 = ingest_file(tmp_db, first)
    again = ingest_file(tmp_db, first)
    assert again.duplicate_of == r1.upload_id and again.upload_id is None
    # An overlapping export: A5..A9 again (A7 now with a later completion), plus A10..A14 new.
    overlap = good_rows("A", 15)[5:]
    overlap[2] = "A7,临时救助申请,民政办,窗口,2026-10-12 09:00,,2026-10-14 15:00,3个工作日"
    r2 = ingest_file(tmp_db, write_csv(tmp_path, "oct_nov.csv", overlap))
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*), count(DISTINCT case_id) FROM cases").fetchone() == (15, 15)
    assert cur.execute("SELECT completed_at::VARCHAR, upload_id FROM cases WHERE case_id = 'A7'").fetchone() == (
        "2026-10-14 15:00:00",
        r2.upload_id,
    )
    # Removing the newer export brings back the older version of the cases it repeated.
    remove_upload(tmp_db, r2.upload_id, removed_by="analyst")
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 10
    assert cur.execute("SELECT completed_at::VARCHAR, upload_id FROM cases WHERE case_id = 'A7'").fetchone() == (
        "2026-10-12 15:00:00",
        r1.upload_id,
    )


def test_events_and_cases_for_the_same_cases(tmp_db):
    """A case file and a step file of the same cases: case-level values win, events add the steps."""
    r_events = ingest_file(tmp_db, DATA / "events.xes")
    ingest_file(tmp_db, DATA / "cases_title_total_gbk.csv")
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 7  # E1, E2 + five SY cases
    assert cur.execute("SELECT count(*) FROM events").fetchone()[0] == 8
    remove_upload(tmp_db, r_events.upload_id)
    assert cur.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert cur.execute("SELECT count(*) FROM cases").fetchone()[0] == 5


def test_case_file_beats_events_for_the_same_case(tmp_path, tmp_db):
    ingest_file(tmp_db, DATA / "events.xes")
    case_file = write_csv(
        tmp_path, "e.csv", ["E2,个体工商户设立登记,市场监管所,窗口,2026-10-13 08:00,,2026-10-16 10:00,5"]
    )
    r = ingest_file(tmp_db, case_file)
    cur = tmp_db.cursor()
    assert cur.execute("SELECT service_item, status, source FROM cases WHERE case_id = 'E2'").fetchone() == (
        "个体工商户设立登记",
        "completed",
        "case_file",
    )
    assert cur.execute("SELECT count(*) FROM events WHERE case_id = 'E2'").fetchone()[0] == 4
    remove_upload(tmp_db, r.upload_id)
    assert cur.execute("SELECT status, source FROM cases WHERE case_id = 'E2'").fetchone() == ("open", "events")


def test_upload_history_records_the_load(tmp_path, tmp_db):
    path = write_csv(tmp_path, "history.csv", good_rows("H", 4) + [",缺编号,民政办,窗口,2026-10-12 09:00,,,3"])
    result = ingest_file(tmp_db, path, loaded_by="党政办-王")
    [row] = list_uploads(tmp_db.cursor())
    assert row["file_name"] == "history.csv"
    assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (row["rows_loaded"], row["rows_rejected"], row["loaded_by"], row["status"]) == (4, 1, "党政办-王", "loaded")
    mapping = json.loads(tmp_db.cursor().execute("SELECT mapping FROM uploads").fetchone()[0])
    assert mapping["case_id"] == "办件编号" and mapping["submitted_at"] == "申请时间"
    remove_upload(tmp_db, result.upload_id, removed_by="admin")
    [row] = list_uploads(tmp_db.cursor())
    assert row["status"] == "removed"
    cur = tmp_db.cursor()
    for table in ("case_rows", "rejected_rows"):
        assert cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    with pytest.raises(IngestRefused):
        remove_upload(tmp_db, result.upload_id)
    # After removal the same file can be loaded again.
    assert ingest_file(tmp_db, path).rows_loaded == 4


def test_uploaded_file_name_never_becomes_a_path(tmp_db):
    data = (HEADER + "\n" + "\n".join(good_rows("N", 2)) + "\n").encode()
    result = ingest_bytes(tmp_db, data, "../../../etc/cron.d/evil.csv")
    assert result.file_name == "evil.csv" and result.rows_loaded == 2


def test_catalog_upload_replaces_the_catalogue(tmp_path, tmp_db):
    header = "事项编码,事项名称,实施部门,是否网上可办,是否全程网办,承诺时限,法定时限,最多跑动次数"
    rows = [
        "S1,最低生活保障申请,民政办,是,否,15个工作日,30个工作日,1",
        "S2,临时救助申请,民政办,否,否,即办,5,2",
        "S2,临时救助申请,民政办,否,否,即办,5,2",
    ]
    result = ingest_file(tmp_db, write_csv(tmp_path, "cat.csv", rows, header))
    assert (result.kind, result.rows_loaded, result.rows_rejected) == ("catalog", 2, 1)
    cur = tmp_db.cursor()
    got = cur.execute(
        "SELECT item_code, online_capable, fully_online_capable, promised_days, statutory_days, "
        "max_visits FROM service_items ORDER BY 1"
    ).fetchall()
    assert got == [("S1", True, False, 15.0, 30.0, 1), ("S2", False, False, 0.0, 5.0, 2)]
    ingest_file(tmp_db, write_csv(tmp_path, "cat2.csv", rows[:1], header))
    assert cur.execute("SELECT count(*) FROM service_items").fetchone()[0] == 1


# --- personal data -----------------------------------------------------------------------------


def all_text_in_database(db) -> str:
    cur = db.cursor()
    chunks = []
    for (table,) in cur.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall():
        chunks.extend(repr(r) for r in cur.execute(f'SELECT * FROM "{table}"').fetchall())
    return "\n".join(chunks)


@pytest.mark.parametrize("file_name", ["cases_title_total_gbk.csv", "cases_merged_title.xlsx", "cases_legacy.xls"])
def test_no_raw_personal_data_in_any_table(tmp_db, file_name):
    source = (DATA / file_name).read_bytes()
    assert b"13812345678" in source or file_name.endswith(("xlsx",))  # the input does carry them
    ingest_file(tmp_db, DATA / file_name)
    # Also a file whose rows are rejected keeps its rejects PII-free.
    text = all_text_in_database(tmp_db)
    for needle in ID_NUMBERS + PHONES + NAMES:
        assert needle not in text
        assert needle.lower() not in text.lower()
    # Repeat applicants can still be counted: one salted key per person, not the raw number.
    keys = tmp_db.cursor().execute("SELECT applicant_key FROM cases ORDER BY case_id").fetchall()
    assert len({k for (k,) in keys}) == 5
    plain = hashlib.sha256(ID_NUMBERS[0].encode()).hexdigest()
    assert plain not in text


def test_rejected_rows_hold_no_personal_data(tmp_path, tmp_db):
    header = "办件编号,申请人姓名,身份证号,手机号,申请时间"
    rows = [f"P{i},张三,411323199001011234,13812345678,2026-10-12 09:00" for i in range(5)]
    rows += ["P9,张三,411323199001011234,13812345678,不是时间", "BROKEN,李四,41132319850202123X"]
    ingest_file(tmp_db, write_csv(tmp_path, "pii.csv", rows, header))
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 2
    text = all_text_in_database(tmp_db)
    for needle in ("张三", "李四", "411323199001011234", "41132319850202123X", "13812345678"):
        assert needle not in text


def test_cases_derived_from_steps_agree_with_the_case_export(tmp_db):
    """The demo sample's step file alone rebuilds every case of its case file: same times, status, item."""
    sample = Path(__file__).resolve().parent.parent / "data" / "sample"
    ingest_file(tmp_db, sample / "events_export.csv")
    ingest_file(tmp_db, sample / "cases_export.csv")
    got = (
        tmp_db.cursor()
        .execute(
            """
        SELECT count(*),
               count(*) FILTER (e.submitted_at = f.submitted_at),
               count(*) FILTER (e.completed_at IS NOT DISTINCT FROM f.completed_at),
               count(*) FILTER (e.status = f.status),
               count(*) FILTER (e.service_item = f.service_item),
               count(*) FILTER (e.resubmissions = f.resubmissions)
        FROM case_rows e JOIN case_rows f USING (case_id)
        WHERE e.source = 'events' AND f.source = 'case_file'
        """
        )
        .fetchone()
    )
    total = got[0]
    assert total == 2631
    assert got == (total,) * 6


def test_preview_validates_without_writing(tmp_path, tmp_db):
    from ingest.preview import preview_file

    before = snapshot(tmp_db)
    preview = preview_file(tmp_db, DATA / "cases_title_total_gbk.csv")
    assert (preview.info.encoding, preview.info.header_row, preview.mapping.kind) == ("GB18030", 2, "cases")
    assert (preview.validation.loaded, preview.validation.rejected, preview.validation.skipped) == (5, 0, 1)
    assert preview.refusal is None and preview.duplicate_of is None
    assert list(preview.sample["申请人"])[:5] == ["***"] * 5 and "13812345678" not in preview.sample.to_string()
    bad = write_csv(tmp_path, "bad.csv", good_rows("B", 2) + [f"X{i},事项,民政办,窗口,garbage,,,3" for i in range(3)])
    bad_preview = preview_file(tmp_db, bad)
    assert bad_preview.refusal is not None and bad_preview.refusal.code == "mostly_rejected"
    assert list(bad_preview.rejects["row"]) == [4, 5, 6]
    assert set(bad_preview.rejects["reason_zh"]) == {"时间无法识别"}
    assert snapshot(tmp_db) == before
    loaded = ingest_file(tmp_db, DATA / "cases_title_total_gbk.csv")
    assert preview_file(tmp_db, DATA / "cases_title_total_gbk.csv").duplicate_of == loaded.upload_id
