"""Global filters (period, department, service item, channel, town) and the one place they become SQL.

Every page, the CLI and the reports pass a :class:`Filters`; :func:`where_clause` is the only
function that turns it into a WHERE clause, and it does so with bound named parameters only, so
no filter value is ever spliced into SQL text.

Conventions: the period selects cases by ``submitted_at`` in ``[start, end]`` (both inclusive,
local dates). Figures "as of" a date (open, overdue, at-risk cases) are taken at the end of the
period's last day.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import clock
import scope


class Params:
    """Collects bound parameters for one statement and hands out unique ``$name`` placeholders.

    DuckDB refuses unused named parameters, so statements are built by asking this object for a
    placeholder whenever a value is needed; ``values`` then holds exactly the ones used.
    """

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object, hint: str = "p") -> str:
        name = f"{hint}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass(frozen=True)
class Filters:
    """What the user selected: a period of submission dates and optional dimension values."""

    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    departments: tuple[str, ...] = field(default_factory=tuple)
    items: tuple[str, ...] = field(default_factory=tuple)  # service item names or item codes
    channels: tuple[str, ...] = field(default_factory=tuple)  # canonical channels
    towns: tuple[str, ...] = field(default_factory=tuple)  # none: every town of the database

    def __post_init__(self) -> None:
        # Accept lists from callers (URL parsing, argparse) but keep the object hashable.
        for name in ("departments", "items", "channels", "towns"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(v for v in value if v is not None and v != ""))
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, dt.date.fromisoformat(value))
            elif isinstance(value, dt.datetime):
                object.__setattr__(self, name, value.date())
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")

    @classmethod
    def month(cls, year_month: str, **dimensions: Sequence[str]) -> Filters:
        """The calendar month ``YYYY-MM`` (e.g. ``Filters.month('2026-10')``)."""
        try:
            year, month = (int(part) for part in year_month.strip().split("-"))
            last = _calendar.monthrange(year, month)[1]
        except (ValueError, _calendar.IllegalMonthError) as exc:
            raise ValueError(f"month must be YYYY-MM, got {year_month!r}") from exc
        return cls(dt.date(year, month, 1), dt.date(year, month, last), **dimensions)  # type: ignore[arg-type]  # __post_init__ makes any sequence a tuple

    @classmethod
    def month_as_seen(cls, year_month: str, today: dt.date | None = None, **dimensions: Sequence[str]) -> Filters:
        """The month as a reader sees it today: whole when it is over, from the 1st to today while it runs.

        A running month counted to its end would compare one day of cases with a whole month; to today,
        :meth:`previous_period` compares it with the same days of the month before.
        """
        whole = cls.month(year_month, **dimensions)
        today = today or clock.today()
        assert whole.start is not None and whole.end is not None  # a month has both ends
        if whole.start <= today < whole.end:
            return replace(whole, end=today)
        return whole

    def is_month_to_date(self) -> bool:
        """A period from the 1st of a month to a day before its last: the running month so far."""
        return bool(
            self.start
            and self.end
            and self.start.day == 1
            and (self.start.year, self.start.month) == (self.end.year, self.end.month)
            and (self.end + dt.timedelta(days=1)).month == self.end.month
        )

    @classmethod
    def between(cls, start: dt.date | str | None, end: dt.date | str | None, **dimensions: Sequence[str]) -> Filters:
        return cls(start, end, **dimensions)  # type: ignore[arg-type]  # __post_init__ parses ISO text and makes sequences tuples

    def with_period(self, start: dt.date | None, end: dt.date | None) -> Filters:
        return replace(self, start=start, end=end)

    def previous_period(self) -> Filters | None:
        """The period just before this one, of the same length (a whole month stays a whole month)."""
        if not (self.start and self.end):
            return None
        if self.is_month_to_date():  # 1–N of this month against 1–N of the month before (N cut to its length)
            first = (self.start - dt.timedelta(days=1)).replace(day=1)
            last_day = _calendar.monthrange(first.year, first.month)[1]
            return self.with_period(first, first.replace(day=min(self.end.day, last_day)))
        if self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            first = self.start
            for _ in range(months):
                first = (first - dt.timedelta(days=1)).replace(day=1)
            return self.with_period(first, self.start - dt.timedelta(days=1))
        length = self.end - self.start
        return self.with_period(self.start - length - dt.timedelta(days=1), self.start - dt.timedelta(days=1))

    def as_of(self, today: dt.date | None = None) -> dt.date:
        """The day at whose end open / overdue / at-risk cases are counted: the period end, else today.

        A period still running (this month) is counted as of today: nobody knows yet which open
        case will be overdue at its end.
        """
        today = today or clock.today()
        if self.end:
            return min(self.end, today)
        return today

    def label(self) -> str:
        if self.start and self.end:
            if (
                self.start.day == 1
                and (self.end + dt.timedelta(days=1)).day == 1
                and (
                    self.start.year,
                    self.start.month,
                )
                == (self.end.year, self.end.month)
            ):
                return f"{self.start:%Y-%m}"
            return f"{self.start.isoformat()}..{self.end.isoformat()}"
        if self.start:
            return f"{self.start.isoformat()}.."
        if self.end:
            return f"..{self.end.isoformat()}"
        return "all"


def default_month(months: Sequence[str], today: dt.date | None = None) -> str | None:
    """The month every page and command opens on: the last complete month with data.

    The running month only when nothing older has data (a fresh installation in its first month), and
    the latest month with data when all of it lies in the past.
    """
    running = clock.running_month(today)
    complete = sorted((m for m in months if m < running), reverse=True)
    if complete:
        return complete[0]
    return max(months) if months else None


def where_clause(
    filters: Filters,
    alias: str = "c",
    params: Params | None = None,
    *,
    period: bool = True,
    start: bool = True,
    date_column: str = "submitted_at",
    department_column: str | None = "department",
    item_columns: tuple[str, ...] = ("service_item", "item_code"),
    channel_column: str | None = "channel",
    town_column: str | None = "town",
) -> tuple[str, dict[str, object]]:
    """The WHERE condition (without the keyword; ``true`` when nothing is filtered) and its parameters.

    ``period=False`` drops the date condition (the catalogue has no dates); ``start=False`` keeps
    only the upper bound (the backlog of open cases as of the period end includes older cases).
    Column names are fixed identifiers chosen by our own code, never user input; set a column to
    None (or ``item_columns=()``) when the table lacks it and the filter should not apply.

    When the run has a town scope (:mod:`scope`: a town user signed in), ``town IN scope`` is ANDed too,
    whatever ``filters.towns`` says: a town outside the scope gives nothing (the two conditions intersect,
    an empty intersection never widens to every town).
    """
    params = params if params is not None else Params()
    conditions: list[str] = []
    if period and filters.start and start:
        conditions.append(f"{alias}.{date_column} >= {params.add(filters.start, 'start')}::TIMESTAMP")
    if period and filters.end:
        end_exclusive = filters.end + dt.timedelta(days=1)
        conditions.append(f"{alias}.{date_column} < {params.add(end_exclusive, 'end')}::TIMESTAMP")
    if filters.departments and department_column:
        placeholder = params.add(list(filters.departments), "dept")
        conditions.append(f"list_contains({placeholder}::VARCHAR[], {alias}.{department_column})")
    if filters.items and item_columns:
        placeholder = params.add(list(filters.items), "item")
        matches = " OR ".join(f"list_contains({placeholder}::VARCHAR[], {alias}.{col})" for col in item_columns)
        conditions.append(f"({matches})")
    if filters.channels and channel_column:
        placeholder = params.add(list(filters.channels), "chan")
        conditions.append(f"list_contains({placeholder}::VARCHAR[], {alias}.{channel_column})")
    if filters.towns and town_column:
        placeholder = params.add(list(filters.towns), "town")
        conditions.append(f"list_contains({placeholder}::VARCHAR[], {alias}.{town_column})")
    allowed = scope.current()
    if allowed is not None and town_column:  # the signed-in user's towns, whatever the filters ask for
        placeholder = params.add(list(allowed), "scope")
        conditions.append(f"list_contains({placeholder}::VARCHAR[], {alias}.{town_column})")
    sql = " AND ".join(conditions) if conditions else "true"
    return sql, params.values


def town_condition(filters: Filters, alias: str, params: Params | None = None) -> tuple[str, dict[str, object]]:
    """:func:`where_clause` for the towns alone (the chosen ones, within the scope): where an open period finds
    its first and last day, so a town user's range is never drawn from another town's dates."""
    return where_clause(
        filters, alias, params, period=False, department_column=None, item_columns=(), channel_column=None
    )
