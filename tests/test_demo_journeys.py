"""The demo's journeys tell the 一件事 story: life events show up in ``journeys`` as bundles and item pairs.

The full-size demo town's 18 months (the applicants' pool is drawn over the whole window, so fewer months
would crowd the same people together by chance) are loaded twice into one database: as generated (沙堰镇,
with life events) and with the applicants drawn at random as before (对照镇, the control: same cases,
other people); October is the month read, a complete one with months before and after it. The
figures are the product's own (:func:`metrics.journeys.journey_summary`), so a change to the generator or to
the analysis that loses the story fails here; the control shows the story comes from the life events.
"""

from __future__ import annotations

import numpy as np
import pytest

from demo import exports, life, simulation, town
from ingest.load import ingest_file
from metrics import journeys
from metrics.filters import Filters
from store.db import Database

SEED = exports.DEFAULT_SEED
END = "2026-11"
MONTH = "2026-10"
TOWN, CONTROL = "沙堰镇", "对照镇"


@pytest.fixture(scope="module")
def cur(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("demo-journeys")
    ctx = simulation.context(END, exports.DEFAULT_MONTHS)
    m = simulation.concat([simulation.simulate_month(ctx, i, SEED, 1.0) for i in range(len(ctx.months))])
    db = Database(folder / "egov.duckdb")
    for name, lived in ((TOWN, True), (CONTROL, False)):
        path = folder / f"{name}.csv"
        simulation.cases_frame(ctx, m, SEED, life_events=lived).to_csv(path, index=False)
        result = ingest_file(db, path, kind="cases", town=name)
        assert result.rows_rejected == 0
    yield db.cursor()
    db.close()


def _summary(cur, name: str) -> journeys.JourneySummary:
    return journeys.journey_summary(cur, Filters.month(MONTH, towns=[name]))


def _bundle_journeys(cur, name: str) -> dict[str, int]:
    """Journeys matching each bundle, however few (K = 1: the test may see what a page would suppress)."""
    rows, _, _ = journeys.bundle_matches(
        cur, Filters.month(MONTH, towns=[name]), journeys.load_bundles(), min_applicants=1
    )
    return {row["name"]: row["journeys"] for row in rows}


def _within_a_bundle(pairs: list[journeys.Pair]) -> list[journeys.Pair]:
    """The pairs whose two items belong to one life event (the others happen by chance)."""
    return [p for p in pairs if any(set(p["items"]) <= set(e.items) for e in life.LIFE_EVENTS)]


def test_the_life_events_are_the_shipped_bundles() -> None:
    """Each life event is a bundle of data/bundles.csv, with items of the catalogue that belong to it."""
    bundles = {b.name: set(b.item_names) for b in journeys.load_bundles()}
    names = {item.name for item in town.ITEMS}
    assert {event.bundle for event in life.LIFE_EVENTS} == set(bundles)
    for event in life.LIFE_EVENTS:
        assert set(event.items) <= bundles[event.bundle] and set(event.items) <= names, event.bundle


def test_every_bundle_is_lived_and_birth_leads(cur) -> None:
    lived, control = _bundle_journeys(cur, TOWN), _bundle_journeys(cur, CONTROL)
    assert set(lived) == {event.bundle for event in life.LIFE_EVENTS}
    assert all(n >= 3 for n in lived.values()), lived
    assert max(lived, key=lambda name: lived[name]) == "新生儿出生一件事"
    assert sum(lived.values()) >= 3 * sum(control.values()) > 0  # random people file bundles only by chance
    shown = {row["name"] for row in _summary(cur, TOWN)["bundles"]}  # what the page shows at K = 5
    assert len(shown) >= 4, shown


def test_pairs_pass_k_and_cross_departments(cur) -> None:
    lived, control = _summary(cur, TOWN), _summary(cur, CONTROL)
    assert lived["journeys"] and control["journeys"]
    assert 0.04 <= lived["multi_item_journeys"] / lived["journeys"] <= 0.10
    assert lived["multi_item_journeys"] >= control["multi_item_journeys"] + 30  # chance alone gives 4–6 %
    assert lived["avoidable_submissions"] > lived["multi_item_journeys"]  # some journeys have three items or more
    pairs = lived["pairs"]
    assert len(pairs) >= 8
    assert len(_within_a_bundle(pairs)) >= 7 and len(_within_a_bundle(control["pairs"])) <= 2
    assert sum(len(p["departments"]) >= 2 for p in pairs) >= 5
    top = pairs[0]
    assert "出生登记" in top["items"] and top["applicants"] >= 15 and len(top["departments"]) == 2
    assert 0 <= (top["median_gap_days"] or 0) <= 12


def test_refusals_are_followed_by_a_few_re_applications(cur) -> None:
    lived, control = _summary(cur, TOWN), _summary(cur, CONTROL)
    assert 3 <= (lived["reapplications_after_refusal"] or 0) <= 25
    assert (control["reapplications_after_refusal"] or 0) <= 2


def test_building_a_house_outlasts_the_window(cur) -> None:
    """The house's visits lie weeks apart: a longer window joins more of its items into one journey.

    Over the whole window (no month), journeys only merge as the window grows, so the count can only rise;
    it rises by more than chance (the control) because the life events put visits beyond 15 days apart.
    """
    house = set(next(e for e in life.LIFE_EVENTS if e.bundle == "农村宅基地建房一件事").items)

    def house_pairs(name: str, window: int) -> int:
        pairs, _ = journeys.item_pairs(cur, Filters(towns=(name,)), window_days=window, min_applicants=1)
        return sum(p["applicants"] for p in pairs if set(p["items"]) <= house)

    gained = house_pairs(TOWN, 45) - house_pairs(TOWN, 15)
    assert house_pairs(TOWN, 15) > 0 and gained > 3 * max(house_pairs(CONTROL, 45) - house_pairs(CONTROL, 15), 1)


def test_claims_take_the_first_free_case_once() -> None:
    """The matching rule itself: earliest wish first, each candidate once, nothing past the tolerance."""
    keys = np.array([10, 20, 30, 100])
    wishes = np.array([5, 5, 5, 5, 95, 200])
    wish, case = life._claim(keys, wishes, tolerance=30)
    got = dict(zip(wish.tolist(), keys[case].tolist(), strict=True))
    assert got == {0: 10, 1: 20, 2: 30, 4: 100}  # wish 3 finds nothing free within 30, wish 5 nothing at all
