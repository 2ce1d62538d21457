"""Property-based tests: random bytes and random tables never crash a reader and never half-load."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import normalize
from ingest.errors import IngestRefused
from ingest.load import ingest_bytes
from store.db import Database

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TABLES = ("uploads", "case_rows", "event_rows", "rejected_rows", "service_item_rows")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = Database(tmp_path_factory.mktemp("prop") / "egov.duckdb")
    yield database
    database.close()


def counts(db) -> dict[str, int]:
    cur = db.cursor()
    return {t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def check_all_or_nothing(db, data: bytes, name: str) -> None:
    before = counts(db)
    try:
        result = ingest_bytes(db, data, name)
    except IngestRefused as refused:
        assert refused.message_zh and refused.message_en
        assert counts(db) == before  # refused: nothing changed
        return
    after = counts(db)
    if result.duplicate_of is not None:
        assert after == before
        return
    assert result.rows_loaded + result.rows_rejected == result.rows_total
    assert after["uploads"] == before["uploads"] + 1
    assert after["rejected_rows"] - before["rejected_rows"] == result.rows_rejected
    loaded_rows = after["case_rows"] + after["event_rows"] + after["service_item_rows"]
    assert loaded_rows > before["case_rows"] + before["event_rows"] + before["service_item_rows"]


@SETTINGS
@given(
    data=st.binary(max_size=4000),
    suffix=st.sampled_from([".csv", ".xlsx", ".xls", ".xes", ".jsonl", ".parquet", ".xes.gz"]),
)
def test_random_bytes_never_crash(db, data, suffix):
    check_all_or_nothing(db, data, f"random{suffix}")


CELL = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(
        [
            "2026-10-12 09:00",
            "2026/10/12",
            "45940.5",
            "合计",
            "网上申请",
            "窗口",
            "5个工作日",
            "",
            "非常满意",
            "=1+1",
            "411323199001011234",
        ]
    ),
)
HEADERS = st.sampled_from(
    [
        ["办件编号", "事项名称", "申请渠道", "申请时间", "办结时间", "承诺时限", "满意度"],
        ["case:concept:name", "concept:name", "time:timestamp", "org:group"],
        ["事项编码", "事项名称", "是否网上可办", "承诺时限"],
    ]
)


@SETTINGS
@given(
    header=HEADERS,
    body=st.lists(st.lists(CELL, min_size=1, max_size=8), min_size=0, max_size=30),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_random_tables_load_all_or_nothing(db, header, body, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(body)
    check_all_or_nothing(db, buffer.getvalue().encode(encoding, errors="replace"), "table.csv")


@SETTINGS
@given(text=st.text(max_size=40))
def test_normalisers_accept_any_text(db, text):
    cur = db.cursor()
    normalize.install_macros(cur)
    row = cur.execute(
        "SELECT egov_ts($1, 'Asia/Shanghai'), egov_days($1), egov_day_unit($1, NULL), egov_satisfaction($1), "
        "egov_int($1), egov_bool($1), egov_text($1)",
        [text],
    ).fetchone()
    assert row[3] is None or 1 <= row[3] <= 5
    assert row[2] in (None, "working", "natural")
    cur.close()
