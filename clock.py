"""The one clock: what day and time it is in the town, for every module.

The town's zone is ``EGOV_TZ`` (default Asia/Shanghai), whatever the server's own zone. ``EGOV_TODAY=YYYY-MM-DD``
pins the date (tests, and reproducing what a page showed on a given day); the time of day still runs, so
stored times keep their order. Every time a person reads is in the town's zone: naive timestamps in the
database are the town's local time, written from :func:`now`.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import settings


def zone() -> ZoneInfo:
    return ZoneInfo(settings.timezone())


_STARTED = time.monotonic()


def _pinned_at() -> dt.date | dt.datetime | None:
    """``EGOV_TODAY`` as a date (``YYYY-MM-DD``) or, with a time of day (``YYYY-MM-DD HH:MM``), a datetime."""
    text = os.environ.get("EGOV_TODAY", "").strip()
    if not text:
        return None
    try:
        if len(text) > 10:
            return dt.datetime.fromisoformat(text).replace(tzinfo=None, microsecond=0)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"EGOV_TODAY must be YYYY-MM-DD or YYYY-MM-DD HH:MM, got {text!r}") from exc


def _pinned() -> dt.date | None:
    pinned = _pinned_at()
    return pinned.date() if isinstance(pinned, dt.datetime) else pinned


def now() -> dt.datetime:
    """The town's local time, naive (as the database stores it), to the second.

    With ``EGOV_TODAY`` a date, that day at the real time of day; with a date and time, from that moment on
    (the clock still runs in each process, so stored times keep their order): a page at 00:30 on the 1st
    and one at 15:00 differ, and a test that needs one says which.
    """
    local = dt.datetime.now(zone()).replace(tzinfo=None, microsecond=0)
    pinned = _pinned_at()
    if isinstance(pinned, dt.datetime):
        return pinned + dt.timedelta(seconds=int(time.monotonic() - _STARTED))
    return dt.datetime.combine(pinned, local.time()) if pinned else local


def today() -> dt.date:
    """The town's date (``EGOV_TODAY`` when set)."""
    if isinstance(_pinned_at(), dt.datetime):
        return now().date()  # a pinned moment: the clock runs on from it, past midnight too
    return _pinned() or dt.datetime.now(zone()).date()


def month_start(day: dt.date | None = None) -> dt.date:
    return (day or today()).replace(day=1)


def last_complete_month(day: dt.date | None = None) -> str:
    """``YYYY-MM`` of the month before the running one: the default period everywhere."""
    return f"{month_start(day) - dt.timedelta(days=1):%Y-%m}"


def running_month(day: dt.date | None = None) -> str:
    return f"{day or today():%Y-%m}"
