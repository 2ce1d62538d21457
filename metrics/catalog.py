"""The KPI catalogue: every number of the dashboard declared once, as data.

Pages, the CLI, the monthly reports and the tests all ask for a KPI by its id; nothing else
defines a KPI. Each entry carries its Chinese and English names, the plain-language definition
shown in the UI (口径说明), the SQL that computes it, its unit and direction, a default target
and the fields it needs (so that a KPI whose field is absent is reported as unknown, never 0).

The SQL pieces are aggregate expressions evaluated by :mod:`metrics.kpis` over one of five
row sets (``scope``), each built once in :mod:`metrics.base`:

- ``period``: cases submitted in the period (alias-free columns of the ``cases`` view plus the
  flags ``is_online``, ``is_completed``, ``delivered_in_person``, ``days_in_promised_unit``);
- ``backlog``: cases open at the end of the as-of day (flags ``is_overdue``, ``is_at_risk``);
- ``catalog``: rows of the ``service_items`` view (flag ``comparable_limits``);
- ``items``: one row per service item with cases in the period (flag ``name_only``);
- ``journeys``: one row per journey (一件事: one applicant's cases in one town, no more than the window
  apart) whose first case lies in the period (``cases``, ``items``, ``departments``, ``visits``,
  ``visits_known``, ``refilings`` and the flags ``is_multi_item``, ``is_multi_department``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from text import Text

UNITS = ("count", "rate", "days")


@dataclass(frozen=True)
class Field:
    """A field a KPI needs; when the data has no value of it anywhere, the KPI is unknown."""

    key: str
    label: Text


FIELDS: dict[str, Field] = {
    f.key: f
    for f in (
        Field("submitted_at", Text("申请时间", "submission time")),
        Field("channel", Text("申请渠道", "channel")),
        Field("visits", Text("跑动次数", "number of visits")),
        Field("completed_at", Text("办结时间", "completion time")),
        Field("processing_days_working", Text("办理时长（工作日）", "processing time in working days")),
        Field("due_at", Text("办结时限（截止日期）", "due date")),
        Field("promised_days", Text("承诺时限", "promised time limit")),
        Field("resubmissions", Text("补正次数", "number of resubmissions (补正)")),
        Field("satisfaction", Text("满意度评价", "satisfaction rating")),
        Field("applicant_key", Text("申请人证件号码或手机号", "applicant ID or phone number")),
        Field("catalog", Text("事项目录", "service catalogue")),
        Field("catalog_online_capable", Text("事项目录中的“网上可办”", "the catalogue's online-capable flag")),
        Field(
            "catalog_limits", Text("事项目录中的承诺时限与法定时限", "promised and statutory limits in the catalogue")
        ),
    )
}


@dataclass(frozen=True)
class Kpi:
    """One KPI. Rates use numerator/denominator; counts use value; days use value + natural_value."""

    id: str
    name: Text  # kpi.name(lang) reads it in a language
    definition: Text
    unit: str  # count | rate | days
    higher_is_better: bool
    default_target: float | None
    requires: tuple[str, ...]
    scope: str  # period | backlog | catalog | items | journeys
    value: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    natural_value: str | None = None  # days KPIs: the same statistic in natural days
    n: str | None = None  # days KPIs: how many cases the statistic is over
    #: False when a change has no good direction (办件量: more cases is neither better nor worse).
    directional: bool = True
    #: For a rate that is a mean of per-case (per-item) fractions, what it averages over ("件", "个事项"): its
    #: numerator is a sum of fractions that means nothing to a reader, so its basis is written as n.
    mean_of_zh: str | None = None
    #: What the numerator and the denominator count, in words ("渠道已知的办件" / "cases with a known channel").
    numerator_label: Text = Text("", "")
    denominator_label: Text = Text("", "")
    #: Decimals a count is shown with: 0 for whole counts; a mean of counts (跑动 per journey) needs one.
    decimals: int = 0

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"{self.id}: unit {self.unit!r}")
        if self.unit == "rate" and not (self.numerator and self.denominator):
            raise ValueError(f"{self.id}: a rate needs numerator and denominator")
        if self.unit != "rate" and not self.value:
            raise ValueError(f"{self.id}: needs a value expression")
        unknown = [f for f in self.requires if f not in FIELDS]
        if unknown:
            raise ValueError(f"{self.id}: unknown fields {unknown}")

    def meets_target(self, value: float | None, target: float | None = None) -> bool | None:
        """Whether ``value`` reaches the target (the default one unless given); None when either is unknown."""
        target = self.default_target if target is None else target
        if value is None or target is None:
            return None
        return value >= target if self.higher_is_better else value <= target


#: A journey (一件事) goes on while an applicant's next case follows within this many days.
JOURNEY_WINDOW_DAYS = 15
#: A pair or bundle of items with fewer distinct applicants is not shown (small cells identify people).
JOURNEY_MIN_APPLICANTS = 5

#: The journey KPIs whose 口径说明 names the window (``{w}`` days): a page or command set to another window
#: says that one (:func:`journey_definition`).
_WINDOWED_DEFINITIONS = {
    "multi_item_journey_rate": Text(
        "同一申请人在同一乡镇、前后相隔不超过 {w} 天的办件算作一个“旅程”（一件事），归入其第一件办件的统计期；"
        "办了 2 个及以上不同事项的旅程 ÷ 旅程。没有申请人证件号码或手机号的办件不计入。",
        "A journey is one applicant's cases in one town, each filed no more than {w} days after the one before, "
        "counted in the period of its first case; journeys with two or more different service items ÷ journeys. "
        "Cases without an applicant ID or phone number are left out.",
    ),
    "reapplications_after_refusal": Text(
        "同一申请人在某事项被不予受理、退回或撤回后 {w} 天内（按申请时间计）再次申请同一事项的办件数，每件只计一次。",
        "Cases in which an applicant files the same item again within {w} days (by submission time) of a case of "
        "it that was rejected or withdrawn; each case counted once.",
    ),
}


def journey_definition(kpi_id: str, window_days: int = JOURNEY_WINDOW_DAYS) -> Text:
    """The 口径说明 of a journey KPI that depends on the window, for ``window_days``."""
    return _WINDOWED_DEFINITIONS[kpi_id].format(w=int(window_days))


def definition(kpi_id: str, window_days: int = JOURNEY_WINDOW_DAYS) -> Text:
    """Any KPI's 口径说明; a journey KPI's for the window it was computed with."""
    if kpi_id in _WINDOWED_DEFINITIONS:
        return journey_definition(kpi_id, window_days)
    return get(kpi_id).definition


_COMPLETED = "is_completed"
_PROMISED_RATIO = "days_in_promised_unit / promised_days"

KPIS: tuple[Kpi, ...] = (
    Kpi(
        id="cases",
        name=Text("办件量", "Cases"),
        definition=Text(
            "统计期内提交（申请）的办件数量，按申请时间归入统计期。",
            "Cases submitted in the period, counted by submission time.",
        ),
        unit="count",
        higher_is_better=True,
        directional=False,
        default_target=None,
        requires=("submitted_at",),
        scope="period",
        value="count(*)",
    ),
    Kpi(
        id="online_rate",
        name=Text("网办率", "Online rate"),
        definition=Text(
            "通过网上（网站）或移动端（掌上办、APP、小程序）申请的办件 ÷ 渠道已知的办件。",
            "Cases filed online (web) or on mobile (app, mini-program) ÷ cases whose channel is known.",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.6,
        requires=("channel",),
        scope="period",
        numerator="count(*) FILTER (WHERE is_online)",
        denominator="count(is_online)",
        numerator_label=Text("网上及移动端办件", "online and mobile cases"),
        denominator_label=Text("渠道已知的办件", "cases with a known channel"),
    ),
    Kpi(
        id="fully_online_rate",
        name=Text("全程网办率", "Fully online rate"),
        definition=Text(
            "网上或移动端申请、到现场 0 次（已知结果送达方式时，不需到窗口、大厅或现场领取）的办件 ÷ 渠道和跑动次数均已知的办件。",
            "Cases filed online or on mobile with zero visits (and, where the delivery of the result is known, not "
            "fetched in person at a window, hall or counter) ÷ cases whose channel and visits are known.",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.3,
        requires=("channel", "visits"),
        scope="period",
        numerator="count(*) FILTER (WHERE is_online AND visits = 0 AND NOT coalesce(delivered_in_person, false))",
        denominator="count(*) FILTER (WHERE is_online IS NOT NULL AND visits IS NOT NULL)",
        numerator_label=Text("全程网办的办件", "fully online cases"),
        denominator_label=Text("渠道和跑动次数已知的办件", "cases with known channel and visits"),
    ),
    Kpi(
        id="online_capable_rate",
        name=Text("网上可办率", "Online-capable rate"),
        definition=Text(
            "事项目录中标为“网上可办”的事项 ÷ 目录事项（需要上传事项目录，与统计期无关）。",
            "Catalogue items marked online-capable ÷ catalogue items (needs the service catalogue; not period-bound).",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.9,
        requires=("catalog", "catalog_online_capable"),
        scope="catalog",
        numerator="count(*) FILTER (WHERE online_capable)",
        denominator="count(online_capable)",
        numerator_label=Text("网上可办事项", "online-capable items"),
        denominator_label=Text("目录事项", "catalogue items"),
    ),
    Kpi(
        id="zero_visit_rate",
        name=Text("零跑动率", "Zero-visit rate"),
        definition=Text(
            "到现场 0 次的办件 ÷ 跑动次数已知的办件。",
            "Cases with no visit to an office ÷ cases whose number of visits is known.",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.5,
        requires=("visits",),
        scope="period",
        numerator="count(*) FILTER (WHERE visits = 0)",
        denominator="count(visits)",
        numerator_label=Text("零跑动办件", "zero-visit cases"),
        denominator_label=Text("跑动次数已知的办件", "cases with known visits"),
    ),
    Kpi(
        id="max_one_visit_rate",
        name=Text("最多跑一次率", "At-most-one-visit rate"),
        definition=Text(
            "到现场不超过 1 次的办件 ÷ 跑动次数已知的办件。",
            "Cases with at most one visit ÷ cases whose number of visits is known.",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.95,
        requires=("visits",),
        scope="period",
        numerator="count(*) FILTER (WHERE visits <= 1)",
        denominator="count(visits)",
        numerator_label=Text("最多跑一次的办件", "cases with at most one visit"),
        denominator_label=Text("跑动次数已知的办件", "cases with known visits"),
    ),
    Kpi(
        id="median_processing_days",
        name=Text("办理时长中位数", "Median processing time"),
        definition=Text(
            "已办结办件从申请到办结的时长的中位数，按工作日计（节假日、周末不计，调休上班日计入）；括号内为自然日。",
            "Median time from submission to completion of completed cases, in working days (holidays and weekends "
            "excluded, make-up workdays included); natural days alongside.",
        ),
        unit="days",
        higher_is_better=False,
        default_target=None,
        requires=("completed_at", "processing_days_working"),
        scope="period",
        value=f"quantile_cont(processing_days_working, 0.5) FILTER (WHERE {_COMPLETED})",
        natural_value=f"quantile_cont(processing_days_natural, 0.5) FILTER (WHERE {_COMPLETED})",
        n=f"count(processing_days_working) FILTER (WHERE {_COMPLETED})",
        denominator_label=Text("已办结且时长可算的办件", "completed cases with a measurable processing time"),
    ),
    Kpi(
        id="p90_processing_days",
        name=Text("办理时长 90 分位", "90th-percentile processing time"),
        definition=Text(
            "已办结办件办理时长（工作日）的 90 分位数（线性插值）：九成办件不超过此时长。",
            "90th percentile (linear interpolation) of the processing time of completed cases, in working days.",
        ),
        unit="days",
        higher_is_better=False,
        default_target=None,
        requires=("completed_at", "processing_days_working"),
        scope="period",
        value=f"quantile_cont(processing_days_working, 0.9) FILTER (WHERE {_COMPLETED})",
        natural_value=f"quantile_cont(processing_days_natural, 0.9) FILTER (WHERE {_COMPLETED})",
        n=f"count(processing_days_working) FILTER (WHERE {_COMPLETED})",
        denominator_label=Text("已办结且时长可算的办件", "completed cases with a measurable processing time"),
    ),
    Kpi(
        id="on_time_rate",
        name=Text("按时办结率", "On-time rate"),
        definition=Text(
            "在办结时限内（不晚于截止时间）办结的办件 ÷ 有办结时限的已办结办件。",
            "Completed cases finished by their due time ÷ completed cases that have a due date.",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.98,
        requires=("completed_at", "due_at"),
        scope="period",
        numerator=f"count(*) FILTER (WHERE {_COMPLETED} AND due_at IS NOT NULL AND completed_at <= due_at)",
        denominator=f"count(*) FILTER (WHERE {_COMPLETED} AND due_at IS NOT NULL)",
        numerator_label=Text("按时办结的办件", "cases completed on time"),
        denominator_label=Text("有办结时限的已办结办件", "completed cases with a due date"),
    ),
    Kpi(
        id="overdue_rate",
        name=Text("超期率", "Overdue rate"),
        definition=Text(
            "晚于办结时限办结的办件 ÷ 有办结时限的已办结办件。",
            "Completed cases finished after their due time ÷ completed cases that have a due date.",
        ),
        unit="rate",
        higher_is_better=False,
        default_target=0.02,
        requires=("completed_at", "due_at"),
        scope="period",
        numerator=f"count(*) FILTER (WHERE {_COMPLETED} AND due_at IS NOT NULL AND completed_at > due_at)",
        denominator=f"count(*) FILTER (WHERE {_COMPLETED} AND due_at IS NOT NULL)",
        numerator_label=Text("超期办结的办件", "cases completed late"),
        denominator_label=Text("有办结时限的已办结办件", "completed cases with a due date"),
    ),
    Kpi(
        id="open_overdue_cases",
        name=Text("在办超期件", "Open overdue cases"),
        definition=Text(
            "截至统计期末日终仍未办结、且已过办结时限的办件数（含统计期前提交的积压件）。",
            "Cases still open at the end of the period's last day and past their due time "
            "(including backlog submitted before the period).",
        ),
        unit="count",
        higher_is_better=False,
        default_target=0,
        requires=("due_at",),
        scope="backlog",
        value="count(*) FILTER (WHERE is_overdue)",
    ),
    Kpi(
        id="at_risk_cases",
        name=Text("临期预警件", "Cases at risk"),
        definition=Text(
            "截至统计期末日终仍未办结、尚未超期，但将在 2 个工作日内到期的办件数。",
            "Cases open at the end of the period's last day, not yet overdue, whose due date falls within "
            "the next 2 working days.",
        ),
        unit="count",
        higher_is_better=False,
        default_target=None,
        requires=("due_at",),
        scope="backlog",
        value="count(*) FILTER (WHERE is_at_risk)",
    ),
    Kpi(
        id="speedup_rate",
        name=Text("实际提速率", "Actual speed-up"),
        definition=Text(
            "已办结办件“1 − 实际用时 ÷ 承诺时限”的平均值（实际用时按承诺时限的单位计：工作日或自然日）。",
            "Mean over completed cases of 1 − actual time ÷ promised time (actual time in the promised unit: "
            "working or natural days).",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.5,
        requires=("completed_at", "promised_days"),
        scope="period",
        numerator=(
            f"sum(1 - {_PROMISED_RATIO}) FILTER (WHERE {_COMPLETED} AND promised_days > 0 "
            "AND days_in_promised_unit IS NOT NULL)"
        ),
        denominator=(
            f"count(*) FILTER (WHERE {_COMPLETED} AND promised_days > 0 AND days_in_promised_unit IS NOT NULL)"
        ),
        mean_of_zh="件",
        numerator_label=Text("各办件提速率之和", "sum of the cases' speed-ups"),
        denominator_label=Text("有承诺时限的已办结办件", "completed cases with a promised time"),
    ),
    Kpi(
        id="compression_rate",
        name=Text("承诺时限压缩率", "Time-limit compression"),
        definition=Text(
            "目录事项“1 − 承诺时限 ÷ 法定时限”的平均值（仅计两者均有且单位相同的事项；需要事项目录）。",
            "Mean over catalogue items of 1 − promised ÷ statutory time limit (items with both limits in the "
            "same unit; needs the catalogue).",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.5,
        requires=("catalog", "catalog_limits"),
        scope="catalog",
        numerator="sum(1 - promised_days / statutory_days) FILTER (WHERE comparable_limits)",
        denominator="count(*) FILTER (WHERE comparable_limits)",
        mean_of_zh="个事项",
        numerator_label=Text("各事项压缩率之和", "sum of the items' compression"),
        denominator_label=Text(
            "同时有承诺时限和法定时限的目录事项", "catalogue items with promised and statutory limits"
        ),
    ),
    Kpi(
        id="first_pass_rate",
        name=Text("一次办结率", "First-pass rate"),
        definition=Text(
            "未经补正（补正次数为 0）即办结的办件 ÷ 补正次数已知的已办结办件。",
            "Completed cases that needed no resubmission (补正) ÷ completed cases whose resubmissions are known.",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.9,
        requires=("resubmissions",),
        scope="period",
        numerator=f"count(*) FILTER (WHERE {_COMPLETED} AND resubmissions = 0)",
        denominator=f"count(resubmissions) FILTER (WHERE {_COMPLETED})",
        numerator_label=Text("一次办结的办件", "cases completed without resubmission"),
        denominator_label=Text("补正次数已知的已办结办件", "completed cases with known resubmissions"),
    ),
    Kpi(
        id="resubmission_rate",
        name=Text("补正率", "Resubmission rate"),
        definition=Text(
            "至少补正 1 次（群众需再次提交材料）的办件 ÷ 补正次数已知的办件。",
            "Cases with at least one resubmission (the applicant had to submit again) ÷ cases with known resubmissions.",
        ),
        unit="rate",
        higher_is_better=False,
        default_target=0.1,
        requires=("resubmissions",),
        scope="period",
        numerator="count(*) FILTER (WHERE resubmissions >= 1)",
        denominator="count(resubmissions)",
        numerator_label=Text("有补正的办件", "cases with a resubmission"),
        denominator_label=Text("补正次数已知的办件", "cases with known resubmissions"),
    ),
    Kpi(
        id="good_rating_rate",
        name=Text("好评率", "Good-rating rate"),
        definition=Text(
            "3–5 分的评价 ÷ 全部评价（好评率普遍接近 99.9%，请优先关注差评数和参评率）。",
            "Ratings of 3–5 ÷ all ratings (close to 99.9% almost everywhere: read bad ratings and participation first).",
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.99,
        requires=("satisfaction",),
        scope="period",
        numerator="count(*) FILTER (WHERE satisfaction BETWEEN 3 AND 5)",
        denominator="count(satisfaction)",
        numerator_label=Text("好评（3–5 分）", "ratings of 3-5"),
        denominator_label=Text("评价", "ratings"),
    ),
    Kpi(
        id="bad_ratings",
        name=Text("差评数", "Bad ratings"),
        definition=Text("1–2 分的评价数量。", "Number of ratings of 1 or 2."),
        unit="count",
        higher_is_better=False,
        default_target=0,
        requires=("satisfaction",),
        scope="period",
        value="count(*) FILTER (WHERE satisfaction BETWEEN 1 AND 2)",
    ),
    Kpi(
        id="rating_participation",
        name=Text("参评率", "Rating participation"),
        definition=Text(
            "有满意度评价的已办结办件 ÷ 已办结办件。", "Completed cases that received a rating ÷ completed cases."
        ),
        unit="rate",
        higher_is_better=True,
        default_target=0.5,
        requires=("satisfaction",),
        scope="period",
        numerator=f"count(satisfaction) FILTER (WHERE {_COMPLETED})",
        denominator=f"count(*) FILTER (WHERE {_COMPLETED})",
        numerator_label=Text("已评价的已办结办件", "rated completed cases"),
        denominator_label=Text("已办结办件", "completed cases"),
    ),
    Kpi(
        id="name_only_items",
        name=Text("摆设事项", "Online in name only"),
        definition=Text(
            "事项目录标为网上可办、统计期内办件不少于 10 件，但网办占比低于 5% 的事项数；"
            "未上传目录时，为办件不少于 10 件却没有一件网办的事项数。",
            "Items the catalogue marks online-capable with at least 10 cases in the period but an online share "
            "below 5%; without a catalogue, items with at least 10 cases and not a single online case.",
        ),
        unit="count",
        higher_is_better=False,
        default_target=0,
        requires=("channel",),
        scope="items",
        value="count(*) FILTER (WHERE name_only)",
    ),
    Kpi(
        id="multi_item_journey_rate",
        name=Text("多事项旅程占比", "Multi-item journeys"),
        definition=journey_definition("multi_item_journey_rate"),
        unit="rate",
        higher_is_better=False,
        directional=False,
        default_target=None,
        requires=("applicant_key",),
        scope="journeys",
        numerator="count(*) FILTER (WHERE is_multi_item)",
        denominator="count(*)",
        numerator_label=Text("多事项旅程", "multi-item journeys"),
        denominator_label=Text("旅程（有申请人标识的办件）", "journeys (cases with an applicant key)"),
    ),
    Kpi(
        id="multi_department_journey_rate",
        name=Text("跨部门旅程占比", "Cross-department journeys"),
        definition=Text(
            "涉及 2 个及以上不同部门的旅程 ÷ 旅程：群众为一件事要跑几个部门。",
            "Journeys that involve two or more departments ÷ journeys: one matter, several offices.",
        ),
        unit="rate",
        higher_is_better=False,
        directional=False,
        default_target=None,
        requires=("applicant_key",),
        scope="journeys",
        numerator="count(*) FILTER (WHERE is_multi_department)",
        denominator="count(*)",
        numerator_label=Text("跨部门旅程", "cross-department journeys"),
        denominator_label=Text("旅程（有申请人标识的办件）", "journeys (cases with an applicant key)"),
    ),
    Kpi(
        id="visits_per_journey",
        name=Text("每旅程平均跑动", "Visits per journey"),
        definition=Text(
            "旅程中各办件到现场次数之和的平均值（仅计每件办件跑动次数都已知的旅程）。",
            "Mean over journeys of the visits of all their cases (journeys whose cases all have known visits).",
        ),
        unit="count",
        higher_is_better=False,
        default_target=None,
        requires=("applicant_key", "visits"),
        scope="journeys",
        value="avg(visits) FILTER (WHERE visits_known)",
        decimals=1,
        denominator_label=Text("跑动次数已知的旅程", "journeys with known visits"),
    ),
    Kpi(
        id="avoidable_submissions",
        name=Text("可减少提交次数", "Avoidable submissions"),
        definition=Text(
            "多事项旅程中“办件数 − 1”之和：若合并为一次办理（高效办成一件事），群众可少提交的次数。",
            "Sum over multi-item journeys of their cases minus one: the submissions a single combined "
            "application (高效办成一件事) would save.",
        ),
        unit="count",
        higher_is_better=False,
        default_target=None,
        requires=("applicant_key",),
        scope="journeys",
        value="coalesce(sum(cases - 1) FILTER (WHERE is_multi_item), 0)",
        denominator_label=Text("旅程（有申请人标识的办件）", "journeys (cases with an applicant key)"),
    ),
    Kpi(
        id="reapplications_after_refusal",
        name=Text("退件后重新申请数", "Re-applications after refusal"),
        definition=journey_definition("reapplications_after_refusal"),
        unit="count",
        higher_is_better=False,
        default_target=None,
        requires=("applicant_key",),
        scope="journeys",
        value="coalesce(sum(refilings), 0)",
        denominator_label=Text("旅程（有申请人标识的办件）", "journeys (cases with an applicant key)"),
    ),
)

KPI_BY_ID: dict[str, Kpi] = {k.id: k for k in KPIS}
KPI_IDS: tuple[str, ...] = tuple(KPI_BY_ID)

#: Defaults for the 摆设 rule; callers may override them.
NAME_ONLY_THRESHOLD = 0.05
NAME_ONLY_MIN_CASES = 10
#: "At risk" means due within this many working days after the as-of day.
AT_RISK_WORKDAYS = 2


def get(kpi_id: str) -> Kpi:
    try:
        return KPI_BY_ID[kpi_id]
    except KeyError:
        raise KeyError(f"unknown KPI {kpi_id!r}; known: {', '.join(KPI_IDS)}") from None


class Reason(TypedDict):
    """Why a KPI is unknown, in both languages (JSON-ready: pages, reports and the kept figures read it)."""

    zh: str
    en: str


def reason_missing_field(field_key: str) -> Reason:
    """Why a KPI is unknown: the data has no value of one of its fields."""
    if field_key == "catalog":
        return {"zh": "尚未上传事项目录，无法计算", "en": "no service catalogue has been uploaded"}
    f = FIELDS[field_key]
    return {"zh": f"数据中没有「{f.label.zh}」，无法计算", "en": f"the data has no {f.label.en}"}


def reason_empty_denominator(kpi: Kpi) -> Reason:
    """Why a rate is unknown: nothing to divide by in this selection."""
    return {
        "zh": f"所选范围内「{kpi.denominator_label.zh}」为 0",
        "en": f"no {kpi.denominator_label.en} in the selection",
    }


REASON_JOURNEYS_NOT_SPLIT: Reason = {
    "zh": "旅程跨部门、跨事项、跨渠道，不能按部门、事项或渠道拆分或筛选",
    "en": "journeys span departments, items and channels: they cannot be split or filtered by them",
}

REASON_NOT_BY_CHANNEL: Reason = {
    "zh": "事项目录指标不能按渠道拆分",
    "en": "catalogue KPIs cannot be broken down by channel",
}
