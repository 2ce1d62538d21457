"""Canonical schema and its migrations.

Every loaded row keeps the upload it came from. Cases and events are versioned: each upload adds
its rows, and ``is_current`` marks the version that counts (a case-level record beats one derived
from events; among equals the later known state wins — finished over open, a later completion, more
timestamps — then the newer upload: ``store.uploads.CASE_VERSION_ORDER``). Reloading or overlapping exports therefore never
double-count, and removing an upload brings the previous version back. Metrics read the views
``cases`` and ``events``, which show current rows only.

Timestamps are stored as naive local wall-clock time of the configured zone (default
Asia/Shanghai): inputs with offsets are converted on the way in, so day bucketing and the
working-day calendar need no time-zone arithmetic in queries.
"""

from __future__ import annotations

import duckdb

import clock
import settings
from store.facets import REFRESH_SQL as FACETS_SQL
from store.rows import one


def _literal(text: str) -> str:
    """A SQL string literal of a setting (the default town)."""
    return "'" + text.replace("'", "''") + "'"


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
    # 1 -> 2: users and roles, the audit log, KPI targets.
    """
    CREATE TABLE users (
        name                 VARCHAR PRIMARY KEY,
        role                 VARCHAR NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
        password_hash        VARCHAR,          -- argon2id; NULL for a single-sign-on-only account
        email                VARCHAR,          -- matched against st.user.email for single sign-on
        created_at           TIMESTAMP NOT NULL,
        created_by           VARCHAR,
        updated_at           TIMESTAMP,
        password_changed_at  TIMESTAMP
    );

    CREATE SEQUENCE audit_id_seq START 1;
    CREATE TABLE audit (
        audit_id  BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
        logged_at TIMESTAMP NOT NULL,
        actor     VARCHAR,                     -- user name, or cli:<os user> from the command line
        action    VARCHAR NOT NULL,            -- upload | remove_upload | publish_snapshot | user_add | ...
        target    VARCHAR,                     -- what was acted on: upload id, user name, KPI id
        details   JSON
    );

    CREATE TABLE targets (
        kpi_id      VARCHAR NOT NULL,
        department  VARCHAR,                   -- NULL: the overall target
        value       DOUBLE NOT NULL,           -- rates as fractions (0.6), days in working days
        updated_by  VARCHAR,
        updated_at  TIMESTAMP NOT NULL
    );
    """,
    # 2 -> 3: published monthly snapshots (reports/): frozen figures and the rendered files' bytes.
    """
    CREATE SEQUENCE snapshot_id_seq START 1;

    CREATE TABLE snapshots (
        snapshot_id     INTEGER PRIMARY KEY,
        month           VARCHAR NOT NULL,          -- YYYY-MM
        version         INTEGER NOT NULL,          -- 1, 2, ... per month; a re-issue never replaces
        published_at    TIMESTAMP NOT NULL,
        published_by    VARCHAR,
        data_version    BIGINT NOT NULL,           -- data_version.version the figures were computed at
        uploads         JSON,                      -- ids of the loaded uploads the figures came from
        note            VARCHAR,                   -- why it was (re-)issued
        supersedes      INTEGER,                   -- snapshot_id of the version this one follows
        changes         JSON,                      -- KPI figures that differ from the superseded version
        content         JSON NOT NULL,             -- the frozen figures and tables (reports.content)
        content_sha256  VARCHAR NOT NULL,
        UNIQUE (month, version)
    );

    CREATE TABLE snapshot_files (
        snapshot_id  INTEGER NOT NULL,
        file_name    VARCHAR NOT NULL,
        kind         VARCHAR NOT NULL,             -- pdf | html | xlsx | parquet | csv | json | zip
        media_type   VARCHAR NOT NULL,
        size         BIGINT NOT NULL,              -- bytes as downloaded
        sha256       VARCHAR NOT NULL,             -- of the bytes as downloaded
        compression  VARCHAR NOT NULL,             -- none | zlib: how ``content`` is stored
        content      BLOB NOT NULL,
        PRIMARY KEY (snapshot_id, file_name)
    );
    """,
    # 3 -> 4: derived figures kept at load time so that pages read them instead of re-deriving them from
    # ten million events per view (ingest.write keeps them up to date; metrics read them where exact).
    #  - case_key: one integer per case id, the same in every version of the case; new cases are numbered in
    #    file order, so the events of a month's cases sit together and a filter on cases prunes the events;
    #  - on each event, computed among the events of its own upload for its case (the events of one upload
    #    count together or not at all): its position, the case's event count, the event before it (time,
    #    step), how often its step has occurred in the case so far, and the last earlier event that names a
    #    department (for handovers: its department, and its completion time where that is not the time of
    #    the event just before);
    #  - case_spans: per upload and case, the events' count, first start or completion and last completion.
    # The views keep showing exactly the columns they showed before.
    """
    ALTER TABLE case_rows ADD COLUMN case_key BIGINT;
    ALTER TABLE event_rows ADD COLUMN case_key BIGINT;
    ALTER TABLE event_rows ADD COLUMN pos INTEGER;
    ALTER TABLE event_rows ADD COLUMN n_events INTEGER;
    ALTER TABLE event_rows ADD COLUMN prev_completed_at TIMESTAMP;
    ALTER TABLE event_rows ADD COLUMN prev_step VARCHAR;
    ALTER TABLE event_rows ADD COLUMN step_occurrence INTEGER;
    ALTER TABLE event_rows ADD COLUMN prev_known_department VARCHAR;
    ALTER TABLE event_rows ADD COLUMN prev_known_completed_at TIMESTAMP;

    CREATE TABLE case_spans (
        upload_id   INTEGER NOT NULL,
        case_key    BIGINT NOT NULL,
        case_id     VARCHAR NOT NULL,
        events      INTEGER NOT NULL,
        first_at    TIMESTAMP NOT NULL,   -- earliest start (else completion) of the case's events
        last_at     TIMESTAMP NOT NULL,   -- latest completion
        is_current  BOOLEAN NOT NULL      -- the upload's events are the case's current events
    );

    CREATE OR REPLACE VIEW cases AS SELECT * EXCLUDE (is_current, case_key) FROM case_rows WHERE is_current;
    CREATE OR REPLACE VIEW events AS
        SELECT * EXCLUDE (is_current, case_key, pos, n_events, prev_completed_at, prev_step, step_occurrence,
                          prev_known_department, prev_known_completed_at)
        FROM event_rows WHERE is_current;

    -- Rows loaded before this version.
    CREATE TEMP TABLE _keys AS
        SELECT case_id, row_number() OVER (ORDER BY min(t) NULLS LAST, case_id) AS case_key
        FROM (SELECT case_id, submitted_at AS t FROM case_rows UNION ALL SELECT case_id, completed_at FROM event_rows)
        GROUP BY case_id;
    UPDATE case_rows SET case_key = k.case_key FROM _keys k WHERE case_rows.case_id = k.case_id;
    UPDATE event_rows SET case_key = k.case_key FROM _keys k WHERE event_rows.case_id = k.case_id;
    UPDATE event_rows SET
        pos = w.pos, n_events = w.n_events, prev_completed_at = w.prev_completed_at, prev_step = w.prev_step,
        step_occurrence = w.step_occurrence, prev_known_department = w.prev_known_department,
        prev_known_completed_at = CASE WHEN w.prev_known_completed_at IS DISTINCT FROM w.prev_completed_at
                                       THEN w.prev_known_completed_at END
    FROM (
        SELECT rowid AS rid,
               row_number() OVER win AS pos,
               count(*) OVER (PARTITION BY upload_id, case_id) AS n_events,
               lag(completed_at) OVER win AS prev_completed_at,
               lag(step) OVER win AS prev_step,
               row_number() OVER (PARTITION BY upload_id, case_id, step ORDER BY completed_at, seq) AS step_occurrence,
               last_value(department IGNORE NULLS) OVER before AS prev_known_department,
               last_value(CASE WHEN department IS NOT NULL THEN completed_at END IGNORE NULLS) OVER before
                   AS prev_known_completed_at
        FROM event_rows
        WINDOW win AS (PARTITION BY upload_id, case_id ORDER BY completed_at, seq),
               before AS (PARTITION BY upload_id, case_id ORDER BY completed_at, seq
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ) w
    WHERE event_rows.rowid = w.rid;
    INSERT INTO case_spans
        SELECT upload_id, case_key, case_id, count(*),
               min(coalesce(least(started_at, completed_at), completed_at)), max(completed_at), bool_or(is_current)
        FROM event_rows GROUP BY upload_id, case_key, case_id;
    DROP TABLE _keys;
    """,
    # 4 -> 5: what the filters offer, kept at load time (store/facets.py).
    """
    CREATE TABLE case_facets (
        month         VARCHAR,   -- YYYY-MM of submission
        department    VARCHAR,
        service_item  VARCHAR,
        channel       VARCHAR,
        cases         BIGINT NOT NULL
    );
    CREATE TABLE event_units (department VARCHAR NOT NULL);

    INSERT INTO case_facets
        SELECT strftime(submitted_at, '%Y-%m'), department, service_item, channel, count(*)
        FROM cases GROUP BY ALL;
    INSERT INTO event_units SELECT DISTINCT department FROM events WHERE department IS NOT NULL;
    """,
    # 5 -> 6: the pages' figures for the latest months, computed after each change of the data
    # (metrics/precomputed_views.py).
    """
    CREATE TABLE kept_figures (
        code         VARCHAR NOT NULL,   -- digest of the metrics code and DuckDB version that computed it
        fingerprint  VARCHAR NOT NULL,   -- the data it was computed from (uploads, removals, calendar)
        name         VARCHAR NOT NULL,   -- the metrics function's qualified name (page_queries.call_name)
        call         VARCHAR NOT NULL,   -- the call's arguments, and the day when it counts as of today
        kind         VARCHAR NOT NULL,   -- 'frame' (Arrow IPC) or 'json' (tagged JSON)
        payload      BLOB NOT NULL,
        computed_at  TIMESTAMP NOT NULL
    );
    """,
    # 6 -> 7: sessions belong to an account, not a name (store/users.py). ``user_id`` comes from a sequence, so a
    # user removed and added again under the same name is another account; ``epoch`` is bumped by every change of
    # the credentials or the role, and a session that started at an older epoch is signed out at its next click.
    # ``login_failures`` counts wrong passwords per name in the database, each attempt counted before its check.
    # (IF NOT EXISTS: tests that rewind a database's schema_version re-run this step on a database that has it.)
    """
    CREATE SEQUENCE IF NOT EXISTS user_id_seq START 1;
    ALTER TABLE users ADD COLUMN IF NOT EXISTS user_id BIGINT DEFAULT nextval('user_id_seq');
    ALTER TABLE users ADD COLUMN IF NOT EXISTS epoch INTEGER DEFAULT 0;

    CREATE TABLE IF NOT EXISTS login_failures (
        name          VARCHAR NOT NULL,   -- the name typed at login (also names of no user)
        attempted_at  DOUBLE NOT NULL     -- Unix time of the attempt; counted from before its password check
    );
    """,
    # 7 -> 8: warnings on loaded rows (ingest/validate.py): an optional field that could not be read (承诺时限 99999天,
    # 跑动次数 -3, 满意度 满意满意) is left empty and its row loads; the row number, reason, column and raw value
    # (masked as rejected values are) are kept here. (IF NOT EXISTS: see 6 -> 7.)
    """
    CREATE TABLE IF NOT EXISTS field_warnings (
        upload_id    INTEGER NOT NULL,
        row_number   INTEGER,          -- 1-based row (line) number in the uploaded file
        reason       VARCHAR NOT NULL, -- a warning code from ingest.reasons.REASONS (WARNING_REASONS)
        column_name  VARCHAR,          -- the canonical field
        value        VARCHAR           -- the raw value (never a personal identifier)
    );
    """,
    # 8 -> 9: many towns in one database. Every case, event and case span belongs to a town, and a case is
    # (town, case_id): each town's platform numbers its own cases, so the same id in two towns is two cases.
    # The rows of an existing database are the default town's (``settings.DEFAULT_TOWN``, from $EGOV_TOWN):
    # a single-town installation goes on as before. ``uploads.town`` is the town the upload was loaded into
    # (a file with a town column: the town of its rows without one); ``users.towns`` limits a user to some
    # towns. (IF NOT EXISTS: see 6 -> 7.)
    f"""
    ALTER TABLE uploads ADD COLUMN IF NOT EXISTS town VARCHAR;
    UPDATE uploads SET town = {_literal(settings.DEFAULT_TOWN)} WHERE town IS NULL;
    ALTER TABLE case_rows ADD COLUMN IF NOT EXISTS town VARCHAR DEFAULT {_literal(settings.DEFAULT_TOWN)};
    ALTER TABLE event_rows ADD COLUMN IF NOT EXISTS town VARCHAR DEFAULT {_literal(settings.DEFAULT_TOWN)};
    ALTER TABLE case_spans ADD COLUMN IF NOT EXISTS town VARCHAR DEFAULT {_literal(settings.DEFAULT_TOWN)};
    ALTER TABLE case_facets ADD COLUMN IF NOT EXISTS town VARCHAR;
    -- The towns a user may see and change; NULL: the whole county (every user before towns).
    ALTER TABLE users ADD COLUMN IF NOT EXISTS towns VARCHAR[];
    -- A case's key is one per (town, case id) from now on; the keys in use already are (one town).
    """
    + FACETS_SQL,
    # 9 -> 10: snapshots per town, and the county's. A snapshot belongs to a town (``snapshots.town``) or to the whole
    # county (the marker ``'/county'``: never a town's name, which holds no '/'; NOT NULL, because a UNIQUE constraint
    # treats NULLs as distinct). Versions count per (town, month). DuckDB cannot drop the old UNIQUE (month, version),
    # so the table is rebuilt with the same snapshot ids (``snapshot_files`` refers to them); the snapshots published
    # before are the default town's. (Re-runnable: see 6 -> 7.)
    f"""
    ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS town VARCHAR;
    UPDATE snapshots SET town = {_literal(settings.DEFAULT_TOWN)} WHERE town IS NULL;
    CREATE TABLE snapshots_v10 (
        snapshot_id     INTEGER PRIMARY KEY,
        town            VARCHAR NOT NULL,          -- the town, or '/county' for the county's snapshot
        month           VARCHAR NOT NULL,          -- YYYY-MM
        version         INTEGER NOT NULL,          -- 1, 2, ... per (town, month); a re-issue never replaces
        published_at    TIMESTAMP NOT NULL,
        published_by    VARCHAR,
        data_version    BIGINT NOT NULL,
        uploads         JSON,
        note            VARCHAR,
        supersedes      INTEGER,
        changes         JSON,
        content         JSON NOT NULL,
        content_sha256  VARCHAR NOT NULL,
        UNIQUE (town, month, version)
    );
    INSERT INTO snapshots_v10
        SELECT snapshot_id, town, month, version, published_at, published_by, data_version, uploads, note, supersedes,
               changes, content, content_sha256
        FROM snapshots;
    DROP TABLE snapshots;
    ALTER TABLE snapshots_v10 RENAME TO snapshots;
    """,
    # 10 -> 11: the aggregates kept at load (metrics/cube.py). ``case_changes`` holds the (town, month of submission)
    # whose current cases a write changed (store/uploads.py, ingest/derive.py write it); before the write commits,
    # the metrics' maintainer brings those cells of the cube up to date and empties it. ``cube_state`` says which
    # data version and which definition the cube holds (a reader uses the cube only when both are current), the
    # current case rows it has seen (rows written another way send it back to a whole rebuild) and which fields
    # the data has (metrics.base.field_presence). The cube's own table is the maintainer's: its columns follow
    # the KPI catalogue, so it is made (again) whenever the definition changes.
    """
    CREATE TABLE IF NOT EXISTS case_changes (town VARCHAR, month DATE);
    CREATE TABLE IF NOT EXISTS cube_state (
        version     BIGINT NOT NULL,    -- data_version the cube is current for (-1: never built)
        definition  VARCHAR NOT NULL,   -- digest of the cube's SQL (the catalogue's measures)
        case_rows   BIGINT NOT NULL,    -- count(*) of case_rows when it was last brought up to date
        presence    JSON                -- metrics.base.field_presence of that data
    );
    INSERT INTO cube_state SELECT -1, '', -1, NULL WHERE NOT EXISTS (SELECT 1 FROM cube_state);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = one(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' AND schema_name = 'main'")
    )[0]
    if not exists:
        return 0
    row = one(con.execute("SELECT max(version) FROM schema_version"))
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
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [target, clock.now()])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
