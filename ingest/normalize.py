"""Normalisation as SQL expressions over staged text columns.

Each function takes a SQL expression for a raw text value and returns the SQL for the canonical
value, so a whole file is normalised in one DuckDB statement. Values that cannot be understood
become NULL here; ``ingest.load`` compares raw and normalised values to reject such rows with
the column named.
"""

from __future__ import annotations

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
            THEN timezone(tz, try_strptime(regexp_replace(v.t, 'Z$', '+00:00'), {TZ_FORMATS!r}))
        ELSE try_strptime(v.t, {TIME_FORMATS!r})
    END)[1];

-- The common platform form first, without regular expressions (CASE evaluates the rest only where it
-- fails; a blank value fails both ways).
CREATE OR REPLACE TEMP MACRO egov_ts(x, tz) AS
    CASE WHEN try_strptime(x, '%Y-%m-%d %H:%M:%S') IS NOT NULL THEN try_strptime(x, '%Y-%m-%d %H:%M:%S')
         ELSE egov_ts_any(x, tz) END;

CREATE OR REPLACE TEMP MACRO egov_days(x) AS
    CASE
        WHEN egov_blank(x) IS NULL THEN NULL
        WHEN regexp_matches(x, '即办|当场|当即|立即|即时') THEN 0.0
        ELSE try_cast(regexp_extract(x, '(\d+(\.\d+)?)', 1) AS DOUBLE)
             * CASE WHEN regexp_matches(x, '个?月') THEN 30 ELSE 1 END
    END;

CREATE OR REPLACE TEMP MACRO egov_day_unit(x, hint) AS
    CASE
        WHEN egov_blank(x) IS NULL THEN NULL
        WHEN regexp_matches(lower(x), '工作日|working|即办|当场|当即|立即|即时') THEN 'working'
        WHEN regexp_matches(lower(x), '自然日|天|日|月|natural|calendar') THEN 'natural'
        ELSE coalesce(hint, 'working')
    END;

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
