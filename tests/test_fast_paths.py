"""The fast paths give the straightforward SQL's results, on the same data.

- the metrics read figures kept at load time (``metrics.precomputed_columns``); every bottleneck analysis, for
  several filters, equals the same analysis with the fast paths switched off;
- the figures themselves: derived at load time, two ways (a case-ordered file read in sequence, any
  other file sorted by case), they equal the window functions over the loaded events, and the
  migration fills them the same way for rows loaded before it;
- the faster normalisation macros equal their plain definitions on awkward values.

Floating-point sums may differ in the last bits (DuckDB adds in parallel, in no fixed order), so
frames are compared with a relative tolerance of 1e-9; everything else must be equal.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from pathlib import Path

import pandas as pd
import pytest

from demo.load import load_demo
from ingest import write as write_module
from ingest.load import ingest_file, remove_upload
from metrics import bottlenecks as bn
from metrics import precomputed_columns
from metrics.base import field_presence
from metrics.filters import Filters
from metrics.findings import rank_bottlenecks
from store import schema
from store.db import Database
from tests.conftest import database_at_version


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Database:
    """The shipped sample (catalogue, GBK case export, event export) loaded through the normal pipeline."""
    db = Database(tmp_path_factory.mktemp("fast") / "egov.duckdb")
    load_demo(db, small=True)
    yield db
    db.close()


def _months(cur) -> list[str]:
    return [
        r[0] for r in cur.execute("SELECT DISTINCT strftime(submitted_at, '%Y-%m') FROM cases ORDER BY 1").fetchall()
    ]


def _filters(cur) -> list[Filters]:
    months = _months(cur)
    dept, item = cur.execute(
        "SELECT department, service_item FROM cases GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    last_full = months[-2]
    return [
        Filters(),
        Filters.month(last_full),
        Filters.month(last_full, departments=[dept]),
        Filters.month(last_full, channels=["online", "mobile"]),
        Filters.between(f"{months[-4]}-01", Filters.month(last_full).end, items=[item]),
    ]


def _compare(cur, name: str, filters: Filters) -> None:
    quick = ANALYSES[name](cur, filters)
    with precomputed_columns.disabled():
        plain = ANALYSES[name](cur, filters)
    try:
        _same(quick, plain)
    except AssertionError as exc:
        raise AssertionError(f"{name} {filters}: {exc}") from exc


def _same(fast_value, plain_value) -> None:
    if isinstance(plain_value, pd.DataFrame):
        assert isinstance(fast_value, pd.DataFrame)
        a, b = fast_value.reset_index(drop=True), plain_value.reset_index(drop=True)
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
        except AssertionError:
            # Rows ordered by a floating-point total may swap where two totals tie up to the last bits;
            # then the same rows must be there, in an order that differs only at such ties.
            keys = [c for c in b.columns if b[c].dtype.kind not in "f"]
            pd.testing.assert_frame_equal(
                a.sort_values(keys, ignore_index=True), b.sort_values(keys, ignore_index=True),
                check_exact=False, rtol=1e-9,
            )  # fmt: skip
    elif isinstance(plain_value, dict):
        assert fast_value.keys() == plain_value.keys()
        for key in plain_value:
            _same(fast_value[key], plain_value[key])
    elif isinstance(plain_value, float):
        assert fast_value == pytest.approx(plain_value, rel=1e-9)
    elif isinstance(plain_value, list):
        assert len(fast_value) == len(plain_value)
        for a, b in zip(fast_value, plain_value, strict=True):
            _same(a, b)
    else:
        assert fast_value == plain_value


ANALYSES = {
    "has_events": lambda cur, f: bn.has_events(cur, f),
    "case_durations": lambda cur, f: bn.case_durations(cur, f),
    "waiting_time_step": lambda cur, f: bn.waiting_time(cur, f, "step"),
    "waiting_time_department": lambda cur, f: bn.waiting_time(cur, f, "department"),
    "waiting_time_handler": lambda cur, f: bn.waiting_time(cur, f, "handler"),
    "waiting_time_department_step": lambda cur, f: bn.waiting_time(cur, f, "department_step"),
    "rework_by_step": lambda cur, f: bn.rework_by_step(cur, f),
    "rework_summary": lambda cur, f: bn.rework_summary(cur, f),
    "handovers_department": lambda cur, f: bn.handovers(cur, f, "department"),
    "handovers_handler": lambda cur, f: bn.handovers(cur, f, "handler"),
    "handover_matrix_department": lambda cur, f: bn.handover_matrix(cur, f, "department"),
    "handover_matrix_handler": lambda cur, f: bn.handover_matrix(cur, f, "handler"),
    "directly_follows": lambda cur, f: bn.directly_follows(cur, f),
    "process_nodes": lambda cur, f: bn.process_nodes(cur, f),
    "work_in_progress": lambda cur, f: bn.work_in_progress(cur, f),
    "overall_median_wait_hours": lambda cur, f: bn.overall_median_wait_hours(cur, f),
    "bottleneck_table": lambda cur, f: bn.bottleneck_table(cur, f, "department"),
    "rank_bottlenecks": lambda cur, f: rank_bottlenecks(cur, f, 5),
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_bottleneck_analyses_equal_the_straightforward_sql(demo_db, name) -> None:
    cur = demo_db.cursor()
    assert precomputed_columns.ready(cur), "the loader keeps the figures: the fast paths must be taken"
    for filters in _filters(cur):
        _compare(cur, name, filters)
    with precomputed_columns.disabled():
        assert not precomputed_columns.ready(cur)


def test_work_in_progress_window_beyond_the_data(demo_db) -> None:
    """Days before the first and after the last event, and a period inside the data, count the same."""
    cur = demo_db.cursor()
    months = _months(cur)
    for filters in (Filters.between(f"{months[0]}-01", f"{months[2]}-15"), Filters.month(months[-1])):
        quick = bn.work_in_progress(cur, filters, source="events")
        with precomputed_columns.disabled():
            plain = bn.work_in_progress(cur, filters, source="events")
        _same(quick, plain)
        assert len(plain) > 0


def test_field_presence_equals_counting(demo_db) -> None:
    cur = demo_db.cursor()
    counted = cur.execute(
        """SELECT count(submitted_at) > 0, count(channel) > 0, count(visits) > 0, count(completed_at) > 0,
                  count(processing_days_working) > 0, count(due_at) > 0, count(promised_days) > 0,
                  count(resubmissions) > 0, count(satisfaction) > 0 FROM cases"""
    ).fetchone()
    presence = field_presence(cur)
    keys = ("submitted_at", "channel", "visits", "completed_at", "processing_days_working", "due_at",
            "promised_days", "resubmissions", "satisfaction")  # fmt: skip
    assert tuple(presence[k] for k in keys) == counted


def test_raw_rows_without_kept_figures_fall_back(demo_db, tmp_path) -> None:
    """Rows written without the kept figures (as the metrics tests do) switch the fast paths off."""
    db = Database(tmp_path / "raw.duckdb")
    try:
        with db.write() as cur:
            cur.execute(
                "INSERT INTO event_rows (case_id, step, completed_at, seq, upload_id) "
                "VALUES ('X1', '收件', TIMESTAMP '2026-10-12 09:00', 1, 1)"
            )
        assert not precomputed_columns.ready(db.cursor())
        assert bn.case_durations(db.cursor(), Filters())["events"].tolist() == [1]
    finally:
        db.close()


# --- the figures kept at load time ----------------------------------------------------------------

REFERENCE = """
    SELECT rowid AS rid, upload_id, case_id,
           row_number() OVER win AS pos,
           count(*) OVER (PARTITION BY upload_id, case_id) AS n_events,
           lag(completed_at) OVER win AS prev_completed_at,
           lag(step) OVER win AS prev_step,
           row_number() OVER (PARTITION BY upload_id, case_id, step ORDER BY completed_at, seq) AS step_occurrence,
           last_value(department IGNORE NULLS) OVER before AS prev_known_department,
           last_value(CASE WHEN department IS NOT NULL THEN completed_at END IGNORE NULLS) OVER before AS known_at
    FROM event_rows
    WINDOW win AS (PARTITION BY upload_id, case_id ORDER BY completed_at, seq),
           before AS (PARTITION BY upload_id, case_id ORDER BY completed_at, seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
"""


def assert_kept_figures_right(cur) -> None:
    """Every event's kept figures equal the window functions over the loaded events; spans and keys agree."""
    wrong = cur.execute(
        f"""
        SELECT count(*) FROM event_rows e JOIN ({REFERENCE}) r ON e.rowid = r.rid
        WHERE e.pos IS DISTINCT FROM r.pos OR e.n_events IS DISTINCT FROM r.n_events
           OR e.prev_completed_at IS DISTINCT FROM r.prev_completed_at OR e.prev_step IS DISTINCT FROM r.prev_step
           OR e.step_occurrence IS DISTINCT FROM r.step_occurrence
           OR e.prev_known_department IS DISTINCT FROM r.prev_known_department
           OR e.prev_known_completed_at IS DISTINCT FROM
              (CASE WHEN r.known_at IS DISTINCT FROM r.prev_completed_at THEN r.known_at END)
        """
    ).fetchone()[0]
    assert wrong == 0
    spans = cur.execute(
        """
        SELECT count(*) FROM case_spans s FULL JOIN (
            SELECT upload_id, case_id, count(*) AS n, min(coalesce(least(started_at, completed_at), completed_at)) AS f,
                   max(completed_at) AS l, bool_or(is_current) AS cur
            FROM event_rows GROUP BY ALL) e USING (upload_id, case_id)
        WHERE s.events IS DISTINCT FROM e.n OR s.first_at IS DISTINCT FROM e.f OR s.last_at IS DISTINCT FROM e.l
           OR s.is_current IS DISTINCT FROM e.cur
        """
    ).fetchone()[0]
    assert spans == 0
    split_keys = cur.execute(
        """SELECT count(*) FROM (SELECT case_id FROM (SELECT case_id, case_key FROM case_rows UNION
                                                      SELECT case_id, case_key FROM event_rows)
                                 GROUP BY case_id HAVING count(DISTINCT case_key) <> 1 OR count(case_key) = 0)"""
    ).fetchone()[0]
    assert split_keys == 0


def test_kept_figures_of_the_demo(demo_db) -> None:
    assert_kept_figures_right(demo_db.cursor())


def _event_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("办件编号,环节名称,办理部门,经办人,开始时间,完成时间\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _event_lines(n_cases: int, seed: int, blank_units: bool = True) -> list[str]:
    rng = random.Random(seed)
    steps = ["收件", "受理", "审核", "补正", "审核", "审批", "办结"]
    units = ["便民服务中心综合窗口", "民政办", "", "自然资源所"] if blank_units else ["窗口", "民政办", "自然资源所"]
    lines = []
    for c in range(n_cases):
        t = dt.datetime(2026, 9, 1, 9) + dt.timedelta(hours=7 * c)
        for k, step in enumerate(steps[: rng.randint(2, len(steps))]):
            t += dt.timedelta(minutes=rng.choice([0, 0, 30, 90, 600]))  # ties on purpose
            started = "" if k == 0 else (t - dt.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"C{c:04d},{step},{rng.choice(units)},人{rng.randint(1, 3)},{started},{t:%Y-%m-%d %H:%M:%S}")
    return lines


@pytest.mark.parametrize("order", ["by_case", "by_case_blank_units", "shuffled"])
def test_both_ways_of_deriving_the_figures(tmp_path, order) -> None:
    """A case-ordered file (read in sequence) and any other (sorted by case) give the window's figures.

    Times tie, steps repeat; units are sometimes blank (handovers skip them; such files are sorted,
    not read in sequence); a second, overlapping upload takes over some cases and its removal hands
    them back. The case-ordered file is also forced the other way.
    """
    blank = order != "by_case"
    lines = _event_lines(60, seed=7, blank_units=blank)
    if order == "shuffled":
        random.Random(3).shuffle(lines)
    for streaming in (None, True, False) if order == "by_case" else (None, False):
        db = Database(tmp_path / f"{order}-{streaming}.duckdb")
        original = write_module._insert_events
        try:
            if streaming is not None:
                write_module._insert_events = functools.partial(original, streaming=streaming)
            ingest_file(db, _event_csv(tmp_path / "a.csv", lines))
            second = ingest_file(db, _event_csv(tmp_path / "b.csv", _event_lines(80, seed=8, blank_units=blank)[100:]))
            assert_kept_figures_right(db.cursor())
            remove_upload(db, second.upload_id)
            assert_kept_figures_right(db.cursor())
            cur = db.cursor()
            assert precomputed_columns.ready(cur)
            for name in ANALYSES:
                for filters in (Filters(), Filters.month("2026-09")):
                    _compare(cur, name, filters)
        finally:
            write_module._insert_events = original
            db.close()


def test_migration_fills_the_figures_of_rows_loaded_before_it(tmp_path) -> None:
    """A version-3 database with events gets, on upgrade, the figures the loader would have kept."""
    path = tmp_path / "old.duckdb"
    con = database_at_version(path, 3)
    lines = _event_lines(30, seed=11)
    for upload, chunk in ((1, lines), (2, lines[40:90])):
        for seq, line in enumerate(chunk, start=1):
            case_id, step, unit, handler, started, done = line.split(",")
            con.execute(
                "INSERT INTO event_rows (case_id, step, department, handler, started_at, completed_at, seq, upload_id, "
                "is_current) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [case_id, step, unit or None, handler, started or None, done, seq, upload, True],
            )
        con.execute(
            "INSERT INTO case_rows (case_id, submitted_at, source, upload_id) "
            "SELECT case_id, min(completed_at), 'events', ? FROM event_rows WHERE upload_id = ? GROUP BY case_id",
            [upload, upload],
        )
    # The second upload's cases take over: their first-upload events and cases stop counting.
    con.execute(
        "UPDATE event_rows SET is_current = false WHERE upload_id = 1 AND case_id IN "
        "(SELECT case_id FROM event_rows WHERE upload_id = 2)"
    )
    con.execute(
        "UPDATE case_rows SET is_current = false WHERE upload_id = 1 AND case_id IN "
        "(SELECT case_id FROM case_rows WHERE upload_id = 2)"
    )
    con.close()
    db = Database(path)
    try:
        cur = db.cursor()
        assert cur.execute("SELECT max(version) FROM schema_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert_kept_figures_right(cur)
        assert precomputed_columns.ready(cur)
        for name in ANALYSES:
            _compare(cur, name, Filters())
    finally:
        db.close()


# --- the normalisation macros ---------------------------------------------------------------------

AWKWARD = [
    None, "", " ", "\u3000", "\u00a0", "\t", " a ", "\u3000办结\u3000", "a\u2003", "\u2028x", "x\u205f", "é\u0301",
    "民政办", "便民服务中心综合窗口", "13812345678", "电话13812345678", "身份证411323196302221817号",
    "4113231963022218X", "x411323196302221817", "1381234567", "123456789012", "①②③", "ＡＢＣ", "total",
    "合 计", "  合计：", "2026-10-09 09:00:00", " 2026-10-09 09:00:00", "2026/10/9 9:00", "2026年10月9日 9时5分",
    "2026-10-09T09:00:00+08:00", "2026-10-09 09:00:00Z", "45678", "45678.5", "20261009", "昨天", "0",
]  # fmt: skip


#: egov_ts as it was before the fast paths (one CASE, every form tried in turn).
ORIGINAL_EGOV_TS = r"""
CREATE OR REPLACE TEMP MACRO original_egov_ts(x, tz) AS
    CASE
        WHEN egov_blank(x) IS NULL THEN NULL
        WHEN try_strptime(x, '%Y-%m-%d %H:%M:%S') IS NOT NULL THEN try_strptime(x, '%Y-%m-%d %H:%M:%S')
        WHEN regexp_full_match(egov_blank(x), '\d{5}(\.\d+)?')
             AND CAST(egov_blank(x) AS DOUBLE) BETWEEN 20000 AND 80000
            THEN TIMESTAMP '1899-12-30'
                 + to_microseconds(CAST(round(CAST(egov_blank(x) AS DOUBLE) * 86400) * 1000000 AS BIGINT))
        WHEN regexp_matches(egov_time_text(x), '(Z|[+\-]\d{2}:?\d{2})$')
             AND regexp_matches(egov_time_text(x), '\d:\d')
            THEN timezone(tz, try_strptime(regexp_replace(egov_time_text(x), 'Z$', '+00:00'),
                                           ['%Y-%m-%d %H:%M:%S%z', '%Y-%m-%d %H:%M:%S.%f%z', '%Y-%m-%d %H:%M%z']))
        ELSE try_strptime(egov_time_text(x), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M',
                                               '%Y-%m-%d', '%Y-%m-%d %H', '%Y%m%d%H%M%S', '%Y%m%d'])
    END
"""


def test_fast_macros_equal_their_plain_definitions(tmp_db) -> None:
    from ingest import normalize

    cur = tmp_db.cursor()
    normalize.install_macros(cur)
    values = AWKWARD + [
        "".join(random.Random(i).choice(" \u3000\u00a0a1中0\u20289") for _ in range(random.Random(i).randint(0, 14)))
        for i in range(400)
    ]
    cur.execute("CREATE TEMP TABLE v (x VARCHAR)")
    cur.executemany("INSERT INTO v VALUES (?)", [[x] for x in values])
    cur.execute(ORIGINAL_EGOV_TS)
    rows = cur.execute(
        """
        SELECT x,
               egov_clean(x) IS NOT DISTINCT FROM nullif(trim(x), ''),
               egov_is_blank(x) = (nullif(trim(x), '') IS NULL),
               egov_text(x) IS NOT DISTINCT FROM regexp_replace(nullif(trim(x), ''), '\\b(\\d{17}[\\dXx]|1[3-9]\\d{9})\\b', '***', 'g'),
               egov_text(x) IS NOT DISTINCT FROM egov_text_plain(x),
               egov_ts(x, 'Asia/Shanghai') IS NOT DISTINCT FROM original_egov_ts(x, 'Asia/Shanghai')
        FROM v
        """
    ).fetchall()
    for x, *same in rows:
        assert all(same), (x, same)
