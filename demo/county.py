"""A demo county: several towns that share a catalogue but not their habits, for comparing towns.

Why: a county dashboard is only worth having when its towns differ, so the demo county has a
leading town (applicants online, offices quick), a lagging one (few online), one whose 市场监管所 is
slow, and the rest in between, with volumes that differ by town. The first town is the one-town
demo exactly (its profile and seed), so ``towns=1`` changes nothing. Every town numbers its cases
with the same 办件编号 pattern (region, day, running number), as separate town platforms would, so
the same ids turn up in several towns and the loader's (town, case id) identity is exercised.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import numpy as np

from demo.town import DEFAULT_PROFILE, TOWN, TownProfile

#: Real-sounding 乡镇/街道 names for the other towns (drawn in a seed-determined order).
TOWN_NAMES = (
    "柳林镇", "河口镇", "石桥乡", "清河街道", "白沙镇", "龙泉乡", "新集镇", "马岗乡", "东关街道", "杨庄镇",
    "高桥镇", "梅溪乡", "桃园街道", "丹水镇", "赵湾乡", "青山镇", "双河镇", "三官庙乡", "太平镇", "南湾街道",
    "花园乡", "李集镇", "金竹乡", "城郊街道",
)  # fmt: skip
MAX_TOWNS = len(TOWN_NAMES) + 1

ROLES = ("leading", "lagging", "slow_market")


class CountyTown(NamedTuple):
    """One town of the county: its profile, the seed of its own random stream, and its role."""

    profile: TownProfile
    seed: int
    role: str  # "default" (the one-town demo's), "leading", "lagging", "slow_market", "middle"


def town_seed(seed: int, index: int) -> int:
    """Town 0 keeps the county's seed (so it is the one-town demo); the others get independent streams."""
    if index == 0:
        return seed
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def county(towns: int, seed: int, first: str = TOWN) -> list[CountyTown]:
    """The county's towns, deterministic from ``seed``: the first is ``first`` with the default profile.

    The roles go to the other towns in a seed-determined order; with only two other towns the lagging
    one also has the slow 市场监管所 (a lagging town's offices are the likelier to be slow), with one
    other town it is the leading one.
    """
    if not 1 <= towns <= MAX_TOWNS:
        raise ValueError(f"a demo county has 1 to {MAX_TOWNS} towns, not {towns}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 16]))
    names = [name for name in TOWN_NAMES if name != first]
    order = rng.permutation(len(names))
    others = towns - 1
    slots = rng.permutation(others)  # slots[k]: which of the other towns takes role k
    roles = ["middle"] * others
    for k, role in enumerate(ROLES[: min(others, len(ROLES))]):
        roles[slots[k]] = role
    if others == 2:
        roles[slots[1]] = "lagging+slow_market"
    result = [CountyTown(DEFAULT_PROFILE if first == TOWN else replace(DEFAULT_PROFILE, name=first), seed, "default")]
    for j in range(others):
        profile = _profile(names[order[j]], roles[j], rng)
        result.append(CountyTown(profile, town_seed(seed, j + 1), roles[j]))
    return result


def _profile(name: str, role: str, rng: np.random.Generator) -> TownProfile:
    """A town's behaviour for its role; the in-between towns scatter around 沙堰镇's figures."""
    u = rng.uniform
    sj, zr = (u(0.40, 0.50), u(0.4, 0.7)), (u(0.45, 0.55), u(0.9, 1.5))
    volume, start, gain, share = u(0.6, 1.4), u(0.15, 0.26), u(0.27, 0.40), u(0.26, 0.34)
    if role == "leading":  # a 街道 by the county seat: big, online early, quick offices
        volume, start, gain, share = u(1.2, 1.6), u(0.32, 0.36), u(0.36, 0.40), u(0.18, 0.22)
        sj, zr = (u(0.30, 0.35), u(0.2, 0.3)), (u(0.35, 0.40), u(0.5, 0.7))
    if role.startswith("lagging"):  # a remote mountain township: small, hardly online
        volume, start, gain, share = u(0.4, 0.7), u(0.05, 0.08), u(0.10, 0.14), u(0.33, 0.37)
    if role.endswith("slow_market"):  # its 市场监管所 short-staffed: every step waits days
        sj = (u(0.85, 0.95), u(2.8, 3.4))
    slow = (("SJ", float(sj[0]), float(sj[1])), ("ZR", float(zr[0]), float(zr[1])))
    return TownProfile(name, float(volume), float(start), float(gain), float(share), slow)
