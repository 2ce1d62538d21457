"""One month of the demo town, vectorised: cases, their step walks and their timestamps.

A numpy ``Generator`` seeded from ``(seed, year, month)`` drives each month, so the same seed gives the
same frames; time runs on a working clock (office hours of working days), so durations never fall into
nights, weekends or holidays.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import clock
from demo.life import same_person
from demo.people import apply_people, staff
from demo.town import (
    AM_OPEN,
    AM_SECONDS,
    APPLICANT_TYPES,
    CH_KIOSK,
    CH_MOBILE,
    CH_ONLINE,
    CH_POST,
    CH_WINDOW,
    CHANNELS,
    DAY_SECONDS,
    DEFAULT_PROFILE,
    DEL_ONLINE,
    DEL_POST,
    DEL_WINDOW,
    DELIVERY,
    DEPARTMENTS,
    DEPT_INDEX,
    ITEMS,
    K_BUDGET,
    K_FIRST,
    K_REJECT,
    K_RESUB,
    K_WITHDRAW,
    MAX_RESUBMISSIONS,
    N_DEPT,
    OUT_COMPLETE,
    OUT_OPEN,
    OUT_REJECT,
    OUT_WITHDRAW,
    PM_OPEN,
    REGION_CODE,
    REVIEW_STEPS,
    SATISFACTION,
    SEASONS,
    STATUSES,
    TEMPLATES,
    UNIT_CENTRE,
    UNIT_VILLAGE,
    UNITS,
    VOLUME_FACTOR,
    Item,
    TownProfile,
    item_codes,
    limit_text,
    unit_extra_days,
)

# --- the static tables the vectorised generator indexes into -----------------------------------


class _Tables(NamedTuple):
    steps: list[str]
    item_dept: np.ndarray
    item_volume: np.ndarray
    item_season: np.ndarray  # (n_items, 12)
    item_affinity: np.ndarray
    item_resub: np.ndarray
    item_legal: np.ndarray
    item_kiosk: np.ndarray
    item_post: np.ndarray
    item_budget_ws: np.ndarray  # promised time in working seconds (0 for 即办)
    item_time_share: np.ndarray  # median share of the promised time a case uses
    item_full: np.ndarray
    item_instant: np.ndarray
    item_certificate: np.ndarray
    var_index: np.ndarray  # (item, intake?, outcome, resubmissions) -> variant
    var_off: np.ndarray
    var_len: np.ndarray
    flat_step: np.ndarray
    flat_unit: np.ndarray
    flat_weight: np.ndarray
    flat_kind: np.ndarray
    flat_extra_ws: np.ndarray  # median extra wait in working seconds
    staff_names: list[str]
    staff_off: np.ndarray
    staff_n: np.ndarray


def _variant_steps(item: Item, intake: bool, outcome: int, resub: int) -> list[tuple[str, int, float, int]]:
    """The step list of one case variant: (step, unit, budget weight, kind)."""
    dept = DEPT_INDEX[item.dept]
    roles = {"D": 1 + dept, "X": 1 + N_DEPT + dept, "V": UNIT_VILLAGE, "C": UNIT_CENTRE}
    if item.partner:
        roles["P"] = 1 + DEPT_INDEX[item.partner]
    # Window, kiosk and post cases are received and accepted at the centre; online ones are pre-checked
    # there (预审) and accepted by the office itself.
    steps = [("收件" if intake else "申请", UNIT_CENTRE, 0.0, K_FIRST)]
    if not intake:
        steps.append(("预审", UNIT_CENTRE, 1.0, K_BUDGET))
    acceptor = UNIT_CENTRE if intake else roles["D"]
    if outcome == OUT_REJECT:
        return steps + [("不予受理", acceptor, 0.0, K_REJECT)]
    steps.append(("受理", acceptor, 0.6, K_BUDGET))
    if outcome == OUT_WITHDRAW:
        return steps + [("撤回", roles["D"], 0.0, K_WITHDRAW)]
    body = [(name, roles[role], weight, K_BUDGET) for name, role, weight in TEMPLATES[item.template]]
    review = next((k for k, s in enumerate(body) if s[0] in REVIEW_STEPS), 0)
    loop = [("补正", roles["D"], 0.0, K_RESUB), body[review]] * resub
    body = body[: review + 1] + loop + body[review + 1 :]
    if item.promised:
        # The result goes out through the window that took the case in, or online / by post from the office.
        body.append(("送达", UNIT_CENTRE if intake else roles["D"], 0.5, K_BUDGET))
    return steps + body + [("办结", roles["D"], 0.2, K_BUDGET)]


def _queues(step: str, unit: int, kind: int, slow_units: set[int]) -> bool:
    """Whether a step waits in the unit's queue: all steps of a slow office (but closing), else substantive ones."""
    if kind != K_BUDGET or step == "办结":
        return False
    return unit in slow_units or step not in ("预审", "受理", "送达")


@lru_cache(maxsize=32)
def _tables(profile: TownProfile = DEFAULT_PROFILE) -> _Tables:
    """Flatten the catalogue and every case variant into arrays, once per town profile (a county has ≤ 25)."""
    slow_units = {1 + DEPT_INDEX[code] for code, _, _ in profile.slow}
    extra_days = unit_extra_days(profile)
    n_items = len(ITEMS)
    steps: list[str] = []
    step_id: dict[str, int] = {}
    var_index = np.zeros((n_items, 2, 3, MAX_RESUBMISSIONS + 1), dtype=np.int64)
    off: list[int] = []
    length: list[int] = []
    f_step: list[int] = []
    f_unit: list[int] = []
    f_weight: list[float] = []
    f_kind: list[int] = []
    f_extra: list[float] = []
    for i, item in enumerate(ITEMS):
        for intake in (0, 1):
            for outcome in (OUT_COMPLETE, OUT_REJECT, OUT_WITHDRAW):
                for resub in range(MAX_RESUBMISSIONS + 1):
                    if outcome != OUT_COMPLETE and resub:
                        var_index[i, intake, outcome, resub] = var_index[i, intake, outcome, 0]
                        continue
                    var_index[i, intake, outcome, resub] = len(off)
                    seq = _variant_steps(item, bool(intake), outcome, resub)
                    off.append(len(f_step))
                    length.append(len(seq))
                    for name, unit, weight, kind in seq:
                        f_step.append(step_id.setdefault(name, len(step_id)))
                        f_unit.append(unit)
                        f_weight.append(weight)
                        f_kind.append(kind)
                        queues = _queues(name, unit, kind, slow_units)
                        f_extra.append(extra_days[unit] * DAY_SECONDS if queues else 0.0)
    steps = list(step_id)
    season = np.array([SEASONS[i.season] for i in ITEMS])
    budget = np.array([i.promised * DAY_SECONDS * (1.0 if i.unit == "wd" else 5 / 7) for i in ITEMS], dtype=np.float64)
    share = np.array([profile.slow_share(i.dept) for i in ITEMS])
    staff_names, staff_off, staff_n = staff()
    return _Tables(
        steps=steps,
        item_dept=np.array([DEPT_INDEX[i.dept] for i in ITEMS]),
        item_volume=np.array([i.volume for i in ITEMS]) * VOLUME_FACTOR * profile.volume,
        item_season=season,
        item_affinity=np.array([i.affinity if i.online else 0.0 for i in ITEMS]),
        item_resub=np.array([i.resubmission for i in ITEMS]),
        item_legal=np.array([i.legal_share for i in ITEMS]),
        item_kiosk=np.array([i.kiosk for i in ITEMS]),
        item_post=np.array([i.post for i in ITEMS]),
        item_budget_ws=budget,
        item_time_share=share,
        item_full=np.array([i.fully_online for i in ITEMS]),
        item_instant=np.array([i.promised == 0 for i in ITEMS]),
        item_certificate=np.array([i.template.startswith(("card", "license")) for i in ITEMS]),
        var_index=var_index,
        var_off=np.array(off, dtype=np.int64),
        var_len=np.array(length, dtype=np.int64),
        flat_step=np.array(f_step, dtype=np.int64),
        flat_unit=np.array(f_unit, dtype=np.int64),
        flat_weight=np.array(f_weight),
        flat_kind=np.array(f_kind, dtype=np.int64),
        flat_extra_ws=np.array(f_extra),
        staff_names=staff_names,
        staff_off=staff_off,
        staff_n=staff_n,
    )


# --- calendar ----------------------------------------------------------------------------------


def _is_workday(day: dt.date) -> bool:
    """Official calendar with 调休; plain Monday–Friday outside the years chinese_calendar knows."""
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ImportError):
        return day.weekday() < 5


def parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in text.strip().split("-")[:2])
        dt.date(year, month, 1)
    except ValueError as exc:
        raise ValueError(f"end_month must look like 2026-11, got {text!r}") from exc
    return year, month


@dataclass
class _Context:
    """The window being generated: months, the working-day list and the cut-off."""

    months: list[tuple[int, int]]
    cutoff: dt.date  # last day of data; also the reference date for applicants' ages
    day_bytes: np.ndarray  # (n_workdays, 11) 'YYYY-MM-DD ' per workday
    day_ymd: np.ndarray  # YYYYMMDD as int per workday
    month_days: list[np.ndarray]  # usable workday indices per month
    month_fraction: list[float]  # usable share of the month's workdays (partial current month)
    cutoff_ws: int  # working-clock second of "now": nothing is submitted or done after it
    today_index: int = -1  # today's workday index when today's office day is under way, else -1


def _office_seconds_by(moment: dt.time) -> int:
    """Office seconds of a day gone by ``moment`` (to the minute: it is part of a cache key)."""
    t = moment.hour * 3600 + moment.minute * 60
    return min(max(t - AM_OPEN, 0), AM_SECONDS) + min(max(t - PM_OPEN, 0), DAY_SECONDS - AM_SECONDS)


def context(end_month: str | None, months: int) -> _Context:
    """The window for ``end_month`` (None: this month, cut at now — a loaded demo holds no future time)."""
    if end_month is not None:
        return _window(end_month, months, None, 0)
    now = clock.now()
    return _window(None, months, now.date(), _office_seconds_by(now.time()))


@lru_cache(maxsize=8)
def _window(end_month: str | None, months: int, today: dt.date | None, today_elapsed: int) -> _Context:
    if end_month is None:
        assert today is not None
        year, month, cutoff = today.year, today.month, today
    else:
        year, month = parse_month(end_month)
        cutoff = dt.date(year, month, _calendar.monthrange(year, month)[1])
    if months < 1:
        raise ValueError("months must be at least 1")
    index = year * 12 + month - 1
    window = [((index - k) // 12, (index - k) % 12 + 1) for k in range(months - 1, -1, -1)]
    first = dt.date(window[0][0], window[0][1], 1)
    last = dt.date(year, month, _calendar.monthrange(year, month)[1])
    days = [first + dt.timedelta(d) for d in range((last - first).days + 1)]
    workdays = [d for d in days if _is_workday(d)]
    # Today counts once its office day has begun; its data stops at now (today_elapsed office seconds).
    usable = np.array([d < cutoff or (d == cutoff and (end_month is not None or today_elapsed > 0)) for d in workdays])
    today_index = workdays.index(cutoff) if end_month is None and cutoff in workdays and today_elapsed > 0 else -1
    month_of = np.array([d.year * 12 + d.month - 1 for d in workdays])
    month_days, fraction = [], []
    for y, m in window:
        in_month = month_of == y * 12 + m - 1
        month_days.append(np.flatnonzero(in_month & usable))
        fraction.append(float((in_month & usable).sum() / max(in_month.sum(), 1)))
    text = "".join(d.isoformat() + " " for d in workdays).encode()
    day_bytes = np.frombuffer(text, dtype=np.uint8).reshape(len(workdays), 11)
    ymd = np.array([d.year * 10000 + d.month * 100 + d.day for d in workdays], dtype=np.int64)
    cutoff_ws = int(usable.sum()) * DAY_SECONDS
    if today_index >= 0:
        cutoff_ws = today_index * DAY_SECONDS + today_elapsed
    return _Context(window, cutoff, day_bytes, ymd, month_days, fraction, cutoff_ws, today_index)


@lru_cache(maxsize=1)
def _clock_bytes() -> np.ndarray:
    """'HH:MM:SS' for every second of office time."""
    sec = np.arange(DAY_SECONDS)
    clock = np.where(sec < AM_SECONDS, AM_OPEN + sec, PM_OPEN + sec - AM_SECONDS)
    text = "".join(f"{c // 3600:02d}:{c // 60 % 60:02d}:{c % 60:02d}" for c in clock.tolist()).encode()
    return np.frombuffer(text, dtype=np.uint8).reshape(DAY_SECONDS, 8)


def _ws_text(ctx: _Context, ws: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Working-clock seconds -> 'YYYY-MM-DD HH:MM:SS' strings (null where not valid), built as bytes."""
    ws = np.asarray(ws, dtype=np.int64)
    n = len(ws)
    safe = ws if valid is None else np.where(valid, ws, 0)
    out = np.empty((n, 19), dtype=np.uint8)
    out[:, :11] = ctx.day_bytes[safe // DAY_SECONDS]
    out[:, 11:] = _clock_bytes()[safe % DAY_SECONDS]
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(19), n, [None, pa.py_buffer(out)])
    arr = arr.cast(pa.binary()).cast(pa.string())
    if valid is not None:
        arr = pc.if_else(pa.array(valid), arr, pa.scalar(None, pa.string()))
    return arr


def _take(values: list[str], codes: np.ndarray) -> pa.Array:
    """Strings by code (-1 = null), via Arrow so millions of rows cost milliseconds."""
    codes = np.asarray(codes, dtype=np.int64)
    mask = codes < 0
    return pa.array(values, pa.string()).take(pa.array(codes, mask=mask if mask.any() else None))


def _series(arr: pa.Array) -> pd.Series:
    return pd.Series(arr, dtype="str")


# --- the month simulation ----------------------------------------------------------------------


@dataclass
class _Month:
    """Numeric result of one month: case-level and event-level arrays (events already cut off)."""

    case_id: np.ndarray
    item: np.ndarray
    channel: np.ndarray
    applicant_type: np.ndarray
    status: np.ndarray
    submit_ws: np.ndarray
    accept_ws: np.ndarray  # -1 when not accepted (yet)
    done_ws: np.ndarray  # -1 when open
    visits: np.ndarray
    resubmissions: np.ndarray
    satisfaction: np.ndarray  # -1 unrated
    delivery: np.ndarray
    ev_case_id: np.ndarray
    ev_item: np.ndarray
    ev_step: np.ndarray
    ev_unit: np.ndarray
    ev_staff: np.ndarray  # -1 = none (online submission by the applicant)
    ev_start_ws: np.ndarray  # -1 = none (first step)
    ev_done_ws: np.ndarray

    @property
    def n_events(self) -> int:
        return len(self.ev_done_ws)


def _online_probabilities(lam: np.ndarray, affinity: np.ndarray, target: float) -> np.ndarray:
    """Per-item online probability min(0.97, affinity·k), with k chosen so the month hits its target share."""
    total = lam.sum()
    if total <= 0:
        return np.zeros_like(affinity)
    lo, hi = 0.0, 50.0
    for _ in range(50):
        k = (lo + hi) / 2
        share = (lam * np.minimum(0.97, affinity * k)).sum() / total
        lo, hi = (k, hi) if share < target else (lo, k)
    return np.minimum(0.97, affinity * (lo + hi) / 2)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def simulate_month(
    ctx: _Context,
    i: int,
    seed: int,
    scale: float,
    part: tuple[int, int] = (0, 1),
    profile: TownProfile = DEFAULT_PROFILE,
) -> _Month:
    """All cases submitted in month ``i`` of the window, and their steps up to the cut-off.

    ``part=(k, parts)`` simulates only the k-th of ``parts`` runs of consecutive working days (its own
    random stream), so a huge month can be produced in slices of bounded size. ``profile`` is the
    town's behaviour; the random stream is the seed's alone, so another town needs another seed.
    """
    t = _tables(profile)
    year, month = ctx.months[i]
    k, parts = part
    key = [seed, year, month] if parts == 1 else [seed, year, month, parts, k]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    all_days = ctx.month_days[i]
    days = np.array_split(all_days, parts)[k] if parts > 1 else all_days
    position = i / max(len(ctx.months) - 1, 1)  # 0 in the first month, 1 in the last

    fraction = ctx.month_fraction[i] * (len(days) / len(all_days) if len(all_days) else 0.0)
    lam = t.item_volume * t.item_season[:, month - 1] * (1 + 0.01 * i) * scale * fraction
    counts = rng.poisson(lam) if len(days) else np.zeros(len(ITEMS), dtype=np.int64)
    n = int(counts.sum())
    item = np.repeat(np.arange(len(ITEMS)), counts)

    # Channel: online share climbs (沙堰镇: from ~20 % to ~55 %); mobile takes a growing part of it.
    target = profile.online_start + profile.online_gain * position + rng.normal(0, 0.008)
    p_online = _online_probabilities(lam, t.item_affinity, target)
    online = rng.random(n) < p_online[item]
    mobile = rng.random(n) < 0.35 + 0.35 * position
    u = rng.random(n)
    offline = np.where(
        u < t.item_kiosk[item], CH_KIOSK, np.where(u < t.item_kiosk[item] + t.item_post[item], CH_POST, CH_WINDOW)
    )
    channel = np.where(online, np.where(mobile, CH_MOBILE, CH_ONLINE), offline)

    o = rng.random(n)
    outcome = np.where(o < 0.015, OUT_REJECT, np.where(o < 0.025, OUT_WITHDRAW, OUT_COMPLETE))
    q = rng.random(n)
    p1 = t.item_resub[item]
    resub = (q < p1).astype(np.int64) + (q < p1 * 0.25) + (q < p1 * 0.05)
    resub[outcome != OUT_COMPLETE] = 0
    applicant_type = (rng.random(n) < t.item_legal[item]).astype(np.int64)

    # Submission in office time of a working day of the month; ids are numbered in submission order.
    day = days[rng.integers(0, max(len(days), 1), n)] if n else np.zeros(0, dtype=np.int64)
    offset = rng.integers(0, DAY_SECONDS, n)
    if ctx.today_index >= 0:  # today's cases arrived before now
        offset = np.where(
            day == ctx.today_index, offset % max(ctx.cutoff_ws - ctx.today_index * DAY_SECONDS, 1), offset
        )
    submit = day * DAY_SECONDS + offset
    order = np.argsort(submit, kind="stable")
    item, channel, outcome, resub, applicant_type, submit, day = (
        a[order] for a in (item, channel, outcome, resub, applicant_type, submit, day)
    )
    _, first_of_day, day_group = np.unique(day, return_index=True, return_inverse=True)
    seq = np.arange(n) - first_of_day[day_group] + 1
    if n and seq.max() >= 100_000:
        raise ValueError("more than 99,999 cases a day do not fit the 办件编号 layout; lower the volume")
    case_id = REGION_CODE * 10**13 + ctx.day_ymd[day] * 10**5 + seq

    # Expand every case into its variant's steps.
    intake = (channel >= CH_WINDOW).astype(np.int64)
    variant = t.var_index[item, intake, outcome, resub]
    lens = t.var_len[variant]
    starts = np.cumsum(lens) - lens
    n_ev = int(lens.sum())
    case_of = np.repeat(np.arange(n), lens)
    flat = t.var_off[variant][case_of] + np.arange(n_ev) - starts[case_of]
    kind = t.flat_kind[flat]
    unit = t.flat_unit[flat]

    # Each completed case uses a share of its promised time (longer in the slow offices; a few stall);
    # 即办 cases take minutes. The budget is split over the steps by weight with gamma noise.
    share = _lognormal(rng, t.item_time_share[item], 0.5, n)
    share[rng.random(n) < 0.004] *= 6
    instant = t.item_instant[item]
    # 即办 cases are nearly always finished on the day they come in (the window stays until it is done).
    same_day = np.maximum(DAY_SECONDS - submit % DAY_SECONDS - 900, 60)
    quick = _lognormal(rng, 1200.0, 0.7, n)
    quick = np.where(rng.random(n) < 0.96, np.minimum(quick, same_day), quick)
    budget = np.where(instant, quick, t.item_budget_ws[item] * share)
    budget[outcome != OUT_COMPLETE] = _lognormal(rng, 0.3 * DAY_SECONDS, 0.8, int((outcome != OUT_COMPLETE).sum()))
    g = rng.gamma(2.0, 0.5, n_ev) * t.flat_weight[flat]
    g_sum = np.bincount(case_of, weights=g, minlength=n)
    duration = budget[case_of] * g / np.maximum(g_sum[case_of], 1e-9)
    # Absolute times: the applicant's 补正, a refusal, a withdrawal; extra waits at slow units.
    z = rng.standard_normal(n_ev)
    duration += np.select(
        [kind == K_RESUB, kind == K_REJECT, kind == K_WITHDRAW],
        [2.0 * DAY_SECONDS * np.exp(0.7 * z), 0.3 * DAY_SECONDS * np.exp(0.8 * z), 3.0 * DAY_SECONDS * np.exp(0.8 * z)],
        0.0,
    )
    duration += t.flat_extra_ws[flat] * np.exp(0.6 * rng.standard_normal(n_ev))
    overhead = np.where(instant[case_of], 20 + rng.integers(0, 100, n_ev), 60 + rng.integers(0, 240, n_ev))
    duration = np.floor(duration).astype(np.int64) + overhead
    duration[kind == K_FIRST] = 0
    elapsed = np.cumsum(duration)
    done = submit[case_of] + elapsed - elapsed[starts][case_of]
    service = np.minimum(duration * rng.uniform(0.15, 0.6, n_ev), 3 * 3600).astype(np.int64)
    start = np.where(kind == K_FIRST, -1, done - service)
    staff = t.staff_off[unit] + (rng.random(n_ev) * t.staff_n[unit]).astype(np.int64)
    staff[(kind == K_FIRST) & (intake[case_of] == 0)] = -1

    # Cut off at the end of the window: open cases keep only the steps finished by then.
    kept = done < ctx.cutoff_ws
    n_kept = np.bincount(case_of, weights=kept, minlength=n).astype(np.int64)
    closed = n_kept == lens
    last = starts + n_kept - 1
    status = np.where(closed, outcome, OUT_OPEN)
    step_accept = t.steps.index("受理")
    step_resub = t.steps.index("补正")
    accept = np.full(n, -1, dtype=np.int64)
    is_accept = kept & (t.flat_step[flat] == step_accept)
    accept[case_of[is_accept]] = done[is_accept]
    done_case = np.where(closed, done[last], -1)
    resub_so_far = np.bincount(case_of, weights=kept & (t.flat_step[flat] == step_resub), minlength=n).astype(np.int64)

    # Visits (到现场次数): none for fully online cases; window cases come 1–3 times.
    online_full = (channel <= CH_MOBILE) & t.item_full[item]
    back = rng.binomial(resub_so_far, 0.8)
    pickup = (~instant) & (rng.random(n) < 0.5)
    delivery = np.where(
        channel == CH_POST,
        DEL_POST,
        np.where(
            channel <= CH_MOBILE,
            np.where(
                online_full,
                np.where(t.item_certificate[item] & (rng.random(n) < 0.6), DEL_POST, DEL_ONLINE),
                np.where(rng.random(n) < 0.7, DEL_WINDOW, DEL_POST),
            ),
            np.where(rng.random(n) < 0.85, DEL_WINDOW, DEL_POST),
        ),
    )
    visits = np.select(
        [online_full, channel <= CH_MOBILE, channel == CH_POST],
        [0, 1 + rng.binomial(resub_so_far, 0.5), rng.binomial(resub_so_far, 0.3)],
        1 + back + (pickup & (delivery == DEL_WINDOW)),
    )
    visits = np.minimum(visits, 3)
    visits[(status == OUT_REJECT) & (channel <= CH_MOBILE)] = 0

    # Satisfaction: ~30 % unrated; worse when the case needed 补正 or ran long.
    troubled = (resub_so_far > 0) | (share > 1.0)
    r = rng.random(n)
    good = np.searchsorted(np.cumsum([0.72, 0.21, 0.05, 0.015, 0.005]), r, side="right")
    bad = np.searchsorted(np.cumsum([0.5, 0.25, 0.1, 0.1, 0.05]), r, side="right")
    satisfaction = np.minimum(np.where(troubled, bad, good), 4)
    satisfaction[(status != OUT_COMPLETE) | (rng.random(n) < 0.3)] = -1

    ev_case = case_of[kept]
    return _Month(
        case_id=case_id,
        item=item,
        channel=channel,
        applicant_type=applicant_type,
        status=status,
        submit_ws=submit,
        accept_ws=accept,
        done_ws=done_case,
        visits=visits.astype(np.int64),
        resubmissions=resub_so_far,
        satisfaction=satisfaction,
        delivery=delivery,
        ev_case_id=case_id[ev_case],
        ev_item=item[ev_case],
        ev_step=t.flat_step[flat][kept],
        ev_unit=unit[kept],
        ev_staff=staff[kept],
        ev_start_ws=start[kept],
        ev_done_ws=done[kept],
    )


def events_frame(ctx: _Context, m: _Month) -> pd.DataFrame:
    t = _tables()
    return pd.DataFrame(
        {
            "办件编号": _series(pa.array(m.ev_case_id).cast(pa.string())),
            "事项名称": _series(_take([i.name for i in ITEMS], m.ev_item)),
            "环节名称": _series(_take(t.steps, m.ev_step)),
            "办理部门": _series(_take(UNITS, m.ev_unit)),
            "经办人": _series(_take(t.staff_names, m.ev_staff)),
            "开始时间": _series(_ws_text(ctx, m.ev_start_ws, m.ev_start_ws >= 0)),
            "完成时间": _series(_ws_text(ctx, m.ev_done_ws)),
        }
    )


def cases_frame(ctx: _Context, m: _Month, seed: int, life_events: bool = True) -> pd.DataFrame:
    """The case export of ``m``; with ``life_events`` its applicants live through 一件事 (:mod:`demo.life`).

    Life events are drawn over the cases of ``m`` (all of them), from their own random stream, and change
    only the 申请人姓名 / 证件号码 / 联系电话 columns.
    """
    codes = item_codes()
    same_as = None
    if life_events:
        life_rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
        same_as = same_person(life_rng, m.item, m.applicant_type, m.submit_ws, m.status, m.done_ws)
    people_rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    people = apply_people(people_rng, m.applicant_type, ctx.cutoff, same_as)
    promised = [limit_text(i.promised, i.unit) for i in ITEMS]
    statutory = [limit_text(i.statutory, i.unit) for i in ITEMS]
    dept_names = [DEPARTMENTS[DEPT_INDEX[i.dept]][1] for i in ITEMS]
    return pd.DataFrame(
        {
            "办件编号": _series(pa.array(m.case_id).cast(pa.string())),
            "事项编码": _series(_take(codes, m.item)),
            "事项名称": _series(_take([i.name for i in ITEMS], m.item)),
            "实施部门": _series(_take(dept_names, m.item)),
            "申请渠道": _series(_take(CHANNELS, m.channel)),
            "申请人类型": _series(_take(APPLICANT_TYPES, m.applicant_type)),
            "申请人姓名": pd.Series(people["申请人姓名"], dtype="str"),
            "证件号码": pd.Series(people["证件号码"], dtype="str"),
            "联系电话": pd.Series(people["联系电话"], dtype="str"),
            "申请时间": _series(_ws_text(ctx, m.submit_ws)),
            "受理时间": _series(_ws_text(ctx, m.accept_ws, m.accept_ws >= 0)),
            "办结时间": _series(_ws_text(ctx, m.done_ws, m.done_ws >= 0)),
            "办件状态": _series(_take(STATUSES, m.status)),
            "承诺时限": _series(_take(promised, m.item)),
            "法定时限": _series(_take(statutory, m.item)),
            "到现场次数": m.visits,
            "补正次数": m.resubmissions,
            "满意度": _series(_take(SATISFACTION, m.satisfaction)),
            "结果送达方式": _series(_take(DELIVERY, m.delivery)),
        }
    )


def concat(months: list[_Month]) -> _Month:
    fields = _Month.__dataclass_fields__
    return _Month(**{f: np.concatenate([getattr(m, f) for m in months]) for f in fields})
