"""The row sets every metric is computed over, built once so that all pages count the same cases.

- :func:`period_cases`: cases submitted in the period, with the flags the KPI catalogue uses;
- :func:`backlog_cases`: cases open at the end of an as-of day (older backlog included);
- :func:`catalog_items`: the service catalogue, filtered by department and item;
- :func:`item_stats`: one row per service item with its online share and the 摆设 flag;
- :func:`journey_cases` / :func:`journeys`: the cases of the period's journeys (一件事), and one row per journey.

Each returns the SQL text of a SELECT (to be used as a CTE) and adds its values to a shared
:class:`~metrics.filters.Params`.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import duckdb
import pandas as pd

import scope
from metrics import precomputed_columns
from metrics.catalog import AT_RISK_WORKDAYS, JOURNEY_WINDOW_DAYS, NAME_ONLY_MIN_CASES, NAME_ONLY_THRESHOLD
from metrics.filters import Filters, Params, where_clause
from store.channels import ONLINE_CHANNELS
from store.rows import one

#: Delivery words that mean the applicant had to fetch the result in person (so not fully online).
IN_PERSON_DELIVERY_PATTERN = r"窗口|现场|自取|领取|大厅|当面|柜台|window|counter|pick.?up|in.person"

#: A case is completed when it has a completion time and is not rejected or withdrawn.
COMPLETED_SQL = "({a}.completed_at IS NOT NULL AND coalesce({a}.status, 'completed') = 'completed')"


def period_cases(filters: Filters, params: Params, group_sql: str = "NULL::VARCHAR") -> str:
    """Cases submitted in the period (``c`` is the cases alias inside ``group_sql``)."""
    where, _ = where_clause(filters, "c", params)
    online = params.add(list(ONLINE_CHANNELS), "online")
    pattern = params.add(IN_PERSON_DELIVERY_PATTERN, "inperson")
    return f"""
        SELECT c.*, {group_sql} AS g,
               CASE WHEN c.channel IS NULL THEN NULL
                    ELSE list_contains({online}::VARCHAR[], c.channel) END AS is_online,
               {COMPLETED_SQL.format(a="c")} AS is_completed,
               CASE WHEN nullif(trim(c.delivery), '') IS NULL THEN NULL
                    ELSE regexp_matches(lower(c.delivery), {pattern}) END AS delivered_in_person,
               CASE WHEN c.promised_unit = 'natural' THEN c.processing_days_natural
                    ELSE c.processing_days_working END AS days_in_promised_unit
        FROM cases c
        WHERE {where}
    """


def open_at_sql(alias: str, instant_sql: str) -> str:
    """SQL: case ``alias`` was submitted before and still open at ``instant_sql`` (a TIMESTAMP)."""
    a = alias
    return (
        f"({a}.submitted_at < {instant_sql} AND ({a}.completed_at >= {instant_sql}"
        f" OR ({a}.completed_at IS NULL AND coalesce({a}.status, 'open') = 'open')))"
    )


def asof_single(params: Params, as_of: dt.date) -> str:
    """An as-of relation with one day (for whole-period figures)."""
    return f"SELECT NULL::DATE AS bucket, {params.add(as_of, 'asof')}::DATE AS as_of_day"


def asof_buckets(params: Params, buckets: list[dt.date], as_of_days: list[dt.date]) -> str:
    """An as-of relation with one day per time bucket (for trends)."""
    b = params.add(buckets, "buckets")
    a = params.add(as_of_days, "asofs")
    return f"SELECT unnest({b}::DATE[]) AS bucket, unnest({a}::DATE[]) AS as_of_day"


def backlog_cases(
    filters: Filters,
    params: Params,
    asof_sql: str,
    group_sql: str = "NULL::VARCHAR",
    at_risk_workdays: int = AT_RISK_WORKDAYS,
) -> str:
    """Cases open at the end of each as-of day; ``a`` is the as-of alias, ``c`` the case alias.

    A case is overdue when its due time lies before the end of the as-of day, and at risk when it
    is not overdue yet but due within ``at_risk_workdays`` working days after the as-of day.
    """
    where, _ = where_clause(filters, "c", params, period=False)
    horizon = params.add(at_risk_workdays, "risk")
    instant = "(a.as_of_day + 1)::TIMESTAMP"
    return f"""
        SELECT c.*, {group_sql} AS g, a.as_of_day,
               c.due_at < {instant} AS is_overdue,
               (c.due_at >= {instant} AND cd.workday_index <= ca.workday_index + {horizon}) AS is_at_risk,
               CASE WHEN c.due_at < {instant}
                    THEN ca.workday_index - cd.workday_index END AS workdays_overdue,
               CASE WHEN c.due_at >= {instant}
                    THEN cd.workday_index - ca.workday_index END AS workdays_left
        FROM ({asof_sql}) a
        JOIN cases c ON {open_at_sql("c", instant)}
        LEFT JOIN calendar ca ON ca.day = a.as_of_day
        LEFT JOIN calendar cd ON cd.day = c.due_at::DATE
        WHERE {where}
    """


def catalog_items(filters: Filters, params: Params, group_sql: str = "NULL::VARCHAR") -> str:
    """The service catalogue (``s``), filtered by department and item; not bound to a period."""
    where, _ = where_clause(
        filters,
        "s",
        params,
        period=False,
        item_columns=("item_name", "item_code"),
        channel_column=None,
        town_column=None,
    )
    return f"""
        SELECT s.*, {group_sql} AS g,
               (s.promised_days >= 0 AND s.statutory_days > 0
                AND coalesce(s.promised_unit, 'working') = coalesce(s.statutory_unit, 'working'))
                   AS comparable_limits
        FROM service_items s
        WHERE {where}
    """


def item_stats(
    params: Params,
    period_cte: str = "p",
    threshold: float = NAME_ONLY_THRESHOLD,
    min_cases: int = NAME_ONLY_MIN_CASES,
) -> str:
    """One row per (group, service item) of the period cases with online share and the 摆设 flag.

    With a catalogue, 摆设 = marked online-capable, at least ``min_cases`` cases with a known
    channel, online share below ``threshold``. Without one: that volume and no online case at all.
    Catalogue rows match a case's item by item code, else by item name.
    """
    thr = params.add(float(threshold), "thr")
    vol = params.add(int(min_cases), "vol")
    return f"""
        SELECT j.*,
               j.online_cases / nullif(j.channel_known, 0) AS online_share,
               CASE WHEN j.has_catalog
                    THEN coalesce(j.catalog_online_capable, false) AND j.channel_known >= {vol}
                         AND j.online_cases < {thr} * j.channel_known
                    ELSE j.channel_known >= {vol} AND j.online_cases = 0 END AS name_only
        FROM (
            SELECT i.*,
                   (SELECT bool_or(s.online_capable) FROM service_items s
                     WHERE s.item_code = i.item_code OR s.item_name = i.service_item) AS catalog_online_capable,
                   (SELECT count(*) > 0 FROM service_items) AS has_catalog
            FROM (
                SELECT g, coalesce(service_item, item_code) AS service_item,
                       min(item_code) AS item_code, mode(department) AS department,
                       count(*) AS cases,
                       count(*) FILTER (WHERE is_online) AS online_cases,
                       count(is_online) AS channel_known
                FROM {period_cte}
                WHERE coalesce(service_item, item_code) IS NOT NULL
                GROUP BY g, coalesce(service_item, item_code)
            ) i
        ) j
    """


#: The statuses that mean the applicant was turned away (不予受理, 退回, 驳回 …) or withdrew (撤回):
#: :mod:`ingest.normalize` (egov_status_word) writes them so.
REFUSED_STATUSES = ("rejected", "withdrawn")


#: Journey row sets built once into a temporary table for a block of statements (:func:`journeys_built_once`).
_BUILT_JOURNEYS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("built_journeys", default=None)


def _journey_key(filters: Filters, window_days: float) -> str:
    """What a journey row set depends on: the period, the towns, the window and the user's town scope."""
    return repr((filters.start, filters.end, tuple(filters.towns), float(window_days), scope.current()))


@contextmanager
def journeys_built_once(
    cur: duckdb.DuckDBPyConnection, filters: Filters, window_days: int = JOURNEY_WINDOW_DAYS
) -> Iterator[None]:
    """Within the block, :func:`journey_cases` of these filters and window reads one temporary table of ``cur``.

    An analysis that asks several questions of the same journeys (the 一件事 summary asks six) then builds them
    once instead of running the window functions over the towns' cases for each. Every statement of the block
    must run on ``cur``: a temporary table belongs to its connection.
    """
    params = Params()
    name = f"journey_cases_{uuid.uuid4().hex}"
    cur.execute(f"CREATE TEMP TABLE {name} AS {journey_cases(filters, params, window_days)}", params.values)
    built = {**(_BUILT_JOURNEYS.get() or {}), _journey_key(filters, window_days): name}
    token = _BUILT_JOURNEYS.set(built)
    try:
        yield
    finally:
        _BUILT_JOURNEYS.reset(token)
        cur.execute(f"DROP TABLE IF EXISTS {name}")


def journey_cases(filters: Filters, params: Params, window_days: int = JOURNEY_WINDOW_DAYS) -> str:
    """Every case of the journeys that begin in the period, one row per case, with its journey.

    A journey is one applicant's cases in one town in order of submission; a new one begins when more than
    ``window_days`` (exact, from the timestamps) pass since the applicant's previous case. A journey belongs
    to the period of its first case, so its later cases may lie after the period end. Cases without an
    applicant key or a submission time are left out. Only the towns (and the scope) of ``filters`` select
    cases: a journey crosses departments, items and channels, so those filters would cut it apart.

    Columns: town, applicant_key, journey_no (per applicant and town), case_id, submitted_at, item
    (service item, else item code), service_item, item_code, department, channel, visits, status, first_at (the
    journey's first submission) and is_refiling (the same item filed again within the window after a
    rejected or withdrawn case of it, measured between submission times).
    """
    built = (_BUILT_JOURNEYS.get() or {}).get(_journey_key(filters, window_days))
    if built is not None:
        return f"SELECT * FROM {built}"
    # A case in the period starts a journey unless its previous case lies within the window before it, so
    # cases from ``window`` days before the start are enough to tell; the end is bounded per town below.
    lookback = replace(filters, departments=(), items=(), channels=(), end=None)
    if filters.start is not None:
        lookback = replace(lookback, start=filters.start - dt.timedelta(days=int(window_days)))
    where, _ = where_clause(lookback, "c", params)
    seconds = params.add(float(window_days) * 86400.0, "window")
    bounded, until = "", ""
    if filters.end is not None:
        bounded = f"LEFT JOIN ({_journeys_end(filters, params, window_days, seconds)}) b ON b.town = c.town"
        until = f"AND c.submitted_at < coalesce(b.until, {params.add(filters.end + dt.timedelta(days=1), 'cut')}::TIMESTAMP)"
    refused = params.add(list(REFUSED_STATUSES), "refused")
    period = []
    if filters.start is not None:
        period.append(f"first_at >= {params.add(filters.start, 'jstart')}::TIMESTAMP")
    if filters.end is not None:
        period.append(f"first_at < {params.add(filters.end + dt.timedelta(days=1), 'jend')}::TIMESTAMP")
    in_period = " AND ".join(period) or "true"
    return f"""
        SELECT * FROM (
            SELECT s.*, min(s.submitted_at) OVER (PARTITION BY s.town, s.applicant_key, s.journey_no) AS first_at
            FROM (
                SELECT k.*,
                       sum(CASE WHEN k.prev_at IS NULL OR epoch(k.submitted_at) - epoch(k.prev_at) > {seconds}
                                THEN 1 ELSE 0 END)
                           OVER (PARTITION BY k.town, k.applicant_key ORDER BY k.submitted_at, k.case_id
                                 ROWS UNBOUNDED PRECEDING) AS journey_no,
                       coalesce(epoch(k.submitted_at) - epoch(k.refused_at) <= {seconds}, false) AS is_refiling
                FROM (
                    SELECT c.town, c.applicant_key, c.case_id, c.submitted_at,
                           coalesce(c.service_item, c.item_code) AS item, c.service_item, c.item_code,
                           c.department, c.channel, c.visits, c.status,
                           lag(c.submitted_at) OVER (PARTITION BY c.town, c.applicant_key
                                                     ORDER BY c.submitted_at, c.case_id) AS prev_at,
                           max(CASE WHEN list_contains({refused}::VARCHAR[], c.status) THEN c.submitted_at END)
                               OVER (PARTITION BY c.town, c.applicant_key, coalesce(c.service_item, c.item_code)
                                     ORDER BY c.submitted_at, c.case_id
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS refused_at
                    FROM cases c {bounded}
                    WHERE c.applicant_key IS NOT NULL AND c.submitted_at IS NOT NULL AND {where} {until}
                ) k
            ) s
        ) j
        WHERE {in_period}
    """


#: How far past a period's end :func:`_journeys_end` looks for a day no journey runs across (else no bound).
JOURNEY_END_SEARCH_DAYS = 31


def _journeys_end(filters: Filters, params: Params, window_days: float, seconds: str) -> str:
    """Per town, the first midnight after the period no journey runs across (``town``, ``until``).

    A journey that begins by the period end lies wholly before such a day (its cases follow each other by the
    window or less, so one of its pairs would run across it), so cases from that day on change nothing of the
    period's journeys: an older month then reads weeks of later cases, not every one. A day is run across when
    two consecutive cases of one applicant lie the window or less apart on both sides of it; the cases from the
    window before the first candidate to the window after the last tell every such pair. A town with no case near
    the period end gets no row (the day after the period end then bounds it: nothing runs across that); a town run
    across on every day searched gets the far future (no bound).
    """
    assert filters.end is not None
    cut = filters.end + dt.timedelta(days=1)
    near = replace(
        filters, departments=(), items=(), channels=(),
        start=cut - dt.timedelta(days=int(window_days) + 1),
        end=cut + dt.timedelta(days=JOURNEY_END_SEARCH_DAYS + int(window_days) + 1),
    )  # fmt: skip
    where, _ = where_clause(near, "c", params)
    first = params.add(cut, "jcut")
    last = params.add(cut + dt.timedelta(days=JOURNEY_END_SEARCH_DAYS), "jlast")
    return f"""
        WITH pairs AS (
            SELECT c.town, c.submitted_at AS later,
                   lag(c.submitted_at) OVER (PARTITION BY c.town, c.applicant_key
                                             ORDER BY c.submitted_at, c.case_id) AS prev
            FROM cases c
            WHERE c.applicant_key IS NOT NULL AND c.submitted_at IS NOT NULL AND {where}
        ), run_across AS (
            SELECT DISTINCT town, unnest(generate_series(date_trunc('day', prev) + INTERVAL 1 DAY, later,
                                                         INTERVAL 1 DAY)) AS day
            FROM pairs
            WHERE later >= {first}::TIMESTAMP AND epoch(later) - epoch(prev) <= {seconds}
        ), days AS (
            SELECT t.town, d.day
            FROM (SELECT DISTINCT town FROM pairs) t,
                 (SELECT unnest(generate_series({first}::TIMESTAMP, {last}::TIMESTAMP, INTERVAL 1 DAY)) AS day) d
        )
        SELECT d.town, coalesce(min(d.day) FILTER (WHERE r.day IS NULL), 'infinity'::TIMESTAMP) AS until
        FROM days d LEFT JOIN run_across r ON r.town = d.town AND r.day = d.day
        GROUP BY d.town
    """


def journeys(
    filters: Filters, params: Params, group_sql: str = "NULL::VARCHAR", window_days: int = JOURNEY_WINDOW_DAYS
) -> str:
    """One row per journey of the period (``j`` is the journey alias inside ``group_sql``: town, first_at).

    Columns: town, applicant_key, journey_no, first_at, cases, items and departments (distinct), visits
    (their sum), visits_known (every case has a number of visits), refilings (cases that are re-applications
    after a refusal), is_multi_item (≥ 2 items), is_multi_department (≥ 2 departments), g.
    """
    return f"""
        SELECT j.*, {group_sql} AS g,
               j.items >= 2 AS is_multi_item, j.departments >= 2 AS is_multi_department
        FROM (
            SELECT town, applicant_key, journey_no, min(first_at) AS first_at, count(*) AS cases,
                   count(DISTINCT item) AS items, count(DISTINCT department) AS departments,
                   sum(visits) AS visits, count(visits) = count(*) AS visits_known,
                   count(*) FILTER (WHERE is_refiling) AS refilings
            FROM ({journey_cases(filters, params, window_days)})
            GROUP BY town, applicant_key, journey_no
        ) j
    """


def field_presence(cur: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Which fields have at least one value anywhere in the data (absent field = unknown KPI).

    Worked out by every write and kept with the KPI cube (``metrics.cube``); computed here when that is not
    current (or the fast paths are off).
    """
    if precomputed_columns.enabled():
        kept = cur.execute(
            "SELECT s.presence FROM cube_state s, data_version v WHERE s.version = v.version AND s.presence IS NOT NULL"
        ).fetchone()
        if kept is not None:
            return {k: bool(v) for k, v in json.loads(kept[0]).items()}
    return live_field_presence(cur)


def live_field_presence(cur: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """:func:`field_presence` from the data itself: each an EXISTS, which stops at the first value."""
    fields = ("submitted_at", "channel", "visits", "completed_at", "processing_days_working", "due_at",
              "promised_days", "resubmissions", "satisfaction", "applicant_key")  # fmt: skip
    row = one(
        cur.execute(
            "SELECT "
            + ", ".join(f"EXISTS (SELECT 1 FROM cases WHERE {f} IS NOT NULL)" for f in fields)
            + """,
               EXISTS (SELECT 1 FROM service_items),
               EXISTS (SELECT 1 FROM service_items WHERE online_capable IS NOT NULL),
               EXISTS (SELECT 1 FROM service_items WHERE promised_days >= 0 AND statutory_days > 0)
        """
        )
    )
    keys = (
        "submitted_at", "channel", "visits", "completed_at", "processing_days_working", "due_at",
        "promised_days", "resubmissions", "satisfaction", "applicant_key", "catalog", "catalog_online_capable",
        "catalog_limits",
    )  # fmt: skip
    return {k: bool(v) for k, v in zip(keys, row, strict=True)}


def frame(cur: duckdb.DuckDBPyConnection, sql: str, params: Params) -> pd.DataFrame:
    """Run a query into a DataFrame whose DATE columns hold ``datetime.date`` (pandas would make them Timestamps)."""
    result = cur.execute(sql, params.values)
    dates = [d[0] for d in result.description if str(d[1]) == "DATE"]
    out = result.df()
    for col in dates:
        out[col] = pd.Series([None if pd.isna(v) else v.date() for v in out[col]], index=out.index, dtype=object)
    return out
