"""Life events (一件事): who files which cases together, so the demo's journeys tell a story.

Why: applicants drawn at random (:func:`demo.people.apply_people`) almost never file related items close
together, so the journeys analysis (``cli.py journeys``) would find no 一件事 on the demo. Here a share of
the cases of each life event's anchor item (出生登记, 个体工商户设立登记 …) start a life event, and later
cases of the event's other items — submitted over one to four visits a few working days apart — are given
the anchor's applicant. A few refused or withdrawn cases are followed by the same applicant filing the same
item again. Only *who* applies changes: :func:`same_person` returns, per case, the case whose applicant it
takes, and the items, times, channels, statuses and counts of the cases stay as the simulation drew them.

Everything is vectorised (sort + searchsorted); the loops run over the five events and a few claim rounds,
never over cases. The life events are drawn within the cases handed in: the whole window for
:func:`demo.exports.generate` (so an event may cross a month boundary), one slice for the benchmark's
chunks (events stay inside a slice).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from demo.town import DAY_SECONDS, ITEMS, OUT_REJECT, OUT_WITHDRAW

ITEM_INDEX = {item.name: k for k, item in enumerate(ITEMS)}
#: Far above any working-clock second of a window: (group, second) pairs become one sortable number.
_GROUP_STRIDE = np.int64(1) << np.int64(40)
#: A wanted follow-up case is the first free one of its item this many working days after the visit is due.
FOLLOW_TOLERANCE_DAYS = 3
#: Share of refused or withdrawn cases after which the applicant files the same item again …
REAPPLY_SHARE = 0.12
#: … 0 to this many working days after the decision (the case is then the first free one of that item).
REAPPLY_DAYS = 3
#: Share of follow-ups filed on the anchor's own visit when the event takes more than one visit.
ANCHOR_VISIT_SHARE = 0.25
#: Rounds of claiming in which applicants who wanted the same case move on to the next free one.
_CLAIM_ROUNDS = 6


class LifeEvent(NamedTuple):
    """One 一件事 of ``data/bundles.csv`` as people live it: an anchor item and the items that follow."""

    bundle: str  # its name in data/bundles.csv
    anchor: str  # the item that starts it
    share: float  # share of the anchor's (natural-person) cases that start one
    follow: tuple[tuple[str, float], ...]  # (item, chance the applicant files it too)
    visits: tuple[float, ...]  # chance of 1, 2, 3 … visits over which the items are filed
    gap_days: tuple[int, int]  # working days between two visits (low, high, inclusive)
    ordered: bool = False  # the items follow one another in the listed order

    @property
    def items(self) -> tuple[str, ...]:
        return (self.anchor, *(name for name, _ in self.follow))


# Volumes per month at scale 1 (anchor → the follow-ups' natural-person cases) bound what can be matched:
# 出生登记 ~60 → 医保 ~300–700 (seasonal), 社保卡 ~130, 生育登记 ~50; 个体设立 ~100 → 小餐饮 ~7, 小作坊 ~3,
# 门头招牌 ~2; 养老待遇申领 ~65; 低保 ~50; 宅基地 ~22 → 规划许可 ~15, 开工备案 ~12, 不动产 ~32.
LIFE_EVENTS: tuple[LifeEvent, ...] = (
    LifeEvent(
        "新生儿出生一件事",
        "出生登记",
        0.75,
        (("城乡居民基本医疗保险参保登记", 0.85), ("社会保障卡申领", 0.6), ("生育登记服务", 0.55)),
        (0.2, 0.4, 0.3, 0.1),
        (1, 8),
    ),
    LifeEvent(
        "开办个体工商户一件事",
        "个体工商户设立登记",
        0.6,
        (("食品经营许可（小餐饮）", 0.5), ("食品小作坊登记", 0.25), ("户外广告和门头招牌设置审批", 0.4)),
        (0.25, 0.45, 0.3),
        (1, 8),
    ),
    LifeEvent(
        "退休一件事",
        "城乡居民养老保险待遇申领",
        0.15,
        (("城乡居民养老保险待遇资格认证", 0.6), ("城乡居民养老保险关系转移接续", 0.2), ("社会保障卡挂失补换", 0.15)),
        (0.3, 0.45, 0.25),
        (1, 8),
    ),
    LifeEvent(
        "困难群众救助一件事",
        "最低生活保障申请",
        0.17,
        (("临时救助申请", 0.5), ("特困人员救助供养申请", 0.12), ("残疾人两项补贴申请", 0.2)),
        (0.3, 0.4, 0.3),
        (1, 8),
    ),
    # Building a house takes longer: a visit per approval, often more than the journey window apart.
    LifeEvent(
        "农村宅基地建房一件事",
        "农村宅基地用地审批",
        0.8,
        (("乡村建设规划许可", 0.85), ("农村自建房开工备案", 0.9), ("不动产登记（农村房地一体）", 0.35)),
        (0.1, 0.3, 0.35, 0.25),
        (3, 15),
        ordered=True,
    ),
)


def _next_free(taken: np.ndarray) -> np.ndarray:
    """For each position (and one past the end), the first position at or after it that is not taken."""
    m = len(taken)
    nxt = np.append(np.where(taken, m, np.arange(m)), m)
    return np.minimum.accumulate(nxt[::-1])[::-1]


def _claim(keys: np.ndarray, wants: np.ndarray, tolerance: int) -> tuple[np.ndarray, np.ndarray]:
    """Match wishes to candidates: each wish takes the first free candidate key in [wish, wish + tolerance].

    ``keys`` and ``wants`` are (group, second) numbers; a candidate goes to one wish, the earliest wish first;
    wishes left without a candidate after a few rounds go unmatched (the applicant did only part of it).
    Returns (wish indices, candidate indices) of the matches.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    m = len(sorted_keys)
    taken = np.zeros(m, dtype=bool)
    pending = np.argsort(wants, kind="stable")
    pos = np.searchsorted(sorted_keys, wants[pending], side="left")
    got_wish: list[np.ndarray] = []
    got_case: list[np.ndarray] = []
    for _ in range(_CLAIM_ROUNDS):
        pos = _next_free(taken)[pos]
        ok = pos < m
        ok[ok] = sorted_keys[pos[ok]] <= wants[pending[ok]] + tolerance
        pending, pos = pending[ok], pos[ok]
        if not len(pending):
            break
        _, first = np.unique(pos, return_index=True)  # pending is in wish order: the earliest wins
        won = np.zeros(len(pending), dtype=bool)
        won[first] = True
        got_wish.append(pending[won])
        got_case.append(pos[won])
        taken[pos[won]] = True
        pending, pos = pending[~won], pos[~won]
    if not got_wish:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(got_wish), order[np.concatenate(got_case)]


def _life_event(
    rng: np.random.Generator, event: LifeEvent, item: np.ndarray, submit_ws: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(follow-up cases, their anchor cases) of one kind of life event; marks the cases it used as not free."""
    anchors = np.flatnonzero((item == ITEM_INDEX[event.anchor]) & free)
    anchors = anchors[rng.random(len(anchors)) < event.share]
    free[anchors] = False
    n, k = len(anchors), len(event.follow)
    chance = np.array([p for _, p in event.follow])
    follow_item = np.array([ITEM_INDEX[name] for name, _ in event.follow], dtype=np.int64)
    wanted = rng.random((n, k)) < chance
    visits = 1 + np.searchsorted(np.cumsum(event.visits)[:-1], rng.random(n), side="right")
    # Visit 0 is the anchor's: everything at once when there is one visit, else a follow-up joins it now and then.
    later = rng.integers(1, np.maximum(visits, 2)[:, None], (n, k))
    visit = np.where((visits[:, None] == 1) | (rng.random((n, k)) < ANCHOR_VISIT_SHARE), 0, later)
    if event.ordered:
        visit.sort(axis=1)
    low, high = event.gap_days
    gaps = rng.integers(low, high + 1, (n, len(event.visits)))
    gaps[:, 0] = 0
    due_day = submit_ws[anchors][:, None] // DAY_SECONDS + np.take_along_axis(np.cumsum(gaps, axis=1), visit, 1)
    due = np.where(visit == 0, submit_ws[anchors][:, None] + 1, due_day * DAY_SECONDS)  # a later visit: from opening
    rows, cols = np.nonzero(wanted)
    candidates = np.flatnonzero(np.isin(item, follow_item) & free)
    wish, case = _claim(
        item[candidates] * _GROUP_STRIDE + submit_ws[candidates],
        follow_item[cols] * _GROUP_STRIDE + due[rows, cols],
        FOLLOW_TOLERANCE_DAYS * DAY_SECONDS,
    )
    followers = candidates[case]
    free[followers] = False
    return followers, anchors[rows[wish]]


def same_person(
    rng: np.random.Generator,
    item: np.ndarray,
    applicant_type: np.ndarray,
    submit_ws: np.ndarray,
    status: np.ndarray,
    done_ws: np.ndarray,
) -> np.ndarray:
    """Per case, the case whose applicant files it (itself unless a life event or a re-application links them).

    Life events involve natural persons only (a 个体工商户 is registered under its owner's ID number, as the
    demo's cases already are); a re-application keeps the refused case's applicant, person or firm, and is a
    case of the same applicant type.
    """
    n = len(item)
    source = np.arange(n)
    free = applicant_type == 0
    for event in LIFE_EVENTS:
        followers, anchors = _life_event(rng, event, item, submit_ws, free)
        source[followers] = anchors
    # Re-applications: another case of the same item and applicant type, filed after the refusal.
    refused = np.flatnonzero(np.isin(status, (OUT_REJECT, OUT_WITHDRAW)))
    refused = refused[rng.random(len(refused)) < REAPPLY_SHARE]
    linked = source != np.arange(n)
    free = ~linked  # a follow-up keeps its life event's applicant …
    free[source[linked]] = False  # … and so does an anchor, or its follow-ups would lose it
    free[refused] = False
    decided = np.where(done_ws[refused] >= 0, done_ws[refused], submit_ws[refused])
    after = decided + rng.integers(0, REAPPLY_DAYS + 1, len(refused)) * DAY_SECONDS
    group = item * 2 + applicant_type
    candidates = np.flatnonzero(free)
    wish, case = _claim(
        group[candidates] * _GROUP_STRIDE + submit_ws[candidates],
        group[refused] * _GROUP_STRIDE + after,
        FOLLOW_TOLERANCE_DAYS * DAY_SECONDS,
    )
    source[candidates[case]] = source[refused[wish]]
    return source
