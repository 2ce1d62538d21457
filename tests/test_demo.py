"""The demo generator: reproducible, shaped like the platform's exports, and showing the town's problems.

The dashboard's demo and the ingest tests rely on these properties (online share rising, two slow
offices, 摆设 services, consistent case and step files), so they are pinned here on a small scale.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import numpy as np
import openpyxl
import pandas as pd
import pytest

from demo import exports, simulation, town

END = "2026-11"
SCALE = 0.05
ONLINE = ["网上申请", "豫事办小程序"]
SLOW = ["市场监管所", "自然资源所"]


@pytest.fixture(scope="module")
def data() -> exports.DemoData:
    return exports.generate(seed=7, end_month=END, scale=SCALE)


def _step_days(events: pd.DataFrame) -> pd.DataFrame:
    """Each step's time since the case's previous step, in days, attributed to the unit doing the step."""
    done = pd.to_datetime(events["完成时间"])
    gap = done - done.groupby(events["办件编号"]).shift()
    return events.assign(days=gap.dt.total_seconds() / 86400).dropna(subset=["days"])


def test_same_seed_gives_identical_frames(data: exports.DemoData) -> None:
    again = exports.generate(seed=7, end_month=END, scale=SCALE)
    pd.testing.assert_frame_equal(data.cases, again.cases)
    pd.testing.assert_frame_equal(data.events, again.events)
    pd.testing.assert_frame_equal(data.catalog, again.catalog)


def test_different_seed_gives_different_data(data: exports.DemoData) -> None:
    other = exports.generate(seed=8, end_month=END, scale=SCALE)
    assert not data.cases.equals(other.cases)
    assert not data.events.equals(other.events)


def test_columns_are_the_platform_names(data: exports.DemoData) -> None:
    assert list(data.cases.columns) == town.CASE_COLUMNS
    assert list(data.events.columns) == town.EVENT_COLUMNS
    assert list(data.catalog.columns) == town.CATALOG_COLUMNS
    assert data.cases["办件编号"].is_unique
    assert set(data.events["办件编号"]) == set(data.cases["办件编号"])


def test_eighteen_months_ending_with_end_month(data: exports.DemoData) -> None:
    months = sorted(data.cases["申请时间"].str[:7].unique())
    assert len(months) == 18
    assert months[0] == "2025-06" and months[-1] == END
    assert data.events["完成时间"].max() <= "2026-11-30 23:59:59"
    short = exports.generate(seed=7, end_month="2026-03", months=4, scale=SCALE)
    assert sorted(short.cases["申请时间"].str[:7].unique()) == ["2025-12", "2026-01", "2026-02", "2026-03"]


def test_default_end_month_is_this_month_cut_at_today() -> None:
    today = dt.date.today()
    cases = exports.generate(scale=0.02).cases
    previous = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    latest = cases["申请时间"].max()
    assert latest[:7] in {f"{today:%Y-%m}", previous}  # a month may start with holidays
    assert latest[:10] <= today.isoformat()


def test_catalogue_has_a_dozen_offices_and_about_sixty_items(data: exports.DemoData) -> None:
    catalog = data.catalog
    assert 10 <= catalog["实施部门"].nunique() <= 14
    assert 50 <= len(catalog) <= 70
    assert catalog["事项编码"].is_unique and catalog["事项名称"].is_unique
    assert set(catalog["是否网上可办"]) == {"是", "否"}
    assert {"即办", "5个工作日", "20日"} <= set(catalog["承诺时限"])
    assert set(data.cases["事项编码"]) <= set(catalog["事项编码"])
    assert data.cases["实施部门"].nunique() == catalog["实施部门"].nunique()


def test_volume_is_a_town_of_about_two_thousand_cases_a_month() -> None:
    full = exports.generate(seed=7, end_month=END, scale=1.0)
    per_month = full.cases["申请时间"].str[:7].value_counts()
    assert 1500 <= per_month.median() <= 2800
    assert 150_000 <= len(full.events) / 1.5 <= 300_000  # events a year


def test_online_share_rises(data: exports.DemoData) -> None:
    cases = data.cases
    share = cases["申请渠道"].isin(ONLINE).groupby(cases["申请时间"].str[:7]).mean().sort_index()
    first, last = share.iloc[:3].mean(), share.iloc[-3:].mean()
    assert 0.1 < first < 0.3 and 0.45 < last < 0.65
    assert last > first + 0.2


def test_channels_visits_and_delivery(data: exports.DemoData) -> None:
    cases = data.cases
    assert {"网上申请", "豫事办小程序", "窗口办理", "自助终端"} <= set(cases["申请渠道"]) <= set(town.CHANNELS)
    window = cases[cases["申请渠道"] == "窗口办理"]
    assert window["到现场次数"].between(1, 3).all()
    full_items = set(data.catalog.loc[data.catalog["是否全程网办"] == "是", "事项名称"])
    fully_online = cases[cases["申请渠道"].isin(ONLINE) & cases["事项名称"].isin(full_items)]
    assert len(fully_online) and (fully_online["到现场次数"] == 0).all()
    assert set(cases["结果送达方式"]) == {"网上送达", "邮寄送达", "窗口领取"}


def test_two_offices_are_clearly_slow(data: exports.DemoData) -> None:
    steps = _step_days(data.events)
    median = steps.groupby("办理部门")["days"].median()
    town_offices = set(data.catalog["实施部门"]) | {town.CENTRE}
    others = steps[~steps["办理部门"].isin(SLOW)]["days"].median()
    for office in SLOW:
        assert median[office] > median[list(town_offices - set(SLOW))].max(), office
        assert median[office] > 2 * others, office


def test_slow_offices_breach_their_promises_more_often(data: exports.DemoData) -> None:
    """A rough on-time check (Mon–Fri business days from submission) is enough to see the gap."""
    done = data.cases[data.cases["办件状态"] == "已办结"]
    promised = done["承诺时限"].str.extract(r"(\d+)")[0].astype(float).fillna(0).to_numpy()
    start = pd.to_datetime(done["申请时间"]).to_numpy().astype("datetime64[D]")
    end = pd.to_datetime(done["办结时间"]).to_numpy().astype("datetime64[D]")
    natural = done["承诺时限"].str.fullmatch(r"\d+日").to_numpy()
    late = np.where(natural, (end - start).astype(int) > promised, np.busday_count(start, end) > promised)
    office = done["实施部门"].to_numpy()
    rate = pd.Series(late).groupby(office).mean()
    assert late.mean() < 0.15  # most cases are on time
    assert rate[SLOW].min() > 3 * late[~np.isin(office, SLOW)].mean()


def test_name_only_online_services(data: exports.DemoData) -> None:
    """摆设: at least three services the catalogue lists as online-capable that nobody uses online."""
    cases = data.cases
    capable = set(data.catalog.loc[data.catalog["是否网上可办"] == "是", "事项名称"])
    online_by_item = cases["申请渠道"].isin(ONLINE).groupby(cases["事项名称"]).sum()
    volume = cases["事项名称"].value_counts()
    unused = [item for item in capable if volume.get(item, 0) >= 5 and online_by_item[item] == 0]
    assert len(unused) >= 3


def test_cases_and_events_tell_the_same_story(data: exports.DemoData) -> None:
    cases = data.cases.set_index("办件编号")
    by_case = data.events.groupby("办件编号", sort=False)
    first, last = by_case["完成时间"].first(), by_case["完成时间"].last()
    last_step = by_case["环节名称"].last()
    assert (cases["申请时间"] == first.reindex(cases.index)).all()
    completed = cases["办件状态"] == "已办结"
    assert (cases.loc[completed, "办结时间"] == last.reindex(cases.index)[completed]).all()
    assert (last_step.reindex(cases.index)[completed] == "办结").all()
    still_open = cases["办件状态"] == "在办"
    assert still_open.sum() > 0 and cases.loc[still_open, "办结时间"].isna().all()
    assert (last_step.reindex(cases.index)[still_open] != "办结").all()
    assert cases.loc[still_open, "申请时间"].str[:7].eq(END).mean() > 0.8
    for status, step in [("不予受理", "不予受理"), ("撤回", "撤回")]:
        chosen = cases["办件状态"] == status
        assert 0 < chosen.mean() < 0.05
        assert (last_step.reindex(cases.index)[chosen] == step).all()
    # 补正 loops: the count on the case matches the steps, and the review is done again afterwards.
    resubmissions = (data.events["环节名称"] == "补正").groupby(data.events["办件编号"]).sum()
    assert (cases["补正次数"] == resubmissions.reindex(cases.index)).all()
    assert (cases["补正次数"] >= 2).sum() > 0


def test_steps_move_between_units(data: exports.DemoData) -> None:
    events = data.events
    window_cases = data.cases.loc[data.cases["申请渠道"] == "窗口办理", "办件编号"]
    accepted = events[(events["环节名称"] == "受理") & events["办件编号"].isin(window_cases)]
    assert (accepted["办理部门"] == town.CENTRE).all()
    units = set(events["办理部门"])
    assert town.VILLAGE in units and sum(u.startswith("县") for u in units) >= 5
    assert 2 <= events.groupby("办理部门")["经办人"].nunique().median() <= 6
    start, done = pd.to_datetime(events["开始时间"]), pd.to_datetime(events["完成时间"])
    assert (start.dropna() <= done[start.notna()]).all()
    assert (done.groupby(events["办件编号"]).diff().dropna() > pd.Timedelta(0)).all()


def test_timestamps_fall_in_office_hours_of_working_days(data: exports.DemoData) -> None:
    stamps = pd.to_datetime(pd.concat([data.events["开始时间"], data.events["完成时间"]]).dropna())
    seconds = stamps.dt.hour * 3600 + stamps.dt.minute * 60 + stamps.dt.second
    morning = seconds.between(8.5 * 3600, 12 * 3600 - 1)
    afternoon = seconds.between(14.5 * 3600, 17.5 * 3600 - 1)
    assert (morning | afternoon).all()
    assert all(chinese_calendar.is_workday(day) for day in stamps.dt.date.unique())


def test_years_past_the_official_calendar_fall_back_to_weekdays() -> None:
    cases = exports.generate(seed=7, end_month="2027-03", months=3, scale=0.02).cases
    days = pd.to_datetime(cases["申请时间"]).dt.day_of_week
    assert len(days) and (days < 5).all()


def test_fake_personal_data_is_well_formed(data: exports.DemoData) -> None:
    cases = data.cases
    ids = cases["办件编号"]
    assert ids.str.fullmatch(r"411323\d{13}").all()
    assert (ids.str[6:14] == cases["申请时间"].str[:10].str.replace("-", "")).all()
    people = cases[cases["申请人类型"] == "自然人"]
    assert people["证件号码"].str.fullmatch(r"\d{17}[\dX]").all()
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for number in people["证件号码"].head(200):
        total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
        assert "10X98765432"[total % 11] == number[17]
    assert cases["联系电话"].dropna().str.fullmatch(r"1[3-9]\d{9}").all()
    assert people["申请人姓名"].str.len().between(2, 3).all()
    assert (people["证件号码"].value_counts() > 1).sum() > 50  # people come back for several cases
    legal = cases[cases["申请人类型"] == "法人"]
    assert len(legal) and legal["证件号码"].str.fullmatch(r"9[123]411323[0-9A-Z]{10}").all()


def test_life_events_change_only_who_applies(data: exports.DemoData) -> None:
    """Life events (demo.life) relink applicants and nothing else: every other column and the steps stay."""
    ctx = simulation.context(END, exports.DEFAULT_MONTHS)
    m = simulation.concat([simulation.simulate_month(ctx, i, 7, SCALE) for i in range(len(ctx.months))])
    plain = simulation.cases_frame(ctx, m, 7, life_events=False)
    person = ["申请人姓名", "证件号码", "联系电话"]
    pd.testing.assert_frame_equal(data.cases.drop(columns=person), plain.drop(columns=person))
    pd.testing.assert_frame_equal(data.events, simulation.events_frame(ctx, m))
    assert (data.cases["联系电话"].isna() == plain["联系电话"].isna()).all()  # a missing phone is the record's
    moved = data.cases["证件号码"] != plain["证件号码"]
    assert 0.005 < moved.mean() < 0.15
    # A relinked case is filed by someone who filed an earlier case, under the same name.
    cases = data.cases.assign(at=data.cases["申请时间"])
    first = cases.groupby(["证件号码", "申请人姓名"])["at"].transform("min")
    assert (first[moved] < cases.loc[moved, "at"]).all()


def test_satisfaction(data: exports.DemoData) -> None:
    completed = data.cases[data.cases["办件状态"] == "已办结"]
    rated = completed["满意度"].dropna()
    assert 0.2 < 1 - len(rated) / len(completed) < 0.4
    shares = rated.value_counts(normalize=True)
    assert shares[["非常满意", "满意"]].sum() > 0.85
    assert 0 < shares.get("不满意", 0) + shares.get("非常不满意", 0) < 0.08
    assert data.cases.loc[data.cases["办件状态"] != "已办结", "满意度"].isna().all()


def test_write_exports_look_like_the_platforms(tmp_path: Path, data: exports.DemoData) -> None:
    paths = exports.write_exports(tmp_path, data)
    assert set(paths) == {"cases", "events", "catalog"}

    raw = paths["cases"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    lines = raw.decode("gbk").splitlines()
    assert lines[0].startswith("沙堰镇便民服务中心办件明细表（2025年6月—2026年11月）")
    assert lines[1].split(",") == town.CASE_COLUMNS
    assert lines[-1].startswith("合计") and str(len(data.cases)) in lines[-1].split(",")
    body = pd.read_csv(paths["cases"], encoding="gbk", skiprows=1, dtype=str, keep_default_na=False)
    assert len(body) == len(data.cases) + 1  # data rows and the 合计 row
    assert body["办件编号"].iloc[:-1].tolist() == data.cases["办件编号"].tolist()

    events = pd.read_csv(paths["events"], encoding="utf-8", dtype=str)
    assert list(events.columns) == town.EVENT_COLUMNS and len(events) == len(data.events)

    sheet = openpyxl.load_workbook(paths["catalog"]).active
    header = [cell.value for cell in sheet[2]]
    assert header == town.CATALOG_COLUMNS
    merged = [str(r) for r in sheet.merged_cells.ranges]
    assert f"A1:{openpyxl.utils.get_column_letter(len(header))}1" in merged
    assert sheet.max_row == len(data.catalog) + 2

    again = exports.write_exports(tmp_path / "again", data)
    for kind, path in paths.items():
        assert path.read_bytes() == again[kind].read_bytes(), kind


def test_iter_event_chunks_reaches_the_target() -> None:
    target = 200_000
    chunks = list(exports.iter_event_chunks(target, seed=3, end_month=END))
    total = sum(len(chunk) for chunk in chunks)
    assert abs(total - target) / target < 0.05
    assert len(chunks) == 18
    assert all(list(chunk.columns) == town.EVENT_COLUMNS for chunk in chunks)
    assert chunks[0]["完成时间"].max() < chunks[-1]["完成时间"].min()


def test_shipped_sample_is_small_and_up_to_date(tmp_path: Path) -> None:
    """data/sample is what write_sample() writes; regenerate it when the model changes (see its README)."""
    sample = Path(exports.__file__).resolve().parent.parent / "data" / "sample"
    files = {"cases": "cases_export.csv", "events": "events_export.csv", "catalog": "service_catalog.xlsx"}
    assert sum((sample / name).stat().st_size for name in files.values()) < 3_000_000
    fresh = exports.write_sample(tmp_path)
    for kind, name in files.items():
        assert fresh[kind].read_bytes() == (sample / name).read_bytes(), f"{name} is stale: python -m demo.exports"
