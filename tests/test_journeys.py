"""一件事 journeys (issue 18): a hand-made case file whose every journey, pair and bundle is counted by hand.

Window W = 15 days, K = 5 applicants unless a test says otherwise. Applicants are fake ID numbers of valid
format (P1…P11; Q is P6's number filed in 乙镇). Visits are 1 per case unless noted. All times 09:00.
出生 = 出生登记 (派出所户籍室), 医保 = 城乡居民基本医疗保险参保登记 (社保所), 社保卡 = 社会保障卡申领 (社保所),
低保 = 最低生活保障申请 (民政办), 临救 = 临时救助申请 (民政办), 个体 = 个体工商户设立登记 (市场监管所),
食品 = 食品经营许可（小餐饮） (市场监管所).

    who  town  cases                                          journeys starting in Oct (W=15)
    P1   甲镇  出生 10-05, 医保 10-06                         1, multi-item, cross-dept, gap 1 d
    P2   甲镇  出生 10-05, 医保 10-07                         1, idem, gap 2 d
    P3   甲镇  出生 10-05, 医保 10-08                         1, idem, gap 3 d
    P4   甲镇  出生 10-05, 医保 10-09                         1, idem, gap 4 d
    P5   甲镇  出生 10-05, 医保 10-20 09:00 (exactly 15 d)    1, idem, gap 15 d (the boundary: same journey)
    P6   甲镇  出生 10-05, 医保 10-20 09:01 (15 d + 1 min)    2 single-item journeys (no pair)
    P7   甲镇  医保 10-08 (online, 0 visits), 社保卡 10-09    1, multi-item, same department (社保所), gap 1 d
    P8   甲镇  低保 10-10 不予受理, 10-12 退回, 10-20 办结      1 (one item); re-filed 10-12 and 10-20: 2
    P9   甲镇  临救 10-01 撤回, 临救 10-20 (19 d; visits empty)  2 journeys; the re-filing is outside W: 0
    P10  甲镇  个体 09-28, 食品 10-03                         0 (the journey began in September)
    P11  甲镇  个体 10-29, 食品 11-03                         1 in October (its November case counts there)
    Q    乙镇  医保 10-06 (P6's number)                        1 (kept apart from P6's 甲镇 journeys)
    —    甲镇  2 cases 10-15 without an ID number             (coverage only)
    —    甲镇  1 case 2026-08-05 without an ID number         (August: no key at all)

October, county:  cases 24 (keyed 22) -> coverage 22/24; journeys 13 (P1–P5 5, P6 2, P7 1, P8 1, P9 2, P11 1,
                  Q 1); applicants 11 (P1–P9, P11, Q); multi-item 7 (P1–P5, P7, P11); cross-department 5
                  (P1–P5); avoidable = Σ(cases−1) over multi-item = 5×1 + 1 + 1 = 7; re-applications 2 (P8);
                  visits per journey: 12 journeys with all visits known (not P9's second), visits
                  10 (P1–P5) + 2 (P6) + 1 (P7) + 3 (P8) + 1 (P9's first) + 2 (P11) + 1 (Q) = 20 -> 20/12.
Pairs (Oct):      出生+医保: 5 applicants, 5 journeys, gaps 1,2,3,4,15 -> median 3.0, [派出所户籍室, 社保所],
                  visits 10 — shown at K=5. 医保+社保卡 (P7, gap 1.0, [社保所], visits 1) and 个体+食品 (P11,
                  gap 5.0, [市场监管所], visits 2): 1 applicant each -> suppressed_pairs 2 at K=5.
Bundles (Oct):    新生儿出生一件事: P1–P5 (出生+医保) and P7 (医保+社保卡) -> 6 journeys, 6 applicants, shown;
                  submissions saved Σ(cases − 1) = 6 × 1 = 6; trips saved Σ(visits − the most of one case) =
                  5 × (2 − 1) + (0 + 1 − 1) = 5;
                  开办个体工商户一件事: P11 alone -> suppressed_bundles 1; 困难群众救助: P8/P9 file one item each
                  -> no match. "6 个旅程本可一次办成".
甲镇 alone:       Q left out -> journeys 12, applicants 10, coverage 21/23; 乙镇 alone: journeys 1, applicants 1.
September:        P10's journey: journeys 1, multi-item 1, avoidable 1, coverage 1/1.
August:           one case, no key -> coverage 0.0 and every journey figure None.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import scope
from ingest.load import ingest_file
from metrics import journeys
from metrics.filters import Filters
from metrics.kpis import compute_kpis, kpis_by
from store.db import Database
from tests.cli_support import cli

_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def fake_id(seq: int) -> str:
    """An obviously fake ID number (birth date 1990-01-01, Beijing 东城区 code) with a valid check digit."""
    body = f"11010119900101{seq:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


P = {n: fake_id(n) for n in range(1, 12)}
BIRTH, MED, CARD = "出生登记", "城乡居民基本医疗保险参保登记", "社会保障卡申领"
RELIEF, TEMP, SHOP, FOOD = "最低生活保障申请", "临时救助申请", "个体工商户设立登记", "食品经营许可（小餐饮）"
DEPT = {BIRTH: "派出所户籍室", MED: "社保所", CARD: "社保所", RELIEF: "民政办", TEMP: "民政办", SHOP: "市场监管所",
        FOOD: "市场监管所"}  # fmt: skip

HEADER = "办件编号,乡镇（街道）,事项名称,实施部门,申请渠道,申请时间,办件状态,跑动次数,身份证号"
#: (case id, town, item, submitted, status, visits, applicant number or "")
CASES = [
    *[(f"A{n}-1", "甲镇", BIRTH, "2026-10-05 09:00", "已办结", "1", P[n]) for n in range(1, 7)],
    ("A1-2", "甲镇", MED, "2026-10-06 09:00", "已办结", "1", P[1]),
    ("A2-2", "甲镇", MED, "2026-10-07 09:00", "已办结", "1", P[2]),
    ("A3-2", "甲镇", MED, "2026-10-08 09:00", "已办结", "1", P[3]),
    ("A4-2", "甲镇", MED, "2026-10-09 09:00", "已办结", "1", P[4]),
    ("A5-2", "甲镇", MED, "2026-10-20 09:00", "已办结", "1", P[5]),
    ("A6-2", "甲镇", MED, "2026-10-20 09:01", "已办结", "1", P[6]),
    ("A7-1", "甲镇", MED, "2026-10-08 09:00", "已办结", "0", P[7]),  # online: no visit
    ("A7-2", "甲镇", CARD, "2026-10-09 09:00", "已办结", "1", P[7]),
    ("A8-1", "甲镇", RELIEF, "2026-10-10 09:00", "不予受理", "1", P[8]),
    ("A8-2", "甲镇", RELIEF, "2026-10-12 09:00", "退回", "1", P[8]),
    ("A8-3", "甲镇", RELIEF, "2026-10-20 09:00", "已办结", "1", P[8]),
    ("A9-1", "甲镇", TEMP, "2026-10-01 09:00", "撤回", "1", P[9]),
    ("A9-2", "甲镇", TEMP, "2026-10-20 09:00", "已办结", "", P[9]),
    ("A10-1", "甲镇", SHOP, "2026-09-28 09:00", "已办结", "1", P[10]),
    ("A10-2", "甲镇", FOOD, "2026-10-03 09:00", "已办结", "1", P[10]),
    ("A11-1", "甲镇", SHOP, "2026-10-29 09:00", "已办结", "1", P[11]),
    ("A11-2", "甲镇", FOOD, "2026-11-03 09:00", "已办结", "1", P[11]),
    ("B6-1", "乙镇", MED, "2026-10-06 09:00", "已办结", "1", P[6]),
    ("N-1", "甲镇", MED, "2026-10-15 09:00", "已办结", "1", ""),
    ("N-2", "甲镇", BIRTH, "2026-10-15 09:00", "已办结", "1", ""),
    ("N-3", "甲镇", BIRTH, "2026-08-05 09:00", "已办结", "1", ""),
]
OCTOBER = Filters.month("2026-10")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("journeys")
    rows = [
        f"{cid},{town},{item},{DEPT[item]},窗口,{at},{status},{visits},{number}"
        for cid, town, item, at, status, visits, number in CASES
    ]
    (folder / "cases.csv").write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    db = Database(folder / "egov.duckdb")
    result = ingest_file(db, folder / "cases.csv", town="甲镇")
    assert result.rows_loaded == len(CASES) and result.rows_rejected == 0
    db.close()
    return folder / "egov.duckdb"


@pytest.fixture(scope="module")
def cur(db_path: Path):
    db = Database(db_path, read_only=True)
    yield db.cursor()
    db.close()


def test_october_journeys_of_the_county(cur) -> None:
    s = journeys.journey_summary(cur, OCTOBER)
    assert (s["applicants"], s["journeys"], s["multi_item_journeys"], s["multi_department_journeys"]) == (11, 13, 7, 5)
    assert (s["avoidable_submissions"], s["reapplications_after_refusal"]) == (7, 2)
    assert s["coverage"] == pytest.approx(22 / 24)
    assert s["pairs"] == [
        {"items": [BIRTH, MED], "applicants": 5, "journeys": 5, "median_gap_days": 3.0,
         "departments": ["派出所户籍室", "社保所"], "visits": 10},
    ]  # fmt: skip
    assert s["suppressed_pairs"] == 2
    assert s["bundles"] == [
        {"name": "新生儿出生一件事", "items": ["出生医学证明", BIRTH, MED, CARD, "生育登记服务"], "journeys": 6,
         "applicants": 6, "submissions_saved": 6, "trips_saved": 5},
    ]  # fmt: skip
    assert s["suppressed_bundles"] == 1 and s["bundle_journeys"] == 6
    sentence = journeys.bundle_sentence(s["bundle_journeys"])
    assert sentence is not None and sentence.zh.startswith("6 个旅程本可一次办成")


def test_department_pairs_and_example_journeys(cur) -> None:
    # Cross-department journeys in October: P1–P5 only (派出所户籍室 + 社保所); P7 and P11 stay in one department.
    pairs, suppressed = journeys.department_pairs(cur, OCTOBER)
    assert pairs == [{"departments": ["派出所户籍室", "社保所"], "applicants": 5, "journeys": 5}] and suppressed == 0
    assert journeys.department_pairs(cur, OCTOBER, min_applicants=6) == ([], 1)
    # Examples of 出生 + 医保: the five journeys, each its two cases in submission order, numbered 1–5; nothing
    # that names a person; at W=15 P6's second case (15 d + 1 min) is not in any of them.
    examples = journeys.example_journeys(cur, OCTOBER, [BIRTH, MED])
    assert list(examples.columns) == [
        "journey", "town", "case_id", "submitted_at", "service_item", "department", "channel", "status",
    ]  # fmt: skip
    assert sorted(examples["journey"].unique()) == [1, 2, 3, 4, 5]
    cases_of = {j: list(g["case_id"]) for j, g in examples.groupby("journey")}
    assert sorted(cases_of.values()) == [[f"A{n}-1", f"A{n}-2"] for n in range(1, 6)]
    assert not {"A6-1", "A6-2"} & set(examples["case_id"])
    assert journeys.example_journeys(cur, OCTOBER, [BIRTH, MED], limit=2)["journey"].max() == 2
    # 医保 + 社保卡 has one applicant (P7): shown nowhere, so no example either; K lowered to 1, it has one.
    assert journeys.example_journeys(cur, OCTOBER, [MED, CARD]).empty
    assert list(journeys.example_journeys(cur, OCTOBER, [MED, CARD], min_applicants=1)["case_id"]) == ["A7-1", "A7-2"]


def test_the_definition_names_the_window_and_when_figures_settle() -> None:
    from metrics import catalog

    assert "15 天" in catalog.get("multi_item_journey_rate").definition.zh
    assert "30 天" in catalog.definition("multi_item_journey_rate", 30).zh
    assert "within 7 days" in catalog.definition("reapplications_after_refusal", 7).en
    assert catalog.definition("online_rate", 30) == catalog.get("online_rate").definition
    import datetime as dt

    assert journeys.settles_on(OCTOBER, 15) == dt.date(2026, 11, 15)
    # The running month (1st to today) takes journeys until its last day: December settles on 15 January.
    running = Filters.month_as_seen("2026-12", today=dt.date(2026, 12, 1))
    assert running.end == dt.date(2026, 12, 1) and journeys.settles_on(running, 15) == dt.date(2027, 1, 15)
    assert not journeys.is_settled(OCTOBER, 15, today=dt.date(2026, 11, 15))
    assert journeys.is_settled(OCTOBER, 15, today=dt.date(2026, 11, 16))


def test_the_catalogue_kpis_are_the_same_figures(cur) -> None:
    k = compute_kpis(cur, OCTOBER, journeys.JOURNEY_KPIS)
    assert (k["multi_item_journey_rate"]["numerator"], k["multi_item_journey_rate"]["denominator"]) == (7, 13)
    assert k["multi_department_journey_rate"]["value"] == pytest.approx(5 / 13)
    assert k["visits_per_journey"]["value"] == pytest.approx(20 / 12)
    assert k["avoidable_submissions"]["value"] == 7 and k["reapplications_after_refusal"]["value"] == 2
    # a journey crosses departments and channels: by or under them the figures are unknown, with the reason
    by_dept = kpis_by(cur, OCTOBER, "department", ["cases", "multi_item_journey_rate"])
    assert by_dept[by_dept["kpi_id"] == "multi_item_journey_rate"]["value"].isna().all()
    assert set(by_dept[by_dept["kpi_id"] == "multi_item_journey_rate"]["reason_en"]) == {
        "journeys span departments, items and channels: they cannot be split or filtered by them"
    }
    under = compute_kpis(cur, Filters.month("2026-10", channels=["window"]), ["avoidable_submissions"])
    assert under["avoidable_submissions"]["value"] is None and under["avoidable_submissions"]["reason"]
    by_town = kpis_by(cur, OCTOBER, "town", ["multi_item_journey_rate"]).set_index("town")
    assert by_town["denominator"].to_dict() == {"甲镇": 12, "乙镇": 1}


def test_pairs_below_k_when_k_is_lowered_same_department_and_the_month_boundary(cur) -> None:
    pairs, suppressed = journeys.item_pairs(cur, OCTOBER, min_applicants=1)
    assert suppressed == 0
    assert [(p["items"], p["applicants"], p["median_gap_days"], p["departments"], p["visits"]) for p in pairs] == [
        ([BIRTH, MED], 5, 3.0, ["派出所户籍室", "社保所"], 10),
        ([SHOP, FOOD], 1, 5.0, ["市场监管所"], 2),  # P11: begun 10-29, its 11-03 case counts in October
        ([MED, CARD], 1, 1.0, ["社保所"], 1),  # P7: multi-item, one department
    ]
    september = journeys.journey_summary(cur, Filters.month("2026-09"), min_applicants=1)
    assert (september["journeys"], september["multi_item_journeys"], september["avoidable_submissions"]) == (1, 1, 1)
    assert september["coverage"] == 1.0 and september["pairs"][0]["items"] == [SHOP, FOOD]


def test_the_window_boundary_and_refusals(cur) -> None:
    # W = 14: P5's 15-day gap now splits its journey (pair down to 4 applicants); P8's re-filings stay within it
    s = journeys.journey_summary(cur, OCTOBER, window_days=14, min_applicants=4)
    assert (s["journeys"], s["multi_item_journeys"], s["reapplications_after_refusal"]) == (14, 6, 2)
    assert s["pairs"][0]["applicants"] == 4 and s["pairs"][0]["median_gap_days"] == 2.5
    # W = 20: P6 (15 d + 1 min) and P9 (19 d, a re-filing after 撤回) join up
    s = journeys.journey_summary(cur, OCTOBER, window_days=20)
    assert (s["journeys"], s["reapplications_after_refusal"], s["pairs"][0]["applicants"]) == (11, 3, 6)


def test_no_key_is_unknown_not_zero(cur) -> None:
    s = journeys.journey_summary(cur, Filters.month("2026-08"))
    assert s["coverage"] == 0.0
    assert all(s[k] is None for k in ("applicants", "journeys", "multi_item_journeys", "avoidable_submissions"))
    k = compute_kpis(cur, Filters.month("2026-08"), journeys.JOURNEY_KPIS)
    assert all(r["value"] is None and r["reason"] for r in k.values())


def test_towns_apart_and_a_town_user_sees_only_their_town(cur) -> None:
    jia = journeys.journey_summary(cur, Filters.month("2026-10", towns=["甲镇"]))
    assert (jia["journeys"], jia["applicants"], jia["coverage"]) == (12, 10, pytest.approx(21 / 23))
    yi = journeys.journey_summary(cur, Filters.month("2026-10", towns=["乙镇"]))
    assert (yi["journeys"], yi["applicants"], yi["multi_item_journeys"], yi["pairs"]) == (1, 1, 0, [])
    with scope.scoped(("甲镇",)):
        assert journeys.journey_summary(cur, OCTOBER) == jia
        assert journeys.journey_summary(cur, Filters.month("2026-10", towns=["乙镇"]))["coverage"] is None


def test_the_bundles_file_is_read_safely(tmp_path) -> None:
    shipped = journeys.load_bundles()
    assert {"新生儿出生一件事", "开办个体工商户一件事", "退休一件事", "困难群众救助一件事", "农村宅基地建房一件事"} <= {
        b.name for b in shipped
    }
    ok = journeys.parse_bundles("一件事,事项名称,事项编码\n甲,事项一,X1\n甲,事项二,\n".encode())
    assert ok == [journeys.Bundle("甲", (("事项一", "X1"), ("事项二", None)))]
    for bad, words in [
        ("一件事,事项名称\n甲,=HYPERLINK(1)\n甲,b\n", "row 2"),
        ("一件事,事项名称\n甲,a\n乙,<b>x</b>\n乙,c\n", "row 3"),
        ("名称,事项\n甲,a\n", "needs columns"),
        ("一件事,事项名称\n甲,a\n", "one item"),
        ("一件事,事项名称\n,a\n", "row 2"),
    ]:
        with pytest.raises(journeys.BundleFileError, match=words):
            journeys.parse_bundles(bad.encode())
    with pytest.raises(journeys.BundleFileError, match="over"):
        journeys.parse_bundles(b"x" * (journeys.MAX_BUNDLES_BYTES + 1))
    assert journeys.load_bundles(tmp_path / "absent.csv") == []


def test_the_raw_numbers_never_stored_and_the_cli_json(db_path: Path, tmp_path: Path) -> None:
    db = Database(db_path, read_only=True)
    try:
        cur = db.cursor()
        tables = [t for (t,) in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        text = " ".join(str(cur.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    finally:
        db.close()
    assert not any(number in text for number in P.values())
    copy = tmp_path / "egov.duckdb"  # the module's cursor holds the file open; the command opens its own copy
    shutil.copyfile(db_path, copy)
    run = cli("journeys", "--db", str(copy), "--month", "2026-10", "--format", "json", "--min-applicants", "5")
    assert run.returncode == 0, run.stderr
    assert not any(number in run.stdout + run.stderr for number in P.values())
    out = json.loads(run.stdout)
    assert list(out) == [
        "applicants", "journeys", "multi_item_journeys", "multi_department_journeys", "avoidable_submissions",
        "reapplications_after_refusal", "coverage", "suppressed_pairs", "suppressed_bundles", "pairs", "bundles",
    ]  # fmt: skip
    assert (out["journeys"], out["suppressed_pairs"], out["suppressed_bundles"]) == (13, 2, 1)
    assert out["pairs"][0]["items"] == [BIRTH, MED] and out["bundles"][0]["name"] == "新生儿出生一件事"


def test_the_snapshot_compares_journeys_only_once_they_settle(cur, monkeypatch) -> None:
    """Published on 2 November, October's late journeys may still grow: no change vs September for them (the other
    KPIs keep theirs); on 15 November (October's end + 15 days) a case may still join a journey; from 16 November
    the change is back."""
    from reports.content import collect

    monkeypatch.setenv("EGOV_TODAY", "2026-11-02")
    early = collect(cur, "2026-10")["previous_kpis"]
    assert not set(journeys.JOURNEY_KPIS) & set(early) and "cases" in early
    monkeypatch.setenv("EGOV_TODAY", "2026-11-15")
    assert "multi_item_journey_rate" not in collect(cur, "2026-10")["previous_kpis"]
    monkeypatch.setenv("EGOV_TODAY", "2026-11-16")
    late = collect(cur, "2026-10")["previous_kpis"]
    assert late["multi_item_journey_rate"]["denominator"] == 1  # September: P10's journey


def test_the_snapshot_has_a_section_of_its_own(cur, monkeypatch) -> None:
    """The monthly report's 一件事 section and sheet carry the hand-counted October figures, no raw number."""
    import io

    import pandas as pd
    from openpyxl import load_workbook

    from reports.content import collect
    from reports.html import render_html
    from reports.xlsx import render_xlsx

    monkeypatch.setenv("EGOV_TODAY", "2026-11-02")  # published before October's journeys are over
    content = collect(cur, "2026-10")
    j = content["journeys"]
    assert (j["applicants"], j["journeys"], j["multi_item_journeys"], j["avoidable_submissions"]) == (11, 13, 7, 7)
    assert (j["window_days"], j["min_applicants"], j["settles_on"], j["settled"]) == (15, 5, "2026-11-15", False)
    assert [p["items"] for p in j["pairs"]] == [[BIRTH, MED]] and j["suppressed_pairs"] == 2
    assert j["department_pairs"] == [{"departments": ["派出所户籍室", "社保所"], "applicants": 5, "journeys": 5}]
    html = render_html(content, {"published_at": "2026-11-02T08:00:00"})
    section = html[html.index('<section id="journeys"') : html.index('<section id="items"')]
    assert "七、一件事" in section and "11 位群众本月开始了 13 个旅程" in section
    assert f"<td>{BIRTH}</td><td>{MED}</td>" in section and "另有 2 组申请人少于 5 位" in section
    assert "另有 1 个“一件事”申请人少于 5 位" in section  # 开办个体工商户: P11 alone
    assert "新生儿出生一件事" in section and "2026-11-15 之后数字才基本定型，本版暂不与上月比较" in section
    monkeypatch.setenv("EGOV_TODAY", "2026-11-16")
    settled = collect(cur, "2026-10")
    assert settled["journeys"]["settled"] is True
    assert "之后数字才基本定型" not in render_html(settled, {"published_at": "2026-11-16T08:00:00"})
    book = load_workbook(io.BytesIO(render_xlsx(content, {}, pd.DataFrame())))
    cells = [v for row in book["一件事"].iter_rows(values_only=True) for v in row if v is not None]
    assert cells[1:3] == ["申请人", 11] and BIRTH in cells and "新生儿出生一件事" in cells
    assert "另有 2 组事项申请人少于 5 位，不予列出。" in cells and any("暂不与上月比较" in str(c) for c in cells)
    assert book["一件事"].freeze_panes is None  # three tables on one sheet: no pane frozen over them
    everything = html + " ".join(str(c) for c in cells) + json.dumps(content, ensure_ascii=False)
    assert not any(number in everything for number in P.values())


def test_the_pair_matrix_reads_each_pair_once_each_way_in_distinct_colours() -> None:
    from charts.journeys import pair_matrix

    pairs = [
        {"items": [BIRTH, MED], "applicants": 7, "journeys": 8, "median_gap_days": 2.0},
        {"items": [MED, CARD], "applicants": 5, "journeys": 5, "median_gap_days": None},
        {"items": ["<b>x</b>", RELIEF], "applicants": 5, "journeys": 5, "median_gap_days": 1.0},
    ]
    same = {"派出所户籍室": "#111111", "社保所": "#111111", "民政办": "#222222"}  # two offices, one colour
    fig = pair_matrix(pairs, {**DEPT, "<b>x</b>": "民政办"}, same, "zh", top=5)
    heat = fig.data[0]
    names = list(heat.x)
    assert len(names) == 5 and "&lt;b&gt;x&lt;/b&gt;" in names  # data text drawn literally
    z = {(names[c], names[r]): v for r, row in enumerate(heat.z) for c, v in enumerate(row) if v is not None}
    assert z[(BIRTH, MED)] == z[(MED, BIRTH)] == 7 and z[(MED, CARD)] == z[(CARD, MED)] == 5 and len(z) == 6
    legend = {t.name: t.marker.color for t in fig.data[1:]}
    assert len(set(legend.values())) == len(legend) == 3  # 派出所户籍室 and 社保所 no longer look alike
    # Room for four items: the first two pairs' three items; the third pair's two would make five.
    assert len(pair_matrix(pairs, DEPT, same, "zh", top=4).data[0].x) == 3


def test_journeys_built_once_are_the_journeys_built_each_time(cur) -> None:
    """Inside the block the analyses read one temporary table: the same figures; another window is built anew;
    after the block the table is gone."""
    from metrics import base

    outside = (journeys.item_pairs(cur, OCTOBER, min_applicants=1), journeys.department_pairs(cur, OCTOBER, 15, 1),
               compute_kpis(cur, OCTOBER, journeys.JOURNEY_KPIS))  # fmt: skip
    narrow = journeys.item_pairs(cur, OCTOBER, window_days=14, min_applicants=1)
    with base.journeys_built_once(cur, OCTOBER, 15):
        tables = [t for (t,) in cur.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]
        assert any(t.startswith("journey_cases_") for t in tables)
        params = base.Params()
        assert base.journey_cases(OCTOBER, params).strip().startswith("SELECT * FROM journey_cases_")
        inside = (journeys.item_pairs(cur, OCTOBER, min_applicants=1), journeys.department_pairs(cur, OCTOBER, 15, 1),
                  compute_kpis(cur, OCTOBER, journeys.JOURNEY_KPIS))  # fmt: skip
        assert journeys.item_pairs(cur, OCTOBER, window_days=14, min_applicants=1) == narrow
    assert inside == outside
    assert not cur.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0]


def test_a_past_period_reads_later_cases_only_up_to_the_first_day_no_journey_runs_across(cur, monkeypatch) -> None:
    from metrics import base
    from metrics.filters import Params

    def ends(search_days: int) -> dict[str, object]:
        monkeypatch.setattr(base, "JOURNEY_END_SEARCH_DAYS", search_days)
        params = Params()
        seconds = params.add(15 * 86400.0, "w")
        sql = base._journeys_end(OCTOBER, params, 15, seconds)
        return {town: f"{until:%Y-%m-%d}" for town, until in cur.execute(sql, params.values).fetchall()}

    # P11's 10-29 → 11-03 09:00 runs across Nov 1, 2 and 3; 乙镇 has no case near the end (its end bounds it)
    assert ends(31) == {"甲镇": "2026-11-04"}
    assert ends(2) == {"甲镇": "9999-12-31"}  # every day searched run across: no bound (infinity)
    bounded = journeys.journey_summary(cur, OCTOBER, min_applicants=1)
    assert ends(0) == {"甲镇": "9999-12-31"}
    assert journeys.journey_summary(cur, OCTOBER, min_applicants=1) == bounded
    assert bounded["pairs"][1]["items"] == [SHOP, FOOD]  # P11's November case still counted in October
