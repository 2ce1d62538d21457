"""Cross-check against pm4py (test-only reference, AGPL: never imported by the product) on public logs.

The logs are loaded through our own ingest (``ingest.load.ingest_file``, our XES/CSV readers and the
time-zone conversion to Asia/Shanghai wall-clock time); pm4py reads the same files itself. Case
durations, directly-follows edge counts and median/mean times, handover counts and service times
must agree. Our ordering within a case is (completion time, file order); pm4py sorts stably by
time, so both see the same sequence.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from metrics import bottlenecks as bn
from metrics.filters import Filters

pm4py = pytest.importorskip("pm4py")

HERE = Path(__file__).resolve().parent
ALL = Filters()
ZONE = "Asia/Shanghai"


def fixture_path(name: str) -> Path:
    """The copy in tests/data (see its README), else the shared original."""
    for candidate in (HERE / "data" / name, HERE.parent.parent / "shared" / "fixtures" / name):
        if candidate.exists():
            return candidate
    pytest.skip(f"{name} not found")


def load(path: Path):
    from ingest.load import ingest_file
    from store.db import Database

    db = Database(":memory:")
    result = ingest_file(db, path, kind="auto", loaded_by="test")
    assert result.rows_rejected == 0, result
    return db


def read_xes(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(path))


def pm_durations(df: pd.DataFrame) -> dict[str, float]:
    from pm4py.statistics.traces.generic.pandas import case_statistics

    desc = case_statistics.get_cases_description(df)
    return {str(case): d["caseDuration"] for case, d in desc.items()}


def assert_dfg_agrees(cur, df: pd.DataFrame, time_column: str = "median_flow_hours") -> None:
    """Edge counts exactly; median and mean edge times to the microsecond."""
    ours = bn.directly_follows(cur, ALL).set_index(["source", "target"])
    freq, _, _ = pm4py.discover_dfg(df)
    assert {k: int(v) for k, v in freq.items()} == ours["count"].to_dict()
    perf, _, _ = pm4py.discover_performance_dfg(df)
    for edge, stats in perf.items():
        assert ours.loc[edge, time_column] * 3600 == pytest.approx(stats["median"], abs=1e-3), edge
    mean_column = time_column.replace("median", "mean")
    for edge, stats in perf.items():
        assert ours.loc[edge, mean_column] * 3600 == pytest.approx(stats["mean"], abs=1e-3), edge


def assert_times_are_local(cur, df: pd.DataFrame) -> None:
    """Offsets in the file become Asia/Shanghai wall-clock time, event by event (time zones)."""
    ours = cur.execute("SELECT case_id, step, completed_at FROM events ORDER BY case_id, completed_at, seq").df()
    theirs = df.assign(
        local=df["time:timestamp"].dt.tz_convert(ZONE).dt.tz_localize(None),
        case=df["case:concept:name"].astype(str),
    ).sort_values(["case", "local"], kind="stable")
    assert list(ours["completed_at"]) == list(theirs["local"])
    assert list(ours["step"]) == list(theirs["concept:name"])


def log_fixture(name: str):
    """A module-scoped fixture: the public log ``name`` loaded by our ingest, and pm4py's own reading of it."""

    @pytest.fixture(scope="module")
    def loaded():
        path = fixture_path(name)
        db = load(path)
        yield db, read_xes(path)
        db.close()

    return loaded


running_example = log_fixture("running-example.xes")
road_traffic = log_fixture("roadtraffic100traces.xes")


@pytest.mark.parametrize("log", ["running_example", "road_traffic"])
def test_case_durations_agree(log, request) -> None:
    db, df = request.getfixturevalue(log)
    ours = bn.case_durations(db.cursor(), ALL).set_index("case_id")["duration_hours"] * 3600
    theirs = pm_durations(df)
    assert set(ours.index) == set(theirs)
    for case, seconds in theirs.items():
        assert ours[case] == pytest.approx(seconds, abs=1e-3), case


@pytest.mark.parametrize("log", ["running_example", "road_traffic"])
def test_directly_follows_agrees(log, request) -> None:
    db, df = request.getfixturevalue(log)
    assert_dfg_agrees(db.cursor(), df)
    # Without start times the waiting time of the target is the edge time.
    assert_dfg_agrees(db.cursor(), df, "median_hours")


@pytest.mark.parametrize("log", ["running_example", "road_traffic"])
def test_times_are_converted_to_local_time(log, request) -> None:
    db, df = request.getfixturevalue(log)
    assert_times_are_local(db.cursor(), df)


def test_handover_counts_agree_on_running_example(running_example) -> None:
    """org:resource is the only organisational attribute here; our loader keeps it as the handler."""
    db, df = running_example
    cur = db.cursor()
    ours = bn.handover_matrix(cur, ALL, "handler").set_index(["from_unit", "to_unit"])["count"].to_dict()
    # pm4py's handover of work (beta = 0) is the directly-follows relation over resources, as shares of all
    # consecutive pairs; the pairs' counts are the DFG over the resource attribute (self-handovers included,
    # which are not handovers between units).
    pairs, _, _ = pm4py.discover_dfg(df, activity_key="org:resource")
    assert ours == {k: int(v) for k, v in pairs.items() if k[0] != k[1]}
    network = pm4py.discover_handover_of_work_network(df, beta=0).connections
    total_pairs = int((bn.case_durations(cur, ALL)["events"] - 1).sum())
    assert total_pairs == sum(pairs.values())
    for (a, b), share in network.items():
        if a != b:
            assert ours[(a, b)] == pytest.approx(share * total_pairs), (a, b)
    summary = bn.handovers(cur, ALL, "handler")
    assert summary["handovers"] == sum(ours.values())
    assert summary["handovers_per_case"] == pytest.approx(sum(ours.values()) / df["case:concept:name"].nunique())


def test_handover_counts_agree_on_road_traffic(road_traffic) -> None:
    """Resources are known only on some events; pm4py needs them dropped, we skip unknown units the same way."""
    db, df = road_traffic
    known = df.dropna(subset=["org:resource"])
    pairs, _, _ = pm4py.discover_dfg(known, activity_key="org:resource") if len(known) else ({}, {}, {})
    ours = bn.handover_matrix(db.cursor(), ALL, "handler").set_index(["from_unit", "to_unit"])["count"].to_dict()
    assert ours == {k: int(v) for k, v in pairs.items() if k[0] != k[1]}
    # Here every case has one resourced event ("Create Fine"): no handover at all (pm4py's handover network
    # itself fails on a log without a pair, so its resource DFG is the reference).
    assert ours == {} and bn.handovers(db.cursor(), ALL, "handler")["handovers"] == 0


# --- the interval log: waiting and service time separated -------------------------------------------


def read_interval(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path)
    for col in ("time:timestamp", "start_timestamp"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


@pytest.fixture(scope="module")
def interval_log():
    path = fixture_path("interval_event_log.csv")
    db = load(path)
    yield db, read_interval(path)
    db.close()


def test_interval_log_service_time_agrees(interval_log) -> None:
    db, df = interval_log
    ours = bn.waiting_time(db.cursor(), ALL, "step").set_index("step")
    for measure, column in (("median", "median_service_hours"), ("mean", "mean_service_hours")):
        theirs = pm4py.get_service_time(df, aggregation_measure=measure, start_timestamp_key="start_timestamp")
        assert set(theirs) == set(ours.index)
        for step, seconds in theirs.items():
            assert ours.loc[step, column] * 3600 == pytest.approx(seconds, abs=1e-3), (measure, step)


def test_interval_log_completion_order_dfg_agrees(interval_log) -> None:
    """On completion times alone (pm4py without the start column sorts by completion, as we do)."""
    db, df = interval_log
    assert_dfg_agrees(db.cursor(), df.drop(columns=["start_timestamp"]))


def test_interval_log_waiting_time_agrees(interval_log, tmp_path) -> None:
    """Waiting = next start − previous completion (0 when they overlap), as pm4py's performance DFG with start times.

    pm4py orders a case by start time, we by completion time; on the cases where both orders agree the
    edges must be identical, so those cases are written to a file of their own and loaded again.
    """
    from pm4py.algo.discovery.dfg.adapters.pandas.df_statistics import get_dfg_graph

    _, df = interval_log
    by_start = df.sort_values(["case:concept:name", "start_timestamp", "time:timestamp"], kind="stable")
    by_done = df.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    key = ["case:concept:name", "concept:name"]
    same = (
        pd.DataFrame(
            {
                "a": by_start[key].agg("|".join, axis=1).values,
                "b": by_done[key].agg("|".join, axis=1).values,
                "case": by_done["case:concept:name"].values,
            }
        )  # fmt: skip
        .assign(eq=lambda x: x.a == x.b)
        .groupby("case")["eq"]
        .all()
    )
    keep = set(same[same].index)
    assert 1000 < len(keep) < df["case:concept:name"].nunique()  # some cases overlap and are left out
    subset_path = tmp_path / "interval_consistent.csv"
    raw = pd.read_csv(fixture_path("interval_event_log.csv"))
    raw[raw["case:concept:name"].isin(keep)].to_csv(subset_path, index=False)
    db = load(subset_path)
    ours = bn.directly_follows(db.cursor(), ALL).set_index(["source", "target"])
    sub = df[df["case:concept:name"].isin(keep)]
    median = get_dfg_graph(sub, measure="performance", start_timestamp_key="start_timestamp",
                           perf_aggregation_key="median")  # fmt: skip
    mean = get_dfg_graph(sub, measure="performance", start_timestamp_key="start_timestamp",
                         perf_aggregation_key="mean")  # fmt: skip
    assert set(median) == set(ours.index)
    for edge in median:
        assert ours.loc[edge, "median_hours"] * 3600 == pytest.approx(median[edge], abs=1e-3), edge
        assert ours.loc[edge, "mean_hours"] * 3600 == pytest.approx(mean[edge], abs=1e-3), edge
    db.close()


# --- the demo town -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_events():
    """The shipped demo sample loaded through our pipeline; pm4py gets the stored events as its log."""
    try:
        from demo.load import load_demo
    except ImportError:
        pytest.skip("demo loader not available")
    from store.db import Database

    db = Database(":memory:")
    try:
        load_demo(db, small=True)
    except FileNotFoundError:
        db.close()
        pytest.skip("demo sample not shipped")
    cur = db.cursor()
    events = cur.execute(
        "SELECT case_id, step, department, completed_at, seq FROM events ORDER BY case_id, completed_at, seq"
    ).df()
    df = pd.DataFrame(
        {
            "case:concept:name": events["case_id"],
            "concept:name": events["step"],
            "org:group": events["department"],
            "time:timestamp": events["completed_at"].dt.tz_localize(ZONE),
        }
    )
    yield db, df
    db.close()


def test_demo_agrees_with_pm4py(demo_events) -> None:
    db, df = demo_events
    cur = db.cursor()
    assert len(df) > 1000
    assert_dfg_agrees(cur, df)
    ours = bn.case_durations(cur, ALL).set_index("case_id")["duration_hours"] * 3600
    theirs = pm_durations(df)
    assert ours.to_dict() == pytest.approx(theirs, abs=1e-3)
    pairs, _, _ = pm4py.discover_dfg(df.dropna(subset=["org:group"]), activity_key="org:group")
    matrix = bn.handover_matrix(cur, ALL, "department").set_index(["from_unit", "to_unit"])["count"].to_dict()
    assert matrix == {k: int(v) for k, v in pairs.items() if k[0] != k[1]}
