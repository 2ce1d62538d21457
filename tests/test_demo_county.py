"""The demo county: one town is the old demo exactly, and several towns differ in the ways the county compares.

A county view is only tested by towns that differ (online rate, a slow office) and that number their
cases alike (the same 办件编号 in two towns), so those properties are pinned here on a small scale.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import settings
from demo import county, exports, town
from demo.load import load_demo
from metrics.bottlenecks import waiting_time
from metrics.filters import Filters
from store.db import Database
from tests.cli_support import cli

END = "2026-11"
MONTHS = 4
SCALE = 0.15
SEED = 7


def test_one_town_is_the_old_demo(tmp_path: Path) -> None:
    """``towns=1`` is generate() as before: same frames, same bytes (the first town keeps seed and profile)."""
    (alone,) = exports.generate_county(1, seed=SEED, end_month=END, months=MONTHS, scale=SCALE)
    before = exports.generate(seed=SEED, end_month=END, months=MONTHS, scale=SCALE)
    pd.testing.assert_frame_equal(alone.cases, before.cases)
    pd.testing.assert_frame_equal(alone.events, before.events)
    ours, theirs = exports.write_exports(tmp_path / "a", alone), exports.write_exports(tmp_path / "b", before)
    for kind in ours:
        assert ours[kind].read_bytes() == theirs[kind].read_bytes(), kind


def test_county_is_deterministic_with_distinct_names_and_roles() -> None:
    towns = county.county(6, SEED)
    assert towns == county.county(6, SEED)
    names = [t.profile.name for t in towns]
    assert names[0] == "沙堰镇" and len(set(names)) == 6
    assert all(name.endswith(("镇", "乡", "街道")) for name in names)
    assert {"default", "leading", "lagging", "slow_market", "middle"} == {t.role for t in towns}
    assert len({t.seed for t in towns}) == 6
    assert len({t.profile.volume for t in towns}) == 6
    assert [t.profile.name for t in county.county(6, SEED + 1)] != names
    with pytest.raises(ValueError):
        county.county(county.MAX_TOWNS + 1, SEED)


@pytest.fixture(scope="module")
def county_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = Database(tmp_path_factory.mktemp("county") / "county.duckdb")
    load_demo(db, seed=SEED, end_month=END, towns=3, months=MONTHS, scale=SCALE)
    return db


def _roles() -> dict[str, str]:
    return {t.role: t.profile.name for t in county.county(3, SEED, settings.DEFAULT_TOWN)}


def test_three_towns_keep_their_colliding_case_ids_apart(county_db: Database) -> None:
    cur = county_db.cursor()
    towns = {r[0] for r in cur.execute("SELECT DISTINCT town FROM cases").fetchall()}
    assert towns == set(_roles().values())
    per_town = dict(cur.execute("SELECT town, count(*) FROM cases GROUP BY town").fetchall())
    assert len(set(per_town.values())) == 3  # volumes differ by town
    shared = cur.execute(
        "SELECT count(*) FROM (SELECT case_id FROM cases GROUP BY case_id HAVING count(DISTINCT town) > 1)"
    ).fetchone()[0]
    assert shared > 0
    total = cur.execute("SELECT count(*) FROM cases").fetchone()[0]
    assert total == sum(per_town.values())
    assert total > cur.execute("SELECT count(DISTINCT case_id) FROM cases").fetchone()[0]


def test_leading_town_is_more_online_than_the_lagging_one(county_db: Database) -> None:
    cur = county_db.cursor()
    rate = dict(
        cur.execute(
            "SELECT town, avg(CASE WHEN channel IN ('online', 'mobile') THEN 1 ELSE 0 END) FROM cases GROUP BY town"
        ).fetchall()
    )
    roles = _roles()
    lagging = roles["lagging+slow_market"]
    assert rate[roles["leading"]] > rate[roles["default"]] > rate[lagging]
    assert rate[roles["leading"]] - rate[lagging] > 0.3


def test_slow_market_town_waits_longest_at_its_market_office(county_db: Database) -> None:
    cur = county_db.cursor()
    wait = {}
    for name in _roles().values():
        frame = waiting_time(cur, Filters(towns=(name,)), "department").set_index("department")
        wait[name] = float(frame.loc["市场监管所", "median_wait_hours"])
    slow = _roles()["lagging+slow_market"]
    assert wait[slow] > 2 * max(w for name, w in wait.items() if name != slow)


def test_small_is_the_one_town_sample_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        load_demo(Database(tmp_path / "x.duckdb"), small=True, towns=2)
    for args in (("--small", "--towns", "2"), ("--towns", "0")):
        done = cli("demo", *args, "--db", str(tmp_path / "y.duckdb"))
        assert done.returncode == 2 and "--towns" in done.stderr, done.stderr
    assert not (tmp_path / "y.duckdb").exists()


def test_event_chunks_spread_over_the_county_keep_each_towns_share() -> None:
    """``iter_event_chunks(towns=4)``: the target over four towns, one 乡镇 column, each town its own volume.

    The shares are checked against generate_county at another scale (the same towns, volumes and
    streams): a calibration that split the target evenly, or on one town's volume, would miss them.
    """
    target = 120_000
    chunks = list(exports.iter_event_chunks(target, seed=SEED, end_month=END, months=MONTHS, towns=4))
    log = pd.concat(chunks, ignore_index=True)
    assert abs(len(log) - target) / target < 0.05
    assert len(chunks) == MONTHS  # one frame per month at this size, every town in it
    assert all(list(chunk.columns) == [exports.TOWN_COLUMN, *town.EVENT_COLUMNS] for chunk in chunks)
    names = [t.profile.name for t in county.county(4, SEED)]
    assert sorted(log[exports.TOWN_COLUMN].unique()) == sorted(names)
    pairs = log[[exports.TOWN_COLUMN, "办件编号"]].drop_duplicates()
    assert pairs["办件编号"].nunique() < len(pairs)  # the same ids in several towns
    shares = log[exports.TOWN_COLUMN].value_counts(normalize=True)
    county_data = exports.generate_county(4, seed=SEED, end_month=END, months=MONTHS, scale=0.1)
    total = sum(len(d.events) for d in county_data)
    for d in county_data:
        assert shares[d.town] == pytest.approx(len(d.events) / total, abs=0.02), d.town
    assert shares.max() / shares.min() > 1.5  # the towns' volumes do differ
