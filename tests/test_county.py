"""全县对比: the towns side by side, on a hand-made county of three towns (hand-counted figures).

October 2026 (the month compared), September before it; promised 5 working days, so a case done within days
is on time and one done 12 working days later is late (the calendar has no holiday in 12–28 October).

    甲镇  Oct: 4 cases, online 2 (50%), 4 completed on time (100%), none open     Sep: 2 cases, online 1 (50%)
    乙镇  Oct: 5 cases, online 4 (80%), 3 on time + 1 late (75%), 1 open overdue  Sep: 2 cases, online 0 (0%)
    丙镇  Oct: 2 cases, online 1 (50%), 2 on time (100%)                           Sep: none
    county Oct: 11 cases, online 7 (63.6%), on time 9/10 (90%), 1 open overdue
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.load import ingest_file
from metrics import county
from metrics.catalog import get
from metrics.filters import Filters
from metrics.kpis import compute_kpis
from store.db import Database

HEADER = "办件编号,乡镇（街道）,事项名称,实施部门,申请渠道,申请时间,办结时间,承诺时限"
ROWS = """
J-1,甲镇,居民身份证办理,派出所,网上,2026-10-12 09:00,2026-10-13 10:00,5
J-2,甲镇,居民身份证办理,派出所,网上,2026-10-13 09:00,2026-10-14 10:00,5
J-3,甲镇,结婚登记,民政办,窗口,2026-10-14 09:00,2026-10-15 10:00,5
J-4,甲镇,结婚登记,民政办,窗口,2026-10-15 09:00,2026-10-16 10:00,5
J-5,甲镇,结婚登记,民政办,网上,2026-09-14 09:00,2026-09-15 10:00,5
J-6,甲镇,结婚登记,民政办,窗口,2026-09-15 09:00,2026-09-16 10:00,5
Y-1,乙镇,居民身份证办理,派出所,网上,2026-10-12 09:00,2026-10-13 10:00,5
Y-2,乙镇,居民身份证办理,派出所,移动端,2026-10-12 10:00,2026-10-13 10:00,5
Y-3,乙镇,居民身份证办理,派出所,网上,2026-10-12 11:00,2026-10-14 10:00,5
Y-4,乙镇,结婚登记,民政办,网上,2026-10-12 12:00,2026-10-28 10:00,5
Y-5,乙镇,结婚登记,民政办,窗口,2026-10-12 13:00,,5
Y-6,乙镇,结婚登记,民政办,窗口,2026-09-14 09:00,2026-09-15 10:00,5
Y-7,乙镇,结婚登记,民政办,窗口,2026-09-15 09:00,2026-09-16 10:00,5
B-1,丙镇,居民身份证办理,派出所,网上,2026-10-20 09:00,2026-10-21 10:00,5
B-2,丙镇,居民身份证办理,派出所,窗口,2026-10-20 10:00,2026-10-21 10:00,5
"""
OCTOBER = Filters.month("2026-10")


def fill_county(db: Database, folder: Path) -> None:
    path = folder / "county.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    ingest_file(db, path, town="甲镇")


@pytest.fixture(scope="module")
def county_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("county")
    db = Database(folder / "egov.duckdb")
    fill_county(db, folder)
    db.close()
    return folder / "egov.duckdb"


@pytest.fixture
def cur(county_db: Path):
    db = Database(county_db, read_only=True)
    yield db.cursor()
    db.close()


def test_every_town_with_this_month_and_last_and_what_each_rests_on(cur) -> None:
    table = county.town_kpis(cur, OCTOBER).set_index("town")
    assert list(table.index) == ["乙镇", "甲镇", "丙镇"]  # most cases first
    assert table["cases"].to_dict() == {"乙镇": 5, "甲镇": 4, "丙镇": 2}
    assert table["online_rate"].to_dict() == {"乙镇": 0.8, "甲镇": 0.5, "丙镇": 0.5}
    assert table["online_rate_numerator"].to_dict() == {"乙镇": 4, "甲镇": 2, "丙镇": 1}
    assert table["online_rate_previous"].to_dict() == {"乙镇": 0.0, "甲镇": 0.5, "丙镇": None}
    assert table["cases_previous"].to_dict() == {"乙镇": 2, "甲镇": 2, "丙镇": None}
    assert table["on_time_rate"].to_dict() == {"乙镇": 0.75, "甲镇": 1.0, "丙镇": 1.0}
    assert table["on_time_rate_denominator"].to_dict() == {"乙镇": 4, "甲镇": 4, "丙镇": 2}
    assert table["open_overdue_cases"].to_dict() == {"乙镇": 1, "甲镇": 0, "丙镇": 0}


def test_the_town_filter_does_not_narrow_the_comparison_the_other_filters_do(cur) -> None:
    one_town = Filters.month("2026-10", towns=["甲镇"])
    assert county.town_kpis(cur, one_town).equals(county.town_kpis(cur, OCTOBER))
    window = county.town_kpis(cur, Filters.month("2026-10", channels=["window"])).set_index("town")
    assert window["cases"].to_dict() == {"甲镇": 2, "乙镇": 1, "丙镇": 1}


def test_ranking_only_towns_with_enough_cases_and_in_words(cur) -> None:
    table = county.town_kpis(cur, OCTOBER)
    totals = compute_kpis(cur, OCTOBER, ["online_rate", "on_time_rate", "open_overdue_cases"])
    assert totals["online_rate"]["numerator"] == 7 and totals["online_rate"]["denominator"] == 11
    low = county.ranking(table, "online_rate", "worst", min_sample=3)
    assert (low.rows, low.too_few, low.known, low.enough) == ([("甲镇", 0.5), ("乙镇", 0.8)], ["丙镇"], 3, 2)
    # every ranked town at the worst end: the whole order, said once
    assert county.ranking_sentence("online_rate", "worst", low, totals["online_rate"], "zh") == (
        "网办率由低到高：甲镇 50.0%、乙镇 80.0%（全县 63.6%）"
    )
    assert county.ranking_sentence("online_rate", "worst", low, totals["online_rate"], "en") == (
        "Online rate from lowest to highest: 甲镇 50.0%, 乙镇 80.0% (county 63.6%)"
    )
    lowest = county.ranking(table, "online_rate", "worst", n=1, min_sample=3)
    assert county.ranking_sentence("online_rate", "worst", lowest, totals["online_rate"], "en") == (
        "The town with the lowest online rate: 甲镇 50.0% (county 63.6%)"
    )
    high = county.ranking(table, "on_time_rate", "best", min_sample=3)
    assert high.rows == [("甲镇", 1.0), ("乙镇", 0.75)]
    overdue = county.ranking(table, "open_overdue_cases", "worst", min_sample=3)
    assert overdue.rows == [("乙镇", 1.0)]  # a town with none is no town to press
    assert county.ranking_sentence("open_overdue_cases", "worst", overdue, totals["open_overdue_cases"], "zh") == (
        "在办超期件最多的乡镇：乙镇 1 件（全县 1 件）"
    )
    assert county.left_out_sentence(["丙镇"], "zh", 3) == "办件不足 3 件、未参与排名的乡镇：丙镇"
    # With the default sample of 10 no town of this county is ranked.
    assert county.ranking(table, "online_rate", "worst").rows == []


def test_the_ranking_in_sentences_as_the_page_and_the_snapshot_say_it(cur) -> None:
    table = county.town_kpis(cur, OCTOBER)
    totals = compute_kpis(cur, OCTOBER, ["online_rate", "on_time_rate", "open_overdue_cases"])
    said = county.ranking_text(table, totals, "zh", min_sample=3)
    assert said.press == [
        "网办率由低到高：甲镇 50.0%、乙镇 80.0%（全县 63.6%）",
        "按时办结率由低到高：乙镇 75.0%、甲镇 100.0%（全县 90.0%）",
        "在办超期件最多的乡镇：乙镇 1 件（全县 1 件）",
    ]
    assert said.lead == []  # two towns ranked: the whole order is said once, at the worst end
    assert said.left_out == "办件不足 3 件、未参与排名的乡镇：丙镇"
    assert said.sentences() == [*said.press, said.left_out] and said.alone == ""
    # a town with cases enough but too few measured for one KPI is left out of that ranking only, and said so
    few_measured = table.assign(on_time_rate_denominator=[2.0 if t == "甲镇" else d for t, d in zip(
        table["town"], table["on_time_rate_denominator"], strict=True)])  # fmt: skip
    partly = county.ranking_text(few_measured, totals, "zh", min_sample=3)
    assert partly.press[1] == "按时办结率最低的乡镇：乙镇 75.0%（全县 90.0%）"
    assert partly.press[0] == said.press[0]
    assert partly.left_out == (
        "办件不足 3 件、未参与排名的乡镇：丙镇；可计算的办件不足 3 件、该项未参与排名：甲镇（按时办结率）"
    )
    # one town with enough cases is no ranking: its lowest would be its highest
    alone = county.ranking_text(table, totals, "zh", min_sample=5)
    assert alone.sentences() == ["本月只有乙镇的办件足够（不少于 5 件）参与排名：待其他乡镇上传后再比较。"]
    assert alone.press == alone.lead == []
    # nobody overdue is said as such; a KPI no town can be measured on is unknown, not "too few cases"
    none_overdue = table.assign(open_overdue_cases=0.0)
    ranked = county.ranking(none_overdue, "open_overdue_cases", "worst", min_sample=3)
    assert county.ranking_sentence("open_overdue_cases", "worst", ranked, totals["open_overdue_cases"], "zh") == (
        "没有乡镇有在办超期件（全县 1 件）"
    )
    unknown = table.assign(on_time_rate=None)
    ranked = county.ranking(unknown, "on_time_rate", "worst", min_sample=3)
    assert county.ranking_sentence("on_time_rate", "worst", ranked, totals["on_time_rate"], "en") == (
        "On-time rate: unknown for every town (no case to measure)"
    )


def test_a_snapshots_frozen_figures_give_the_pages_table(cur) -> None:
    from reports.county import collect_county

    content = collect_county(cur, "2026-10")
    frozen = county.frozen_table(content["towns"])
    live = county.town_kpis(cur, OCTOBER)
    assert sorted(frozen["town"]) == sorted(live["town"])  # the snapshot lists towns by name, the page by cases
    # 丙镇 had no case in September: the snapshot counted its 0 cases, the page leaves a town it did not group
    # unknown; the counts are the only difference
    counts = [f"{k}_previous" for k in county.COUNTY_IDS if get(k).unit == "count"]
    assert live.set_index("town").loc["丙镇", counts].tolist() == [None] * len(counts)
    assert frozen.set_index("town").loc["丙镇", counts].tolist() == [0.0, None, 0.0, 0.0]  # 差评数: no ratings
    for column in counts:  # 丙镇's alone: the other towns' counts are compared as they are
        bing = frozen.set_index("town").loc["丙镇", column]
        filled = [bing if town == "丙镇" else v for town, v in zip(live["town"], live[column], strict=True)]
        live[column] = pd.Series(filled, dtype=object)
    by_town = {"ignore_index": True}
    pd.testing.assert_frame_equal(
        frozen.sort_values("town", **by_town), live.sort_values("town", **by_town), check_like=True
    )


def test_each_towns_online_rate_per_month_with_gaps_for_months_without_cases(cur) -> None:
    frame = county.online_rate_by_town_month(cur, Filters.between("2026-09-01", "2026-10-31"))
    got = {
        (r.town, r.month): (r.numerator, r.denominator, None if pd.isna(r.value) else r.value)
        for r in frame.itertuples()
    }
    assert got == {
        ("丙镇", "2026-09"): (0, 0, None),
        ("丙镇", "2026-10"): (1, 2, 0.5),
        ("乙镇", "2026-09"): (0, 2, 0.0),
        ("乙镇", "2026-10"): (4, 5, 0.8),
        ("甲镇", "2026-09"): (1, 2, 0.5),
        ("甲镇", "2026-10"): (2, 4, 0.5),
    }


def test_published_snapshots_per_town_and_the_countys_own(tmp_path: Path) -> None:
    from store.towns import COUNTY

    db = Database(tmp_path / "egov.duckdb")
    fill_county(db, tmp_path)
    insert = (
        "INSERT INTO snapshots (snapshot_id, town, month, version, published_at, data_version, content, "
        "content_sha256) VALUES (?, ?, ?, ?, ?, 1, '{}', 'x')"
    )
    with db.write() as w:
        w.execute(insert, [1, "乙镇", "2026-10", 1, pd.Timestamp("2026-11-02 09:00")])
        w.execute(insert, [2, "乙镇", "2026-10", 2, pd.Timestamp("2026-11-03 09:00")])
        w.execute(insert, [3, "甲镇", "2026-09", 1, pd.Timestamp("2026-10-02 09:00")])  # another month
        w.execute(insert, [4, COUNTY, "2026-10", 1, pd.Timestamp("2026-11-04 09:00")])
        w.execute(insert, [5, "旧镇", "2026-10", 1, pd.Timestamp("2026-11-01 09:00")])  # a town without cases now
    cur = db.cursor()
    got = county.published_towns(cur, "2026-10")
    assert got["towns"] == {"乙镇": {"version": 2, "published_at": pd.Timestamp("2026-11-03 09:00")}}
    assert got["county"] == {"version": 1, "published_at": pd.Timestamp("2026-11-04 09:00")}
    assert county.published_towns(cur, "2026-08") == {"towns": {}, "county": None}
    cur.close()
    db.close()
