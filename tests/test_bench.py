"""The benchmark harness works (at a tiny size; no timing is asserted) and times what the pages run.

The fast paths' results are compared with the straightforward SQL in ``tests/test_fast_paths.py``;
here the harness's own pieces are checked: the generated log is the demo county's (20 towns even at
these tiny sizes: every town still holds cases, and case ids already repeat between towns), every step
reports, every row of the table is there with its target, and the peers compute the same figures as we do,
counting a case per (town, case id). The pages' calls it times are ``metrics.page_queries.PAGES``, which
``tests/test_page_queries.py`` checks against what each page's default view calls.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bench import generate, peers
from bench import run as bench_run
from demo import county, exports, town
from metrics import page_queries as pages
from tests.conftest import running_under_ci


def test_generated_events_are_the_demo_generators(tmp_path) -> None:
    files = generate.write_logs(tmp_path, 3000, log=lambda s: None)
    ours = pd.read_csv(files.events_utf8, dtype=str, keep_default_na=False)
    chunks = exports.iter_event_chunks(3000, end_month=generate.END_MONTH, towns=generate.TOWNS)
    theirs = pd.concat(list(chunks), ignore_index=True)
    theirs = theirs.astype(object).where(theirs.notna(), "").astype(str)
    assert list(ours.columns) == ["乡镇", *town.EVENT_COLUMNS]
    pd.testing.assert_frame_equal(ours.astype(str), theirs, check_dtype=False)
    assert files.events_gbk.read_bytes().decode("gbk") == files.events_utf8.read_text(encoding="utf-8")
    names = {t.profile.name for t in county.county(generate.TOWNS, exports.DEFAULT_SEED)}
    assert set(ours["乡镇"]) == names and len(names) == generate.TOWNS == 20
    pairs = ours[["乡镇", "办件编号"]].drop_duplicates()
    assert pairs["办件编号"].nunique() < len(pairs)  # ids repeat between towns: a case is the pair
    cases = pd.read_csv(files.cases, dtype=str)
    assert cases.columns[0] == "乡镇" and not cases.duplicated(["乡镇", "办件编号"]).any()
    assert set(pairs.itertuples(index=False)) <= set(cases[["乡镇", "办件编号"]].itertuples(index=False))
    month = pd.read_csv(files.month_events, dtype=str)
    assert files.month_events_count == len(month) > 0 and set(month["乡镇"]) <= names
    assert (month["完成时间"].str[:7] >= generate.NEXT_MONTH).all()


def test_peers_compute_the_same_figures(tmp_path) -> None:
    """pm4py, pandas and we agree on how many cases, edges and department handovers the log has.

    The cases are (town, case id) for all three: more than the distinct case ids of the log.
    """
    pytest.importorskip("pm4py")
    from ingest.load import ingest_file
    from store.db import Database

    files = generate.write_logs(tmp_path, 4000, with_cases=False, with_gbk=False, with_next_month=False,
                                log=lambda s: None)  # fmt: skip
    frame = peers.read_csv(str(files.events_utf8))
    pm = peers.pm4py_figures(peers.pm4py_log(frame))
    pd_ = peers.pandas_figures(frame)
    db = Database(tmp_path / "peer.duckdb")
    try:
        ingest_file(db, files.events_utf8, kind="events")
        ours = peers.our_figures(db.cursor())
        towns = db.cursor().execute("SELECT count(DISTINCT town) FROM cases").fetchone()[0]
    finally:
        db.close()
    pairs = frame[["乡镇", "办件编号"]].drop_duplicates()
    assert towns == generate.TOWNS
    assert ours["cases"] == pd_["cases"] == pm["cases"] == len(pairs) > frame["办件编号"].nunique()
    assert ours["edges"] == pd_["edges"] == pm["edges"]
    assert ours["handover_pairs"] == pd_["handover_pairs"] == pm["handover_pairs"]


def test_the_harness_runs_at_a_tiny_size(tmp_path) -> None:
    """``bench/run.py --events 2000``: every step runs in its own process and the table is written.

    The growth run (a 1,000-event log here) and the browser (one repetition) run too, so every row of
    the table appears: with a number, its target stated and whether it is met (no time is asserted).
    """
    out = tmp_path / "out"
    results = bench_run.main(["--events", "2000", "--growth-events", "1000", "--repeat", "1", "--draw-repeat", "0",
                              "--browser-runs", "1", "--skip-town-browser", "--skip-floor-variants", "--out", str(out)])  # fmt: skip
    steps = results["steps"]
    for name in ("floor", "ctas", "ingest_utf8", "ingest_gbk", "ingest_cases", "refresh", "pages", "growth_ingest",
                 "growth_cases", "growth_refresh", "growth_pages", "browser", "month_alone",
                 "month_append", "month_refresh", "csv_ours", "loaded_ours", "loaded_pandas", "csv_pandas"):  # fmt: skip
        assert steps[name]["peak_rss_bytes"] > 0, name
    assert results["towns"] == generate.TOWNS
    assert steps["ingest_utf8"]["rows"] == steps["ingest_gbk"]["rows"] == results["log"]["events"]
    assert steps["ingest_cases"]["rows"] == results["log"]["cases_count"]
    assert steps["floor"]["rows"] == steps["ctas"]["rows"] == results["log"]["events"]
    assert steps["refresh"]["kept"] > 0 and len(steps["refresh"]["months"]) >= 1
    assert steps["loaded_ours"]["counts"] == steps["loaded_pandas"]["counts"]

    # The drawn views: drawn from the database, the same ones timed on the growth log, each page timed on each.
    views = steps["pages"]["draws"]
    assert len(views) >= 6 and len({json.dumps(v, sort_keys=True) for v in views}) == len(views)
    assert steps["growth_pages"]["draws"] == views
    assert results["growth_log"]["events"] < results["log"]["events"]
    for step in ("pages", "growth_pages"):
        assert set(steps[step]["pages"]) == set(pages.PAGES)
        for page, timing in steps[step]["pages"].items():
            assert len(timing["drawn_seconds"]) == len(views), (step, page)
            assert timing["drawn_max_seconds"] >= timing["drawn_median_seconds"] > 0, (step, page)

    rows = {r["measurement"]: r for r in results["summary"]}

    def one(*words: str) -> dict:
        found = [r for name, r in rows.items() if all(w in name for w in words)]
        assert len(found) == 1, (words, list(rows))
        return found[0]

    def judged(r: dict, target: str) -> None:
        """A row with a time, its target stated, and met or not."""
        assert isinstance(r["seconds"], float) and r["seconds"] > 0, r
        assert target in (r["target"] or "") and isinstance(r["met"], bool), r

    judged(one("our ingest, UTF-8"), "≤ 4.0× CTAS")
    judged(one("our ingest, GBK"), "≤ 1.2× UTF-8")
    judged(one("one more month, appended"), "≤ 1.5× alone")
    for page in pages.PAGES:
        judged(one(f"page queries: {page}, default view"), "≤ 0.2 s")
        drawn = one(f"page queries: {page}, {len(views)} drawn views")
        judged(drawn, "≤ 1.5× default")
        assert drawn["ratio"] > 0 and "slowest" in drawn["note"]
        grown = one(f"growth: {page} page queries")
        judged(grown, "≤ 2.0×")
        assert "÷" in grown["comparison"]
    judged(one("figures, log loaded: pm4py"), "≥ 30.0× faster")
    judged(one("figures from the CSV: pm4py"), "≥ 3.0× faster")

    browser = steps["browser"]
    if "skipped" in browser and not running_under_ci():  # no Debian Chromium here: under CI it must run
        pytest.skip(browser["skipped"])
    assert one("floor", "first visit")["seconds"] > 0 and one("floor", "rerun")["seconds"] > 0
    assert set(browser["apps"]) == {"bench"}  # the demo town's scale is left out here (--skip-town-browser)
    assert "town_demo" not in steps
    for scale in (f"{results['log']['events']:,} events",):
        judged(one(f"browser, {scale}", "opened from a link"), "≤ 1.3× floor first visit")
        judged(one(f"browser, {scale}", "a month chosen"), "≤ 2.0× floor rerun")
        judged(one(f"browser, {scale}", "then a department"), "≤ 2.0× floor rerun")

    saved = json.loads((out / "results-2000.json").read_text())
    assert saved["summary"] and (out / "results-2000.md").read_text().startswith("| measurement")
    assert not (out / "work-2000").exists()  # scratch files are removed unless --keep
