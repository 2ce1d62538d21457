"""全县对比: the towns of a county side by side, for the county's 政务服务中心.

Every figure is the catalogue's (:mod:`metrics.kpis`), per town in one grouped query per period
(``kpis_by(…, "town")``, this month and the one before); the ranking and its sentences are pure functions
over that table. The page compares every town the reader may see: the town filter is dropped
(:func:`all_towns`), the other filters (department, item, channel, month) apply.

Which towns have published the month's snapshot (:func:`published_towns`) reads the ``snapshots`` table:
a ``town`` column when the table has one (a row without a town is a county-wide snapshot), else every
snapshot is ``settings.DEFAULT_TOWN``'s (the one town an installation had before towns).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import pandas as pd

import numfmt
import settings
from metrics import base, cube
from metrics.catalog import get
from metrics.filters import Filters, Params
from metrics.kpis import KpiResult, kpis_by
from store import towns as store_towns
from text import Text

#: The overview's tiles, in their reading order: what each town is compared on.
COUNTY_IDS = (
    "cases", "online_rate", "fully_online_rate", "max_one_visit_rate", "bad_ratings",
    "on_time_rate", "median_processing_days", "resubmission_rate", "open_overdue_cases", "at_risk_cases",
)  # fmt: skip

#: The rankings the page states in words: (KPI, which end, how many). "worst" is the end to press.
RANKINGS = (
    ("online_rate", "worst"),
    ("on_time_rate", "worst"),
    ("open_overdue_cases", "worst"),
    ("online_rate", "best"),
    ("on_time_rate", "best"),
)
RANK_SIZE = 3


def compared(table: pd.DataFrame) -> list[str]:
    """The KPIs of :data:`COUNTY_IDS` a :func:`town_kpis` table holds (a province's cube holds fewer)."""
    return [kpi_id for kpi_id in COUNTY_IDS if kpi_id in table.columns]


def all_towns(filters: Filters) -> Filters:
    """The filters without the town choice: the county page compares every town."""
    return replace(filters, towns=())


def town_kpis(cur: duckdb.DuckDBPyConnection, filters: Filters, ids: Sequence[str] = COUNTY_IDS) -> pd.DataFrame:
    """One row per town: each KPI (``<id>``), its value the period before (``<id>_previous``) and its basis.

    The basis is what a town is ranked on: a rate's denominator (``<id>_denominator``, with ``<id>_numerator``),
    a duration's measured cases (``<id>_n``); counts are based on the town's cases. Towns in order of their
    cases this period (most first); a town with cases only in the period before is listed too (0 cases now).
    """
    filters = all_towns(filters)
    if cube.from_lake(cur):  # a province's cube: only what its cells give (no median without the cases)
        ids = [kpi_id for kpi_id in ids if cube.serves(kpi_id)]
    now = kpis_by(cur, filters, "town", list(ids))
    previous = filters.previous_period()
    before = kpis_by(cur, previous, "town", list(ids)) if previous is not None else now.iloc[0:0]
    return _wide(now, before, ids)


def frozen_table(towns: Sequence[Mapping[str, Any]], ids: Sequence[str] = COUNTY_IDS) -> pd.DataFrame:
    """:func:`town_kpis`'s table from figures already computed (a county snapshot's frozen ``towns``: each
    ``{"town", "kpis": {id: KpiResult}, "previous_kpis": {…}}``), so a snapshot ranks exactly as the page does."""

    def long(key: str) -> pd.DataFrame:
        rows = [
            {"town": t["town"], "kpi_id": kpi_id, **result}
            for t in towns
            for kpi_id, result in t[key].items()
            if kpi_id in ids
        ]
        return pd.DataFrame(rows, columns=["town", "kpi_id", "value", "numerator", "denominator", "n"])

    return _wide(long("kpis"), long("previous_kpis"), ids)


def _wide(now: pd.DataFrame, before: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """The long frames (one row per town and KPI) of this period and the one before, one row per town."""
    towns = list(dict.fromkeys([*now["town"].dropna(), *before["town"].dropna()]))
    out = pd.DataFrame({"town": towns})
    for kpi_id in ids:
        unit = get(kpi_id).unit
        for frame, suffix in ((now, ""), (before, "_previous")):
            part = frame[frame["kpi_id"] == kpi_id].set_index("town")
            out[f"{kpi_id}{suffix}"] = _values(out["town"].map(part["value"]))
        part = now[now["kpi_id"] == kpi_id].set_index("town")
        if unit == "rate":
            out[f"{kpi_id}_numerator"] = _values(out["town"].map(part["numerator"]))
            out[f"{kpi_id}_denominator"] = _values(out["town"].map(part["denominator"]))
        elif unit == "days":
            out[f"{kpi_id}_n"] = _values(out["town"].map(part["n"]))
    if "cases" in ids:  # a town without cases this period has 0 of them, not an unknown number
        out["cases"] = [0 if v is None or pd.isna(v) else int(v) for v in out["cases"]]
    return out


def _values(series: pd.Series) -> pd.Series:
    return pd.Series([None if v is None or pd.isna(v) else float(v) for v in series], index=series.index, dtype=object)


def basis(table: pd.DataFrame, kpi_id: str) -> pd.Series:
    """What a town's figure rests on: a rate's denominator, a duration's cases measured, else its cases."""
    unit = get(kpi_id).unit
    column = f"{kpi_id}_denominator" if unit == "rate" else (f"{kpi_id}_n" if unit == "days" else "cases")
    return table[column].map(lambda v: 0 if v is None or pd.isna(v) else float(v))


@dataclass(frozen=True)
class Ranked:
    """One end of one KPI: ``rows`` (town, value) from that end inwards, ties by name; ``too_few`` the towns whose
    figure is known but rests on too few cases (a town whose figure is unknown is in neither); ``known`` how many towns' figure is known at all, ``enough`` how many were ranked on."""

    rows: list[tuple[str, float]]
    too_few: list[str]
    known: int = 0
    enough: int = 0


def ranking(
    table: pd.DataFrame, kpi_id: str, end: str = "worst", n: int = RANK_SIZE, min_sample: int | None = None
) -> Ranked:
    """The ``n`` towns at one end of a KPI (``worst``: to press; ``best``: leading), among towns with enough cases.

    A town whose basis (:func:`basis`) is under ``min_sample`` (default ``settings.MIN_SAMPLE``) is not ranked
    but named in ``too_few``. For a count to press (在办超期件) a town with none is no town to press, and is left
    off.
    """
    min_sample = settings.MIN_SAMPLE if min_sample is None else min_sample
    kpi = get(kpi_id)
    known = table[table[kpi_id].map(lambda v: v is not None and not pd.isna(v))]
    enough = known[basis(known, kpi_id) >= min_sample]
    too_few = sorted(str(t) for t in known.loc[~known["town"].isin(enough["town"]), "town"])
    ascending = kpi.higher_is_better == (end == "worst")
    ordered = enough.assign(sort_value=enough[kpi_id].astype(float)).sort_values(
        ["sort_value", "town"], ascending=[ascending, True]
    )
    if kpi.unit == "count" and end == "worst":
        ordered = ordered[ordered["sort_value"] > 0]
    rows = [(str(r.town), float(r.sort_value)) for r in ordered.head(n).itertuples(index=False)]
    return Ranked(rows, too_few, known=len(known), enough=len(enough))


_NUMBERS = {1: Text("一", "one"), 2: Text("两", "two"), 3: Text("三", "three"), 4: Text("四", "four")}
_ENDS = {
    ("worst", True): Text("最低", "lowest"),
    ("worst", False): Text("最多", "most"),
    ("best", True): Text("最高", "highest"),
    ("best", False): Text("最少", "fewest"),
}
_SENTENCE = Text(
    "{kpi}{end}的{n}个乡镇：{towns}（{whole} {county}）",
    "The {n} towns with the {end} {kpi}: {towns} ({whole} {county})",
)
_ONE = Text(
    "{kpi}{end}的乡镇：{towns}（{whole} {county}）", "The town with the {end} {kpi}: {towns} ({whole} {county})"
)
_ORDERS = {True: Text("由低到高", "from lowest to highest"), False: Text("由多到少", "from most to fewest")}
_ORDER = Text("{kpi}{order}：{towns}（{whole} {county}）", "{kpi} {order}: {towns} ({whole} {county})")
_NONE_TO_PRESS = Text("没有乡镇有{kpi}（{whole} {county}）", "No town has {kpi} ({whole} {county})")
#: What the towns' total is called: the county's, or (a province's cube) the province's.
COUNTY_WHOLE = Text("全县", "county")
PROVINCE_WHOLE = Text("全省", "province")
_LEFT_OUT = Text("办件不足 {n} 件、未参与排名的乡镇：{towns}", "Towns with fewer than {n} cases, not ranked: {towns}")
_PARTLY = Text(
    "可计算的办件不足 {n} 件、该项未参与排名：{towns}", "Too few cases measured (under {n}) to rank on: {towns}"
)
_NO_RANK = Text("{kpi}：没有办件足够的乡镇可排名", "{kpi}: no town has enough cases to rank")
_UNKNOWN = Text("{kpi}：各乡镇均无法计算（本月没有可计算的办件）", "{kpi}: unknown for every town (no case to measure)")


def value_text(kpi_id: str, value: float | None, lang: str = "zh") -> str:
    """A figure in a sentence: 12.6% / 3.5 个工作日 / 35 件."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Text("未知", "unknown")(lang)
    unit = get(kpi_id).unit
    if unit == "rate":
        return numfmt.percent(value)
    if unit == "days":
        return Text("{} 个工作日", "{} working days")(lang).format(numfmt.fixed(value))
    return Text("{} 件", "{}")(lang).format(numfmt.fixed(value, 0))


def ranking_sentence(
    kpi_id: str, end: str, ranked: Ranked, county: KpiResult | None, lang: str = "zh", whole: Text = COUNTY_WHOLE
) -> str:
    """ "网办率最低的三个乡镇：梅溪乡 12.6%、柳林镇 20.1%、…（全县 41.2%）" in either language (``whole``: what the
    total is called)."""
    kpi = get(kpi_id)
    area = whole(lang)
    county_text = value_text(kpi_id, county.get("value") if county else None, lang)
    name = kpi.name(lang) if lang == "zh" else kpi.name(lang)[0].lower() + kpi.name(lang)[1:]
    rows = ranked.rows
    if not rows:
        if kpi.unit == "count" and end == "worst" and ranked.enough:
            return _NONE_TO_PRESS(lang).format(kpi=name, whole=area, county=county_text)
        return (_NO_RANK if ranked.known else _UNKNOWN)(lang).format(kpi=kpi.name(lang))
    sep = "、" if lang == "zh" else ", "
    towns = sep.join(f"{town} {value_text(kpi_id, value, lang)}" for town, value in rows)
    count = len(rows)
    if end == "worst" and count == ranked.enough >= 2:  # every ranked town: the whole order, said once
        order = _ORDERS[kpi.unit != "count"](lang)
        return _ORDER(lang).format(kpi=kpi.name(lang), order=order, towns=towns, whole=area, county=county_text)
    words = _NUMBERS.get(count, Text(str(count), str(count)))(lang)
    return (_ONE if count == 1 else _SENTENCE)(lang).format(
        kpi=name, end=_ENDS[(end, kpi.unit != "count")](lang), n=words, towns=towns, whole=area, county=county_text
    )


def left_out_sentence(names: Sequence[str], lang: str = "zh", n: int | None = None, shown: int = 6) -> str:
    """The towns not ranked for too few cases (or none this month), named (the first ``shown`` of them); empty
    when none."""
    if not names:
        return ""
    sep = "、" if lang == "zh" else ", "
    listed = sep.join(names[:shown]) + ("…" if len(names) > shown else "")
    return _LEFT_OUT(lang).format(n=settings.MIN_SAMPLE if n is None else n, towns=listed)


@dataclass(frozen=True)
class RankingText:
    """The ranking in words, as the page and the county snapshot both say it.

    ``press``: the towns to press (lowest online rate, …); ``lead``: the leading ones; ``left_out``: the towns
    not ranked for too few cases (empty when none). ``alone`` instead of all of these when fewer than two
    towns have enough cases: one town is no ranking (its lowest is its highest)."""

    press: list[str]
    lead: list[str]
    left_out: str
    alone: str = ""

    def sentences(self) -> list[str]:
        """Every sentence in reading order (the snapshot's list)."""
        return [self.alone] if self.alone else [*self.press, *self.lead, *([self.left_out] if self.left_out else [])]


_ALONE = Text(
    "本月只有{towns}的办件足够（不少于 {n} 件）参与排名：待其他乡镇上传后再比较。",
    "This month only {towns} has enough cases (at least {n}) to be ranked: compare once the other towns upload.",
)


def ranking_text(
    table: pd.DataFrame,
    totals: Mapping[str, KpiResult],
    lang: str = "zh",
    min_sample: int | None = None,
    whole: Text = COUNTY_WHOLE,
) -> RankingText:
    """Every ranking of :data:`RANKINGS` over :func:`town_kpis`'s table in sentences, with the county's figure
    (``totals``: the county's own KPI results; ``whole``: what it is called, 全县 or 全省) beside each."""
    min_sample = settings.MIN_SAMPLE if min_sample is None else min_sample
    few_cases = ranking(table, "cases", "best", min_sample=min_sample).too_few  # once: a province has thousands
    few = set(few_cases)
    rankable = [t for t in table["town"] if t not in few]
    if len(rankable) < 2:
        sep = "、" if lang == "zh" else ", "
        return RankingText([], [], "", _ALONE(lang).format(towns=sep.join(rankable) or "—", n=min_sample))
    press: list[str] = []
    lead: list[str] = []
    partly: dict[str, list[str]] = {}  # a town with cases enough, but too few measured for a KPI: town -> KPIs
    for kpi_id, end in RANKINGS:
        ranked = ranking(table, kpi_id, end, min_sample=min_sample)
        if end == "best":  # towns the worst end named already are not named again at the best
            ranked = replace(ranked, rows=ranked.rows[: max(0, ranked.enough - RANK_SIZE)])
            if not ranked.rows:
                continue
        for town in ranked.too_few:
            if town not in few and kpi_id not in partly.setdefault(town, []):
                partly[town].append(kpi_id)
        sentence = ranking_sentence(kpi_id, end, ranked, totals.get(kpi_id), lang, whole)
        (press if end == "worst" else lead).append(sentence)
    notes = [left_out_sentence(few_cases, lang, min_sample), _partly_sentence(partly, lang, min_sample)]
    return RankingText(press, lead, ("；" if lang == "zh" else "; ").join(n for n in notes if n))


def _partly_sentence(partly: Mapping[str, Sequence[str]], lang: str, n: int) -> str:
    sep = "、" if lang == "zh" else ", "
    towns = sep.join(
        Text("{}（{}）", "{} ({})")(lang).format(town, sep.join(get(k).name(lang) for k in kpis))
        for town, kpis in sorted(partly.items())
    )
    return _PARTLY(lang).format(n=n, towns=towns) if partly else ""


def online_rate_by_town_month(cur: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """Each town's online rate per month of the period: town, month (YYYY-MM), numerator, denominator, value.

    The catalogue's own expressions for 网办率, in one grouped query; every (town, month) of the period is a
    row, a month without cases with a known channel has no value (NaN: a gap in the line, not a 0%).
    """
    filters = all_towns(filters)
    kpi = get("online_rate")
    numerator, denominator = cube.kept("period", kpi.id, "numerator"), cube.kept("period", kpi.id, "denominator")
    assert numerator is not None and denominator is not None  # counts: the cube keeps them
    sums = {"numerator": f"({numerator.read})::BIGINT", "denominator": f"({denominator.read})::BIGINT"}
    frame = cube.cell_sums(cur, filters, {"town": "c.town", "month": "strftime(c.month, '%Y-%m')"}, sums)
    if frame is None:
        params = Params()
        rows = base.period_cases(filters, params, "c.town")
        frame = cur.execute(
            f"""SELECT g AS town, strftime(date_trunc('month', submitted_at), '%Y-%m') AS month,
                       {kpi.numerator} AS numerator, {kpi.denominator} AS denominator
                FROM ({rows}) GROUP BY ALL""",
            params.values,
        ).df()
    months = _months(filters)
    towns = sorted(frame["town"].dropna().unique().tolist())
    grid = pd.DataFrame([(t, m) for t in towns for m in months], columns=["town", "month"])
    out = grid.merge(frame, on=["town", "month"], how="left")
    out["numerator"] = out["numerator"].fillna(0).astype(int)
    out["denominator"] = out["denominator"].fillna(0).astype(int)
    out["value"] = [n / d if d else None for n, d in zip(out["numerator"], out["denominator"], strict=True)]
    return out


def _months(filters: Filters) -> list[str]:
    if filters.start is None or filters.end is None:
        raise ValueError("the towns' months need a period with both ends")
    return [f"{p:%Y-%m}" for p in pd.period_range(filters.start, filters.end, freq="M")]


# ---- snapshots ----------------------------------------------------------------------------------------------------


def published_towns(cur: duckdb.DuckDBPyConnection, month: str) -> dict[str, object]:
    """Who has published ``month``'s snapshot: ``{"towns": {town: {"version", "published_at"}}, "county": … | None}``.

    The newest version per town (of the towns this run may see) and of the county's own snapshot
    (``store.towns.COUNTY``, schema 9 -> 10).
    """
    rows = cur.execute(
        """SELECT town, max(version) AS version, arg_max(published_at, version) AS published_at
           FROM snapshots WHERE month = ? GROUP BY town ORDER BY town""",
        [month],
    ).fetchall()
    held = set(store_towns.towns(cur))  # within a town user's scope: their towns
    by_town = {town: {"version": int(v), "published_at": at} for town, v, at in rows if town in held}
    county = next(({"version": int(v), "published_at": at} for town, v, at in rows if town == store_towns.COUNTY), None)
    return {"towns": by_town, "county": county}
