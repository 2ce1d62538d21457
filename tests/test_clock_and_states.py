"""The one clock (town zone, EGOV_TODAY), the default month, the target states and changes written one way."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

import clock
from metrics.filters import Filters, default_month
from metrics.status import gap_text, state_text, target_state
from ui import fmt


def test_today_is_the_towns_and_can_be_pinned(monkeypatch) -> None:
    monkeypatch.delenv("EGOV_TODAY", raising=False)
    monkeypatch.setenv("EGOV_TZ", "Asia/Shanghai")
    assert clock.today() == dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    monkeypatch.setenv("EGOV_TZ", "Pacific/Kiritimati")  # UTC+14: often a day ahead of the server
    assert clock.today() == dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01")
    assert clock.today() == dt.date(2026, 12, 1)
    assert clock.now().date() == dt.date(2026, 12, 1)
    assert clock.last_complete_month() == "2026-11" and clock.running_month() == "2026-12"
    assert Filters().as_of() == dt.date(2026, 12, 1)
    monkeypatch.setenv("EGOV_TODAY", "1 Dec")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        clock.today()


def test_a_moment_can_be_pinned_and_the_clock_runs_on_from_it(monkeypatch) -> None:
    """At 00:30 on the 1st the running month has no cases yet; a test that needs the afternoon says so."""
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01 15:00")
    monkeypatch.setattr(clock.time, "monotonic", lambda: clock._STARTED + 125.7)
    assert clock.now() == dt.datetime(2026, 12, 1, 15, 2, 5)
    assert clock.today() == dt.date(2026, 12, 1) and clock.running_month() == "2026-12"
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01T23:59")
    assert clock.now() == dt.datetime(2026, 12, 2, 0, 1, 5)  # the clock runs on, past midnight
    assert clock.today() == dt.date(2026, 12, 2)
    monkeypatch.setenv("EGOV_TODAY", "2026-12-01 25:00")
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        clock.now()


def test_stored_times_are_the_towns_local_time(tmp_db, tmp_path, monkeypatch) -> None:
    """An upload's time is written from the one clock: the town's, not the server's zone (UTC here)."""
    from ingest.load import ingest_file
    from store.audit import list_audit
    from store.users import add_user

    monkeypatch.delenv("EGOV_TODAY", raising=False)
    monkeypatch.setenv("EGOV_TZ", "Asia/Shanghai")
    path = tmp_path / "cases.csv"
    path.write_text("办件编号,事项名称,实施部门,申请渠道,申请时间\nA1,出生登记,派出所户籍室,窗口,2026-11-02 09:00\n")
    before = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)
    ingest_file(tmp_db, path, loaded_by="ana")
    add_user(tmp_db, "zhang", "admin", "a long enough password 1", by="cli")
    after = dt.datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    loaded = tmp_db.cursor().execute("SELECT loaded_at FROM uploads").fetchone()[0]
    assert before <= loaded <= after
    entries = list_audit(tmp_db.cursor(), limit=5)
    assert entries and all(before <= e["logged_at"] <= after for e in entries)
    created = tmp_db.cursor().execute("SELECT created_at FROM users").fetchone()[0]
    assert before <= created <= after


def test_default_month_is_the_last_complete_one() -> None:
    day = dt.date(2026, 12, 1)
    assert default_month(["2026-12", "2026-11", "2026-10"], day) == "2026-11"
    assert default_month(["2026-12"], day) == "2026-12"  # a new installation in its first month
    assert default_month(["2026-08", "2026-07"], day) == "2026-08"  # all data in the past
    assert default_month([], day) is None


def test_running_month_compares_with_the_same_days() -> None:
    mid = Filters.month_as_seen("2026-12", dt.date(2026, 12, 15))
    assert (mid.start, mid.end) == (dt.date(2026, 12, 1), dt.date(2026, 12, 15)) and mid.is_month_to_date()
    before = mid.previous_period()
    assert (before.start, before.end) == (dt.date(2026, 11, 1), dt.date(2026, 11, 15))
    # 31 March against February: cut to February's last day, not into March.
    march = Filters(dt.date(2026, 3, 1), dt.date(2026, 3, 30))
    assert march.previous_period().end == dt.date(2026, 2, 28)
    whole = Filters.month_as_seen("2026-11", dt.date(2026, 12, 15))
    assert whole == Filters.month("2026-11") and not whole.is_month_to_date()
    assert whole.previous_period() == Filters.month("2026-10")


@pytest.mark.parametrize(
    ("kpi", "value", "target", "state", "zh"),
    [
        ("online_rate", 0.533, 0.6, "far", "未达标（差 6.7 个百分点）"),
        ("on_time_rate", 0.967, 0.98, "close", "接近（差 1.3 个百分点）"),
        ("on_time_rate", 0.93, 0.98, "close", "接近（差 5.0 个百分点）"),  # exactly 5 points: still close
        ("on_time_rate", 0.929, 0.98, "far", "未达标（差 5.1 个百分点）"),
        ("resubmission_rate", 0.051, 0.10, "met", "达标"),  # lower is better
        ("resubmission_rate", 0.12, 0.10, "close", "接近（超出 2.0 个百分点）"),
        ("open_overdue_cases", 27, 0, "far", "未达标（超出 27 件）"),
        ("name_only_items", 4, 0, "far", "未达标（超出 4 个）"),  # 摆设事项 counts items
        ("online_rate", None, 0.6, "none", ""),
        ("median_processing_days", 3.0, None, "none", ""),
    ],
)
def test_target_states_read_without_colour(kpi, value, target, state, zh) -> None:
    assert target_state(kpi, value, target).state == state
    assert state_text(kpi, value, target, "zh") == zh


def test_target_state_in_english_and_its_colours_differ() -> None:
    close = target_state("on_time_rate", 0.967, 0.98)
    far = target_state("on_time_rate", 0.5, 0.98)
    assert gap_text("on_time_rate", close, "en") == "1.3 points short"
    assert close.word("en") == "Close" and far.word("zh") == "未达标"
    # "close" and "far" are far apart in hue (the old amber and red were 10 px dots of nearly one colour).
    import colorsys

    def hue(code: str) -> float:
        r, g, b = (int(code[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return colorsys.rgb_to_hsv(r, g, b)[0] * 360

    assert abs(hue(close.color) - hue(far.color)) > 25


def test_changes_never_read_minus_zero() -> None:
    assert fmt.signed(-0.04) == "0.0" and fmt.signed(0.04) == "0.0"
    assert fmt.signed(-0.06) == "-0.1" and fmt.signed(2.66) == "+2.7"
    assert fmt.signed(-1234.0, 0, thousands=True) == "-1,234"
    # (a word joiner after ":" keeps Markdown from autolinking the address: tests/test_hostile_markup.py)
    assert fmt.md_text("**民政办** [x](http://e)") == r"\*\*民政办\*\* \[x\]\(http\:" + "\u2060" + r"//e\)"
