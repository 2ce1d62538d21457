"""Seeded demo data of a township 便民服务中心 (沙堰镇), shaped like real platform exports.

Why it exists: the dashboard, the ingest path and the benchmarks need data that behaves like a
real town's — with the problems the field study found — without handing out anyone's records.
The model, in short:

- a catalogue of ~60 services of 12 town offices, each with a promised (承诺) and a statutory (法定)
  time limit, online / fully-online flags and a maximum number of visits;
- 18 months of cases ending with ``end_month``; the online share (网上申请 + 豫事办小程序) rises from
  about 20 % to about 55 %; four services are listed as online-capable but never used online (摆设);
- each case walks a step template (收件/申请 → 受理 → 审核 … → 办结) across the centre's 综合窗口,
  the office, the village committee (村委会) and county bureaux (县…局), so there are handovers;
  补正 loops repeat the review; 市场监管所 and 自然资源所 are clearly slow (long waits at their steps);
- timestamps only fall in office hours (08:30–12:00, 14:30–17:30) of working days of the official
  calendar (调休 included); cases still running at the cut-off are 在办 and their events stop at the
  step in progress;
- applicants have fake but well-formed 姓名 / 身份证号 / 手机号 so PII stripping can be tested.

Everything is vectorised per month (numpy ``Generator`` seeded from ``(seed, year, month)``), so the
same seed gives identical frames and files, and ``iter_event_chunks`` streams tens of millions of
events with bounded memory for the benchmarks.
"""

from __future__ import annotations

import argparse
import calendar as _calendar
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import clock

DEFAULT_SEED = 20261126
DEFAULT_MONTHS = 18
#: The shipped sample in ``data/sample`` (kept small: a few MB).
SAMPLE_SCALE = 0.06
SAMPLE_END_MONTH = "2026-11"

#: Largest frame ``iter_event_chunks`` aims to yield (a month is split into runs of days above this).
CHUNK_EVENTS = 1_000_000

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
#: Median extra wait (working days) at a unit's substantive steps: slow offices, county handovers, villages.
UNIT_EXTRA_DAYS = np.zeros(len(UNITS))
for _code, (_share, _extra) in SLOW_DEPARTMENTS.items():
    UNIT_EXTRA_DAYS[1 + DEPT_INDEX[_code]] = _extra
UNIT_EXTRA_DAYS[1 + N_DEPT : 1 + 2 * N_DEPT] = 0.1
UNIT_EXTRA_DAYS[UNIT_VILLAGE] = 0.2

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


# --- the static tables the vectorised generator indexes into -----------------------------------


class _Tables(NamedTuple):
    steps: list[str]
    item_dept: np.ndarray
    item_volume: np.ndarray
    item_season: np.ndarray  # (n_items, 12)
    item_affinity: np.ndarray
    item_resub: np.ndarray
    item_legal: np.ndarray
    item_kiosk: np.ndarray
    item_post: np.ndarray
    item_budget_ws: np.ndarray  # promised time in working seconds (0 for 即办)
    item_time_share: np.ndarray  # median share of the promised time a case uses
    item_full: np.ndarray
    item_instant: np.ndarray
    item_certificate: np.ndarray
    var_index: np.ndarray  # (item, intake?, outcome, resubmissions) -> variant
    var_off: np.ndarray
    var_len: np.ndarray
    flat_step: np.ndarray
    flat_unit: np.ndarray
    flat_weight: np.ndarray
    flat_kind: np.ndarray
    flat_extra_ws: np.ndarray  # median extra wait in working seconds
    staff_names: list[str]
    staff_off: np.ndarray
    staff_n: np.ndarray


def _variant_steps(item: Item, intake: bool, outcome: int, resub: int) -> list[tuple[str, int, float, int]]:
    """The step list of one case variant: (step, unit, budget weight, kind)."""
    dept = DEPT_INDEX[item.dept]
    roles = {"D": 1 + dept, "X": 1 + N_DEPT + dept, "V": UNIT_VILLAGE, "C": UNIT_CENTRE}
    if item.partner:
        roles["P"] = 1 + DEPT_INDEX[item.partner]
    # Window, kiosk and post cases are received and accepted at the centre; online ones are pre-checked
    # there (预审) and accepted by the office itself.
    steps = [("收件" if intake else "申请", UNIT_CENTRE, 0.0, K_FIRST)]
    if not intake:
        steps.append(("预审", UNIT_CENTRE, 1.0, K_BUDGET))
    acceptor = UNIT_CENTRE if intake else roles["D"]
    if outcome == OUT_REJECT:
        return steps + [("不予受理", acceptor, 0.0, K_REJECT)]
    steps.append(("受理", acceptor, 0.6, K_BUDGET))
    if outcome == OUT_WITHDRAW:
        return steps + [("撤回", roles["D"], 0.0, K_WITHDRAW)]
    body = [(name, roles[role], weight, K_BUDGET) for name, role, weight in TEMPLATES[item.template]]
    review = next((k for k, s in enumerate(body) if s[0] in REVIEW_STEPS), 0)
    loop = [("补正", roles["D"], 0.0, K_RESUB), body[review]] * resub
    body = body[: review + 1] + loop + body[review + 1 :]
    if item.promised:
        # The result goes out through the window that took the case in, or online / by post from the office.
        body.append(("送达", UNIT_CENTRE if intake else roles["D"], 0.5, K_BUDGET))
    return steps + body + [("办结", roles["D"], 0.2, K_BUDGET)]


def _queues(step: str, unit: int, kind: int) -> bool:
    """Whether a step waits in the unit's queue: all steps of a slow office (but closing), else substantive ones."""
    if kind != K_BUDGET or step == "办结":
        return False
    slow_units = {1 + DEPT_INDEX[code] for code in SLOW_DEPARTMENTS}
    return unit in slow_units or step not in ("预审", "受理", "送达")


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Flatten the catalogue and every case variant into arrays, once."""
    n_items = len(ITEMS)
    steps: list[str] = []
    step_id: dict[str, int] = {}
    var_index = np.zeros((n_items, 2, 3, MAX_RESUBMISSIONS + 1), dtype=np.int64)
    off, length = [], []
    f_step, f_unit, f_weight, f_kind, f_extra = [], [], [], [], []
    for i, item in enumerate(ITEMS):
        for intake in (0, 1):
            for outcome in (OUT_COMPLETE, OUT_REJECT, OUT_WITHDRAW):
                for resub in range(MAX_RESUBMISSIONS + 1):
                    if outcome != OUT_COMPLETE and resub:
                        var_index[i, intake, outcome, resub] = var_index[i, intake, outcome, 0]
                        continue
                    var_index[i, intake, outcome, resub] = len(off)
                    seq = _variant_steps(item, bool(intake), outcome, resub)
                    off.append(len(f_step))
                    length.append(len(seq))
                    for name, unit, weight, kind in seq:
                        f_step.append(step_id.setdefault(name, len(step_id)))
                        f_unit.append(unit)
                        f_weight.append(weight)
                        f_kind.append(kind)
                        f_extra.append(UNIT_EXTRA_DAYS[unit] * DAY_SECONDS if _queues(name, unit, kind) else 0.0)
    steps = list(step_id)
    season = np.array([SEASONS[i.season] for i in ITEMS])
    budget = np.array([i.promised * DAY_SECONDS * (1.0 if i.unit == "wd" else 5 / 7) for i in ITEMS], dtype=np.float64)
    share = np.array([SLOW_DEPARTMENTS.get(i.dept, (NORMAL_TIME_SHARE, 0))[0] for i in ITEMS])
    staff_names, staff_off, staff_n = _staff()
    return _Tables(
        steps=steps,
        item_dept=np.array([DEPT_INDEX[i.dept] for i in ITEMS]),
        item_volume=np.array([i.volume for i in ITEMS]) * VOLUME_FACTOR,
        item_season=season,
        item_affinity=np.array([i.affinity if i.online else 0.0 for i in ITEMS]),
        item_resub=np.array([i.resubmission for i in ITEMS]),
        item_legal=np.array([i.legal_share for i in ITEMS]),
        item_kiosk=np.array([i.kiosk for i in ITEMS]),
        item_post=np.array([i.post for i in ITEMS]),
        item_budget_ws=budget,
        item_time_share=share,
        item_full=np.array([i.fully_online for i in ITEMS]),
        item_instant=np.array([i.promised == 0 for i in ITEMS]),
        item_certificate=np.array([i.template.startswith(("card", "license")) for i in ITEMS]),
        var_index=var_index,
        var_off=np.array(off, dtype=np.int64),
        var_len=np.array(length, dtype=np.int64),
        flat_step=np.array(f_step, dtype=np.int64),
        flat_unit=np.array(f_unit, dtype=np.int64),
        flat_weight=np.array(f_weight),
        flat_kind=np.array(f_kind, dtype=np.int64),
        flat_extra_ws=np.array(f_extra),
        staff_names=staff_names,
        staff_off=staff_off,
        staff_n=staff_n,
    )


# --- fake people -------------------------------------------------------------------------------

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
MALE_CHARS = list("伟刚勇军杰涛明超强磊峰辉建国华平志文斌林波鹏宇浩俊海东振兴亮晓飞成庆春永红旭德才家豪鑫广新")
FEMALE_CHARS = list("丽芳娟敏静艳秀英霞燕玲萍红梅兰琴桂云雪莉娜婷倩慧佳颖欣悦晶月凤玉洁萌秋华美春荣彩")
#: Nanyang county codes for ID numbers of people from outside the town's county.
OTHER_REGIONS = [411302, 411303, 411321, 411322, 411324, 411325, 411326, 411327, 411328, 411329, 411330, 411381]
PHONE_PREFIXES = [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159,
                  166, 173, 175, 176, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199]  # fmt: skip
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
BRAND_WORDS = ["宏达", "鑫源", "丰收", "兴旺", "金穗", "绿源", "福顺", "永盛", "华泰", "恒通", "瑞丰", "裕民",
               "富农", "嘉禾", "顺发", "康源", "润泽", "天成", "众诚", "德胜"]  # fmt: skip


def _names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    """Chinese names: a common surname and one or two given-name characters matching the sex."""
    n = len(male)
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    male_chars, female_chars = np.array(MALE_CHARS), np.array(FEMALE_CHARS)
    g1 = np.where(
        male, male_chars[rng.integers(0, len(MALE_CHARS), n)], female_chars[rng.integers(0, len(FEMALE_CHARS), n)]
    )
    g2 = np.where(
        male, male_chars[rng.integers(0, len(MALE_CHARS), n)], female_chars[rng.integers(0, len(FEMALE_CHARS), n)]
    )
    g2 = np.where(rng.random(n) < 0.75, g2, "")
    return np.char.add(np.char.add(sur, g1), g2)


def _id_numbers(rng: np.random.Generator, male: np.ndarray, today: dt.date) -> np.ndarray:
    """18-digit 身份证号: region, birth date (adults), sequence whose parity gives the sex, MOD 11-2 check."""
    n = len(male)
    region = np.where(rng.random(n) < 0.82, REGION_CODE, np.array(OTHER_REGIONS)[rng.integers(0, 12, n)])
    month_start = today.replace(day=1)  # avoids 29 February in the year arithmetic
    first = np.datetime64(month_start.replace(year=today.year - 88), "D")
    last = np.datetime64(month_start.replace(year=today.year - 18), "D")
    birth = first + rng.integers(0, int((last - first).astype(int)), n).astype("timedelta64[D]")
    ymd = birth.astype("datetime64[D]").astype(str)
    ymd_int = np.char.replace(ymd, "-", "").astype(np.int64)
    seq = rng.integers(0, 500, n) * 2 + male.astype(np.int64)
    body = region.astype(np.int64) * 10**11 + ymd_int * 1000 + seq
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1, dtype=np.int64)) % 10
    check = ID_CHECK[(digits @ ID_WEIGHTS) % 11]
    return np.char.add(body.astype(str), check)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array(PHONE_PREFIXES, dtype=np.int64)[rng.integers(0, len(PHONE_PREFIXES), n)]
    return (prefix * 10**8 + rng.integers(0, 10**8, n)).astype(str)


def _credit_codes(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """统一社会信用代码 (GB 32100): 9 + class, region, 9-character body, mod-31 check character."""
    n = len(kind)
    alpha = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
    idx = np.zeros((n, 18), dtype=np.int64)
    idx[:, 0] = 9
    idx[:, 1] = kind
    idx[:, 2:8] = np.array([int(c) for c in str(REGION_CODE)])
    idx[:, 8:17] = rng.integers(0, 31, (n, 9))
    idx[:, 8] = rng.integers(0, 10, n)  # the organisation-code part usually starts with a digit
    check = 31 - (idx[:, :17] @ USCC_WEIGHTS) % 31
    idx[:, 17] = np.where(check == 31, 0, check)
    return np.ascontiguousarray(alpha[idx]).view("S18").ravel().astype(str)


def _legal_entities(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Company / cooperative / shop names with matching credit-code classes (1 company, 2 个体, 3 合作社)."""
    kind = rng.choice([1, 2, 3], n, p=[0.45, 0.25, 0.3])
    brand = np.array(BRAND_WORDS)[rng.integers(0, len(BRAND_WORDS), n)]
    company = np.char.add(
        np.char.add("南阳", brand),
        np.array(["农业科技有限公司", "商贸有限公司", "建材有限公司", "农机服务有限公司"])[rng.integers(0, 4, n)],
    )
    shop = np.char.add(np.char.add(TOWN, brand), np.array(["超市", "饭店", "农资店", "食品坊"])[rng.integers(0, 4, n)])
    coop = np.char.add(
        np.char.add(TOWN, brand),
        np.array(["种植专业合作社", "养殖专业合作社", "农机专业合作社"])[rng.integers(0, 3, n)],
    )
    names = np.where(kind == 1, company, np.where(kind == 2, shop, coop))
    return names, _credit_codes(rng, kind)


def _staff() -> tuple[list[str], np.ndarray, np.ndarray]:
    """A handful of fake staff per unit; fixed (not seeded) because a town's staff do not change per draw."""
    rng = np.random.default_rng(7)
    counts = np.array([6] + [3] * N_DEPT + [2] * N_DEPT + [5])
    counts[1 + DEPT_INDEX["SB"]] = 4
    counts[1 + DEPT_INDEX["HJ"]] = 4
    names = _names(rng, rng.random(int(counts.sum())) < 0.5).tolist()
    return names, np.cumsum(counts) - counts, counts


def _apply_people(rng: np.random.Generator, applicant_type: np.ndarray, today: dt.date) -> dict[str, np.ndarray]:
    """姓名 / 证件号码 / 联系电话 per case; pools smaller than the case count so people come back."""
    n = len(applicant_type)
    legal = applicant_type == 1
    n_nat, n_legal = int((~legal).sum()), int(legal.sum())
    pool = max(10, int(n_nat * 0.7))
    male = rng.random(pool) < 0.5
    p_name, p_id, p_phone = _names(rng, male), _id_numbers(rng, male, today), _phones(rng, pool)
    e_pool = max(5, int(n_legal * 0.4))
    e_name, e_code = _legal_entities(rng, e_pool)
    e_phone = _phones(rng, e_pool)
    name = np.empty(n, dtype=object)
    ident = np.empty(n, dtype=object)
    phone = np.empty(n, dtype=object)
    who = rng.integers(0, pool, n_nat)
    name[~legal], ident[~legal], phone[~legal] = p_name[who], p_id[who], p_phone[who]
    who = rng.integers(0, e_pool, n_legal)
    name[legal], ident[legal], phone[legal] = e_name[who], e_code[who], e_phone[who]
    phone[rng.random(n) < 0.02] = None  # a few records without a phone number
    return {"申请人姓名": name, "证件号码": ident, "联系电话": phone}


# --- calendar ----------------------------------------------------------------------------------


def _is_workday(day: dt.date) -> bool:
    """Official calendar with 调休; plain Monday–Friday outside the years chinese_calendar knows."""
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, ImportError):
        return day.weekday() < 5


def _parse_month(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in text.strip().split("-")[:2])
        dt.date(year, month, 1)
    except ValueError as exc:
        raise ValueError(f"end_month must look like 2026-11, got {text!r}") from exc
    return year, month


@dataclass
class _Context:
    """The window being generated: months, the working-day list and the cut-off."""

    months: list[tuple[int, int]]
    cutoff: dt.date  # last day of data; also the reference date for applicants' ages
    day_bytes: np.ndarray  # (n_workdays, 11) 'YYYY-MM-DD ' per workday
    day_ymd: np.ndarray  # YYYYMMDD as int per workday
    month_days: list[np.ndarray]  # usable workday indices per month
    month_fraction: list[float]  # usable share of the month's workdays (partial current month)
    cutoff_ws: int  # working-clock second of "now": nothing is submitted or done after it
    today_index: int = -1  # today's workday index when today's office day is under way, else -1


def _office_seconds_by(moment: dt.time) -> int:
    """Office seconds of a day gone by ``moment`` (to the minute: it is part of a cache key)."""
    t = moment.hour * 3600 + moment.minute * 60
    return min(max(t - AM_OPEN, 0), AM_SECONDS) + min(max(t - PM_OPEN, 0), DAY_SECONDS - AM_SECONDS)


def _context(end_month: str | None, months: int) -> _Context:
    """The window for ``end_month`` (None: this month, cut at now — a loaded demo holds no future time)."""
    if end_month is not None:
        return _window(end_month, months, None, 0)
    now = clock.now()
    return _window(None, months, now.date(), _office_seconds_by(now.time()))


@lru_cache(maxsize=8)
def _window(end_month: str | None, months: int, today: dt.date | None, today_elapsed: int) -> _Context:
    if end_month is None:
        assert today is not None
        year, month, cutoff = today.year, today.month, today
    else:
        year, month = _parse_month(end_month)
        cutoff = dt.date(year, month, _calendar.monthrange(year, month)[1])
    if months < 1:
        raise ValueError("months must be at least 1")
    index = year * 12 + month - 1
    window = [((index - k) // 12, (index - k) % 12 + 1) for k in range(months - 1, -1, -1)]
    first = dt.date(window[0][0], window[0][1], 1)
    last = dt.date(year, month, _calendar.monthrange(year, month)[1])
    days = [first + dt.timedelta(d) for d in range((last - first).days + 1)]
    workdays = [d for d in days if _is_workday(d)]
    # Today counts once its office day has begun; its data stops at now (today_elapsed office seconds).
    usable = np.array([d < cutoff or (d == cutoff and (end_month is not None or today_elapsed > 0)) for d in workdays])
    today_index = workdays.index(cutoff) if end_month is None and cutoff in workdays and today_elapsed > 0 else -1
    month_of = np.array([d.year * 12 + d.month - 1 for d in workdays])
    month_days, fraction = [], []
    for y, m in window:
        in_month = month_of == y * 12 + m - 1
        month_days.append(np.flatnonzero(in_month & usable))
        fraction.append(float((in_month & usable).sum() / max(in_month.sum(), 1)))
    text = "".join(d.isoformat() + " " for d in workdays).encode()
    day_bytes = np.frombuffer(text, dtype=np.uint8).reshape(len(workdays), 11)
    ymd = np.array([d.year * 10000 + d.month * 100 + d.day for d in workdays], dtype=np.int64)
    cutoff_ws = int(usable.sum()) * DAY_SECONDS
    if today_index >= 0:
        cutoff_ws = today_index * DAY_SECONDS + today_elapsed
    return _Context(window, cutoff, day_bytes, ymd, month_days, fraction, cutoff_ws, today_index)


@lru_cache(maxsize=1)
def _clock_bytes() -> np.ndarray:
    """'HH:MM:SS' for every second of office time."""
    sec = np.arange(DAY_SECONDS)
    clock = np.where(sec < AM_SECONDS, AM_OPEN + sec, PM_OPEN + sec - AM_SECONDS)
    text = "".join(f"{c // 3600:02d}:{c // 60 % 60:02d}:{c % 60:02d}" for c in clock.tolist()).encode()
    return np.frombuffer(text, dtype=np.uint8).reshape(DAY_SECONDS, 8)


def _ws_text(ctx: _Context, ws: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Working-clock seconds -> 'YYYY-MM-DD HH:MM:SS' strings (null where not valid), built as bytes."""
    ws = np.asarray(ws, dtype=np.int64)
    n = len(ws)
    safe = ws if valid is None else np.where(valid, ws, 0)
    out = np.empty((n, 19), dtype=np.uint8)
    out[:, :11] = ctx.day_bytes[safe // DAY_SECONDS]
    out[:, 11:] = _clock_bytes()[safe % DAY_SECONDS]
    arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(19), n, [None, pa.py_buffer(out)])
    arr = arr.cast(pa.binary()).cast(pa.string())
    if valid is not None:
        arr = pc.if_else(pa.array(valid), arr, pa.scalar(None, pa.string()))
    return arr


def _take(values: list[str], codes: np.ndarray) -> pa.Array:
    """Strings by code (-1 = null), via Arrow so millions of rows cost milliseconds."""
    codes = np.asarray(codes, dtype=np.int64)
    mask = codes < 0
    return pa.array(values, pa.string()).take(pa.array(codes, mask=mask if mask.any() else None))


def _series(arr: pa.Array) -> pd.Series:
    return pd.Series(arr, dtype="str")


# --- the month simulation ----------------------------------------------------------------------


@dataclass
class _Month:
    """Numeric result of one month: case-level and event-level arrays (events already cut off)."""

    case_id: np.ndarray
    item: np.ndarray
    channel: np.ndarray
    applicant_type: np.ndarray
    status: np.ndarray
    submit_ws: np.ndarray
    accept_ws: np.ndarray  # -1 when not accepted (yet)
    done_ws: np.ndarray  # -1 when open
    visits: np.ndarray
    resubmissions: np.ndarray
    satisfaction: np.ndarray  # -1 unrated
    delivery: np.ndarray
    ev_case_id: np.ndarray
    ev_item: np.ndarray
    ev_step: np.ndarray
    ev_unit: np.ndarray
    ev_staff: np.ndarray  # -1 = none (online submission by the applicant)
    ev_start_ws: np.ndarray  # -1 = none (first step)
    ev_done_ws: np.ndarray

    @property
    def n_events(self) -> int:
        return len(self.ev_done_ws)


def _online_probabilities(lam: np.ndarray, affinity: np.ndarray, target: float) -> np.ndarray:
    """Per-item online probability min(0.97, affinity·k), with k chosen so the month hits its target share."""
    total = lam.sum()
    if total <= 0:
        return np.zeros_like(affinity)
    lo, hi = 0.0, 50.0
    for _ in range(50):
        k = (lo + hi) / 2
        share = (lam * np.minimum(0.97, affinity * k)).sum() / total
        lo, hi = (k, hi) if share < target else (lo, k)
    return np.minimum(0.97, affinity * (lo + hi) / 2)


def _lognormal(rng: np.random.Generator, median: np.ndarray | float, sigma: float, n: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def _simulate_month(ctx: _Context, i: int, seed: int, scale: float, part: tuple[int, int] = (0, 1)) -> _Month:
    """All cases submitted in month ``i`` of the window, and their steps up to the cut-off.

    ``part=(k, parts)`` simulates only the k-th of ``parts`` runs of consecutive working days (its own
    random stream), so a huge month can be produced in slices of bounded size.
    """
    t = _tables()
    year, month = ctx.months[i]
    k, parts = part
    key = [seed, year, month] if parts == 1 else [seed, year, month, parts, k]
    rng = np.random.default_rng(np.random.SeedSequence(key))
    all_days = ctx.month_days[i]
    days = np.array_split(all_days, parts)[k] if parts > 1 else all_days
    position = i / max(len(ctx.months) - 1, 1)  # 0 in the first month, 1 in the last

    fraction = ctx.month_fraction[i] * (len(days) / len(all_days) if len(all_days) else 0.0)
    lam = t.item_volume * t.item_season[:, month - 1] * (1 + 0.01 * i) * scale * fraction
    counts = rng.poisson(lam) if len(days) else np.zeros(len(ITEMS), dtype=np.int64)
    n = int(counts.sum())
    item = np.repeat(np.arange(len(ITEMS)), counts)

    # Channel: online share climbs from ~20 % to ~55 %; mobile takes a growing part of it.
    target = 0.20 + 0.35 * position + rng.normal(0, 0.008)
    p_online = _online_probabilities(lam, t.item_affinity, target)
    online = rng.random(n) < p_online[item]
    mobile = rng.random(n) < 0.35 + 0.35 * position
    u = rng.random(n)
    offline = np.where(
        u < t.item_kiosk[item], CH_KIOSK, np.where(u < t.item_kiosk[item] + t.item_post[item], CH_POST, CH_WINDOW)
    )
    channel = np.where(online, np.where(mobile, CH_MOBILE, CH_ONLINE), offline)

    o = rng.random(n)
    outcome = np.where(o < 0.015, OUT_REJECT, np.where(o < 0.025, OUT_WITHDRAW, OUT_COMPLETE))
    q = rng.random(n)
    p1 = t.item_resub[item]
    resub = (q < p1).astype(np.int64) + (q < p1 * 0.25) + (q < p1 * 0.05)
    resub[outcome != OUT_COMPLETE] = 0
    applicant_type = (rng.random(n) < t.item_legal[item]).astype(np.int64)

    # Submission in office time of a working day of the month; ids are numbered in submission order.
    day = days[rng.integers(0, max(len(days), 1), n)] if n else np.zeros(0, dtype=np.int64)
    offset = rng.integers(0, DAY_SECONDS, n)
    if ctx.today_index >= 0:  # today's cases arrived before now
        offset = np.where(
            day == ctx.today_index, offset % max(ctx.cutoff_ws - ctx.today_index * DAY_SECONDS, 1), offset
        )
    submit = day * DAY_SECONDS + offset
    order = np.argsort(submit, kind="stable")
    item, channel, outcome, resub, applicant_type, submit, day = (
        a[order] for a in (item, channel, outcome, resub, applicant_type, submit, day)
    )
    _, first_of_day, day_group = np.unique(day, return_index=True, return_inverse=True)
    seq = np.arange(n) - first_of_day[day_group] + 1
    if n and seq.max() >= 100_000:
        raise ValueError("more than 99,999 cases a day do not fit the 办件编号 layout; lower the volume")
    case_id = REGION_CODE * 10**13 + ctx.day_ymd[day] * 10**5 + seq

    # Expand every case into its variant's steps.
    intake = (channel >= CH_WINDOW).astype(np.int64)
    variant = t.var_index[item, intake, outcome, resub]
    lens = t.var_len[variant]
    starts = np.cumsum(lens) - lens
    n_ev = int(lens.sum())
    case_of = np.repeat(np.arange(n), lens)
    flat = t.var_off[variant][case_of] + np.arange(n_ev) - starts[case_of]
    kind = t.flat_kind[flat]
    unit = t.flat_unit[flat]

    # Each completed case uses a share of its promised time (longer in the slow offices; a few stall);
    # 即办 cases take minutes. The budget is split over the steps by weight with gamma noise.
    share = _lognormal(rng, t.item_time_share[item], 0.5, n)
    share[rng.random(n) < 0.004] *= 6
    instant = t.item_instant[item]
    # 即办 cases are nearly always finished on the day they come in (the window stays until it is done).
    same_day = np.maximum(DAY_SECONDS - submit % DAY_SECONDS - 900, 60)
    quick = _lognormal(rng, 1200.0, 0.7, n)
    quick = np.where(rng.random(n) < 0.96, np.minimum(quick, same_day), quick)
    budget = np.where(instant, quick, t.item_budget_ws[item] * share)
    budget[outcome != OUT_COMPLETE] = _lognormal(rng, 0.3 * DAY_SECONDS, 0.8, int((outcome != OUT_COMPLETE).sum()))
    g = rng.gamma(2.0, 0.5, n_ev) * t.flat_weight[flat]
    g_sum = np.bincount(case_of, weights=g, minlength=n)
    duration = budget[case_of] * g / np.maximum(g_sum[case_of], 1e-9)
    # Absolute times: the applicant's 补正, a refusal, a withdrawal; extra waits at slow units.
    z = rng.standard_normal(n_ev)
    duration += np.select(
        [kind == K_RESUB, kind == K_REJECT, kind == K_WITHDRAW],
        [2.0 * DAY_SECONDS * np.exp(0.7 * z), 0.3 * DAY_SECONDS * np.exp(0.8 * z), 3.0 * DAY_SECONDS * np.exp(0.8 * z)],
        0.0,
    )
    duration += t.flat_extra_ws[flat] * np.exp(0.6 * rng.standard_normal(n_ev))
    overhead = np.where(instant[case_of], 20 + rng.integers(0, 100, n_ev), 60 + rng.integers(0, 240, n_ev))
    duration = np.floor(duration).astype(np.int64) + overhead
    duration[kind == K_FIRST] = 0
    elapsed = np.cumsum(duration)
    done = submit[case_of] + elapsed - elapsed[starts][case_of]
    service = np.minimum(duration * rng.uniform(0.15, 0.6, n_ev), 3 * 3600).astype(np.int64)
    start = np.where(kind == K_FIRST, -1, done - service)
    staff = t.staff_off[unit] + (rng.random(n_ev) * t.staff_n[unit]).astype(np.int64)
    staff[(kind == K_FIRST) & (intake[case_of] == 0)] = -1

    # Cut off at the end of the window: open cases keep only the steps finished by then.
    kept = done < ctx.cutoff_ws
    n_kept = np.bincount(case_of, weights=kept, minlength=n).astype(np.int64)
    closed = n_kept == lens
    last = starts + n_kept - 1
    status = np.where(closed, outcome, OUT_OPEN)
    step_accept = t.steps.index("受理")
    step_resub = t.steps.index("补正")
    accept = np.full(n, -1, dtype=np.int64)
    is_accept = kept & (t.flat_step[flat] == step_accept)
    accept[case_of[is_accept]] = done[is_accept]
    done_case = np.where(closed, done[last], -1)
    resub_so_far = np.bincount(case_of, weights=kept & (t.flat_step[flat] == step_resub), minlength=n).astype(np.int64)

    # Visits (到现场次数): none for fully online cases; window cases come 1–3 times.
    online_full = (channel <= CH_MOBILE) & t.item_full[item]
    back = rng.binomial(resub_so_far, 0.8)
    pickup = (~instant) & (rng.random(n) < 0.5)
    delivery = np.where(
        channel == CH_POST,
        DEL_POST,
        np.where(
            channel <= CH_MOBILE,
            np.where(
                online_full,
                np.where(t.item_certificate[item] & (rng.random(n) < 0.6), DEL_POST, DEL_ONLINE),
                np.where(rng.random(n) < 0.7, DEL_WINDOW, DEL_POST),
            ),
            np.where(rng.random(n) < 0.85, DEL_WINDOW, DEL_POST),
        ),
    )
    visits = np.select(
        [online_full, channel <= CH_MOBILE, channel == CH_POST],
        [0, 1 + rng.binomial(resub_so_far, 0.5), rng.binomial(resub_so_far, 0.3)],
        1 + back + (pickup & (delivery == DEL_WINDOW)),
    )
    visits = np.minimum(visits, 3)
    visits[(status == OUT_REJECT) & (channel <= CH_MOBILE)] = 0

    # Satisfaction: ~30 % unrated; worse when the case needed 补正 or ran long.
    troubled = (resub_so_far > 0) | (share > 1.0)
    r = rng.random(n)
    good = np.searchsorted(np.cumsum([0.72, 0.21, 0.05, 0.015, 0.005]), r, side="right")
    bad = np.searchsorted(np.cumsum([0.5, 0.25, 0.1, 0.1, 0.05]), r, side="right")
    satisfaction = np.minimum(np.where(troubled, bad, good), 4)
    satisfaction[(status != OUT_COMPLETE) | (rng.random(n) < 0.3)] = -1

    ev_case = case_of[kept]
    return _Month(
        case_id=case_id,
        item=item,
        channel=channel,
        applicant_type=applicant_type,
        status=status,
        submit_ws=submit,
        accept_ws=accept,
        done_ws=done_case,
        visits=visits.astype(np.int64),
        resubmissions=resub_so_far,
        satisfaction=satisfaction,
        delivery=delivery,
        ev_case_id=case_id[ev_case],
        ev_item=item[ev_case],
        ev_step=t.flat_step[flat][kept],
        ev_unit=unit[kept],
        ev_staff=staff[kept],
        ev_start_ws=start[kept],
        ev_done_ws=done[kept],
    )


def _events_frame(ctx: _Context, m: _Month) -> pd.DataFrame:
    t = _tables()
    return pd.DataFrame(
        {
            "办件编号": _series(pa.array(m.ev_case_id).cast(pa.string())),
            "事项名称": _series(_take([i.name for i in ITEMS], m.ev_item)),
            "环节名称": _series(_take(t.steps, m.ev_step)),
            "办理部门": _series(_take(UNITS, m.ev_unit)),
            "经办人": _series(_take(t.staff_names, m.ev_staff)),
            "开始时间": _series(_ws_text(ctx, m.ev_start_ws, m.ev_start_ws >= 0)),
            "完成时间": _series(_ws_text(ctx, m.ev_done_ws)),
        }
    )


def _cases_frame(ctx: _Context, m: _Month, seed: int) -> pd.DataFrame:
    codes = item_codes()
    people = _apply_people(np.random.default_rng(np.random.SeedSequence([seed, 0])), m.applicant_type, ctx.cutoff)
    promised = [limit_text(i.promised, i.unit) for i in ITEMS]
    statutory = [limit_text(i.statutory, i.unit) for i in ITEMS]
    dept_names = [DEPARTMENTS[DEPT_INDEX[i.dept]][1] for i in ITEMS]
    return pd.DataFrame(
        {
            "办件编号": _series(pa.array(m.case_id).cast(pa.string())),
            "事项编码": _series(_take(codes, m.item)),
            "事项名称": _series(_take([i.name for i in ITEMS], m.item)),
            "实施部门": _series(_take(dept_names, m.item)),
            "申请渠道": _series(_take(CHANNELS, m.channel)),
            "申请人类型": _series(_take(APPLICANT_TYPES, m.applicant_type)),
            "申请人姓名": pd.Series(people["申请人姓名"], dtype="str"),
            "证件号码": pd.Series(people["证件号码"], dtype="str"),
            "联系电话": pd.Series(people["联系电话"], dtype="str"),
            "申请时间": _series(_ws_text(ctx, m.submit_ws)),
            "受理时间": _series(_ws_text(ctx, m.accept_ws, m.accept_ws >= 0)),
            "办结时间": _series(_ws_text(ctx, m.done_ws, m.done_ws >= 0)),
            "办件状态": _series(_take(STATUSES, m.status)),
            "承诺时限": _series(_take(promised, m.item)),
            "法定时限": _series(_take(statutory, m.item)),
            "到现场次数": m.visits,
            "补正次数": m.resubmissions,
            "满意度": _series(_take(SATISFACTION, m.satisfaction)),
            "结果送达方式": _series(_take(DELIVERY, m.delivery)),
        }
    )


def _concat(months: list[_Month]) -> _Month:
    fields = _Month.__dataclass_fields__
    return _Month(**{f: np.concatenate([getattr(m, f) for m in months]) for f in fields})


# --- public API --------------------------------------------------------------------------------


@dataclass
class DemoData:
    """One generated town: the case-level export, the step-level export and the catalogue."""

    cases: pd.DataFrame
    events: pd.DataFrame
    catalog: pd.DataFrame
    first_month: str = ""  # 'YYYY-MM' of the window, for export titles
    last_month: str = ""


def generate(
    seed: int = DEFAULT_SEED, end_month: str | None = None, months: int = DEFAULT_MONTHS, scale: float = 1.0
) -> DemoData:
    """A town's ``months`` months of cases ending with ``end_month`` (default: this month, cut at today).

    ``scale`` multiplies the case volume (1.0 ≈ 2,450 cases and ~16,000 events a month). An explicit
    ``end_month`` is cut off at the end of that month, so the output depends only on the arguments.
    """
    ctx = _context(end_month, months)
    sims = [_simulate_month(ctx, i, seed, scale) for i in range(len(ctx.months))]
    m = _concat(sims)
    first, last = ctx.months[0], ctx.months[-1]
    return DemoData(
        cases=_cases_frame(ctx, m, seed),
        events=_events_frame(ctx, m),
        catalog=catalog_frame(),
        first_month=f"{first[0]}-{first[1]:02d}",
        last_month=f"{last[0]}-{last[1]:02d}",
    )


@lru_cache(maxsize=8)
def _events_per_unit_scale(seed: int, end_month: str | None, months: int) -> float:
    """Events a window produces per unit of scale, from a quick numeric pilot run."""
    ctx = _context(end_month, months)
    pilot = 1.0
    total = sum(_simulate_month(ctx, i, seed, pilot).n_events for i in range(len(ctx.months)))
    return max(total / pilot, 1.0)


def iter_event_chunks(
    target_events: int, seed: int = DEFAULT_SEED, end_month: str | None = None, months: int = DEFAULT_MONTHS
) -> Iterator[pd.DataFrame]:
    """About ``target_events`` events (the events-export layout), month by month, for benchmarks.

    The scale is calibrated by a small pilot run. Each frame is one month, or a run of its days when
    a month would exceed ~CHUNK_EVENTS events, so memory stays bounded whatever the target.
    """
    if target_events <= 0:
        return
    ctx = _context(end_month, months)
    scale = target_events / _events_per_unit_scale(seed, end_month, months)
    parts = max(1, int(np.ceil(target_events / len(ctx.months) * 1.3 / CHUNK_EVENTS)))
    for i in range(len(ctx.months)):
        for k in range(parts):
            m = _simulate_month(ctx, i, seed, scale, (k, parts))
            if m.n_events:
                yield _events_frame(ctx, m)


def _month_title(month: str) -> str:
    year, mon = _parse_month(month)
    return f"{year}年{mon}月"


def write_exports(out_dir: Path, data: DemoData) -> dict[str, Path]:
    """Write the three files the way the platform exports them (GBK CSV with title and 合计 rows, …)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    first = data.first_month or str(data.cases["申请时间"].min())[:7]
    last = data.last_month or str(data.cases["申请时间"].max())[:7]
    paths = {
        "cases": out_dir / "cases_export.csv",
        "events": out_dir / "events_export.csv",
        "catalog": out_dir / "service_catalog.xlsx",
    }

    ncol = len(data.cases.columns)
    title = f"{TOWN}便民服务中心办件明细表（{_month_title(first)}—{_month_title(last)}）"
    buf = io.StringIO()
    buf.write(title + "," * (ncol - 1) + "\r\n")
    data.cases.to_csv(buf, index=False, lineterminator="\r\n")
    buf.write(f"合计,{len(data.cases)}" + "," * (ncol - 2) + "\r\n")
    paths["cases"].write_bytes(buf.getvalue().encode("gbk"))

    data.events.to_csv(paths["events"], index=False, encoding="utf-8", lineterminator="\n")

    _write_catalog_xlsx(paths["catalog"], data.catalog, last)
    return paths


def _write_catalog_xlsx(path: Path, catalog: pd.DataFrame, last_month: str) -> None:
    """Title merged across the header width on row 1, header on row 2; fixed metadata for identical bytes."""
    import xlsxwriter

    year, month = _parse_month(last_month)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties(
        {"title": "政务服务事项目录", "author": f"{TOWN}便民服务中心", "created": dt.datetime(year, month, 1)}
    )
    ws = wb.add_worksheet("事项目录")
    title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    head_fmt = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
    ncol = len(catalog.columns)
    ws.merge_range(0, 0, 0, ncol - 1, f"{TOWN}便民服务中心政务服务事项目录（{year}年版）", title_fmt)
    ws.set_row(0, 28)
    ws.write_row(1, 0, list(catalog.columns), head_fmt)
    for r, row in enumerate(catalog.astype(object).values.tolist(), start=2):
        ws.write_row(r, 0, row)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 16)
    ws.set_column(3, ncol - 1, 13)
    ws.freeze_panes(2, 0)
    wb.close()


def write_sample(out_dir: Path | None = None) -> dict[str, Path]:
    """Regenerate the shipped sample in ``data/sample`` (see its README for the command)."""
    if out_dir is None:
        import settings

        out_dir = settings.SAMPLE_DIR
    return write_exports(Path(out_dir), generate(scale=SAMPLE_SCALE, end_month=SAMPLE_END_MONTH))


def main(argv: list[str] | None = None) -> None:
    """``python -m ingest.demo``: regenerate data/sample, or write another size/seed/month elsewhere."""
    parser = argparse.ArgumentParser(description="Write demo exports (default: regenerate data/sample).")
    parser.add_argument("--out", type=Path, help="output folder (default: data/sample)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end-month", default=SAMPLE_END_MONTH, help=f"YYYY-MM (default {SAMPLE_END_MONTH})")
    parser.add_argument("--scale", type=float, default=SAMPLE_SCALE, help=f"case volume (default {SAMPLE_SCALE})")
    args = parser.parse_args(argv)
    if args.out is None:
        import settings

        args.out = settings.SAMPLE_DIR
    paths = write_exports(args.out, generate(seed=args.seed, end_month=args.end_month, scale=args.scale))
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
