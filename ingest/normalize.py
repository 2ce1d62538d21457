"""Normalisation as SQL expressions over staged text columns.

Each function takes a SQL expression for a raw text value and returns the SQL for the canonical
value, so a whole file is normalised in one DuckDB statement. Values that cannot be understood
become NULL here; ``ingest.validate`` compares raw and normalised values to reject such rows with
the column named.
"""

from __future__ import annotations

import settings

#: Formats tried, in order, after dates are folded to Y-M-D (年月日, slashes and dots accepted).
TIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %H",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
]
TZ_FORMATS = ["%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S.%f%z", "%Y-%m-%d %H:%M%z"]

#: The characters trim() removes: the Unicode space separators (category Zs), as code points.
ZS = (32, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8239, 8287, 12288)

#: Excel serial day numbers accepted as dates: 1954-10-03 .. 2119-01-09.
EXCEL_SERIAL_RANGE = (20000, 80000)

#: Chinese numerals read in time limits and counts (一…九, 两, 十, 百, 〇/零): 三, 十五, 二十, 一百零五, 两百.
CN_DIGITS = "一二三四五六七八九"
CN_NUMBER = r"(?:[一二两三四五六七八九]百(?:[零〇][一二三四五六七八九]|[一二三四五六七八九]?十[一二三四五六七八九]?)?|[一二三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九〇零])"

#: A time limit's unit words (spaces removed, lower case) -> (unit, days per unit). ``None``: the unit is not
#: said ("10", "5 days"), so the column's header decides, else working days. Hours are natural time: a limit
#: of N hours is N/24 natural days and its due time runs on the clock from acceptance. Years are not read
#: (a year is not a fixed number of days): "1年" is a warning, never one day.
LIMIT_UNITS: dict[str, tuple[str | None, float]] = {
    "工作日": ("working", 1), "workingdays": ("working", 1), "workingday": ("working", 1),
    "workdays": ("working", 1), "workday": ("working", 1), "businessdays": ("working", 1),
    "自然日": ("natural", 1), "日历日": ("natural", 1), "天": ("natural", 1), "日": ("natural", 1),
    "naturaldays": ("natural", 1), "naturalday": ("natural", 1), "calendardays": ("natural", 1),
    "月": ("natural", 30), "months": ("natural", 30), "month": ("natural", 30),
    "周": ("natural", 7), "星期": ("natural", 7), "weeks": ("natural", 7), "week": ("natural", 7),
    "小时": ("natural", 1 / 24), "钟头": ("natural", 1 / 24), "hours": ("natural", 1 / 24),
    "hour": ("natural", 1 / 24), "hrs": ("natural", 1 / 24), "hr": ("natural", 1 / 24), "h": ("natural", 1 / 24),
    "days": (None, 1), "day": (None, 1), "d": (None, 1), "": (None, 1),
}  # fmt: skip

#: Words around the number that a platform may write ("承诺时限：受理后5个工作日内办结").
LIMIT_PREFIX = r"(?:承诺|法定)?(?:办结|办理)?(?:时限|期限)?[:：]?(?:自?受理(?:之日起|后))?"
LIMIT_SUFFIX = r"(?:内|以内|之内)?(?:办结|办完|完成)?"

#: Values that mean "nothing here" in an optional field: blank for every purpose, never a warning.
PLACEHOLDERS = ("-", "--", "—", "——", "/", "\\", "无", "暂无", "空", "n/a", "na", "null", "none", "nil")
#: Satisfaction values that mean "not rated".
UNRATED = ("未评价", "未评", "无评价", "未参评", "未参与评价", "不评价", "未作评价", "没有评价", "暂未评价")


def _sql_list(values) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _limit_units_sql(column: str) -> tuple[str, str]:
    """SQL for the unit and the days per unit of a unit word held in ``column``."""
    unit = (
        "CASE "
        + " ".join(
            f"WHEN {column} IN {_sql_list([w for w, (u, _) in LIMIT_UNITS.items() if u == name])} THEN '{name}'"
            for name in ("working", "natural")
        )
        + " END"
    )
    factors = sorted({f for _, f in LIMIT_UNITS.values() if f != 1})
    factor = (
        "CASE "
        + " ".join(
            f"WHEN {column} IN {_sql_list([w for w, (_, f) in LIMIT_UNITS.items() if f == value])} THEN {value!r}"
            for value in factors
        )
        + " ELSE 1.0 END"
    )
    return unit, factor


_UNIT_WORDS = "|".join(sorted((w for w in LIMIT_UNITS if w), key=len, reverse=True))
_LIMIT_RE = rf"^{LIMIT_PREFIX}([-+−]?)(\d+(?:\.\d+)?|{CN_NUMBER})个?({_UNIT_WORDS})?{LIMIT_SUFFIX}$"
_LIMIT_UNIT_SQL, _LIMIT_FACTOR_SQL = _limit_units_sql("g.unit")

MACROS = rf"""
CREATE OR REPLACE TEMP MACRO egov_blank(x) AS nullif(trim(CAST(x AS VARCHAR)), '');

-- A code point that is not a space separator (Zs), tested by ranges (a long IN list becomes a join).
CREATE OR REPLACE TEMP MACRO egov_not_space(cp) AS
    cp BETWEEN 33 AND 159 OR cp > 12288 OR cp < 32 OR (cp > 160 AND cp < 5760) OR (cp > 5760 AND cp < 8192)
    OR (cp > 8202 AND cp < 12288 AND cp <> 8239 AND cp <> 8287);

-- egov_blank(x) IS NULL, cheaply: a value that starts with anything but a space is not blank.
-- (CASE, not AND/OR: in a SELECT list DuckDB evaluates every operand of AND/OR for every row.)
CREATE OR REPLACE TEMP MACRO egov_is_blank(x) AS
    CASE WHEN x IS NULL THEN true WHEN egov_not_space(ascii(x)) THEN x = '' ELSE trim(x) = '' END;

-- egov_blank, faster for a column of a large file: trim() strips exactly the Unicode space separators
-- (Zs) at both ends and is slow on non-ASCII text; most values start and end with something else, so
-- they skip it (same result). Used at the top of expressions: nested in other macros it would make
-- their expansion needlessly large.
CREATE OR REPLACE TEMP MACRO egov_clean(x) AS
    CASE WHEN egov_not_space(ascii(x)) AND egov_not_space(ascii(x[-1]))
         THEN nullif(x, '')
         ELSE nullif(trim(x), '') END;

CREATE OR REPLACE TEMP MACRO egov_time_text(x) AS
    rtrim(
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(
            regexp_replace(egov_blank(x), '^(\d{{4}})\s*[年/.\-]\s*(\d{{1,2}})\s*[月/.\-]\s*(\d{{1,2}})(\s*日)?', '\1-\2-\3'),
            '(\d)T(\d)', '\1 \2'),
            '\s*[时点:]\s*', ':', 'g'),
            '\s*分\s*', ':', 'g'),
            '\s*秒\s*', '', 'g'),
        ':');

-- An offset at the end of a time text that no place on earth has: beyond ±14:00, or minutes of 60 or more.
-- (A '+99:99' would otherwise shift the time by four days.)
CREATE OR REPLACE TEMP MACRO egov_offset_bad(t) AS
    CASE WHEN regexp_matches(t, '[+\-]\d{{2}}:?\d{{2}}$') AND regexp_matches(t, '\d:\d')
         THEN list_transform([regexp_extract(t, '[+\-](\d{{2}}):?(\d{{2}})$', ['h', 'm'])],
                             lambda o: CAST(o.h AS INTEGER) * 60 + CAST(o.m AS INTEGER) > 14 * 60
                                       OR CAST(o.m AS INTEGER) > 59)[1]
         ELSE false END;

-- Every other form. The value's cleaned text and time text are computed once, in a struct handed to a
-- lambda: as repeated subexpressions they would be hoisted and computed for every row.
CREATE OR REPLACE TEMP MACRO egov_ts_any(x, tz) AS
    list_transform([{{'raw': x, 'b': egov_blank(x), 't': egov_time_text(x)}}], lambda v: CASE
        WHEN v.b IS NULL THEN NULL
        WHEN try_strptime(v.raw, '%Y-%m-%d %H:%M:%S') IS NOT NULL THEN try_strptime(v.raw, '%Y-%m-%d %H:%M:%S')
        WHEN regexp_full_match(v.b, '\d{{5}}(\.\d+)?')
             AND CAST(v.b AS DOUBLE) BETWEEN {EXCEL_SERIAL_RANGE[0]} AND {EXCEL_SERIAL_RANGE[1]}
            THEN TIMESTAMP '1899-12-30'
                 + to_microseconds(CAST(round(CAST(v.b AS DOUBLE) * 86400) * 1000000 AS BIGINT))
        WHEN regexp_matches(v.t, '(Z|[+\-]\d{{2}}:?\d{{2}})$') AND regexp_matches(v.t, '\d:\d')
            THEN CASE WHEN egov_offset_bad(v.t) THEN NULL ELSE timezone(tz, try_strptime(regexp_replace(v.t, 'Z$', '+00:00'), {TZ_FORMATS!r})) END
        ELSE try_strptime(v.t, {TIME_FORMATS!r})
    END)[1];

-- The common platform form first, without regular expressions (CASE evaluates the rest only where it
-- fails; a blank value fails both ways).
CREATE OR REPLACE TEMP MACRO egov_ts(x, tz) AS
    CASE WHEN try_strptime(x, '%Y-%m-%d %H:%M:%S') IS NOT NULL THEN try_strptime(x, '%Y-%m-%d %H:%M:%S')
         ELSE egov_ts_any(x, tz) END;

-- A raw value folded for reading numbers: lower case, no spaces, full-width digits and signs as ASCII.
CREATE OR REPLACE TEMP MACRO egov_num_text(x) AS
    regexp_replace(translate(lower(egov_blank(x)), '０１２３４５６７８９．－＋', '0123456789.-+'), '\s+', '', 'g');

-- "nothing here" (-, /, 无 …): an optional field left empty, not a value that failed to read.
CREATE OR REPLACE TEMP MACRO egov_placeholder(x) AS lower(egov_blank(x)) IN {_sql_list(PLACEHOLDERS)};

-- Digit d of CN_DIGITS (两 is 2), else NULL.
CREATE OR REPLACE TEMP MACRO egov_cn_digit(d) AS
    list_position({list(CN_DIGITS)!r}, CASE WHEN d = '两' THEN '二' ELSE nullif(d, '') END);

-- A Chinese numeral up to 999 (三, 十五, 二十, 一百零五, 两百, 〇) as an integer, else NULL.
CREATE OR REPLACE TEMP MACRO egov_cn_int(s) AS
    CASE
        WHEN s IN ('〇', '零') THEN 0
        WHEN regexp_full_match(s, '{CN_NUMBER}') THEN list_transform(
            [regexp_extract(s, '^(?:([一二两三四五六七八九])百)?[零〇]?(?:([一二三四五六七八九])?(十))?([一二两三四五六七八九])?$',
                            ['h', 't', 'x', 'o'])],
            lambda g: coalesce(egov_cn_digit(g.h), 0) * 100
                      + CASE WHEN g.x = '十' THEN coalesce(egov_cn_digit(g.t), 1) * 10 ELSE 0 END
                      + coalesce(egov_cn_digit(g.o), 0))[1]
    END;

-- A time limit as written: {{n: number of days (negative if written so), unit: working | natural | NULL (not
-- said)}}, or NULL when the text is not a time limit this reader knows (years, words, two numbers …).
-- 1 to 4 characters that start and end with an ASCII digit and read as a number ("5", "15", "2.5"): cheap tests
-- for the usual values, which skip the folding and the regular expressions (same result).
CREATE OR REPLACE TEMP MACRO egov_short_number(s) AS
    CASE WHEN length(s) BETWEEN 1 AND 4 AND ascii(s) BETWEEN 48 AND 57 AND ascii(s[-1]) BETWEEN 48 AND 57
         THEN try_cast(s AS DOUBLE) END;

-- egov_limit for the common forms ("5", "5个工作日", "20日", "15天"), NULL for any other.
CREATE OR REPLACE TEMP MACRO egov_limit_fast(x) AS
    CASE
        WHEN egov_short_number(x) IS NOT NULL THEN {{'n': egov_short_number(x), 'unit': NULL::VARCHAR}}
        WHEN suffix(x, '个工作日') AND egov_short_number(left(x, length(x) - 4)) IS NOT NULL
            THEN {{'n': egov_short_number(left(x, length(x) - 4)), 'unit': 'working'}}
        WHEN (suffix(x, '天') OR suffix(x, '日')) AND egov_short_number(left(x, length(x) - 1)) IS NOT NULL
            THEN {{'n': egov_short_number(left(x, length(x) - 1)), 'unit': 'natural'}}
    END;

CREATE OR REPLACE TEMP MACRO egov_limit_any(x) AS
    list_transform([egov_num_text(x)], lambda t: CASE
        WHEN t IS NULL THEN NULL
        WHEN regexp_matches(t, '即办|当场|当即|立即|即时') THEN {{'n': 0.0::DOUBLE, 'unit': 'working'}}
        ELSE list_transform([regexp_extract(t, '{_LIMIT_RE}', ['sign', 'num', 'unit'])], lambda g: CASE
            WHEN g.num = '' THEN NULL
            ELSE {{'n': CASE WHEN g.sign IN ('-', '−') THEN -1.0 ELSE 1.0 END
                        * coalesce(try_cast(g.num AS DOUBLE), egov_cn_int(g.num)) * {_LIMIT_FACTOR_SQL},
                  'unit': {_LIMIT_UNIT_SQL}}}
        END)[1]
    END)[1];

CREATE OR REPLACE TEMP MACRO egov_limit(x) AS
    CASE WHEN egov_limit_fast(x) IS NOT NULL THEN egov_limit_fast(x) ELSE egov_limit_any(x) END;

-- The days of a time limit within bounds: 0 (即办) up to MAX_LIMIT_WORKING_DAYS working or MAX_LIMIT_NATURAL_DAYS
-- natural days; anything else (negative, 99999 …) is NULL, and the loader counts a warning for it.
CREATE OR REPLACE TEMP MACRO egov_limit_days(x, hint) AS
    list_transform([egov_limit(x)], lambda l: CASE
        WHEN l.n >= 0 AND l.n <= CASE WHEN coalesce(l.unit, hint, 'working') = 'working'
                                      THEN {settings.MAX_LIMIT_WORKING_DAYS} ELSE {settings.MAX_LIMIT_NATURAL_DAYS} END
        THEN l.n END)[1];

CREATE OR REPLACE TEMP MACRO egov_days(x) AS egov_limit_days(x, NULL);

-- The unit of a time limit read by egov_limit_days (the value's own word wins over the header's hint).
CREATE OR REPLACE TEMP MACRO egov_day_unit(x, hint) AS
    CASE WHEN egov_limit_days(x, hint) IS NOT NULL THEN coalesce(egov_limit(x).unit, hint, 'working') END;

-- A count (visits, 补正) from 0 to ``most``: digits or a Chinese numeral, optionally with 次/趟/回; anything
-- else (negative, fractions, 999999, words) is NULL, and the loader counts a warning for it.
CREATE OR REPLACE TEMP MACRO egov_count(x, most) AS
    CASE WHEN length(x) BETWEEN 1 AND 2 AND ascii(x) BETWEEN 48 AND 57 AND ascii(x[-1]) BETWEEN 48 AND 57
         THEN CASE WHEN try_cast(x AS INTEGER) <= most THEN try_cast(x AS INTEGER) END
         ELSE egov_count_any(x, most) END;

CREATE OR REPLACE TEMP MACRO egov_count_any(x, most) AS
    list_transform([egov_num_text(x)], lambda t: list_transform([CASE
        WHEN t IS NULL THEN NULL
        WHEN regexp_full_match(t, '\d{{1,9}}(\.0+)?(次|趟|回)?') THEN CAST(regexp_extract(t, '^\d+') AS BIGINT)
        WHEN regexp_full_match(t, '{CN_NUMBER}(次|趟|回)?') THEN egov_cn_int(regexp_replace(t, '(次|趟|回)$', ''))
    END], lambda v: CASE WHEN v BETWEEN 0 AND most THEN CAST(v AS INTEGER) END)[1])[1];

CREATE OR REPLACE TEMP MACRO egov_int(x) AS try_cast(regexp_extract(egov_blank(x), '^-?\d+', 0) AS INTEGER);

CREATE OR REPLACE TEMP MACRO egov_bool(x) AS
    CASE
        WHEN lower(egov_blank(x)) IN ('是', 'y', 'yes', 'true', '1', '可', '可以', '√', '✓', '支持') THEN true
        WHEN lower(egov_blank(x)) IN ('否', 'n', 'no', 'false', '0', '不可', '不可以', '×', '✗', '不支持') THEN false
        ELSE NULL
    END;

CREATE OR REPLACE TEMP MACRO egov_satisfaction(x) AS
    CASE
        WHEN egov_blank(x) IS NULL THEN NULL
        WHEN lower(trim(x)) IN ('非常满意', '很满意', '好评', 'very satisfied', 'excellent') THEN 5
        WHEN lower(trim(x)) IN ('满意', '比较满意', 'satisfied', 'good') THEN 4
        WHEN lower(trim(x)) IN ('基本满意', '一般', '中评', 'neutral', 'fair') THEN 3
        WHEN lower(trim(x)) IN ('不满意', 'dissatisfied', 'poor') THEN 2
        WHEN lower(trim(x)) IN ('非常不满意', '很不满意', '差评', 'very dissatisfied', 'bad') THEN 1
        WHEN regexp_full_match(trim(x), '★+') THEN CASE WHEN length(trim(x)) <= 5 THEN length(trim(x)) END
        WHEN try_cast(regexp_extract(trim(x), '^([1-5])(\.0+)?\s*(分|星)?$', 1) AS INTEGER) IS NOT NULL
            THEN CAST(regexp_extract(trim(x), '^([1-5])', 1) AS INTEGER)
        ELSE NULL
    END;

-- A satisfaction value that says "not rated" (empty, never a warning).
CREATE OR REPLACE TEMP MACRO egov_unrated(x) AS egov_placeholder(x) OR lower(egov_blank(x)) IN {_sql_list(UNRATED)};

CREATE OR REPLACE TEMP MACRO egov_status_word(x) AS
    CASE
        WHEN egov_blank(x) IS NULL THEN NULL
        WHEN regexp_matches(lower(x), '不予受理|不予许可|退回|驳回|拒绝|不予办理|reject|denied|refused') THEN 'rejected'
        WHEN regexp_matches(lower(x), '撤回|撤件|撤销|withdraw|cancel') THEN 'withdrawn'
        ELSE NULL
    END;

CREATE OR REPLACE TEMP MACRO egov_text_plain(x) AS
    regexp_replace(egov_blank(x), '\b(\d{{17}}[\dXx]|1[3-9]\d{{9}})\b', '***', 'g');

-- egov_text_plain, faster for a column of a large file (and a larger expression, so the plain form
-- serves where only a few rows need it). ID and phone numbers need 11 digits in a row (\d is ASCII in
-- RE2): values shorter than that, or without such a run, skip the replacement (same result).
CREATE OR REPLACE TEMP MACRO egov_text(x) AS
    CASE WHEN length(x) < 11 OR NOT regexp_matches(x, '[0-9]{{11}}')
         THEN egov_clean(x)
         ELSE egov_text_plain(x) END;
"""


def install_macros(cur) -> None:
    """Create the normalisation macros on this cursor (temp: they live as long as the cursor)."""
    cur.execute(MACROS)
