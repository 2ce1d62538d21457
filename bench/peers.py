"""The bottleneck figures three ways: pm4py, plain pandas, and ours — on the same event log.

The figures (the process-mining basics behind the bottleneck page):

- case durations: per case, first start (else completion) to last completion;
- directly-follows edges: per (step, next step), count and median / mean time between completions;
- department handovers: per (department, next department), count and median delay.

A case is (乡镇, 办件编号): the bench's log spreads over a county whose towns number their cases alike,
so pandas groups by the pair and pm4py is given the pair as one case id (``case_key``). A log
without a 乡镇 column is one town's, and its 办件编号 alone is the case.

pm4py is a test and benchmark reference only (AGPL): the product never imports it.
"""

from __future__ import annotations

import warnings

import pandas as pd

#: The events export's columns (demo.town.EVENT_COLUMNS) and pm4py's names for them.
CASE, ITEM, STEP, UNIT, HANDLER, START, DONE = (
    "办件编号",
    "事项名称",
    "环节名称",
    "办理部门",
    "经办人",
    "开始时间",
    "完成时间",
)
#: The town column of a county-wide log (demo.exports.TOWN_COLUMN) and the one-column case key built from it.
TOWN, KEY = "乡镇", "_case"


def read_csv(path: str) -> pd.DataFrame:
    """The export as pandas reads it: ids as text, times parsed (naive local time), and the case key.

    ``_case`` is the case as one text column: ``乡镇/办件编号`` (a town name holds no slash: the
    loader refuses one), or the 办件编号 alone in a one-town log.
    """
    df = pd.read_csv(path, dtype={TOWN: str, CASE: str, STEP: str, UNIT: str, HANDLER: str, ITEM: str})
    for col in (START, DONE):
        df[col] = pd.to_datetime(df[col], format="%Y-%m-%d %H:%M:%S")
    df[KEY] = df[TOWN] + "/" + df[CASE] if TOWN in df.columns else df[CASE]
    return df


# --- pm4py -----------------------------------------------------------------------------------------


def pm4py_log(df: pd.DataFrame) -> pd.DataFrame:
    """The frame in pm4py's shape. Without the start column: pm4py then orders a case by completion time,
    as we do (with it, pm4py orders by start time and finds other edges)."""
    import pm4py

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = df.drop(columns=[START]).rename(columns={UNIT: "org:group"})
        return pm4py.format_dataframe(frame, case_id=KEY, activity_key=STEP, timestamp_key=DONE)


def pm4py_figures(log: pd.DataFrame) -> dict[str, int]:
    import pm4py
    from pm4py.statistics.traces.generic.pandas import case_statistics

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        durations = case_statistics.get_cases_description(log)
        frequency, _, _ = pm4py.discover_dfg(log)
        performance, _, _ = pm4py.discover_performance_dfg(log)
        known = log.dropna(subset=["org:group"])
        handover_counts, _, _ = pm4py.discover_dfg(known, activity_key="org:group")
        handover_times, _, _ = pm4py.discover_performance_dfg(known, activity_key="org:group")
    return {
        "cases": len(durations),
        "edges": len(frequency),
        "edge_times": len(performance),
        "handover_pairs": sum(1 for a, b in handover_counts if a != b),
        "handover_times": sum(1 for a, b in handover_times if a != b),
    }


# --- plain pandas ----------------------------------------------------------------------------------


def pandas_figures(df: pd.DataFrame) -> dict[str, int]:
    case = [TOWN, CASE] if TOWN in df.columns else [CASE]  # the pair itself, not the key text
    df = df.assign(_row=range(len(df))).sort_values([*case, DONE, "_row"], kind="stable")
    first = df[START].fillna(df[DONE]).where(df[START].isna() | (df[START] <= df[DONE]), df[DONE])
    by_case = df.assign(_first=first).groupby(case, sort=False)
    durations = by_case.agg(events=(DONE, "size"), first_at=("_first", "min"), last_at=(DONE, "max"))
    durations["hours"] = (durations["last_at"] - durations["first_at"]).dt.total_seconds() / 3600
    prev_done = by_case[DONE].shift()
    prev_step = by_case[STEP].shift()
    flow = (df[DONE] - prev_done).dt.total_seconds() / 3600
    edges = (
        pd.DataFrame({"source": prev_step, "target": df[STEP], "hours": flow})
        .dropna(subset=["source"])
        .groupby(["source", "target"])["hours"]
        .agg(["size", "median", "mean"])
    )
    known = df.dropna(subset=[UNIT])
    k_case = known.groupby(case, sort=False)
    prev_unit = k_case[UNIT].shift()
    prev_known_done = k_case[DONE].shift()
    begin = known[START].fillna(known[DONE])
    begin = begin.where(begin >= prev_known_done, prev_known_done)  # greatest(start or completion, previous)
    delay = (begin - prev_known_done).dt.total_seconds() / 3600
    moves = pd.DataFrame({"from": prev_unit, "to": known[UNIT], "delay": delay})
    moves = moves[moves["from"].notna() & (moves["from"] != moves["to"])]
    handovers = moves.groupby(["from", "to"])["delay"].agg(["size", "median"])
    return {"cases": len(durations), "edges": len(edges), "handover_pairs": len(handovers)}


# --- ours ------------------------------------------------------------------------------------------


def our_figures(cur) -> dict[str, int]:
    from metrics import bottlenecks
    from metrics.filters import Filters

    everything = Filters()
    durations = bottlenecks.case_durations(cur, everything)
    edges = bottlenecks.directly_follows(cur, everything)
    handovers = bottlenecks.handover_matrix(cur, everything, "department")
    return {"cases": len(durations), "edges": len(edges), "handover_pairs": len(handovers)}
