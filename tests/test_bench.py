"""The benchmark harness works (at a tiny size; no timing is asserted) and times what the pages run.

The fast paths' results are compared with the straightforward SQL in ``tests/test_fast_paths.py``;
here the harness's own pieces are checked: the generated log is the demo county's (20 towns even at
these tiny sizes: every town still holds cases, and case ids already repeat between towns), every step
reports, and the peers compute the same figures as we do, counting a case per (town, case id). The pages' calls it times are ``metrics.page_queries.PAGES``,
which ``tests/test_page_queries.py`` checks against what each page's default view calls.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bench import generate, peers
from bench import run as bench_run
from demo import county, exports, town
from metrics import page_queries as pages


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
    """``bench/run.py --events 2000``: every step runs in its own process and the table is written."""
    out = tmp_path / "out"
    results = bench_run.main(["--events", "2000", "--repeat", "1", "--out", str(out), "--skip-browser"])
    steps = results["steps"]
    for name in ("floor", "ctas", "ingest_utf8", "ingest_gbk", "ingest_cases", "refresh", "pages", "pages_live",
                 "month_alone", "month_append", "month_refresh", "csv_ours", "loaded_ours", "loaded_pandas",
                 "csv_pandas"):  # fmt: skip
        assert steps[name]["peak_rss_bytes"] > 0, name
    assert results["towns"] == generate.TOWNS
    assert steps["ingest_utf8"]["rows"] == steps["ingest_gbk"]["rows"] == results["log"]["events"]
    assert steps["ingest_cases"]["rows"] == results["log"]["cases_count"]
    assert steps["floor"]["rows"] == steps["ctas"]["rows"] == results["log"]["events"]
    assert set(steps["pages"]["pages"]) == set(steps["pages_live"]["pages"]) == set(pages.PAGES)
    assert steps["refresh"]["kept"] > 0 and len(steps["refresh"]["months"]) >= 1
    assert steps["loaded_ours"]["counts"] == steps["loaded_pandas"]["counts"]
    saved = json.loads((out / "results-2000.json").read_text())
    assert saved["summary"] and (out / "results-2000.md").read_text().startswith("| measurement")
    assert not (out / "work-2000").exists()  # scratch files are removed unless --keep
