"""Shared helpers for the metrics tests: a fresh in-memory store, row inserts, and the module's ``db`` fixture.

Rows go straight into ``case_rows`` / ``event_rows`` / ``service_item_rows`` (as the loader
would leave them) and :func:`ingest.derive.fill_derived` computes due dates and processing
times, exactly as it does at load time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import pytest

from ingest.derive import fill_derived
from metrics.filters import Filters
from store.db import Database

CASE_COLUMNS = (
    "case_id", "service_item", "item_code", "department", "channel", "channel_raw", "applicant_type",
    "submitted_at", "accepted_at", "completed_at", "status", "promised_days", "promised_unit",
    "statutory_days", "statutory_unit", "due_at", "visits", "resubmissions", "satisfaction", "delivery",
)  # fmt: skip
EVENT_COLUMNS = ("case_id", "step", "department", "handler", "started_at", "completed_at", "lifecycle")
CATALOG_COLUMNS = (
    "item_code", "item_name", "department", "online_capable", "fully_online_capable",
    "promised_days", "promised_unit", "statutory_days", "statutory_unit", "max_visits",
)  # fmt: skip


def ts(text: str) -> dt.datetime:
    """'2026-10-09 09:00' -> datetime (local naive time, as stored)."""
    return dt.datetime.fromisoformat(text)


def new_db() -> Database:
    return Database(":memory:")


def database_fixture(fill: Callable[[Database], None]):
    """A module-scoped ``db`` fixture: a new in-memory store that ``fill`` fills once, closed after the module.

    A test module says ``db = database_fixture(fill_october)``; its tests take ``cur`` (tests/conftest.py),
    a cursor of their own on it.
    """

    @pytest.fixture(scope="module")
    def db() -> Iterator[Database]:
        database = new_db()
        fill(database)
        yield database
        database.close()

    return db


def _status(row: Mapping[str, Any]) -> str:
    return "completed" if row.get("completed_at") else "open"


def insert_cases(db: Database, rows: Iterable[Mapping[str, Any]], upload_id: int = 1) -> None:
    """Insert case rows (missing columns are NULL; status derived from completed_at unless given)."""
    rows = list(rows)
    values = []
    for seq, row in enumerate(rows, start=1):
        unknown = set(row) - set(CASE_COLUMNS)
        assert not unknown, unknown
        record = {c: row.get(c) for c in CASE_COLUMNS}
        for key in ("submitted_at", "accepted_at", "completed_at", "due_at"):
            if isinstance(record[key], str):
                record[key] = ts(record[key])
        record["status"] = record["status"] or _status(row)
        if record["promised_days"] is not None and record["promised_unit"] is None:
            record["promised_unit"] = "working"
        values.append([*record.values(), "given" if record["due_at"] else None, "case_file", seq, upload_id])
    cols = ", ".join((*CASE_COLUMNS, "due_at_source", "source", "source_row", "upload_id"))
    marks = ", ".join("?" for _ in range(len(CASE_COLUMNS) + 4))
    with db.write() as cur:
        if values:
            cur.executemany(f"INSERT INTO case_rows ({cols}) VALUES ({marks})", values)
        fill_derived(cur)


def insert_events(db: Database, rows: Iterable[Mapping[str, Any]], upload_id: int = 1) -> None:
    """Insert event rows in the given order (``seq`` = row order, as in a file)."""
    values = []
    for seq, row in enumerate(rows, start=1):
        unknown = set(row) - set(EVENT_COLUMNS)
        assert not unknown, unknown
        record = {c: row.get(c) for c in EVENT_COLUMNS}
        for key in ("started_at", "completed_at"):
            if isinstance(record[key], str):
                record[key] = ts(record[key])
        values.append([*record.values(), seq, seq, upload_id])
    cols = ", ".join((*EVENT_COLUMNS, "seq", "source_row", "upload_id"))
    marks = ", ".join("?" for _ in range(len(EVENT_COLUMNS) + 3))
    with db.write() as cur:
        cur.executemany(f"INSERT INTO event_rows ({cols}) VALUES ({marks})", values)


def insert_catalog(db: Database, rows: Iterable[Mapping[str, Any]], upload_id: int = 1) -> None:
    values = []
    for seq, row in enumerate(rows, start=1):
        record = {c: row.get(c) for c in CATALOG_COLUMNS}
        values.append([*record.values(), seq, upload_id])
    cols = ", ".join((*CATALOG_COLUMNS, "source_row", "upload_id"))
    marks = ", ".join("?" for _ in range(len(CATALOG_COLUMNS) + 2))
    with db.write() as cur:
        cur.executemany(f"INSERT INTO service_item_rows ({cols}) VALUES ({marks})", values)


def cases_from_events(db: Database) -> None:
    """Give event-only test logs a case row per case (first event = submission, last = completion)."""
    with db.write() as cur:
        cur.execute(
            """
            INSERT INTO case_rows (case_id, department, submitted_at, completed_at, status, source, upload_id)
            SELECT case_id, arg_min(department, completed_at), min(coalesce(started_at, completed_at)),
                   max(completed_at), 'completed', 'events', 1
            FROM event_rows GROUP BY case_id
            """
        )
        fill_derived(cur)


# --- the October log shared by the KPI, adoption, timeliness, bottleneck and CLI tests ----------------
# Calendar: 2026-10-01..07 National Day holidays, Sat 10-10 a make-up workday, 09-25 (Fri) Mid-autumn,
# Sat 10-31 / Sun 11-01 rest days. Working time counts the elapsed fraction of 24 h on working days.

A = "派出所户籍室"
B = "自然资源所"
X, Y, Z = "户口迁移", "宅基地审批", "社保卡申领"

OCTOBER_CASES = [
    # C1: Fri 10-09 09:00 -> Mon 10-12 09:00. Working: 15/24 (Fri) + 1 (Sat 10-10 make-up) + 0 (Sun) + 9/24 = 2.0;
    #     natural 3.0. Due: 5 working days after 10-09 = 10-10, 12, 13, 14, 15 -> 10-15 23:59:59 -> on time.
    dict(
        case_id="C1",
        service_item=X,
        item_code="X01",
        department=A,
        channel="online",
        submitted_at="2026-10-09 09:00",
        completed_at="2026-10-12 09:00",
        promised_days=5,
        visits=0,
        resubmissions=0,
        satisfaction=5,
        delivery="邮寄送达",
    ),
    # C2: Mon 10-12 10:00 -> 16:00: 0.25 working and natural days; due 10-19; on time. Mobile, 0 visits,
    #     but the result was fetched at the window -> online, not fully online.
    dict(
        case_id="C2",
        service_item=X,
        item_code="X01",
        department=A,
        channel="mobile",
        submitted_at="2026-10-12 10:00",
        completed_at="2026-10-12 16:00",
        promised_days=5,
        visits=0,
        resubmissions=0,
        satisfaction=4,
        delivery="窗口领取",
    ),
    # C3: Tue 10-13 09:00 -> Fri 10-23 15:00. Working: 15/24 + 3 (14,15,16) + 4 (19..22) + 15/24 = 8.25;
    #     natural 10.25. Due: 10-14,15,16,19,20 -> 10-20 -> completed late.
    dict(
        case_id="C3",
        service_item=Y,
        item_code="Y01",
        department=B,
        channel="window",
        submitted_at="2026-10-13 09:00",
        completed_at="2026-10-23 15:00",
        promised_days=5,
        visits=2,
        resubmissions=1,
        satisfaction=2,
    ),
    # C4 crosses the month end: Thu 10-29 09:00 -> Tue 11-03 10:00. Working: 15/24 + 1 (Fri) + 0 + 0 + 1 (Mon 11-02)
    #     + 10/24 = 3.0416667; natural 5 d 1 h = 5.0416667. Due: 2 working days: 10-30, 11-02 -> late.
    #     As of 10-31 it is open, not overdue, due within 2 working days -> at risk.
    dict(
        case_id="C4",
        service_item=Y,
        item_code="Y01",
        department=B,
        channel="window",
        submitted_at="2026-10-29 09:00",
        completed_at="2026-11-03 10:00",
        promised_days=2,
        visits=1,
        resubmissions=0,
    ),
    # C5: open; due 3 working days after Tue 10-20 = 10-23 -> overdue as of 10-31. Visits and resubmissions unknown.
    dict(
        case_id="C5",
        service_item=Z,
        item_code="Z01",
        department=A,
        channel="window",
        submitted_at="2026-10-20 09:00",
        promised_days=3,
    ),
    # C6: open, online; due 3 working days after Fri 10-30 = 11-02, 03, 04 -> 11-04: neither overdue nor at risk.
    dict(
        case_id="C6",
        service_item=Z,
        item_code="Z01",
        department=A,
        channel="online",
        submitted_at="2026-10-30 14:00",
        promised_days=3,
        visits=0,
        resubmissions=0,
    ),
    # C9: rejected the same day: a case of the period, but not a completed one.
    dict(
        case_id="C9",
        service_item=X,
        item_code="X01",
        department=A,
        channel="window",
        submitted_at="2026-10-14 09:00",
        completed_at="2026-10-14 11:00",
        status="rejected",
        visits=1,
    ),
]
OTHER_CASES = [
    # C7: September backlog, still open. Due 5 working days after Thu 09-24: 09-25..27 are holidays/weekend,
    #     then 09-28, 29, 30, (10-01..07 holidays), 10-08, 10-09 -> 10-09 23:59:59 -> overdue as of 10-31.
    dict(
        case_id="C7",
        service_item=Y,
        item_code="Y01",
        department=B,
        channel="window",
        submitted_at="2026-09-24 09:00",
        promised_days=5,
    ),
    # C8: September, completed in September: in no October figure.
    dict(
        case_id="C8",
        service_item=X,
        item_code="X01",
        department=A,
        channel="window",
        submitted_at="2026-09-28 09:00",
        completed_at="2026-09-30 16:00",
        promised_days=5,
        visits=1,
    ),
    # C10: November.
    dict(
        case_id="C10",
        service_item=X,
        item_code="X01",
        department=A,
        channel="online",
        submitted_at="2026-11-02 09:00",
        completed_at="2026-11-02 16:00",
        promised_days=5,
        visits=0,
    ),
]
CATALOG = [
    # online-capable 3 of 4. Compression: X 1 - 5/20 = 0.75, Y 1 - 5/10 = 0.5; Z has no statutory limit;
    # W's limits are in different units -> (0.75 + 0.5) / 2 = 0.625 over 2 items.
    dict(
        item_code="X01",
        item_name=X,
        department=A,
        online_capable=True,
        promised_days=5,
        promised_unit="working",
        statutory_days=20,
        statutory_unit="working",
    ),
    dict(
        item_code="Y01",
        item_name=Y,
        department=B,
        online_capable=True,
        promised_days=5,
        promised_unit="working",
        statutory_days=10,
        statutory_unit="working",
    ),
    dict(item_code="Z01", item_name=Z, department=A, online_capable=False, promised_days=3, promised_unit="working"),
    dict(
        item_code="W01",
        item_name="母婴保健证明",
        department="卫健办",
        online_capable=True,
        promised_days=10,
        promised_unit="natural",
        statutory_days=30,
        statutory_unit="working",
    ),
]
OCTOBER = Filters.month("2026-10")


def fill_october(db: Database) -> None:
    """The October log above: its cases and the other months' (OCTOBER_CASES, OTHER_CASES), and the CATALOG."""
    insert_cases(db, OCTOBER_CASES + OTHER_CASES)
    insert_catalog(db, CATALOG)
