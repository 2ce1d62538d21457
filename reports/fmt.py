"""How the monthly report writes its figures (Chinese), in one place for the PDF, the HTML, the workbook and the CSV.

Numbers are written one way everywhere:

- counts with thousands separators (``3,168``), also inside sentences (``2,856 件中``: :func:`sentence`);
- rates with one decimal (``51.6%``), their basis as numerator/denominator (``81/157``); a rate that is a
  mean of per-case (or per-item) fractions, such as 实际提速率, has no meaningful numerator, so its basis
  is the number of cases it averages over (``n=1,250 件``);
- days with one decimal, the unit in the column heading where a table has one unit per column;
- promised time limits as whole numbers (``20``, 0 is 即办);
- a change against last month that rounds to zero reads 持平, never ``-0.0``; 办件量 has no good direction,
  so its change is never called better or worse.

Where a figure stands against its target is decided by :func:`metrics.status.target_state` alone, the
same three states (达标 / 接近 / 未达标 with the gap) as the dashboard's tiles. Codes from the data
(channels, case status, promised-time units, upload kinds) are shown by their Chinese labels; an unknown
value reads 未知 with its reason or ``—``, never 0, ``None`` or ``NaN``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import SupportsFloat

import pandas as pd

import numfmt
from metrics import status as target_status
from metrics.catalog import KPI_BY_ID, Kpi

DASH = "—"
UNIT_LABELS = {"rate": "%", "count": "件", "days": "个工作日"}
CHANNEL_LABELS = {
    "online": "网上（网站）",
    "mobile": "移动端",
    "window": "窗口",
    "self_service": "自助终端",
    "post": "邮寄",
    "other": "其他",
    None: "未注明",
}
STATUS_LABELS = {"open": "在办", "completed": "已办结", "rejected": "不予受理", "withdrawn": "撤回", None: "未注明"}
PROMISED_UNIT_LABELS = {"working": "工作日", "natural": "自然日", None: ""}
#: What an upload held (uploads.kind), as the 数据来源 table names it.
UPLOAD_KIND_LABELS = {"catalog": "事项目录", "cases": "办件", "events": "环节事件", None: "未注明"}


def missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA: a value that is not there."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value)) if not isinstance(value, (str, bytes, list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _float(value: object) -> float:
    """A figure that is not :func:`missing` (a JSON number of the content, numpy's, a Decimal) as a float."""
    if isinstance(value, (str, SupportsFloat)):
        return float(value)
    raise TypeError(f"not a figure: {value!r}")


def _figure(value: object) -> float | None:
    """None for a :func:`missing` value, else the value as a float."""
    return None if missing(value) else _float(value)


def _fixed(value: float, digits: int, thousands: bool = True) -> str:
    """``value`` with ``digits`` decimals, never ``-0.0``: a figure that rounds to zero loses its sign."""
    return numfmt.fixed(value, digits, thousands)


def number(value: object) -> str:
    """A numerator or denominator: whole numbers as integers, others with two decimals."""
    if missing(value):
        return DASH
    v = _float(value)
    return f"{int(v):,}" if v.is_integer() else _fixed(v, 2)


def percent(value: object, digits: int = 1) -> str:
    return DASH if missing(value) else _fixed(_float(value) * 100, digits) + "%"


def count(value: object) -> str:
    return DASH if missing(value) else f"{int(round(_float(value))):,}"


def decimal(value: object, digits: int = 1) -> str:
    """A plain figure with ``digits`` decimals and thousands separators (the unit is in the heading)."""
    return DASH if missing(value) else _fixed(_float(value), digits)


def days(value: object, unit: str = "working") -> str:
    if missing(value):
        return DASH
    return f"{_fixed(_float(value), 1)} {'个工作日' if unit == 'working' else '天'}"


def hours(value: object) -> str:
    """Hours with one decimal, no unit (tables say 小时 in the heading)."""
    return decimal(value, 1)


def hours_or_days(hours_value: object) -> str:
    if missing(hours_value):
        return DASH
    h = _float(hours_value)
    return f"{_fixed(h / 24, 1)} 天" if h >= 48 else f"{_fixed(h, 1)} 小时"


def limit(value: object) -> str:
    """A promised time limit: a whole number (``20``), 0 is 即办, a fraction keeps one decimal."""
    if missing(value):
        return DASH
    v = _float(value)
    if v == 0:
        return "即办"
    return f"{int(v):,}" if v.is_integer() else _fixed(v, 1)


def kpi_value(kpi: Kpi | str, result: dict[str, object] | None) -> str:
    """The headline figure of one KPI result: 51.6% / 157 / 0.2 个工作日 / 未知."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    value = (result or {}).get("value")
    if missing(value):
        return "未知"
    if kpi.unit == "rate":
        return percent(value)
    if kpi.unit == "days":
        return days(value)
    if kpi.decimals:  # a mean of counts (每旅程平均跑动): whole numbers would hide its change
        return decimal(value, kpi.decimals)
    return count(value)


def kpi_basis(kpi: Kpi | str, result: dict[str, object] | None) -> str:
    """What the figure is made of: ``81/157`` for rates, ``n=1,250 件`` for means, ``自然日 0.2 天，n=157`` for days."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    r = result or {}
    if missing(r.get("value")):
        reason = r.get("reason") or {}
        return str(reason.get("zh", "")) if isinstance(reason, dict) else ""
    if kpi.mean_of_zh:  # a mean of fractions: its basis is how many it averages over
        return f"n={number(r.get('denominator'))} {kpi.mean_of_zh}"
    if kpi.unit == "rate":
        return f"{number(r.get('numerator'))}/{number(r.get('denominator'))}"
    if kpi.unit == "days":
        return (
            f"自然日 {_fixed(_float(r['natural_value']), 1)} 天，n={number(r.get('n'))}"
            if not missing(r.get("natural_value"))
            else f"n={number(r.get('n'))}"
        )
    return ""


def target(kpi: Kpi | str, value: object) -> str:
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if missing(value):
        return DASH
    sign = "≥" if kpi.higher_is_better else "≤"
    v = _float(value)
    if kpi.unit == "rate":
        text = f"{v * 100:.1f}".rstrip("0").rstrip(".")
        return f"{sign}{text}%"
    return f"{sign}{int(v):,}" if v.is_integer() else f"{sign}{_fixed(v, 1)}"


def state(kpi: Kpi | str, value: object, target_value: object) -> target_status.TargetState:
    """Where ``value`` stands against its target: the dashboard's own :func:`metrics.status.target_state`."""
    return target_status.target_state(kpi, _figure(value), _figure(target_value))


def state_text(kpi: Kpi | str, value: object, target_value: object) -> str:
    """``达标`` / ``接近（差 1.3 个百分点）`` / ``未达标（超出 27 件）``; ``—`` without a target or a figure."""
    text = target_status.state_text(kpi, _figure(value), _figure(target_value), "zh")
    return text or DASH


def state_words(kpi: Kpi | str, value: object, target_value: object) -> str:
    """:func:`state_text`, or 未设目标 when the KPI has no target (``—`` when the figure itself is unknown)."""
    if missing(target_value):
        return "未设目标"
    return state_text(kpi, value, target_value)


def gap_text(kpi: Kpi | str, value: object, target_value: object) -> str:
    """The miss alone (``差 1.3 个百分点``); empty when met or unknown."""
    return target_status.gap_text(kpi, state(kpi, value, target_value), "zh")


def change_value(kpi: Kpi | str, now: object, before: object) -> float | None:
    """The change against last month as the report shows it, rounded: percentage points for rates
    (one decimal), working days (one decimal), whole cases; None when either month is unknown.
    A change that rounds to zero is exactly 0 (持平), never -0."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if missing(now) or missing(before):
        return None
    d = _float(now) - _float(before)
    if kpi.unit == "rate":
        shown = round(d * 100, 1)
    elif kpi.unit == "days":
        shown = round(d, 1)
    else:
        shown = float(round(d, kpi.decimals))
    return shown + 0.0 if shown != 0 else 0.0


def change(kpi: Kpi | str, now: object, before: object) -> str:
    """Change against last month: ``+2.7 个百分点`` for rates, ``-0.5 个工作日``, ``+428``; 持平 when it rounds to 0."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    shown = change_value(kpi, now, before)
    if shown is None:
        return DASH
    if shown == 0:
        return "持平"
    if kpi.unit == "rate":
        return f"{shown:+.1f} 个百分点"
    if kpi.unit == "days":
        return f"{shown:+.1f} 个工作日"
    if kpi.decimals:
        return f"{shown:+,.{kpi.decimals}f}"
    return f"{int(shown):+,}"


def improved(kpi: Kpi | str, now: object, before: object) -> bool | None:
    """True when the change goes the good way for this KPI; None when unknown, 持平, or the KPI has no good
    direction (办件量: more cases is neither better nor worse)."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if not kpi.directional:
        return None
    shown = change_value(kpi, now, before)
    if not shown:
        return None
    return shown > 0 if kpi.higher_is_better else shown < 0


def direction(kpi: Kpi | str) -> str:
    """越高越好 / 越低越好, or 不分好坏 for a KPI such as 办件量."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if not kpi.directional:
        return "不分好坏"
    return "越高越好" if kpi.higher_is_better else "越低越好"


def month_title(month: str) -> str:
    """``2026-10`` -> ``2026年10月``."""
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def date(value: object) -> str:
    if missing(value):
        return DASH
    text = str(value)
    return text[:10]


def datetime_text(value: object) -> str:
    if missing(value):
        return DASH
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value).replace("T", " ")[:16]


def _label(labels: dict, value: object) -> str:
    key = None if missing(value) else value
    return labels.get(key, str(key))


def channel(value: object) -> str:
    return _label(CHANNEL_LABELS, value)


def case_status(value: object) -> str:
    return _label(STATUS_LABELS, value)


def promised_unit(value: object) -> str:
    return _label(PROMISED_UNIT_LABELS, value)


def upload_kind(value: object) -> str:
    return _label(UPLOAD_KIND_LABELS, value)


def text(value: object) -> str:
    return "未注明" if missing(value) or value == "" else str(value)


#: A whole number of four or more digits standing alone in a sentence (not part of a date, a time, a
#: decimal, a code such as 411323SB003, a year such as 2026年, or an already separated number).
_BARE_NUMBER = re.compile(r"(?<![A-Za-z0-9_.,:/\-])(\d{4,})(?![A-Za-z0-9_.,:/\-]|\s*年)")


def sentence(value: object) -> str:
    """A sentence from the metrics (a bottleneck finding) with thousands separators: ``2856 件`` -> ``2,856 件``."""
    if missing(value):
        return ""
    return _BARE_NUMBER.sub(lambda m: f"{int(m.group(1)):,}", str(value))
