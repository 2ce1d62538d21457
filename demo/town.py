"""The demo town as a description: its offices, services, step templates and the platform's vocabulary.

Static data only (and the catalogue built from it): the simulation (:mod:`demo.simulation`) indexes into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

TOWN = "沙堰镇"
#: 县级行政区划代码 used in case numbers and most ID numbers.
REGION_CODE = 411323
CENTRE = "便民服务中心综合窗口"
VILLAGE = "村委会"

# Office hours: 08:30–12:00 and 14:30–17:30, i.e. 6.5 working hours a day. Time inside the model is a
# "working clock" in seconds (day index × DAY_SECONDS + second of office time), so durations never
# fall into nights, weekends or holidays.
AM_OPEN = 8 * 3600 + 30 * 60
AM_SECONDS = 3 * 3600 + 30 * 60
PM_OPEN = 14 * 3600 + 30 * 60
DAY_SECONDS = AM_SECONDS + 3 * 3600

CASE_COLUMNS = [
    "办件编号", "事项编码", "事项名称", "实施部门", "申请渠道", "申请人类型", "申请人姓名", "证件号码", "联系电话",
    "申请时间", "受理时间", "办结时间", "办件状态", "承诺时限", "法定时限", "到现场次数", "补正次数", "满意度",
    "结果送达方式",
]  # fmt: skip
EVENT_COLUMNS = ["办件编号", "事项名称", "环节名称", "办理部门", "经办人", "开始时间", "完成时间"]
CATALOG_COLUMNS = [
    "事项编码", "事项名称", "实施部门", "是否网上可办", "是否全程网办", "承诺时限", "法定时限", "最多跑动次数",
]  # fmt: skip

# --- departments -------------------------------------------------------------------------------

#: (code, town office, county counterpart). The county bureaux do some 复核/审批/制证 steps.
DEPARTMENTS: list[tuple[str, str, str]] = [
    ("SB", "社保所", "县人力资源和社会保障局"),
    ("MZ", "民政办", "县民政局"),
    ("HJ", "派出所户籍室", "县公安局"),
    ("SJ", "市场监管所", "县市场监督管理局"),
    ("ZR", "自然资源所", "县自然资源局"),
    ("NY", "农业服务中心", "县农业农村局"),
    ("TY", "退役军人服务站", "县退役军人事务局"),
    ("WJ", "卫健办", "县卫生健康委员会"),
    ("CZ", "财政所", "县财政局"),
    ("SF", "司法所", "县司法局"),
    ("CJ", "村镇规划建设办", "县住房和城乡建设局"),
    ("CL", "残联", "县残疾人联合会"),
]
DEPT_INDEX = {code: i for i, (code, _, _) in enumerate(DEPARTMENTS)}
#: The two clearly slow offices: median share of the promised time a case uses, and the median extra
#: wait (working days) at each of their steps. Other offices' cases use NORMAL_TIME_SHARE.
SLOW_DEPARTMENTS = {"SJ": (0.45, 0.5), "ZR": (0.5, 1.2)}
NORMAL_TIME_SHARE = 0.3

#: Units that do steps: the centre's window, the 12 offices, their county bureaux, the village committee.
UNITS = [CENTRE] + [d[1] for d in DEPARTMENTS] + [d[2] for d in DEPARTMENTS] + [VILLAGE]
N_DEPT = len(DEPARTMENTS)
UNIT_CENTRE, UNIT_VILLAGE = 0, 1 + 2 * N_DEPT


@dataclass(frozen=True)
class TownProfile:
    """What differs between the towns of one county; the catalogue, templates and calendar do not.

    A county's towns share the county's service catalogue and bureaux, but not their people: how
    readily applicants go online, how quickly the offices work and how big the town is vary, and
    that variation is what a county-level comparison is for. The defaults are 沙堰镇's, so a
    one-town demo made with the default profile is the demo as it always was. Frozen (hashable)
    because the simulation caches its tables per profile.
    """

    name: str = TOWN
    volume: float = 1.0  #: multiplier on the catalogue's volumes
    online_start: float = 0.20  #: target online share in the window's first month …
    online_gain: float = 0.35  #: … and how much it climbs by the last
    time_share: float = NORMAL_TIME_SHARE  #: median share of the promised time an ordinary office's case uses
    #: (office code, time share, extra wait in working days) of the offices with queues at every step.
    slow: tuple[tuple[str, float, float], ...] = tuple((c, s, e) for c, (s, e) in SLOW_DEPARTMENTS.items())

    def slow_share(self, dept: str) -> float:
        return next((share for code, share, _ in self.slow if code == dept), self.time_share)


DEFAULT_PROFILE = TownProfile()


def unit_extra_days(profile: TownProfile) -> np.ndarray:
    """Median extra wait (working days) at a unit's substantive steps: slow offices, county handovers, villages."""
    extra = np.zeros(len(UNITS))
    for code, _share, days in profile.slow:
        extra[1 + DEPT_INDEX[code]] = days
    extra[1 + N_DEPT : 1 + 2 * N_DEPT] = 0.1
    extra[UNIT_VILLAGE] = 0.2
    return extra


# --- step templates ----------------------------------------------------------------------------

#: Body of each template, between 受理 and 办结: (step, role, weight of the case's time budget).
#: Roles: D the office, X its county bureau, V the village committee, P the item's partner office.
TEMPLATES: dict[str, list[tuple[str, str, float]]] = {
    "instant": [("审核", "D", 1.0), ("决定", "D", 0.5)],
    "simple": [("审核", "D", 2.0), ("审批", "D", 2.0)],
    "simple_county": [("审核", "D", 2.0), ("审批", "X", 3.0)],
    "county": [("审核", "D", 2.0), ("复核", "X", 2.5), ("审批", "X", 3.0)],
    "card": [("审核", "D", 1.5), ("制证", "X", 5.0), ("发证", "D", 1.0)],
    "card_county": [("审核", "D", 2.0), ("残疾评定", "X", 5.0), ("审批", "X", 2.0), ("制证", "X", 3.0)],
    "license_simple": [("审查", "D", 2.0), ("决定", "D", 1.5), ("制证", "D", 1.0)],
    "license": [("审查", "D", 2.0), ("现场核查", "D", 3.0), ("决定", "D", 2.0), ("制证", "D", 1.0)],
    "county_license": [("审查", "D", 2.0), ("现场勘查", "D", 3.0), ("审批", "X", 4.0)],
    "relief": [
        ("入户调查", "D", 3.0),
        ("民主评议", "V", 3.0),
        ("审核", "D", 2.0),
        ("公示", "D", 4.0),
        ("审批", "X", 3.0),
    ],
    "relief_town": [("入户调查", "D", 2.0), ("审核", "D", 2.0), ("审批", "D", 2.0)],
    "land": [
        ("村级审查", "V", 3.0),
        ("现场勘查", "D", 3.0),
        ("联合审查", "P", 3.0),
        ("审核", "D", 2.0),
        ("审批", "X", 4.0),
        ("公示", "D", 3.0),
    ],  # fmt: skip
    "plan": [("村级审查", "V", 2.0), ("现场勘查", "D", 3.0), ("审核", "D", 2.0), ("审批", "X", 4.0)],
    "subsidy": [("村级核实", "V", 3.0), ("审核", "D", 2.0), ("公示", "D", 3.0), ("资金发放", "P", 2.0)],
    "mediation": [("调查", "D", 3.0), ("调解", "D", 4.0)],
}
#: 补正 is requested at the first of these steps, which is then done again after each 补正.
REVIEW_STEPS = ("审核", "审查", "调查")


class Item(NamedTuple):
    """One service of the catalogue and how its cases behave."""

    name: str
    dept: str
    promised: int  # 0 = 即办
    unit: str  # "wd" working days, "d" natural days
    statutory: int
    online: bool  # 网上可办 (as the catalogue claims)
    fully_online: bool  # 全程网办
    max_visits: int
    volume: float  # cases a month at scale 1 (before seasonality)
    template: str
    affinity: float  # how readily applicants use the online channel (0 = never: 摆设 if online)
    resubmission: float  # chance of at least one 补正
    legal_share: float = 0.0  # share of 法人 applicants
    season: str = "flat"
    partner: str | None = None  # office doing the "P" steps
    kiosk: float = 0.0  # share of non-online cases filed at the 自助终端
    post: float = 0.0  # share of non-online cases filed by post


# fmt: off
ITEMS: list[Item] = [
    Item("城乡居民养老保险参保登记", "SB", 0, "wd", 5, True, True, 0, 110, "instant", 0.9, 0.03, kiosk=0.15),
    Item("城乡居民养老保险待遇申领", "SB", 5, "wd", 20, True, True, 0, 45, "county", 0.5, 0.12),
    Item("城乡居民基本医疗保险参保登记", "SB", 0, "wd", 5, True, True, 0, 200, "instant", 1.0, 0.02,
         season="medical", kiosk=0.2),
    Item("城乡居民养老保险待遇资格认证", "SB", 0, "wd", 5, True, True, 0, 60, "instant", 1.0, 0.01, kiosk=0.3),
    Item("社会保障卡申领", "SB", 10, "wd", 20, True, False, 1, 90, "card", 0.6, 0.05, kiosk=0.1),
    Item("社会保障卡挂失补换", "SB", 5, "wd", 15, True, False, 1, 35, "card", 0.5, 0.03, kiosk=0.2),
    Item("城乡居民养老保险关系转移接续", "SB", 15, "wd", 45, True, True, 0, 10, "county", 0.4, 0.15, post=0.1),
    Item("就业创业证申领", "SB", 5, "wd", 10, True, True, 0, 18, "simple", 0.6, 0.08),
    Item("灵活就业人员参保登记", "SB", 0, "wd", 5, True, True, 0, 22, "instant", 0.7, 0.03),
    Item("失业登记", "SB", 0, "wd", 5, True, True, 0, 12, "instant", 0.6, 0.03),
    Item("最低生活保障申请", "MZ", 20, "wd", 30, True, False, 2, 35, "relief", 0.15, 0.25),
    Item("特困人员救助供养申请", "MZ", 20, "wd", 30, True, False, 2, 6, "relief", 0.1, 0.2),
    Item("临时救助申请", "MZ", 10, "wd", 15, True, False, 1, 22, "relief_town", 0.0, 0.2),
    Item("高龄津贴申请", "MZ", 10, "wd", 20, True, True, 0, 28, "simple_county", 0.4, 0.08),
    Item("残疾人两项补贴申请", "MZ", 15, "wd", 20, True, False, 1, 16, "county", 0.3, 0.15),
    Item("惠民殡葬补贴申领", "MZ", 5, "wd", 10, True, False, 1, 12, "simple", 0.2, 0.1),
    Item("孤儿基本生活保障金申请", "MZ", 20, "wd", 30, False, False, 2, 2, "relief", 0.0, 0.2),
    Item("困境儿童基本生活保障申请", "MZ", 20, "wd", 30, False, False, 2, 2, "relief", 0.0, 0.2),
    Item("居民户口迁入登记", "HJ", 3, "wd", 10, True, False, 1, 55, "simple_county", 0.3, 0.15),
    Item("居民户口迁出登记", "HJ", 0, "wd", 5, True, False, 1, 22, "instant", 0.2, 0.05),
    Item("出生登记", "HJ", 0, "wd", 5, True, False, 1, 40, "instant", 0.3, 0.1),
    Item("死亡注销户口", "HJ", 0, "wd", 5, False, False, 1, 24, "instant", 0.0, 0.05),
    Item("居民身份证申领", "HJ", 20, "d", 60, False, False, 2, 60, "card", 0.0, 0.03),
    Item("居民身份证换领补领", "HJ", 20, "d", 60, False, False, 2, 95, "card", 0.0, 0.02, kiosk=0.05),
    Item("户口登记项目变更更正", "HJ", 5, "wd", 20, True, False, 1, 14, "county", 0.2, 0.2),
    Item("居住证申领", "HJ", 10, "d", 15, True, False, 1, 8, "card", 0.3, 0.05),
    Item("无犯罪记录证明开具", "HJ", 0, "wd", 3, True, True, 0, 30, "instant", 0.7, 0.02, kiosk=0.1),
    Item("个体工商户设立登记", "SJ", 5, "wd", 15, True, True, 0, 70, "license_simple", 0.7, 0.18),
    Item("个体工商户变更登记", "SJ", 5, "wd", 15, True, True, 0, 25, "simple", 0.6, 0.12),
    Item("个体工商户注销登记", "SJ", 5, "wd", 15, True, True, 0, 20, "simple", 0.6, 0.08),
    Item("食品经营许可（小餐饮）", "SJ", 10, "wd", 20, True, False, 1, 12, "license", 0.3, 0.25, legal_share=0.6),
    Item("食品小作坊登记", "SJ", 10, "wd", 20, True, False, 1, 4, "license", 0.2, 0.25, legal_share=0.5),
    Item("农民专业合作社设立登记", "SJ", 5, "wd", 15, True, True, 0, 4, "simple", 0.5, 0.2, legal_share=1.0),
    Item("营业执照遗失补领", "SJ", 5, "wd", 10, True, True, 0, 6, "simple", 0.5, 0.05, legal_share=0.3),
    Item("农村宅基地用地审批", "ZR", 20, "wd", 30, True, False, 2, 15, "land", 0.0, 0.3, partner="NY"),
    Item("乡村建设规划许可", "ZR", 20, "wd", 30, True, False, 2, 10, "plan", 0.1, 0.25),
    Item("不动产登记（农村房地一体）", "ZR", 15, "wd", 30, True, False, 1, 22, "county", 0.15, 0.2, post=0.05),
    Item("设施农业用地备案", "ZR", 10, "wd", 15, True, False, 1, 3, "simple", 0.2, 0.2, legal_share=0.5),
    Item("临时用地审批", "ZR", 20, "wd", 30, False, False, 2, 2, "county_license", 0.0, 0.2, legal_share=0.5),
    Item("土地权属争议调处申请", "ZR", 30, "d", 60, False, False, 2, 1, "mediation", 0.0, 0.1),
    Item("耕地地力保护补贴申领", "NY", 15, "wd", 20, True, False, 1, 90, "subsidy", 0.15, 0.08,
         season="farm", partner="CZ"),
    Item("农机购置补贴申请", "NY", 15, "wd", 30, True, True, 0, 10, "county", 0.6, 0.15),
    Item("农村土地承包经营权流转合同备案", "NY", 5, "wd", 10, True, False, 1, 10, "simple", 0.2, 0.12),
    Item("动物检疫申报", "NY", 0, "wd", 1, True, True, 0, 25, "instant", 0.5, 0.02),
    Item("政策性农业保险投保登记", "NY", 0, "wd", 5, True, True, 0, 20, "instant", 0.5, 0.02, season="farm"),
    Item("家庭农场名录登记", "NY", 5, "wd", 10, True, True, 0, 3, "simple", 0.4, 0.15),
    Item("退役军人信息采集", "TY", 0, "wd", 5, True, False, 1, 6, "instant", 0.2, 0.03),
    Item("退役军人优待证申领", "TY", 20, "wd", 30, True, True, 0, 10, "card", 0.6, 0.08),
    Item("优抚对象定期抚恤补助申领", "TY", 20, "wd", 30, False, False, 1, 4, "county", 0.0, 0.15),
    Item("义务兵家庭优待金申领", "TY", 10, "wd", 20, True, False, 1, 4, "county", 0.3, 0.1, season="army"),
    Item("光荣牌悬挂申请", "TY", 5, "wd", 10, True, False, 1, 2, "simple", 0.2, 0.05),
    Item("生育登记服务", "WJ", 0, "wd", 5, True, True, 0, 35, "instant", 0.95, 0.02),
    Item("计划生育家庭奖励扶助申请", "WJ", 20, "wd", 30, True, False, 1, 8, "relief", 0.2, 0.2, season="family"),
    Item("计划生育特别扶助申请", "WJ", 20, "wd", 30, True, False, 1, 2, "relief", 0.2, 0.2, season="family"),
    Item("独生子女父母光荣证补办", "WJ", 5, "wd", 10, True, True, 0, 3, "simple", 0.5, 0.1),
    Item("惠农补贴“一卡通”信息变更", "CZ", 5, "wd", 10, True, False, 1, 20, "simple", 0.2, 0.1),
    Item("惠民惠农补贴资金发放查询", "CZ", 0, "wd", 3, True, True, 0, 16, "instant", 0.5, 0.01),
    Item("法律援助申请", "SF", 5, "wd", 7, True, False, 1, 7, "county", 0.0, 0.15),
    Item("人民调解申请", "SF", 15, "d", 30, False, False, 2, 12, "mediation", 0.0, 0.05),
    Item("农村危房改造补助申请", "CJ", 20, "wd", 30, True, False, 2, 4, "relief", 0.1, 0.25),
    Item("农村自建房开工备案", "CJ", 5, "wd", 10, True, False, 1, 8, "simple", 0.2, 0.15),
    Item("户外广告和门头招牌设置审批", "CJ", 5, "wd", 20, True, True, 0, 5, "license_simple", 0.4, 0.15,
         legal_share=0.7),
    Item("残疾人证办理（新办）", "CL", 20, "wd", 30, True, False, 2, 10, "card_county", 0.0, 0.15),
    Item("残疾人证换领迁移", "CL", 10, "wd", 20, True, False, 1, 6, "card", 0.3, 0.1),
    Item("残疾人辅助器具适配申请", "CL", 15, "wd", 30, True, False, 1, 3, "county", 0.2, 0.1),
]
# fmt: on
#: Multiplier from the catalogue volumes above to a town of ~2,450 cases a month (growing ~1 % a month).
VOLUME_FACTOR = 1.45

#: Month-of-year multipliers: Spring Festival and National Day dips; the autumn 医保 collection drive,
#: the spring 耕地地力 subsidy round, the early-year 计生奖扶 confirmation, 义务兵 allowances after enlistment.
SEASONS = {
    "flat": [1.05, 0.7, 1.1, 1.05, 1.0, 1.0, 0.95, 0.95, 1.05, 0.85, 1.05, 1.1],
    "medical": [0.5, 0.35, 0.4, 0.3, 0.3, 0.3, 0.4, 0.6, 2.0, 2.4, 2.4, 2.2],
    "farm": [0.2, 0.3, 2.5, 3.0, 2.0, 0.6, 0.3, 0.2, 0.4, 0.8, 0.5, 0.2],
    "family": [2.0, 1.6, 2.2, 1.2, 0.6, 0.5, 0.5, 0.5, 0.6, 0.6, 0.8, 0.9],
    "army": [2.5, 0.8, 0.8, 0.6, 0.6, 0.6, 0.6, 0.8, 2.5, 1.0, 0.6, 0.6],
}

CHANNELS = ["网上申请", "豫事办小程序", "窗口办理", "自助终端", "邮寄申请"]
CH_ONLINE, CH_MOBILE, CH_WINDOW, CH_KIOSK, CH_POST = range(5)
STATUSES = ["已办结", "不予受理", "撤回", "在办"]
OUT_COMPLETE, OUT_REJECT, OUT_WITHDRAW, OUT_OPEN = range(4)
SATISFACTION = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
DELIVERY = ["网上送达", "邮寄送达", "窗口领取"]
DEL_ONLINE, DEL_POST, DEL_WINDOW = range(3)
APPLICANT_TYPES = ["自然人", "法人"]
MAX_RESUBMISSIONS = 3

# Step kinds in the variant tables.
K_FIRST, K_BUDGET, K_RESUB, K_REJECT, K_WITHDRAW = range(5)


def limit_text(days: int, unit: str) -> str:
    """承诺/法定时限 as the platform writes it: 即办, N个工作日, N日."""
    if days == 0:
        return "即办"
    return f"{days}个工作日" if unit == "wd" else f"{days}日"


def item_codes() -> list[str]:
    """事项编码: region, office code, running number — letters keep them strings in every reader."""
    seen: dict[str, int] = {}
    codes = []
    for item in ITEMS:
        seen[item.dept] = seen.get(item.dept, 0) + 1
        codes.append(f"{REGION_CODE}{item.dept}{seen[item.dept]:03d}")
    return codes


def catalog_frame() -> pd.DataFrame:
    """The 事项目录 as the platform lists it (what the catalogue claims, not how it is used)."""
    return pd.DataFrame(
        {
            "事项编码": item_codes(),
            "事项名称": [i.name for i in ITEMS],
            "实施部门": [DEPARTMENTS[DEPT_INDEX[i.dept]][1] for i in ITEMS],
            "是否网上可办": ["是" if i.online else "否" for i in ITEMS],
            "是否全程网办": ["是" if i.fully_online else "否" for i in ITEMS],
            "承诺时限": [limit_text(i.promised, i.unit) for i in ITEMS],
            "法定时限": [limit_text(i.statutory, i.unit) for i in ITEMS],
            "最多跑动次数": np.array([i.max_visits for i in ITEMS], dtype=np.int64),
        }
    )
