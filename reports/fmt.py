"""How the monthly report writes its figures (Chinese), in one place for the PDF, the HTML and the workbook.

Rates with one decimal (51.6%), counts with thousands separators, days with one decimal in
working days, rate numerators and denominators as ``81/157`` (two decimals where a numerator is
a sum of fractions, as for 实际提速率). Unknown values read 未知 with their reason, never 0.
"""

from __future__ import annotations

import datetime as dt
import math

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


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: object) -> str:
    """A numerator or denominator: whole numbers as integers, others with two decimals."""
    if missing(value):
        return DASH
    v = float(value)  # type: ignore[arg-type]
    return f"{int(v):,}" if v.is_integer() else f"{v:,.2f}"


def percent(value: object, digits: int = 1) -> str:
    return DASH if missing(value) else f"{float(value) * 100:.{digits}f}%"  # type: ignore[arg-type]


def count(value: object) -> str:
    return DASH if missing(value) else f"{int(round(float(value))):,}"  # type: ignore[arg-type]


def days(value: object, unit: str = "working") -> str:
    if missing(value):
        return DASH
    return f"{float(value):.1f} {'个工作日' if unit == 'working' else '天'}"  # type: ignore[arg-type]


def hours_or_days(hours: object) -> str:
    if missing(hours):
        return DASH
    h = float(hours)  # type: ignore[arg-type]
    return f"{h / 24:.1f} 天" if h >= 48 else f"{h:.1f} 小时"


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
    return count(value)


def kpi_basis(kpi: Kpi | str, result: dict[str, object] | None) -> str:
    """What the figure is made of: ``81/157`` for rates, ``自然日 0.2 天，n=157`` for days, else empty."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    r = result or {}
    if missing(r.get("value")):
        reason = r.get("reason") or {}
        return str(reason.get("zh", "")) if isinstance(reason, dict) else ""
    if kpi.unit == "rate":
        return f"{number(r.get('numerator'))}/{number(r.get('denominator'))}"
    if kpi.unit == "days":
        return (
            f"自然日 {float(r['natural_value']):.1f} 天，n={number(r.get('n'))}"
            if not missing(r.get("natural_value"))
            else f"n={number(r.get('n'))}"
        )
    return ""


def target(kpi: Kpi | str, value: object) -> str:
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if missing(value):
        return DASH
    sign = "≥" if kpi.higher_is_better else "≤"
    v = float(value)  # type: ignore[arg-type]
    if kpi.unit == "rate":
        text = f"{v * 100:.1f}".rstrip("0").rstrip(".")
        return f"{sign}{text}%"
    return f"{sign}{v:g}"


def meets(kpi: Kpi | str, value: object, target_value: object) -> bool | None:
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if missing(value) or missing(target_value):
        return None
    return kpi.meets_target(float(value), float(target_value))  # type: ignore[arg-type]


def meets_label(flag: bool | None) -> str:
    return DASH if flag is None else ("达标" if flag else "未达标")


def change(kpi: Kpi | str, now: object, before: object) -> str:
    """Change against last month: percentage points for rates, plain difference otherwise."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if missing(now) or missing(before):
        return DASH
    d = float(now) - float(before)  # type: ignore[arg-type]
    if kpi.unit == "rate":
        return f"{d * 100:+.1f} 个百分点"
    if kpi.unit == "days":
        return f"{d:+.1f} 个工作日"
    return f"{int(round(d)):+,}"


def improved(kpi: Kpi | str, now: object, before: object) -> bool | None:
    """True when the change goes the good way for this KPI, None when unknown or unchanged."""
    kpi = KPI_BY_ID[kpi] if isinstance(kpi, str) else kpi
    if missing(now) or missing(before) or float(now) == float(before):  # type: ignore[arg-type]
        return None
    up = float(now) > float(before)  # type: ignore[arg-type]
    return up if kpi.higher_is_better else not up


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


def channel(value: object) -> str:
    return CHANNEL_LABELS.get(value, str(value))  # type: ignore[call-overload]


def text(value: object) -> str:
    return "未注明" if missing(value) or value == "" else str(value)
