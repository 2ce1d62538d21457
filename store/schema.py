"""Canonical schema and its migrations.

Every loaded row keeps the upload it came from. Cases and events are versioned: each upload adds
its rows, and ``is_current`` marks the version that counts (a case-level record beats one derived
from events; among equals the newer upload wins). Reloading or overlapping exports therefore never
double-count, and removing an upload brings the previous version back. Metrics read the views
``cases`` and ``events``, which show current rows only.

Timestamps are stored as naive local wall-clock time of the configured zone (default
Asia/Shanghai): inputs with offsets are converted on the way in, so day bucketing and the
working-day calendar need no time-zone arithmetic in queries.
"""

from __future__ import annotations

import duckdb

#: Each entry migrates the database from version ``i`` to ``i + 1``; never edit a released one.
MIGRATIONS: list[str] = [
    # 0 -> 1: the canonical tables.
    """
    CREATE SEQUENCE upload_id_seq START 1;

    CREATE TABLE uploads (
        upload_id      INTEGER PRIMARY KEY,
        file_name      VARCHAR NOT NULL,
        sha256         VARCHAR NOT NULL,
        kind           VARCHAR NOT NULL,          -- cases | events | catalog
        file_format    VARCHAR,                   -- csv | xlsx | xls | parquet | jsonl | xes
        encoding       VARCHAR,
        sheet          VARCHAR,
        header_row     INTEGER,                   -- 1-based row of the header in the file
        mapping        JSON,                      -- canonical field -> source column
        rows_total     INTEGER NOT NULL,
        rows_loaded    INTEGER NOT NULL,
        rows_rejected  INTEGER NOT NULL,
        rows_skipped   INTEGER NOT NULL DEFAULT 0,  -- 合计/总计 footer rows and blank rows
        cases_loaded   INTEGER NOT NULL DEFAULT 0,
        events_loaded  INTEGER NOT NULL DEFAULT 0,
        warnings       JSON,
        loaded_by      VARCHAR,
        loaded_at      TIMESTAMP NOT NULL,
        status         VARCHAR NOT NULL DEFAULT 'loaded',   -- loaded | removed
        removed_at     TIMESTAMP,
        removed_by     VARCHAR
    );

    CREATE TABLE case_rows (
        case_id          VARCHAR NOT NULL,
        service_item     VARCHAR,
        item_code        VARCHAR,
        department       VARCHAR,
        channel          VARCHAR,   -- online | mobile | window | self_service | post | other
        channel_raw      VARCHAR,
        applicant_type   VARCHAR,
        submitted_at     TIMESTAMP,
        accepted_at      TIMESTAMP,
        completed_at     TIMESTAMP,
        status           VARCHAR,   -- open | completed | rejected | withdrawn
        status_raw       VARCHAR,
        promised_days    DOUBLE,
        promised_unit    VARCHAR,   -- working | natural
        statutory_days   DOUBLE,
        statutory_unit   VARCHAR,
        due_at           TIMESTAMP,
        due_at_source    VARCHAR,   -- given | computed
        visits           INTEGER,
        resubmissions    INTEGER,
        satisfaction     INTEGER,   -- 1..5
        delivery         VARCHAR,   -- how the result reached the applicant, raw words
        applicant_key    VARCHAR,   -- salted hash of the applicant's identifier, never the raw value
        processing_days_natural DOUBLE,
        processing_days_working DOUBLE,
        source           VARCHAR NOT NULL,   -- case_file | events
        source_row       INTEGER,
        upload_id        INTEGER NOT NULL,
        is_current       BOOLEAN NOT NULL DEFAULT true
    );

    CREATE TABLE event_rows (
        case_id       VARCHAR NOT NULL,
        step          VARCHAR NOT NULL,
        department    VARCHAR,
        handler       VARCHAR,
        started_at    TIMESTAMP,
        completed_at  TIMESTAMP NOT NULL,
        lifecycle     VARCHAR,
        seq           INTEGER NOT NULL,   -- order within the file, to break timestamp ties
        source_row    INTEGER,
        upload_id     INTEGER NOT NULL,
        is_current    BOOLEAN NOT NULL DEFAULT true
    );

    CREATE TABLE service_item_rows (
        item_code             VARCHAR,
        item_name             VARCHAR NOT NULL,
        department            VARCHAR,
        online_capable        BOOLEAN,
        fully_online_capable  BOOLEAN,
        promised_days         DOUBLE,
        promised_unit         VARCHAR,
        statutory_days        DOUBLE,
        statutory_unit        VARCHAR,
        max_visits            INTEGER,
        source_row            INTEGER,
        upload_id             INTEGER NOT NULL
    );

    CREATE TABLE rejected_rows (
        upload_id    INTEGER NOT NULL,
        row_number   INTEGER,          -- 1-based row (line) number in the uploaded file
        reason       VARCHAR NOT NULL, -- a code from ingest.validate.REASONS
        column_name  VARCHAR,
        value        VARCHAR,          -- the offending value (never a personal identifier)
        raw          JSON              -- the row's mapped, PII-free fields
    );

    CREATE TABLE calendar (
        day                DATE PRIMARY KEY,
        is_workday         BOOLEAN NOT NULL,
        is_holiday         BOOLEAN NOT NULL,   -- an official public holiday (not a plain weekend)
        is_makeup_workday  BOOLEAN NOT NULL,   -- 调休: a weekend day that is a working day
        holiday_name       VARCHAR,
        source             VARCHAR NOT NULL,   -- official | uploaded | weekend_rule
        workday_index      INTEGER NOT NULL    -- working days on or before this day
    );

    CREATE TABLE channel_synonyms (
        keyword   VARCHAR PRIMARY KEY,  -- matched case-insensitively as a substring of the raw value
        channel   VARCHAR NOT NULL,
        priority  INTEGER NOT NULL DEFAULT 100   -- lower wins; longer keywords win ties
    );

    CREATE TABLE data_version (version BIGINT NOT NULL);   -- bumped by every committed write
    INSERT INTO data_version VALUES (0);

    CREATE VIEW cases AS SELECT * EXCLUDE (is_current) FROM case_rows WHERE is_current;
    CREATE VIEW events AS SELECT * EXCLUDE (is_current) FROM event_rows WHERE is_current;
    CREATE VIEW service_items AS
        SELECT * FROM service_item_rows
        WHERE upload_id = (SELECT max(upload_id) FROM service_item_rows);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' AND schema_name = 'main'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the database up to SCHEMA_VERSION, one transaction per step; returns the version."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {version} is newer than this program ({SCHEMA_VERSION}); upgrade the app"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(MIGRATIONS[target - 1])
            con.execute("INSERT INTO schema_version VALUES (?, current_localtimestamp())", [target])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
