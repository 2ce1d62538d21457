"""The working-day calendar: official Chinese holidays and 调休 make-up workdays.

The official schedule comes from the maintained ``chinese_calendar`` package; next year's schedule
(announced each winter by the State Council) can be added by loading a small CSV with
``python cli.py calendar FILE`` — no code change. Years that neither covers fall back to a plain
Monday–Friday rule and are marked ``weekend_rule`` so figures that rely on them can be flagged.

``workday_index`` counts working days on or before each day. With it, working time is a
difference of a "working clock" (see :data:`WORKING_CLOCK_SQL`), and a due date N working days
after acceptance is a single lookup: the day whose index is ``index(acceptance day) + N``
(the day of acceptance itself does not count, as in 受理之日起N个工作日).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path

import duckdb

from store.rows import one

FIRST_YEAR = 2000
#: Years past the last official one that still get weekend-rule days, so joins always find a day.
YEARS_AHEAD = 3

HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

#: Words accepted in the ``type`` column of an uploaded schedule.
_HOLIDAY_WORDS = {"holiday", "休", "放假", "休息", "假"}
_WORKDAY_WORDS = {"workday", "班", "上班", "调休上班", "补班"}


def _official_days() -> tuple[dict[dt.date, str], dict[dt.date, str], int]:
    from chinese_calendar.constants import holidays, workdays

    return dict(holidays), dict(workdays), max(d.year for d in holidays)


def ensure_filled(con: duckdb.DuckDBPyConnection) -> None:
    """Fill the calendar on first start (idempotent): official years, then weekend-rule years."""
    if one(con.execute("SELECT count(*) FROM calendar"))[0]:
        return
    holidays, workdays, last_official = _official_days()
    rows = [(day, HOLIDAY_NAMES_ZH.get(name, name), "holiday") for day, name in holidays.items()] + [
        (day, HOLIDAY_NAMES_ZH.get(name, name), "workday") for day, name in workdays.items()
    ]
    _write_days(con, rows, source="official", last_year=last_official + YEARS_AHEAD, base_fill=True)


def _write_days(
    con: duckdb.DuckDBPyConnection,
    special_days: Sequence[tuple[dt.date, str | None, str]],
    *,
    source: str,
    last_year: int | None = None,
    base_fill: bool = False,
) -> None:
    """Apply special days (holiday / workday) over the weekday rule and recompute the index."""
    con.execute("CREATE OR REPLACE TEMP TABLE _special (day DATE, name VARCHAR, kind VARCHAR)")
    if special_days:
        con.executemany("INSERT INTO _special VALUES (?, ?, ?)", special_days)
    if base_fill:
        official_years = sorted({d.year for d, _, _ in special_days})
        con.execute(
            """
            INSERT INTO calendar
            SELECT d::DATE, isodow(d) < 6, false, false, NULL,
                   CASE WHEN year(d) BETWEEN ? AND ? THEN 'official' ELSE 'weekend_rule' END, 0
            FROM range(make_date(?, 1, 1)::TIMESTAMP, make_date(? + 1, 1, 1)::TIMESTAMP, INTERVAL 1 DAY) t(d)
            """,
            [official_years[0], official_years[-1], FIRST_YEAR, last_year],
        )
    else:
        # Extend the calendar to cover the uploaded days, then mark their whole years as uploaded.
        con.execute(
            """
            INSERT INTO calendar
            SELECT d::DATE, isodow(d) < 6, false, false, NULL, 'weekend_rule', 0
            FROM range((SELECT max(day) + 1 FROM calendar)::TIMESTAMP,
                       make_date((SELECT max(year(day)) FROM _special) + 1, 1, 1)::TIMESTAMP,
                       INTERVAL 1 DAY) t(d)
            """
        )
        con.execute(
            """
            UPDATE calendar SET is_workday = isodow(day) < 6, is_holiday = false,
                   is_makeup_workday = false, holiday_name = NULL, source = ?
            WHERE year(day) IN (SELECT DISTINCT year(day) FROM _special)
            """,
            [source],
        )
    con.execute(
        """
        UPDATE calendar SET
            is_workday = s.kind = 'workday',
            is_holiday = s.kind = 'holiday',
            is_makeup_workday = s.kind = 'workday' AND isodow(calendar.day) >= 6,
            holiday_name = s.name
        FROM _special s WHERE calendar.day = s.day
        """
    )
    con.execute(
        """
        UPDATE calendar SET workday_index = w.idx
        FROM (SELECT day, sum(is_workday::INTEGER) OVER (ORDER BY day) AS idx FROM calendar) w
        WHERE calendar.day = w.day
        """
    )
    con.execute("DROP TABLE _special")


def parse_schedule(text: str) -> list[tuple[dt.date, str | None, str]]:
    """Parse an uploaded schedule: CSV with columns date,type[,name]; type holiday/workday or 休/班."""
    rows: list[tuple[dt.date, str | None, str]] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for line_no, record in enumerate(reader, start=1):
        if not record or not record[0].strip():
            continue
        first = record[0].strip()
        if line_no == 1 and not first[:1].isdigit():
            continue  # header
        try:
            day = dt.date.fromisoformat(first.replace("/", "-"))
        except ValueError as exc:
            raise ValueError(f"第 {line_no} 行：无法识别的日期 {first!r} (line {line_no}: bad date)") from exc
        kind_word = record[1].strip().lower() if len(record) > 1 else ""
        if kind_word in _HOLIDAY_WORDS:
            kind = "holiday"
        elif kind_word in _WORKDAY_WORDS:
            kind = "workday"
        else:
            raise ValueError(
                f"第 {line_no} 行：类型应为 holiday/workday（休/班），实为 {kind_word!r} "
                f"(line {line_no}: type must be holiday or workday)"
            )
        name = record[2].strip() if len(record) > 2 and record[2].strip() else None
        rows.append((day, name, kind))
    if not rows:
        raise ValueError("日程文件中没有日期 (the schedule file has no dates)")
    return rows


def load_schedule(con: duckdb.DuckDBPyConnection, path_or_text: str | Path) -> list[int]:
    """Replace the listed years with an uploaded schedule; returns the years it covers."""
    path = Path(path_or_text) if not str(path_or_text).count("\n") else None
    text = path.read_text(encoding="utf-8-sig") if path else str(path_or_text)
    rows = parse_schedule(text)
    _write_days(con, rows, source="uploaded")
    return sorted({d.year for d, _, _ in rows})


def coverage(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """First and last year whose schedule is official or uploaded (not the weekend rule)."""
    lo, hi = one(con.execute("SELECT min(year(day)), max(year(day)) FROM calendar WHERE source <> 'weekend_rule'"))
    return int(lo), int(hi)


#: The working clock of a timestamp ``ts`` joined to its calendar day ``c``: working days before
#: that day, plus the elapsed fraction of the day when it is a working day. Working time between
#: two timestamps is the difference of their clocks.
WORKING_CLOCK_SQL = (
    "({c}.workday_index - {c}.is_workday::INTEGER"
    " + CASE WHEN {c}.is_workday THEN epoch({ts} - {ts}::DATE::TIMESTAMP) / 86400.0 ELSE 0 END)"
)


def working_clock(ts: str, calendar_alias: str) -> str:
    """SQL for the working clock of column ``ts`` whose calendar row is ``calendar_alias``."""
    return WORKING_CLOCK_SQL.format(ts=ts, c=calendar_alias)
