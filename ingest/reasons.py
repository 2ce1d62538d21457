"""Why a row was rejected, or loaded with a field left empty: the codes and their words.

The vocabulary of validation (:mod:`ingest.validate`) that the upload page, the data-quality page, the
rejects download and the CLI show; apart from the validation itself so that they need only the words.
"""

from __future__ import annotations

import settings
from text import Text

#: Why a row was rejected: code -> its words. The normalisers' check lists give the check order.
REASONS: dict[str, Text] = {
    "malformed_line": Text(
        "行格式错误（列数不符或引号未闭合）", "malformed line (wrong number of columns or open quote)"
    ),
    "bad_encoding": Text("含无法解码的字符（文件编码损坏）", "undecodable characters (broken encoding)"),
    "missing_id": Text("办件编号为空", "missing case id"),
    "missing_step": Text("环节名称为空", "missing step name"),
    "missing_item": Text("事项名称为空", "missing item name"),
    "missing_time": Text("缺少时间", "missing time"),
    "bad_time": Text("时间无法识别", "unparseable time"),
    "bad_offset": Text(
        "时区偏移无效（须在 ±14:00 以内、分钟小于 60）",
        "invalid time-zone offset (must lie within ±14:00, minutes under 60)",
    ),
    "time_out_of_range": Text("时间早于 2000 年", "time before 2000"),
    "future_time": Text(
        f"时间晚于当前时间（未来时间，允许误差 {settings.FUTURE_TOLERANCE_MINUTES} 分钟）",
        f"time in the future (later than now, {settings.FUTURE_TOLERANCE_MINUTES} minutes' tolerance)",
    ),
    "completed_before_submitted": Text("办结时间早于申请时间", "completed before submitted"),
    "accepted_before_submitted": Text("受理时间早于申请时间", "accepted before submitted"),
    "started_after_completed": Text("开始时间晚于完成时间", "started after completed"),
    "duplicate_in_file": Text("文件内重复", "duplicate within the file"),
    # Warnings: a bad optional field is left empty and its row loads; the row number, column and value are
    # kept in ``field_warnings`` (README "数值规则 / Value rules").
    "bad_promised_limit": Text(
        f"承诺时限无法识别或超出范围（0–{settings.MAX_LIMIT_WORKING_DAYS} 个工作日 / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} 个自然日），已置空，该行照常载入",
        f"promised time limit unreadable or out of range (0–{settings.MAX_LIMIT_WORKING_DAYS} working / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} natural days); left empty, the row loaded",
    ),
    "bad_statutory_limit": Text(
        f"法定时限无法识别或超出范围（0–{settings.MAX_LIMIT_WORKING_DAYS} 个工作日 / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} 个自然日），已置空，该行照常载入",
        f"statutory time limit unreadable or out of range (0–{settings.MAX_LIMIT_WORKING_DAYS} working / "
        f"{settings.MAX_LIMIT_NATURAL_DAYS} natural days); left empty, the row loaded",
    ),
    "bad_visits": Text(
        f"跑动次数无法识别或不在 0–{settings.MAX_VISITS} 之间，已置空，该行照常载入",
        f"visits unreadable or not within 0–{settings.MAX_VISITS}; left empty, the row loaded",
    ),
    "bad_resubmissions": Text(
        f"补正次数无法识别或不在 0–{settings.MAX_RESUBMISSIONS} 之间，已置空，该行照常载入",
        f"resubmissions unreadable or not within 0–{settings.MAX_RESUBMISSIONS}; left empty, the row loaded",
    ),
    "bad_satisfaction": Text(
        "满意度无法识别或不在 1–5 分之间，已置空，该行照常载入",
        "satisfaction unreadable or not within 1–5; left empty, the row loaded",
    ),
}

#: The codes of REASONS that are warnings (the row loads, the field is left empty), not rejections.
WARNING_REASONS = ("bad_promised_limit", "bad_statutory_limit", "bad_visits", "bad_resubmissions", "bad_satisfaction")


def short_reason(code: str, lang: str = "zh") -> str:
    """A reason's first clause ("满意度无法识别或不在 1–5 分之间"), for lists that say the rest once."""
    text = reason_text(code)
    return text.zh.split("，")[0] if lang == "zh" else text.en.split(";")[0]


def reason_text(code: str) -> Text:
    """A reason's words; a code this version does not know (an older database's) is shown as it is."""
    return REASONS.get(code) or Text.same(code)
