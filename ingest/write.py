"""Write the validated rows of ``_norm`` into the model's tables, inside the load's transaction.

Cases get their keys (a case keeps the key it has), due dates and processing times (:mod:`ingest.derive`);
an event file's cases are derived from their events; rejected rows and field warnings are kept with the
upload. Which version of a case counts is the model's rule (:mod:`store.uploads`), applied to the cases touched.
"""

from __future__ import annotations

import duckdb

from ingest.derive import fill_derived, with_derived
from ingest.mapping import Mapping
from ingest.staging import SourceInfo
from ingest.validate import VALID, execute_named
from store.rows import one
from store.uploads import refresh_current_cases, refresh_current_events

#: Step names that mark a finished case; in an event file that uses them, cases without one are open.
COMPLETION_STEPS = r"办结|结案|归档|发证|出证|办理完成|不予受理|不予许可|撤回|撤件|^close|closed|^end$"

_CASE_STATUS = """CASE WHEN egov_status_word(status_raw) IS NOT NULL THEN egov_status_word(status_raw)
                       WHEN completed_at IS NOT NULL THEN 'completed' ELSE 'open' END"""

#: case_rows columns in insert order; the derived figures are filled by ``with_derived``.
_CASE_ROW_COLUMNS = """case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, status, status_raw, promised_days, promised_unit,
            statutory_days, statutory_unit, due_at, due_at_source, visits, resubmissions, satisfaction, delivery,
            applicant_key, processing_days_natural, processing_days_working, source, source_row, upload_id, is_current,
            case_key, town"""

#: The case columns of a row set holding the ``_norm`` fields, as ``_insert_cases`` wants them.
CASE_SELECT = f"""case_id, service_item, item_code, department, channel, channel_raw, applicant_type,
            submitted_at, accepted_at, completed_at, {_CASE_STATUS} AS status, status_raw, promised_days,
            promised_unit, statutory_days, statutory_unit, due_at,
            CASE WHEN due_at IS NOT NULL THEN 'given' END AS due_at_source, visits,
            resubmissions, satisfaction, delivery, applicant_key, NULL::DOUBLE AS processing_days_natural,
            NULL::DOUBLE AS processing_days_working, town"""


def _insert_cases(cur: duckdb.DuckDBPyConnection, select_sql: str, params: list | dict) -> int:
    """Insert case rows (with their due dates and processing times) from a SELECT of the other columns."""
    return int(
        one(
            cur.execute(
                f"INSERT INTO case_rows ({_CASE_ROW_COLUMNS}) SELECT {_CASE_ROW_COLUMNS} FROM ({with_derived(select_sql)})",
                params,
            )
        )[0]
    )


def _assign_case_keys(cur: duckdb.DuckDBPyConnection, table: str) -> None:
    """``_case_keys`` (town, case_id, case_key) for the cases of the temp ``table`` (town, case_id, first_row, …).

    A case keeps the key it has; new cases are numbered in the order they first appear in the file,
    after every key in use. (Narrow on purpose: ``table`` may be wide and large.)
    """
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _case_keys AS
        SELECT town, case_id, coalesce(known, (SELECT coalesce(max(case_key), 0) FROM case_rows)
               + row_number() OVER (PARTITION BY known IS NULL ORDER BY first_row)) AS case_key
        FROM (
            SELECT t.town, t.case_id, t.first_row, k.case_key AS known FROM {table} t
            LEFT JOIN (SELECT town, case_id, min(case_key) AS case_key FROM case_rows
                       WHERE case_key IS NOT NULL AND (town, case_id) IN (SELECT town, case_id FROM {table})
                       GROUP BY town, case_id) k USING (town, case_id)
        )
        """
    )


def write_cases(cur: duckdb.DuckDBPyConnection, upload_id: int) -> int:
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _case_firsts AS
           SELECT town, case_id, _row AS first_row FROM _norm WHERE reason IS NULL AND NOT is_skip"""
    )
    _assign_case_keys(cur, "_case_firsts")
    count = _insert_cases(
        cur,
        f"""
        SELECT {CASE_SELECT}, 'case_file' AS source, _row AS source_row,
            ?::INTEGER AS upload_id, true AS is_current, k.case_key
        FROM _norm JOIN _case_keys k USING (town, case_id) WHERE reason IS NULL AND NOT is_skip
        """,
        [upload_id],
    )
    _touch(cur, upload_id)
    refresh_current_cases(cur, "_contested")
    fill_derived(cur, upload_id)
    return count


def _touch(cur: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    """``_touched``: the cases this upload brought; ``_contested``: those of them with another version.

    Only contested cases can change which version counts: a case seen for the first time has one
    version (and, if it has events, one upload of them), inserted as the current one.
    """
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT town, case_id FROM case_rows WHERE upload_id = ?",
        [upload_id],
    )
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _contested AS
           SELECT DISTINCT town, case_id FROM case_rows
           WHERE upload_id <> ? AND (town, case_id) IN (SELECT town, case_id FROM _touched)""",
        [upload_id],
    )


#: event_rows columns in insert order (the derived ones last).
_EVENT_ROW_COLUMNS = """case_id, step, department, handler, started_at, completed_at, lifecycle, seq, source_row,
                        upload_id, is_current, case_key, pos, n_events, prev_completed_at, prev_step, step_occurrence,
                        prev_known_department, prev_known_completed_at, town"""


def aggregate_event_cases(cur: duckdb.DuckDBPyConnection, mapped: Mapping | None = None) -> None:
    """``_case_agg``: one case per (town, case id) of an event file's valid rows in ``_norm`` (temp tables only).

    Apart from :func:`write_events` so that the upload preview (ingest/impact.py) derives exactly the cases
    a load would, without writing.
    """
    # What the step names say, worked out once per distinct step rather than per event.
    cur.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _step_flags AS
        SELECT step, regexp_matches(lower(step), $ends) AS ends_case, regexp_matches(step, '补正|补齐|补件') AS resubmission
        FROM (SELECT DISTINCT step FROM _norm WHERE {VALID})
        """,
        {"ends": COMPLETION_STEPS},
    )
    uses_completion_steps = bool(one(cur.execute("SELECT coalesce(bool_or(ends_case), false) FROM _step_flags"))[0])
    # Derive each case from its events; attributes the event file carries (case:* or 事项名称 …) fill in.
    # Attributes the file does not have are NULL whatever the events say: not aggregated at all.
    has = _case_attributes(mapped)

    def first(col: str, kind: str = "VARCHAR") -> str:
        return f"arg_min({col}, _row) FILTER ({col} IS NOT NULL)" if has(col) else f"NULL::{kind}"

    def top(agg: str, col: str, kind: str) -> str:
        return f"{agg}({col})" if has(col) else f"NULL::{kind}"

    given_completed = top("max", "case_completed_at", "TIMESTAMP")
    execute_named(
        cur,
        f"""
        CREATE OR REPLACE TEMP TABLE _case_agg AS
        SELECT town, case_id,
            {first("service_item")} AS service_item,
            {first("item_code")} AS item_code,
            coalesce({first("department")}, arg_max(step_department, event_time)) AS department,
            {first("channel")} AS channel,
            {first("channel_raw")} AS channel_raw,
            {first("applicant_type")} AS applicant_type,
            coalesce({top("min", "case_submitted_at", "TIMESTAMP")}, min(coalesce(started_at, event_time)))
                AS submitted_at,
            {top("min", "accepted_at", "TIMESTAMP")} AS accepted_at,
            CASE WHEN {given_completed} IS NOT NULL THEN {given_completed}
                 WHEN $uses AND NOT bool_or(f.ends_case) THEN NULL
                 ELSE max(event_time) END AS completed_at,
            coalesce({first("status_raw").replace("arg_min", "arg_max")}, arg_max(step, event_time)) AS status_raw,
            {first("promised_days", "DOUBLE")} AS promised_days,
            {first("promised_unit")} AS promised_unit,
            {first("statutory_days", "DOUBLE")} AS statutory_days,
            {first("statutory_unit")} AS statutory_unit,
            {top("max", "due_at", "TIMESTAMP")} AS due_at, {top("max", "visits", "INTEGER")} AS visits,
            coalesce({top("max", "resubmissions", "INTEGER")}, count(*) FILTER (f.resubmission)) AS resubmissions,
            {top("max", "satisfaction", "INTEGER")} AS satisfaction,
            {first("delivery")} AS delivery,
            {first("applicant_key")} AS applicant_key,
            min(_row) AS first_row,
            count(*)::INTEGER AS events,
            min(coalesce(least(started_at, event_time), event_time)) AS first_at,
            max(event_time) AS last_at
        FROM _norm JOIN _step_flags f USING (step)
        WHERE {VALID}
        GROUP BY town, case_id
        """,
        {"uses": uses_completion_steps},
    )


def write_events(cur: duckdb.DuckDBPyConnection, upload_id: int, mapped: Mapping | None = None) -> tuple[int, int]:
    aggregate_event_cases(cur, mapped)
    _assign_case_keys(cur, "_case_agg")
    cases = _insert_cases(
        cur,
        f"""
        SELECT {CASE_SELECT}, 'events' AS source, first_row AS source_row,
            $upload::INTEGER AS upload_id, true AS is_current, k.case_key
        FROM _case_agg JOIN _case_keys k USING (town, case_id)
        """,
        {"upload": upload_id},
    )
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _case_events AS
           SELECT town, case_id, k.case_key, a.events FROM _case_agg a JOIN _case_keys k USING (town, case_id)"""
    )
    cur.execute(
        """INSERT INTO case_spans (upload_id, case_key, case_id, events, first_at, last_at, is_current, town)
           SELECT ?, k.case_key, case_id, events, first_at, last_at, true, town
           FROM _case_agg JOIN _case_keys k USING (town, case_id)""",
        [upload_id],
    )
    events = _insert_events(cur, upload_id, cases)
    _touch(cur, upload_id)
    refresh_current_events(cur, "_contested")
    refresh_current_cases(cur, "_contested")
    fill_derived(cur, upload_id)
    return int(events), int(cases)


def _insert_events(cur: duckdb.DuckDBPyConnection, upload_id: int, cases: int, *, streaming: bool | None = None) -> int:
    """Insert the upload's valid events with the figures derived from their case's other events.

    Each event's position, predecessor and repeat count come from the events of its case in this
    upload, ordered by completion time, then file order (``_row``). In the usual export, where each
    case's events are consecutive lines in time order, that is the file order itself, read once in
    sequence; otherwise the events are partitioned and sorted by case (same figures, more work).
    ``streaming`` forces one way (tests compare both).
    """
    if streaming is None:
        runs, in_order, unknown_department = one(
            cur.execute(
                f"""
            SELECT count(*) FILTER (WHERE new_case), coalesce(bool_and(new_case OR event_time >= prev_time), true),
                   count(*) FILTER (WHERE step_department IS NULL)
            FROM (SELECT event_time, step_department,
                         case_id IS DISTINCT FROM lag(case_id) OVER () OR town IS DISTINCT FROM lag(town) OVER ()
                             AS new_case,
                         lag(event_time) OVER () AS prev_time
                  FROM _norm WHERE {VALID})
            """
            )
        )
        streaming = runs == cases and bool(in_order) and unknown_department == 0
    columns = f"INSERT INTO event_rows ({_EVENT_ROW_COLUMNS})"
    if streaming:
        sql = f"""{columns}
        SELECT s.case_id, s.step, s.step_department, s.handler, s.started_at, s.event_time, s.lifecycle, s._row, s._row,
               $upload, true, a.case_key, s.pos, a.events, s.prev_time, s.prev_step,
               coalesce(s._occ, 1), s.prev_department, NULL, s.town
        FROM (
            SELECT *, (i - max(CASE WHEN new_case THEN i END) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                       + 1)::INTEGER AS pos
            FROM (
                SELECT n.*, row_number() OVER () AS i, NOT same_case AS new_case,
                       CASE WHEN same_case THEN lag(n.event_time) OVER () END AS prev_time,
                       CASE WHEN same_case THEN lag(n.step) OVER () END AS prev_step,
                       CASE WHEN same_case THEN lag(n.step_department) OVER () END AS prev_department
                FROM (SELECT *, coalesce(case_id = lag(case_id) OVER () AND town = lag(town) OVER (), false) AS same_case
                      FROM _norm WHERE {VALID}) n
            )
        ) s JOIN _case_events a USING (town, case_id)
        """
    else:
        sql = f"""{columns}
        SELECT n.case_id, n.step, n.step_department, n.handler, n.started_at, n.event_time, n.lifecycle, n._row, n._row,
               $upload, true, a.case_key, pos, a.events, prev_time, prev_step, coalesce(n._occ, 1), prev_known,
               CASE WHEN prev_known_time IS DISTINCT FROM prev_time THEN prev_known_time END, n.town
        FROM (
            SELECT n.*, row_number() OVER win AS pos, lag(n.event_time) OVER win AS prev_time,
                   lag(n.step) OVER win AS prev_step, last_value(n.step_department IGNORE NULLS) OVER before AS prev_known,
                   last_value(CASE WHEN n.step_department IS NOT NULL THEN n.event_time END IGNORE NULLS) OVER before
                       AS prev_known_time
            FROM (SELECT * FROM _norm WHERE {VALID}) n
            WINDOW win AS (PARTITION BY n.town, n.case_id ORDER BY n.event_time, n._row),
                   before AS (PARTITION BY n.town, n.case_id ORDER BY n.event_time, n._row
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        ) n JOIN _case_events a USING (town, case_id)
        ORDER BY a.case_key, n.event_time, n._row
        """
    return int(one(cur.execute(sql, {"upload": upload_id}))[0])


#: Case attributes of an event file -> the mapped field they come from (None: always present).
_CASE_ATTRIBUTE_SOURCES: dict[str, tuple[str, ...]] = {
    "service_item": ("service_item",), "item_code": ("item_code",), "department": ("department",),
    "channel": ("channel",), "channel_raw": ("channel",), "applicant_type": ("applicant_type",),
    "case_submitted_at": ("submitted_at", "accepted_at"), "accepted_at": ("accepted_at",),
    "case_completed_at": ("completed_at",), "status_raw": ("status",), "promised_days": ("promised",),
    "promised_unit": ("promised",), "statutory_days": ("statutory",), "statutory_unit": ("statutory",),
    "due_at": ("due_at",), "visits": ("visits",), "resubmissions": ("resubmissions",),
    "satisfaction": ("satisfaction",), "delivery": ("delivery",),
}  # fmt: skip


def _case_attributes(mapped: Mapping | None):
    """Whether a case attribute of an event file can have a value (its source column is mapped)."""

    def has(attribute: str) -> bool:
        if mapped is None:
            return True
        if attribute == "applicant_key":
            return bool(set(mapped.pii) & {"id_number", "phone"})
        return any(f in mapped.fields for f in _CASE_ATTRIBUTE_SOURCES[attribute])

    return has


def write_catalog(cur: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    cur.execute(
        """
        INSERT INTO service_item_rows
        SELECT item_code, item_name, department, online_capable, fully_online_capable, promised_days, promised_unit,
               statutory_days, statutory_unit, max_visits, _row, ?
        FROM _norm WHERE reason IS NULL AND NOT is_skip
        """,
        [upload_id],
    )


def write_rejects(cur: duckdb.DuckDBPyConnection, upload_id: int, info: SourceInfo) -> None:
    cur.execute(
        """
        INSERT INTO rejected_rows
        SELECT ?, _row, reason, reason_column, reason_value, raw FROM _norm WHERE reason IS NOT NULL
        """,
        [upload_id],
    )
    if info.malformed:
        # The parser's message only: a malformed line's text may hold personal data we cannot map.
        cur.executemany(
            "INSERT INTO rejected_rows VALUES (?, ?, 'malformed_line', NULL, ?, NULL)",
            [(upload_id, row, message[:300]) for row, message, _ in info.malformed],
        )


def write_field_warnings(cur: duckdb.DuckDBPyConnection, upload_id: int) -> None:
    """Each warning of a loaded row: its row number, code, column and raw value (masked like rejected values)."""
    cur.execute(
        f"""
        INSERT INTO field_warnings
        SELECT ?, _row, w.code, w.col, w.val
        FROM (SELECT _row, unnest(_warn) AS w FROM _norm WHERE _warn IS NOT NULL AND {VALID})
        """,
        [upload_id],
    )
