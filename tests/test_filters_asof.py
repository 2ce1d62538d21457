"""Open, overdue and at-risk cases of a month still running are counted as of today, not its last day."""

from __future__ import annotations

import datetime as dt

from metrics.filters import Filters


def test_as_of_is_never_in_the_future():
    november = Filters.month("2026-11")
    assert november.as_of(today=dt.date(2026, 11, 26)) == dt.date(2026, 11, 26)
    assert november.as_of(today=dt.date(2026, 12, 3)) == dt.date(2026, 11, 30)
    assert Filters.month("2026-10").as_of(today=dt.date(2026, 11, 26)) == dt.date(2026, 10, 31)
    assert Filters().as_of(today=dt.date(2026, 11, 26)) == dt.date(2026, 11, 26)
