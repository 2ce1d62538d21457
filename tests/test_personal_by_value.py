"""Personal data found by value as well as by name (issue 14, part 4).

The detector (ingest/personal.py) is checked against a reference written here independently: the ID check
character by the ISO 7064 MOD 11-2 rule with weights 2^(17-i) mod 11, the credit-code check character with
weights 3^i mod 31, and published examples (GB 11643's 11010519491231002X, the often cited credit code
91350100M000100Y43). End to end, a CSV and an XLSX whose personal columns have headers no alias knows go
through the preview and the load; no raw ID or phone number may reach any column of any table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from pathlib import Path

import pytest

import clock
from ingest import personal
from ingest.errors import IngestRefused
from ingest.load import ingest_file
from ingest.mapping import auto_map, personal_header
from ingest.preview import preview_file

NOW = dt.datetime(2026, 11, 20, 12, 0, 0)
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setenv("EGOV_TODAY", NOW.date().isoformat())
    monkeypatch.setattr(clock, "now", lambda: NOW)


# --- an independent reference ---------------------------------------------------------------------


def ref_id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, check value (12 - sum mod 11) mod 11, 10 written X."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def ref_credit_check(first17: str) -> str:
    """GB 32100-2015: weights 3^i mod 31, check value 31 - (sum mod 31), 31 written 0."""
    total = sum(CREDIT_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def make_ids(n: int, seed: int = 1) -> list[str]:
    """Valid 18-digit ID numbers: a Henan (41) area code, a real birth date, the reference check character."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 50))
        body = f"4113{rng.randrange(10, 99)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
        out.append(body + ref_id_check(body))
    return out


def wrong_check(valid: str) -> str:
    """The same ID number with a wrong check character."""
    return valid[:17] + ("0" if valid[17] != "0" else "1")


def make_case_ids(n: int, seed: int = 2) -> list[str]:
    """18-digit case numbers as a platform writes them (area, date, serial) whose last digit is neither the ID
    check character nor the credit-code one (by the reference): what an ID or a credit code would need."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        body = f"4113{rng.randrange(10, 99)}2026{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(0, 1000):03d}"
        last = str(rng.randrange(0, 10))
        if last not in (ref_id_check(body), ref_credit_check(body)):
            out.append(body + last)
    return out


def make_phones(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}" for _ in range(n)]


def make_credit_codes(n: int, seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        body = "91" + "411323" + "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
        out.append(body + ref_credit_check(body))
    return out


# --- single values ----------------------------------------------------------------------------------


def test_the_reference_agrees_with_published_examples():
    assert ref_id_check("11010519491231002") == "X"  # GB 11643's example 11010519491231002X
    assert ref_credit_check("91350100M000100Y4") == "3"  # 91350100M000100Y43


@pytest.mark.parametrize("value", ["11010519491231002X", "11010519491231002x", *make_ids(30)])
def test_valid_18_digit_ids_are_recognised(value):
    assert personal.is_id18(value)
    assert personal.value_kind(value) == personal.ID_NUMBER


@pytest.mark.parametrize("value", [wrong_check(v) for v in ["11010519491231002X", *make_ids(30)]])
def test_ids_with_a_wrong_check_character_are_not(value):
    assert not personal.is_id18(value)
    assert personal.value_kind(value) != personal.ID_NUMBER  # (one in 31 may pass as a credit code)


def test_every_wrong_check_character_fails():
    body = "11010519491231002"
    wrong = [c for c in "0123456789X" if c != "X"]
    assert [personal.is_id18(body + c) for c in wrong] == [False] * 10


@pytest.mark.parametrize(
    "body",
    [
        "11010518991231002",  # born 1899: before 1900
        "11010520270101002",  # born 2027: after "today" (2026-11-20)
        "11010519490230002",  # 30 February
        "99010519491231002",  # no province 99
    ],
)
def test_ids_with_an_impossible_date_or_province_are_not(body):
    assert not personal.is_id18(body + ref_id_check(body))  # the check character is right, the rest is not


def test_15_digit_ids():
    assert personal.value_kind("110105491231002") == personal.ID_NUMBER  # 1949-12-31
    assert personal.value_kind("411323850229123") is None  # 1985-02-29 does not exist
    assert personal.value_kind("202610120000123") is None  # a date-stamped serial: no province 20
    assert personal.value_kind("41132385022912") is None  # 14 digits


@pytest.mark.parametrize(
    "value", ["13812345678", "19912345678", "138 1234 5678", "138-1234-5678", "+8613812345678", "86 13812345678"]
)
def test_mobile_numbers(value):
    assert personal.value_kind(value) == personal.PHONE


@pytest.mark.parametrize(
    "value", ["12345678901", "10012345678", "20261012001", "1381234567", "138123456789", "0371-63212345", "1381234567a"]
)
def test_numbers_that_only_look_like_mobiles_are_not(value):
    assert personal.value_kind(value) is None


def test_credit_codes():
    assert personal.value_kind("91350100M000100Y43") == personal.CREDIT_CODE
    assert personal.value_kind("91350100m000100y43") == personal.CREDIT_CODE
    for code in make_credit_codes(20):
        assert personal.is_credit_code(code), code
        wrong = code[:17] + CREDIT_ALPHABET[(CREDIT_ALPHABET.index(code[17]) + 1) % 31]
        assert not personal.is_credit_code(wrong), wrong
    assert not personal.is_credit_code("91350100M000100I43")  # I is not in the alphabet
    # Item codes of the catalogue are longer, and shorter codes fail on length.
    assert personal.value_kind("11410000005184893R4000117007001") is None
    assert personal.value_kind("MB1957683") is None


def test_case_ids_that_fail_the_check_are_not_ids():
    assert [v for v in make_case_ids(500) if personal.value_kind(v) is not None] == []


# --- columns ------------------------------------------------------------------------------------------


def test_a_column_of_ids_is_personal_and_one_of_case_ids_is_not():
    assert personal.column_kind(make_ids(50)) == personal.ID_NUMBER
    assert personal.column_kind(make_case_ids(50)) is None
    assert personal.column_kind([wrong_check(v) for v in make_ids(50)]) is None
    assert personal.column_kind(make_phones(50)) == personal.PHONE
    assert personal.column_kind(make_credit_codes(50)) == personal.CREDIT_CODE
    # Old and new ID numbers in one column: ID numbers.
    assert personal.column_kind(["110105491231002", *make_ids(4)]) == personal.ID_NUMBER


def test_the_threshold_is_four_fifths_of_the_non_empty_values():
    ids = make_ids(8)
    text = ["见附件", "窗口受理", "补正后受理"]
    assert personal.column_kind(ids + text[:2]) == personal.ID_NUMBER  # 8 of 10
    assert personal.column_kind(ids[:7] + text) is None  # 7 of 10: a mixed column
    assert personal.column_kind(ids[:3] + ["", None, "  ", "无", "-"] * 10) == personal.ID_NUMBER  # blanks do not count
    assert personal.column_kind(ids[:2] + ["", None]) is None  # fewer than MIN_VALUES non-empty values
    assert personal.MIN_VALUES == 3 and personal.THRESHOLD == (4, 5)


def test_only_the_first_values_are_judged():
    sample = ["备注"] * personal.SAMPLE_VALUES + make_ids(1000)
    assert personal.column_kind(sample) is None


def test_detect_on_columns_whose_headers_no_alias_knows():
    columns = {
        "证件号码(申请人)": make_ids(20),
        "col7": make_phones(20),
        "备用字段": make_credit_codes(20),
        "办件编号": make_case_ids(20),
        "事项编码": [f"1141000000518489{i:03d}" for i in range(20)],
        "备注": make_ids(10) + ["材料齐全"] * 10,
    }
    found = personal.detect(list(columns.values()))
    assert found == {0: personal.ID_NUMBER, 1: personal.PHONE, 2: personal.CREDIT_CODE}


def test_the_sample_is_taken_in_sql_from_the_first_rows():
    import duckdb

    con = duckdb.connect()
    ids = make_ids(3)
    con.execute(
        f"""CREATE TABLE t AS SELECT
              CASE WHEN i < 3 THEN ['{ids[0]}', '{ids[1]}', '{ids[2]}'][i + 1] END AS c0,
              CASE WHEN i >= {personal.SAMPLE_ROWS} THEN '{ids[0]}' END AS c1,
              CASE WHEN i % 2 = 0 THEN ' 13812345678 ' ELSE '' END AS c2
            FROM range(200000) r(i)"""
    )
    # c1 has IDs only past the rows sampled: not looked at (the scan is bounded).
    assert personal.scan(con, "t", {}, 3) == {0: personal.ID_NUMBER, 2: personal.PHONE}
    assert f"LIMIT {personal.SAMPLE_ROWS}" in personal.sample_sql("t", 3)


def test_headers_naming_the_applicant_or_someone_else():
    assert personal_header("申请人身份证号") == ("id_number", True)
    assert personal_header("证件号码(申请人)") == ("id_number", True)
    assert personal_header("申请人手机") == ("phone", True)
    assert personal_header("经办人手机") == ("phone", False)
    assert personal_header("代理人证件号码") == ("id_number", False)
    assert personal_header("证件号码（受托人）") == ("id_number", False)
    assert personal_header("经办人") is None  # the handler: a field, not personal data by name
    assert personal_header("col7") is None and personal_header("备用字段") is None
    mapping = auto_map(["办件编号", "经办人手机", "申请时间", "申请人身份证号", "代理人身份证号", "身份证号"], "cases")
    assert mapping.pii == {"id_number": 3}  # the applicant's; the agent's and a second bare one are masked only
    assert mapping.more_pii == {1: "phone", 4: "id_number", 5: "id_number"}
    assert mapping.personal_indices() == [1, 3, 4, 5]


# --- end to end ---------------------------------------------------------------------------------------


def every_value_in_database(db) -> list[str]:
    """Every value of every column of every table, as text (information_schema, not a list kept here)."""
    cur = db.cursor()
    columns = cur.execute(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = 'main' AND table_catalog = current_database()"""
    ).fetchall()
    out = []
    for table, column in columns:
        rows = cur.execute(f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}" WHERE "{column}" IS NOT NULL')
        out.extend(v for (v,) in rows.fetchall())
    return out


def assert_nowhere(db, needles: list[str]) -> None:
    values = every_value_in_database(db)
    assert len(values) > 50  # the scan saw the data
    text = "\n".join(values)
    for needle in needles:
        assert needle not in text, needle


CASE_HEADER = [
    "办件编号",
    "事项名称",
    "实施部门",
    "申请渠道",
    "申请时间",
    "办结时间",
    "承诺时限",
    "col7",
    "备用字段",
    "代理人证件号码",
]


def case_rows() -> tuple[list[list[str]], dict[str, list[str]]]:
    """Ten cases of four applicants (IDs in col7), phones in three spellings, an agent's ID, one bad row."""
    applicants = make_ids(4, seed=11)
    agents = make_ids(10, seed=12)
    phones = make_phones(10, seed=13)
    spelt = [p if i % 3 == 0 else (f"+86 {p[:3]}-{p[3:7]}-{p[7:]}" if i % 3 == 1 else f"{p[:3]} {p[3:7]} {p[7:]}")
             for i, p in enumerate(phones)]  # fmt: skip
    case_ids = make_case_ids(11, seed=14)
    rows = []
    for i in range(10):
        limit = "三个月左右" if i == 4 else "5个工作日"  # row 4: a field warning, its value kept
        rows.append([case_ids[i], "临时救助申请", "民政办", "窗口", f"2026-10-{12 + i} 09:00", f"2026-10-{12 + i} 15:00",
                     limit, applicants[i % 4], spelt[i], agents[i]])  # fmt: skip
    rows.append(
        [case_ids[10], "临时救助申请", "民政办", "窗口", "不是时间", "", "5", applicants[0], spelt[0], agents[0]]
    )
    return rows, {"applicants": applicants, "agents": agents, "phones": phones, "spelt": spelt, "case_ids": case_ids}


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_csv_personal_columns_found_by_value_are_masked_never_stored_and_key_the_applicant(tmp_path, tmp_db):
    rows, values = case_rows()
    path = write_csv(tmp_path / "办件.csv", CASE_HEADER, rows)
    preview = preview_file(tmp_db, path)
    assert preview.personal_columns == ["col7", "备用字段", "代理人证件号码"]
    assert preview.mapping.pii == {"id_number": 7}  # col7: the applicant's ID; the agent's keys nobody
    assert preview.personal_note.startswith("已识别并遮盖：col7、备用字段、代理人证件号码")
    assert "Personal data found and masked: col7, 备用字段, 代理人证件号码" in preview.personal_note
    sample = preview.sample
    for column in ("col7", "备用字段", "代理人证件号码"):
        assert set(sample[column]) == {"***"}, column
    # The 18-digit case ids fail the ID check: shown and stored as written.
    assert list(sample["办件编号"]) == values["case_ids"][: len(sample)]
    assert preview.validation.loaded == 10 and preview.validation.rejected == 1

    result = ingest_file(tmp_db, path)
    assert result.rows_loaded == 10 and result.rows_rejected == 1 and result.rows_warned == 1
    assert result.personal_columns == ["col7", "备用字段", "代理人证件号码"]
    assert result.personal_by_value == ["col7", "备用字段"]  # 代理人证件号码: by its header
    assert any(w.startswith("已识别并遮盖：col7、备用字段、代理人证件号码") for w in result.warnings)

    needles = values["applicants"] + values["agents"] + values["phones"] + values["spelt"]
    assert_nowhere(tmp_db, needles)
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 1
    assert cur.execute("SELECT count(*) FROM field_warnings").fetchone()[0] == 1
    stored_ids = {r[0] for r in cur.execute("SELECT case_id FROM cases").fetchall()}
    assert stored_ids == set(values["case_ids"][:10])
    # The applicant key: the salted hash of col7's ID (computed here from the salt), four applicants.
    salt = tmp_db.secret_salt()
    keys = dict(cur.execute("SELECT case_id, applicant_key FROM cases").fetchall())
    for i in range(10):
        expected = hashlib.sha256((salt + values["applicants"][i % 4]).encode()).hexdigest()
        assert keys[values["case_ids"][i]] == expected
    assert len(set(keys.values())) == 4
    stored = cur.execute("SELECT warnings FROM uploads").fetchone()[0]
    assert "已识别并遮盖：col7、备用字段、代理人证件号码" in stored


def test_the_command_line_prints_the_personal_columns(tmp_path, tmp_db, capsys):
    import cli

    rows, _ = case_rows()
    result = ingest_file(tmp_db, write_csv(tmp_path / "办件.csv", CASE_HEADER, rows))
    cli._print_result(result)
    out = capsys.readouterr().out
    assert "已识别并遮盖：col7、备用字段、代理人证件号码" in out
    assert "Personal data found and masked: col7, 备用字段, 代理人证件号码" in out


def test_xlsx_event_file_a_handler_column_of_phones_is_taken_out(tmp_path, tmp_db):
    import openpyxl

    applicants = make_ids(3, seed=21)
    phones = make_phones(3, seed=22)
    case_ids = make_case_ids(3, seed=23)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["办件环节明细导出"])  # a title row above the header
    sheet.append(["办件编号", "环节名称", "办理部门", "经办人", "完成时间", "备用字段", "事项名称"])
    for i, case_id in enumerate(case_ids):
        for j, step in enumerate(("受理", "审核", "办结")):
            # The handler column holds mobile numbers, written as numbers the way Excel keeps them.
            sheet.append([case_id, step, "民政办", int(phones[(i + j) % 3]), f"2026-10-1{i} 1{j}:00", applicants[i], "临时救助申请"])  # fmt: skip
    path = tmp_path / "环节.xlsx"
    book.save(path)

    preview = preview_file(tmp_db, path)
    assert preview.mapping.kind == "events"
    assert preview.personal_columns == ["经办人", "备用字段"]
    assert "handler" not in preview.mapping.fields  # taken out of the field its header named
    assert preview.mapping.pii == {"id_number": 5}
    assert set(preview.sample["经办人"]) == {"***"} and set(preview.sample["备用字段"]) == {"***"}
    assert list(preview.sample["办件编号"][:3]) == [case_ids[0]] * 3
    assert any("列“经办人”的内容是个人信息（手机号），已遮盖" in w for w in preview.info.warnings)
    assert "已识别并遮盖：经办人、备用字段" in preview.personal_note

    result = ingest_file(tmp_db, path)
    assert result.events_loaded == 9 and result.cases_loaded == 3
    assert "handler" not in result.mapping
    assert_nowhere(tmp_db, applicants + phones)
    cur = tmp_db.cursor()
    assert cur.execute("SELECT count(*) FROM event_rows WHERE handler IS NOT NULL").fetchone()[0] == 0
    keys = cur.execute("SELECT case_id, applicant_key FROM cases ORDER BY case_id").fetchall()
    salt = tmp_db.secret_salt()
    expected = {c: hashlib.sha256((salt + a).encode()).hexdigest() for c, a in zip(case_ids, applicants, strict=True)}
    assert dict(keys) == expected


def test_an_id_column_naming_someone_else_keys_nobody_and_phones_key_nobody(tmp_path, tmp_db):
    header = ["办件编号", "事项名称", "申请时间", "证件号码（经办人）", "col5"]
    ids, phones = make_ids(5, seed=31), make_phones(5, seed=32)
    rows = [[f"A{i}", "临时救助申请", f"2026-10-1{i} 09:00", ids[i], phones[i]] for i in range(5)]
    path = write_csv(tmp_path / "a.csv", header, rows)
    preview = preview_file(tmp_db, path)
    assert preview.personal_columns == ["证件号码（经办人）", "col5"]
    assert preview.mapping.pii == {}
    ingest_file(tmp_db, path)
    assert tmp_db.cursor().execute("SELECT count(applicant_key) FROM cases").fetchone()[0] == 0
    assert_nowhere(tmp_db, ids + phones)


def test_a_header_found_applicant_id_keeps_the_key(tmp_path, tmp_db):
    """With 身份证号 named by its header, an ID column found by value is masked but does not key."""
    header = ["办件编号", "申请时间", "身份证号", "col3"]
    ids, others = make_ids(4, seed=41), make_ids(4, seed=42)
    rows = [[f"B{i}", f"2026-10-1{i} 09:00", ids[i], others[i]] for i in range(4)]
    path = write_csv(tmp_path / "b.csv", header, rows)
    preview = preview_file(tmp_db, path)
    assert preview.mapping.pii == {"id_number": 2} and preview.mapping.more_pii == {3: "id_number"}
    ingest_file(tmp_db, path)
    salt = tmp_db.secret_salt()
    keys = dict(tmp_db.cursor().execute("SELECT case_id, applicant_key FROM cases").fetchall())
    assert keys == {f"B{i}": hashlib.sha256((salt + ids[i]).encode()).hexdigest() for i in range(4)}
    assert_nowhere(tmp_db, ids + others)


def test_look_alikes_stay_and_mixed_columns_are_masked_per_value_in_the_preview(tmp_path, tmp_db):
    header = ["办件编号", "申请时间", "备注", "流转号"]
    ids = make_ids(2, seed=51)
    notes = [ids[0], ids[1], "材料齐全", "窗口受理", "补正后受理"]
    serials = make_case_ids(5, seed=52)
    rows = [[f"C{i}", f"2026-10-1{i} 09:00", notes[i], serials[i]] for i in range(5)]
    preview = preview_file(tmp_db, write_csv(tmp_path / "c.csv", header, rows))
    assert preview.personal_columns == [] and preview.personal_note is None
    assert list(preview.sample["备注"]) == ["***", "***", "材料齐全", "窗口受理", "补正后受理"]
    assert list(preview.sample["流转号"]) == serials  # 18 digits failing the check: not masked


def test_a_case_id_column_of_ids_is_kept_and_named_in_a_warning(tmp_path, tmp_db):
    ids = make_ids(4, seed=61)
    rows = [[ids[i], f"2026-10-1{i} 09:00"] for i in range(4)]
    preview = preview_file(tmp_db, write_csv(tmp_path / "d.csv", ["办件编号", "申请时间"], rows))
    assert preview.personal_columns == []
    assert list(preview.sample["办件编号"]) == ids
    assert any(w.startswith("办件编号列“办件编号”的值多为身份证号") for w in preview.info.warnings)


def test_a_required_field_of_personal_data_refuses_the_file_in_words(tmp_path, tmp_db):
    phones = make_phones(4, seed=71)
    rows = [[f"E{i}", phones[i], f"2026-10-1{i} 09:00"] for i in range(4)]
    path = write_csv(tmp_path / "e.csv", ["办件编号", "环节名称", "完成时间"], rows)
    with pytest.raises(IngestRefused) as refused:
        preview_file(tmp_db, path)
    assert refused.value.code == "missing_columns"
    assert "“环节名称”的内容是个人信息" in refused.value.message("zh")
    assert "hold personal data" in refused.value.message("en")


def test_the_upload_page_names_the_masked_columns_and_shows_no_raw_number(small_demo_db, tmp_path, monkeypatch):
    from tests.apptest_support import demo_copy_with_users, login, start_app

    at = login(start_app(demo_copy_with_users(small_demo_db, tmp_path), monkeypatch, tmp_path), "ana")
    at.switch_page("views/upload.py").run()
    assert not at.exception, at.exception
    rows, values = case_rows()
    data = "\n".join(",".join(r) for r in [CASE_HEADER, *rows]).encode("utf-8")
    at.file_uploader(key="upload_files").set_value([("办件.csv", data, "text/csv")])
    at.run()
    assert not at.exception, at.exception
    infos = [str(i.value) for i in at.info]
    assert any("已识别并遮盖：col7、备用字段、代理人证件号码" in i for i in infos), infos
    shown = "\n".join(frame.value.astype(str).to_csv() for frame in at.dataframe)
    assert values["case_ids"][0] in shown  # the preview is there, its case ids as written
    for needle in values["applicants"] + values["agents"] + values["spelt"]:
        assert needle not in shown, needle
