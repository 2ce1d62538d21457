"""Every figure equals the straightforward SQL, for random filter combinations over the demo county.

A seeded draw of filters (towns, departments, items by name or code, channels; a whole month, several months,
the running month to date, a day range across a month boundary, an open period; now and then a selection with
no case at all) is checked two ways:

1. the catalogue's period and backlog KPIs, from :func:`kpis.compute_kpis`, :func:`kpis.kpis_by` (by department,
   item, channel, town) and :func:`kpis.kpi_series` (by month), against reference SQL written here by hand over
   the ``cases`` view from the 口径说明 alone (none of the catalogue's expressions, none of ``metrics.base`` or
   ``metrics.filters``): counts exactly, rates and quantiles (DuckDB's exact ``quantile_cont``) to 1e-9;
2. every call of every page (:data:`page_queries.PAGES`) with the fast paths and without them
   (:func:`precomputed_columns.disabled` switches off every figure kept at load), and the filter options (kept
   at load too) against the cases and events.

Then an upload is removed and loaded again, and a few draws of both are repeated: figures kept at load must
follow a removal and a reload. The seed is in every failure's message; a failing draw is reproduced by it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import settings
from demo import exports
from demo.load import DEMO_FILES
from ingest.load import ingest_file, remove_upload
from metrics import kpis, page_queries, precomputed_columns
from metrics.catalog import KPIS
from metrics.filters import Filters
from store.channels import CHANNELS, ONLINE_CHANNELS
from store.db import Database
from store.facets import filter_options

SEED = 20261116
#: The running month's middle (a Monday): the demo's data stops at it, so the month to date has cases, and the
#: backlog as of today differs from the backlog at the month's end. Pinned at 20:00 (``demo_county``).
TODAY = dt.date(2026, 11, 16)
DEMO = {"towns": 3, "months": 4, "scale": 0.05, "seed": 7}  # 1,200 cases, 7,700 events
DRAWS = 24
PAGE_DRAWS = 5  # the first draw of each kind with both ends: month, months, month to date, days, empty
REL = 1e-9

# --- the reference: the 口径说明 as SQL over the cases view -----------------------------------------------------

_ONLINE = ", ".join(f"'{c}'" for c in ONLINE_CHANNELS)  # fixed codes of the model, not user input
#: 已办结: a completion time, and not turned away or withdrawn.
_DONE = "(completed_at IS NOT NULL AND (status IS NULL OR status = 'completed'))"
#: The result reached the applicant online or by post, or how it did is not known (全程网办's delivery clause).
#: 口径说明: where the delivery is known, the result is not fetched in person (at a window, a hall, on the spot).
_NOT_FETCHED = (
    "(delivery IS NULL OR trim(delivery) = '' "
    "OR NOT regexp_matches(lower(delivery), '窗口|大厅|现场|领取|自取|当面|柜台|window|counter|hall|pick.?up|in.person'))"
)
_IN_PROMISED_UNIT = (
    "(CASE WHEN promised_unit = 'natural' THEN processing_days_natural ELSE processing_days_working END)"
)

#: Period KPIs: ("count", value) | ("rate", numerator, denominator) | ("days", working, natural, n).
PERIOD_REFERENCE: dict[str, tuple[str, ...]] = {
    "cases": ("count", "count(*)"),
    "online_rate": ("rate", f"count(*) FILTER (WHERE channel IN ({_ONLINE}))", "count(channel)"),
    "fully_online_rate": (
        "rate",
        f"count(*) FILTER (WHERE channel IN ({_ONLINE}) AND visits = 0 AND {_NOT_FETCHED})",
        "count(*) FILTER (WHERE channel IS NOT NULL AND visits IS NOT NULL)",
    ),
    "zero_visit_rate": ("rate", "count(*) FILTER (WHERE visits = 0)", "count(visits)"),
    "max_one_visit_rate": ("rate", "count(*) FILTER (WHERE visits <= 1)", "count(visits)"),
    "median_processing_days": (
        "days",
        f"quantile_cont(processing_days_working, 0.5) FILTER (WHERE {_DONE})",
        f"quantile_cont(processing_days_natural, 0.5) FILTER (WHERE {_DONE})",
        f"count(processing_days_working) FILTER (WHERE {_DONE})",
    ),
    "p90_processing_days": (
        "days",
        f"quantile_cont(processing_days_working, 0.9) FILTER (WHERE {_DONE})",
        f"quantile_cont(processing_days_natural, 0.9) FILTER (WHERE {_DONE})",
        f"count(processing_days_working) FILTER (WHERE {_DONE})",
    ),
    "on_time_rate": (
        "rate",
        f"count(*) FILTER (WHERE {_DONE} AND due_at IS NOT NULL AND completed_at <= due_at)",
        f"count(*) FILTER (WHERE {_DONE} AND due_at IS NOT NULL)",
    ),
    "overdue_rate": (
        "rate",
        f"count(*) FILTER (WHERE {_DONE} AND due_at IS NOT NULL AND completed_at > due_at)",
        f"count(*) FILTER (WHERE {_DONE} AND due_at IS NOT NULL)",
    ),
    "speedup_rate": (
        "rate",
        f"sum(1 - {_IN_PROMISED_UNIT} / promised_days) "
        f"FILTER (WHERE {_DONE} AND promised_days > 0 AND {_IN_PROMISED_UNIT} IS NOT NULL)",
        f"count(*) FILTER (WHERE {_DONE} AND promised_days > 0 AND {_IN_PROMISED_UNIT} IS NOT NULL)",
    ),
    "first_pass_rate": (
        "rate",
        f"count(*) FILTER (WHERE {_DONE} AND resubmissions = 0)",
        f"count(*) FILTER (WHERE {_DONE} AND resubmissions IS NOT NULL)",
    ),
    "resubmission_rate": ("rate", "count(*) FILTER (WHERE resubmissions >= 1)", "count(resubmissions)"),
    "good_rating_rate": ("rate", "count(*) FILTER (WHERE satisfaction IN (3, 4, 5))", "count(satisfaction)"),
    "bad_ratings": ("count", "count(*) FILTER (WHERE satisfaction IN (1, 2))"),
    "rating_participation": (
        "rate",
        f"count(*) FILTER (WHERE {_DONE} AND satisfaction IS NOT NULL)",
        f"count(*) FILTER (WHERE {_DONE})",
    ),
}
#: Backlog KPIs, over the cases still open at the end of the as-of day ``a.day`` (``a.day_end`` its midnight).
BACKLOG_REFERENCE: dict[str, tuple[str, ...]] = {
    "open_overdue_cases": ("count", "count(*) FILTER (WHERE c.due_at < a.day_end)"),
    # due within the next 2 working days: at most 2 working days after the as-of day up to the due day
    "at_risk_cases": (
        "count",
        "count(*) FILTER (WHERE c.due_at >= a.day_end AND (SELECT count(*) FROM calendar k WHERE k.is_workday "
        "AND k.day > a.day AND k.day <= c.due_at::DATE) <= 2)",
    ),
}
IDS = [*PERIOD_REFERENCE, *BACKLOG_REFERENCE]


def _selection(filters: Filters, *, period: bool = True) -> tuple[str, list[object]]:
    """The filters as a plain WHERE over ``cases`` (alias ``c``); the period is [start, end], by submission."""
    conditions, values = ["true"], []
    if period and filters.start is not None:
        conditions.append("c.submitted_at >= ?")
        values.append(dt.datetime.combine(filters.start, dt.time()))
    if period and filters.end is not None:
        conditions.append("c.submitted_at < ?")
        values.append(dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time()))
    for column, chosen in (("department", filters.departments), ("channel", filters.channels), ("town", filters.towns)):
        if chosen:
            conditions.append(f"c.{column} IN ({', '.join('?' * len(chosen))})")
            values += list(chosen)
    if filters.items:  # an item is chosen by its name or by its code
        marks = ", ".join("?" * len(filters.items))
        conditions.append(f"(c.service_item IN ({marks}) OR c.item_code IN ({marks}))")
        values += list(filters.items) * 2
    return " AND ".join(conditions), values


def reference_period(cur, filters: Filters, group: str = "NULL") -> dict[object, dict[str, tuple]]:
    """{group: {kpi id: the reference's figures}} for the cases submitted in the period."""
    columns = [(f"{kpi_id}__{k}", expr) for kpi_id, spec in PERIOD_REFERENCE.items() for k, expr in enumerate(spec[1:])]
    where, values = _selection(filters)
    sql = f"SELECT {group} AS g, {', '.join(f'{e} AS {a}' for a, e in columns)} FROM cases c WHERE {where} GROUP BY 1"
    out = {}
    for row in cur.execute(sql, values).fetchall():
        named = dict(zip([a for a, _ in columns], row[1:], strict=True))
        out[row[0]] = {
            kpi_id: tuple(named[f"{kpi_id}__{k}"] for k in range(len(spec) - 1))
            for kpi_id, spec in PERIOD_REFERENCE.items()
        }
    return out


def reference_backlog(cur, filters: Filters, days: dict[object, dt.date], group: str = "NULL") -> dict[tuple, dict]:
    """{(bucket, group): {kpi id: (count,)}} for the cases open at the end of each bucket's as-of day."""
    if not days:
        return {}
    where, values = _selection(filters, period=False)
    columns = ", ".join(f"{spec[1]} AS {kpi_id}" for kpi_id, spec in BACKLOG_REFERENCE.items())
    open_then = (
        "c.submitted_at < a.day_end AND ((c.completed_at IS NOT NULL AND c.completed_at >= a.day_end)"
        " OR (c.completed_at IS NULL AND (c.status IS NULL OR c.status = 'open')))"
    )
    sql = f"""
        SELECT a.bucket, {group} AS g, {columns}
        FROM (SELECT bucket, day, (day + 1)::TIMESTAMP AS day_end
              FROM (SELECT unnest(?::VARCHAR[]) AS bucket, unnest(?::DATE[]) AS day)) a
        JOIN cases c ON {open_then}
        WHERE {where}
        GROUP BY 1, 2
    """
    keys = list(days)
    rows = cur.execute(sql, [[str(k) for k in keys], [days[k] for k in keys], *values]).fetchall()
    by_text = {str(k): k for k in keys}
    names = list(BACKLOG_REFERENCE)
    return {(by_text[r[0]], r[1]): {n: (v,) for n, v in zip(names, r[2:], strict=True)} for r in rows}


def as_of(filters: Filters) -> dt.date:
    """The backlog's day: the period's last day, or today while it runs (or when the period has no end)."""
    return min(filters.end, TODAY) if filters.end else TODAY


def _empty(kpi_id: str) -> tuple:
    """The reference's figures over no case at all."""
    spec = {**PERIOD_REFERENCE, **BACKLOG_REFERENCE}[kpi_id]
    return {"count": (0,), "rate": (0, 0), "days": (None, None, 0)}[spec[0]]


# --- comparing a product result with the reference ---------------------------------------------------------


def _plain(value):
    """None for a missing value however a frame holds it (None, NaN, NA)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return value


def _close(got, expected) -> bool:
    if got is None or expected is None:
        return got is None and expected is None
    return math.isclose(float(got), float(expected), rel_tol=REL, abs_tol=REL)


def check_kpi(kpi_id: str, got: dict, expected: tuple) -> None:
    """One KPI's figures (a result dict or a frame row as a dict) against the reference's."""
    kind = {**PERIOD_REFERENCE, **BACKLOG_REFERENCE}[kpi_id][0]
    got = {k: _plain(v) for k, v in got.items()}
    reason = got.get("reason") or got.get("reason_zh")
    if kind == "count":
        (value,) = expected
        assert got["value"] == value and reason is None, f"{kpi_id}: {got} != {value}"
    elif kind == "rate":
        num, den = (x if x is not None else 0 for x in expected)
        if den == 0:
            ok = got["value"] is None and got["denominator"] == 0 and got["numerator"] == 0 and reason is not None
            assert ok, f"{kpi_id}: {got}, expected unknown (nothing to divide by)"
        else:
            ok = _close(got["numerator"], num) and got["denominator"] == den and _close(got["value"], num / den)
            assert ok and reason is None, f"{kpi_id}: {got} != {num}/{den}"
    else:
        working, natural, n = expected
        if not n:
            ok = got["value"] is None and got["natural_value"] is None and got["n"] == 0 and reason is not None
            assert ok, f"{kpi_id}: {got}, expected unknown (no completed case measured)"
        else:
            ok = _close(got["value"], working) and _close(got["natural_value"], natural) and got["n"] == n
            assert ok and reason is None, f"{kpi_id}: {got} != {(working, natural, n)}"


def _frame_results(frame: pd.DataFrame, key: str) -> dict[object, dict[str, dict]]:
    out: dict[object, dict[str, dict]] = {}
    for row in frame.to_dict("records"):
        out.setdefault(_plain(row[key]), {})[row["kpi_id"]] = row
    return out


def _expected(period: dict, backlog: dict, key) -> dict[str, tuple]:
    """The reference's figures of one group: its period cases' and its backlog's (none: as over no case)."""
    figures = {kpi_id: _empty(kpi_id) for kpi_id in IDS}
    figures.update(period.get(key, {}))
    figures.update(backlog.get((None, key), {}))
    return figures


def check_totals(cur, filters: Filters) -> dict[str, tuple]:
    got = kpis.compute_kpis(cur, filters)  # every KPI, as the pages ask for them
    period = reference_period(cur, filters)
    backlog = reference_backlog(cur, filters, {None: as_of(filters)})
    expected = _expected(period, backlog, None)
    for kpi_id in IDS:
        check_kpi(kpi_id, dict(got[kpi_id]), expected[kpi_id])
    return expected


def check_by(cur, filters: Filters, dimension: str) -> None:
    frame = kpis.kpis_by(cur, filters, dimension, IDS)
    period = reference_period(cur, filters, f"c.{dimension}")
    backlog = reference_backlog(cur, filters, {None: as_of(filters)}, f"c.{dimension}")
    groups = set(period) | {g for _, g in backlog}
    counts = {g: period[g]["cases"][0] if g in period else 0 for g in groups}
    order = sorted(groups, key=lambda g: (-counts[g], g is None, str(g)))  # by cases, most first, then name
    shown = list(dict.fromkeys(_plain(g) for g in frame[dimension]))
    assert shown == order, f"by {dimension}: groups {shown} != {order}"
    results = _frame_results(frame, dimension)
    for group in order:
        expected = _expected(period, backlog, group)
        assert set(results[group]) == set(IDS), f"by {dimension} {group}: KPIs {sorted(results[group])}"
        for kpi_id in IDS:
            try:
                check_kpi(kpi_id, results[group][kpi_id], expected[kpi_id])
            except AssertionError as exc:
                raise AssertionError(f"by {dimension} = {group}: {exc}") from exc


def _months(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    out, day = [], first.replace(day=1)
    while day <= last:
        nxt = (day + dt.timedelta(days=32)).replace(day=1)
        out.append((day, nxt - dt.timedelta(days=1)))
        day = nxt
    return out


def check_series(cur, filters: Filters) -> None:
    """The months of the period, each against the reference; the backlog as of each month's last day, capped at
    the period's end and at today (nobody knows yet which open case will be overdue at the end of a month still
    running)."""
    frame = kpis.kpi_series(cur, filters, "month", IDS)
    first, last = filters.start, filters.end
    if first is None or last is None:  # an open end: the chosen towns' first or last day with cases
        towns, values = _selection(Filters(towns=filters.towns), period=False)
        lo, hi = cur.execute(
            f"SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM cases c WHERE {towns}", values
        ).fetchone()
        first, last = first or lo, last or hi
    months = _months(first, last) if first and last else []
    got_months = list(dict.fromkeys(zip(frame["period_start"], frame["period_end"], strict=True)))
    assert got_months == months, f"months {got_months} != {months}"
    period = reference_period(cur, filters, "strftime(c.submitted_at, '%Y-%m')")
    days = {start: min(end, filters.end or end) for start, end in months}
    days = {start: min(day, TODAY) for start, day in days.items()}
    backlog = reference_backlog(cur, filters, days)
    results = _frame_results(frame, "period_start")
    for start, _ in months:
        expected = {kpi_id: _empty(kpi_id) for kpi_id in IDS}
        expected.update(period.get(f"{start:%Y-%m}", {}))
        expected.update(backlog.get((start, None), {}))
        rows = results[start]
        shown = {_plain(r["as_of"]) for r in rows.values()}
        assert shown == {days[start]}, f"{start:%Y-%m}: backlog as of {shown}, not {days[start]}"
        for kpi_id in IDS:
            try:
                check_kpi(kpi_id, rows[kpi_id], expected[kpi_id])
            except AssertionError as exc:
                raise AssertionError(f"month {start:%Y-%m}: {exc}") from exc


def check_draw(cur, filters: Filters, label: str) -> dict[str, tuple]:
    """Part 1 for one draw; the totals' reference figures (to tell which draws were empty)."""
    try:
        totals = check_totals(cur, filters)
        for dimension in kpis.DIMENSIONS:
            check_by(cur, filters, dimension)
        check_series(cur, filters)
    except AssertionError as exc:
        raise AssertionError(f"seed {SEED}, {label}, {filters}: {exc}") from exc
    return totals


# --- part 2: every page's calls, with the fast paths and without ---------------------------------------------


def same(fast, plain, where: str = "") -> None:
    """Equal up to 1e-9 for floats, rows of frames compared in a fixed order when they tie."""
    if isinstance(plain, pd.DataFrame):
        assert isinstance(fast, pd.DataFrame), f"{where}: {type(fast)}"
        assert list(fast.columns) == list(plain.columns), f"{where}: columns {list(fast.columns)}"
        a, b = fast.reset_index(drop=True), plain.reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=REL)
        except AssertionError:
            # Rows ordered by a floating-point total may swap where two totals tie up to the last bits.
            keys = [c for c in b.columns if b[c].dtype.kind != "f"]
            a, b = (x.sort_values(keys, key=lambda s: s.astype(str), ignore_index=True) for x in (a, b))
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=REL)
            except AssertionError as exc:
                raise AssertionError(f"{where}: {exc}") from exc
    elif isinstance(plain, pd.Series):
        same(fast.to_frame(), plain.to_frame(), where)
    elif isinstance(plain, dict):
        # the same keys, in any order (filter_options' items_by_department comes in no fixed order)
        assert isinstance(fast, dict) and fast.keys() == plain.keys(), f"{where}: keys {list(fast)} != {list(plain)}"
        for key in plain:
            same(fast[key], plain[key], f"{where}.{key}")
    elif isinstance(plain, (list, tuple)):
        assert type(fast) is type(plain) and len(fast) == len(plain), f"{where}: {fast!r} != {plain!r}"
        for k, (x, y) in enumerate(zip(fast, plain, strict=True)):
            same(x, y, f"{where}[{k}]")
    elif dataclasses.is_dataclass(plain) and not isinstance(plain, type):
        assert type(fast) is type(plain), f"{where}: {type(fast)}"
        same(vars(fast), vars(plain), where)
    elif isinstance(plain, (float, np.floating)) and not isinstance(plain, bool):
        ok = (math.isnan(plain) and fast is not None and math.isnan(fast)) or _close(fast, plain)
        assert ok, f"{where}: {fast!r} != {plain!r}"
    else:
        assert fast == plain, f"{where}: {fast!r} != {plain!r}"


def check_pages(cur, filters: Filters, label: str) -> int:
    """Every page's every call for ``filters``, both ways; how many distinct calls were compared."""
    assert filters.start and filters.end, "pages always have both ends"
    default = page_queries.default_context(cur)
    context = replace(
        default,
        filters=filters,
        drill_department=filters.departments[0] if filters.departments else default.drill_department,
        drill_item=filters.items[0] if filters.items else None,
    )
    done: set[str] = set()
    for page, calls in page_queries.PAGES.items():
        for name, query in calls.items():
            args = query.args(context)
            key = f"{query.name}{args!r}"
            if key in done:  # the same call on another page (filter options, the case count, findings)
                continue
            done.add(key)
            fast = query.fn(cur, *args)
            with precomputed_columns.disabled():
                plain = query.fn(cur, *args)
            same(fast, plain, f"seed {SEED}, {label}, page {page}, call {name}, {filters}")
    return len(done)


def check_filter_options(cur, label: str) -> None:
    """The sidebar's options (kept at load, rewritten by every load and removal) against the cases and events."""
    got = filter_options(cur)

    def rows(sql: str) -> list:
        return [r[0] for r in cur.execute(sql).fetchall()]

    pairs = cur.execute(
        "SELECT DISTINCT department, service_item FROM cases WHERE department IS NOT NULL AND service_item IS NOT NULL"
    ).fetchall()
    by_department: dict[str, list[str]] = {}
    for dept, item in sorted(pairs):
        by_department.setdefault(dept, []).append(item)
    expected = {
        "months": rows(
            "SELECT DISTINCT strftime(submitted_at, '%Y-%m') AS m FROM cases WHERE m IS NOT NULL ORDER BY m DESC"
        ),
        "departments": sorted(by_department),
        "items": sorted({item for _, item in pairs}),
        "items_by_department": by_department,
        "channels": rows("SELECT channel FROM cases WHERE channel IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1"),
        "all_units": rows(
            "SELECT department FROM cases WHERE department IS NOT NULL "
            "UNION SELECT department FROM events WHERE department IS NOT NULL ORDER BY 1"
        ),
        "towns": rows("SELECT DISTINCT town FROM cases WHERE town IS NOT NULL ORDER BY 1"),
    }
    assert got.keys() == expected.keys(), label
    for key, value in expected.items():
        assert got[key] == value, f"seed {SEED}, {label}: filter options {key}: {got[key]} != {value}"


# --- the data and the draws ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_county(tmp_path_factory) -> Iterator[tuple[Database, dict[str, dict[str, Path]]]]:
    """The demo county generated up to today (pinned) and loaded through the normal pipeline, and its files.

    What :func:`demo.load.load_demo` does, with the exports kept: the reload loads the very same bytes again.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EGOV_TODAY", f"{TODAY} 20:00")  # the day's office hours are over: its data is whole
        folder = tmp_path_factory.mktemp("filter-property")
        files = {}
        generated = exports.generate_county(first=settings.DEFAULT_TOWN, **DEMO)  # type: ignore[arg-type]
        for k, data in enumerate(generated):
            files[data.town] = exports.write_exports(folder / str(k), data)
        db = Database(folder / "egov.duckdb")
        try:
            for town, written in files.items():
                for kind in DEMO_FILES:
                    ingest_file(db, written[kind], kind=kind, loaded_by="demo", town=town)
            yield db, files
        finally:
            db.close()


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the draws choose from: the data's towns, departments, items and months."""

    towns: list[str]
    departments: list[str]
    items: dict[str, list[tuple[str, str]]]  # department -> (name, code)
    first_day: dt.date

    @classmethod
    def of(cls, cur) -> Facts:
        towns = [r[0] for r in cur.execute("SELECT DISTINCT town FROM cases ORDER BY 1").fetchall()]
        items: dict[str, list[tuple[str, str]]] = {}
        for dept, name, code in cur.execute(
            "SELECT DISTINCT department, service_item, item_code FROM cases ORDER BY ALL"
        ).fetchall():
            items.setdefault(dept, []).append((name, code))
        first = cur.execute("SELECT min(submitted_at)::DATE FROM cases").fetchone()[0]
        return cls(towns, sorted(items), items, first)


PERIODS = ("month", "months", "month_to_date", "days", "open")


def _period(rng: random.Random, kind: str, facts: Facts) -> Filters:
    complete = [m for m, _ in _months(facts.first_day, TODAY)][:-1]  # the running month is not complete
    if kind == "month":
        return Filters.month(f"{rng.choice(complete):%Y-%m}")
    if kind == "months":
        a = rng.randrange(len(complete) - 1)
        b = rng.randrange(a + 1, len(complete))
        return Filters(complete[a], Filters.month(f"{complete[b]:%Y-%m}").end)
    if kind == "month_to_date":
        filters = Filters.month_as_seen(f"{TODAY:%Y-%m}", today=TODAY)
        assert filters.end == TODAY and filters.is_month_to_date()
        return filters
    span = (TODAY - facts.first_day).days
    while True:  # a day range that crosses the end of a month
        start = facts.first_day + dt.timedelta(days=rng.randrange(span))
        end = min(start + dt.timedelta(days=rng.randint(1, 45)), TODAY)
        if kind == "days" and (start.year, start.month) != (end.year, end.month):
            return Filters(start, end)
        if kind == "open":
            return rng.choice([Filters(start=start), Filters(end=end), Filters()])


def draw(rng: random.Random, index: int, facts: Facts, cur) -> tuple[str, Filters]:
    """The ``index``-th draw and its kind: each kind of period in turn; every sixth draw a selection without cases."""
    kind = PERIODS[index % len(PERIODS)]
    period = _period(rng, kind, facts)
    if index % 6 == 5:  # a department in a town that has no case of it in the period
        where, values = _selection(period)
        empty = cur.execute(
            f"""SELECT t.town, d.department FROM (SELECT DISTINCT town FROM cases) t,
                       (SELECT DISTINCT department FROM cases) d
                WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.town = t.town AND c.department = d.department
                                  AND {where})
                ORDER BY ALL""",
            values,
        ).fetchall()
        if empty:
            town, dept = rng.choice(empty)
            return "empty", replace(period, towns=(town,), departments=(dept,))
    towns = rng.sample(facts.towns, rng.choice([0, 0, 1, 2, len(facts.towns)]))
    departments = rng.sample(facts.departments, rng.choice([0, 0, 1, 2]))
    # items mostly of the chosen departments (else an item and a department that exclude each other)
    pool = [
        i for d in (departments if departments and rng.random() < 0.7 else facts.departments) for i in facts.items[d]
    ]
    chosen = rng.sample(pool, min(len(pool), rng.choice([0, 0, 1, 2])))
    items = [name if rng.random() < 0.7 else code for name, code in chosen]  # by name, sometimes by code
    channels = rng.sample(CHANNELS, rng.choice([0, 0, 0, 1, 2]))
    dimensions = {"towns": towns, "departments": departments, "items": items, "channels": channels}
    return kind, replace(period, **{k: tuple(v) for k, v in dimensions.items()})


def draws(cur) -> list[tuple[str, Filters]]:
    rng = random.Random(SEED)
    facts = Facts.of(cur)
    return [draw(rng, i, facts, cur) for i in range(DRAWS)]


def page_draws(all_draws: list[tuple[str, Filters]]) -> list[Filters]:
    """The first draw of each kind with both ends (pages always have both), the empty selection included."""
    first: dict[str, Filters] = {}
    for kind, filters in all_draws:
        if filters.start and filters.end:
            first.setdefault(kind, filters)
    return list(first.values())


# --- the tests -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db(demo_county) -> Database:
    """The module's database under the name the shared ``cur`` fixture (tests/conftest.py) reads."""
    return demo_county[0]


def test_the_reference_covers_every_period_and_backlog_kpi() -> None:
    """A KPI added to the catalogue's period or backlog row sets needs its straightforward SQL here."""
    catalogue = {k.id for k in KPIS if k.scope in ("period", "backlog")}
    assert catalogue == set(IDS)
    assert all({**PERIOD_REFERENCE, **BACKLOG_REFERENCE}[k.id][0] == k.unit for k in KPIS if k.id in IDS)


def test_catalogue_kpis_equal_the_straightforward_sql(cur) -> None:
    all_draws = draws(cur)
    totals = [check_draw(cur, f, f"draw {i} ({kind})") for i, (kind, f) in enumerate(all_draws)]
    # The draws covered what they are meant to: each kind of period, open ends, items by code, empty selections.
    kinds = [kind for kind, _ in all_draws]
    assert set(kinds) == {*PERIODS, "empty"}, f"seed {SEED}: {kinds}"
    assert any(f.start is None for _, f in all_draws) and any(f.end is None for _, f in all_draws), f"seed {SEED}"
    assert any(i[:1].isdigit() for _, f in all_draws for i in f.items), f"seed {SEED}: no item chosen by its code"
    assert all(t["cases"] == (0,) for (kind, _), t in zip(all_draws, totals, strict=True) if kind == "empty")
    assert sum(t["cases"][0] > 0 for t in totals) >= DRAWS // 2, f"seed {SEED}: too few draws with cases"
    assert sum(t["open_overdue_cases"][0] > 0 for t in totals) >= 3, f"seed {SEED}: too few with overdue cases"


def test_series_backlog_is_never_counted_after_today(cur) -> None:
    for filters in (Filters(start=dt.date(2026, 11, 1)), Filters.month(f"{TODAY:%Y-%m}"), Filters()):
        check_series(cur, filters)


def test_every_page_call_equals_the_straightforward_sql(cur) -> None:
    assert precomputed_columns.ready(cur), "the loader keeps its figures: the fast paths must be taken"
    check_filter_options(cur, "as loaded")
    chosen = page_draws(draws(cur))
    assert len(chosen) == PAGE_DRAWS, f"seed {SEED}: {chosen}"
    for k, filters in enumerate(chosen):
        assert check_pages(cur, filters, f"page draw {k}") > 30


def test_figures_follow_a_removal_and_a_reload(demo_county, cur) -> None:
    """One town's case file and another town's event log removed, then loaded again: figures kept at load (the
    events' positions and spans, the filter options, any kept aggregate) must follow both.

    Runs last: it changes the module's database (and leaves it with both files loaded again).
    """
    all_draws = draws(cur)
    again = [f for _, f in all_draws[:4]] + [f for kind, f in all_draws if kind == "empty"][:1]
    pages = [f for f in page_draws(all_draws) if f.is_month_to_date() and not f.towns]
    assert len(pages) == 1, f"seed {SEED}: the month to date of every town is a page draw"
    db, files = demo_county
    chosen = list(zip(list(files)[1:], ("cases", "events"), strict=True))  # (town, kind) of the two uploads
    uploads = [
        cur.execute(
            "SELECT upload_id, rows_loaded FROM uploads WHERE kind = ? AND town = ? AND status = 'loaded'",
            [kind, town],
        ).fetchone()
        for town, kind in chosen
    ]
    counted = "SELECT count(*) FILTER (WHERE source = 'case_file'), (SELECT count(*) FROM events) FROM cases"
    loaded = cur.execute(counted).fetchone()
    figures = reference_period(cur, Filters(), "c.town")

    def check_all(label: str) -> None:
        twice = cur.execute("SELECT count(*) FROM (SELECT town, case_id FROM cases GROUP BY ALL HAVING count(*) > 1)")
        assert twice.fetchone()[0] == 0, f"{label}: cases with two current versions (counted twice)"
        check_filter_options(cur, label)
        assert precomputed_columns.ready(cur), label
        for i, filters in enumerate(again):
            check_draw(cur, filters, f"{label}, draw {i}")
        for filters in pages:
            check_pages(cur, filters, label)

    # The first town's cases count again as its event log alone tells them (their earlier version); the second
    # town's cases lose their events.
    for upload_id, _ in uploads:
        remove_upload(db, upload_id)
    (_, cases_rows), (_, event_rows) = uploads
    assert cur.execute(counted).fetchone() == (loaded[0] - cases_rows, loaded[1] - event_rows)
    assert reference_period(cur, Filters(), "c.town") != figures, "the removal changed the figures"
    check_all("after removal")

    for (town, kind), (_, rows) in zip(chosen, uploads, strict=True):
        result = ingest_file(db, files[town][kind], kind=kind, loaded_by="test", town=town)
        assert result.upload_id is not None and result.rows_loaded == rows, f"{town} {kind}: {result}"
    assert cur.execute(counted).fetchone() == loaded, "the reload brought them back"
    assert reference_period(cur, Filters(), "c.town") == figures
    check_all("after reload")
