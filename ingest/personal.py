"""Personal data found by value: columns that mostly hold ID numbers, mobile numbers or credit codes.

Headers miss personal data (申请人身份证号, 经办人手机, col7 …), so each column is also judged by what it
holds. A column is personal data when, of the first :data:`SAMPLE_VALUES` non-empty values found in its
first :data:`SAMPLE_ROWS` rows, at least :data:`MIN_VALUES` are there and at least :data:`THRESHOLD` (80 %)
are valid values of one of these kinds:

- 18-digit PRC ID numbers (GB 11643): a province code, a real birth date from 1900 to today and the check
  character of the ISO 7064 MOD 11-2 sum;
- 15-digit ID numbers of the first generation: a province code, a real ``YYMMDD`` date of the 1900s;
- mainland mobile numbers ``1[3-9]`` and nine digits, with spaces, dashes and a ``+86`` / ``86`` / ``0086``
  prefix tolerated;
- 统一社会信用代码 (GB 32100-2015): 18 characters of its alphabet with the MOD 31 check character.

The check characters make look-alikes fail: of 18-digit case numbers, about one in eleven passes the ID
check by chance (and far fewer with a real date), so a column of them stays far below the threshold.
Values are only tested here, on a bounded sample; the sample is taken in SQL (:func:`scan`), so a file of
fifty million rows costs what its first few thousand do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import duckdb

import clock
from ingest.normalize import PLACEHOLDERS
from text import LIST_SEP

#: Rows read from the top of the file, and non-empty values kept per column, for the judgement.
SAMPLE_ROWS = 5000
SAMPLE_VALUES = 200
#: Fewer non-empty values than this say nothing about a column (one stray number is not a pattern).
MIN_VALUES = 3
#: The share of valid values that makes a column personal data, as a fraction (numerator, denominator).
THRESHOLD = (4, 5)

ID_NUMBER = "id_number"
PHONE = "phone"
CREDIT_CODE = "credit_code"

#: What a kind is called in messages: (Chinese, English).
KIND_LABELS: dict[str, tuple[str, str]] = {
    ID_NUMBER: ("身份证号", "ID numbers"),
    PHONE: ("手机号", "mobile numbers"),
    CREDIT_CODE: ("统一社会信用代码", "unified social credit codes"),
    "name": ("姓名", "names"),
    "address": ("地址", "addresses"),
}

#: First two digits of an ID number: the provinces of GB/T 2260, and 81–83 of the residence permits
#: for Hong Kong, Macao and Taiwan residents.
PROVINCES = frozenset(
    ("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43")
    + ("44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83")
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: The first character: the registering authority (1 机构编制, 5 民政, 9 工商, Y 其他 …).
_CREDIT_AUTHORITIES = frozenset("123456789ANY")
_CREDIT_SHAPE = re.compile(rf"[{_CREDIT_ALPHABET}]{{18}}")
_ID18_SHAPE = re.compile(r"\d{17}[\dX]")
_PHONE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
_PHONE_NOISE = re.compile(r"[\s\-]")
_PLACEHOLDERS = frozenset(PLACEHOLDERS)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def is_id18(value: str) -> bool:
    """An 18-character ID number whose check character, province and birth date are right."""
    text = value.strip().upper()
    if not _ID18_SHAPE.fullmatch(text) or text[:2] not in PROVINCES:
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != text[17]:
        return False
    born = _date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    return born is not None and dt.date(1900, 1, 1) <= born <= clock.today()


def is_id15(value: str) -> bool:
    """A 15-digit ID number of the first generation: province, then a real date of the 1900s (YYMMDD)."""
    text = value.strip()
    if len(text) != 15 or not text.isascii() or not text.isdigit() or text[:2] not in PROVINCES:
        return False
    return _date(1900 + int(text[6:8]), int(text[8:10]), int(text[10:12])) is not None


def is_mobile(value: str) -> bool:
    """A mainland mobile number (1[3-9] and nine digits), spaces, dashes and a +86 / 86 / 0086 prefix allowed."""
    text = _PHONE_NOISE.sub("", value)
    return text.isascii() and _PHONE.fullmatch(text) is not None


def is_credit_code(value: str) -> bool:
    """A 统一社会信用代码 whose check character (GB 32100-2015, MOD 31) is right."""
    text = value.strip().upper()
    if not _CREDIT_SHAPE.fullmatch(text) or text[0] not in _CREDIT_AUTHORITIES:
        return False
    region = text[2:8]  # characters 3–8: the region code, of a province or the centre (100000)
    if not region.isdigit() or (region[:2] not in PROVINCES and region != "100000"):
        return False
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(text[:17], _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31] == text[17]


def value_kind(value: object) -> str | None:
    """The personal kind a single value is (ID number, mobile, credit code), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) < 11 or len(text) > 24:  # cheap: every kind is 11–18 characters, a phone with a prefix more
        return None
    if is_id18(text) or is_id15(text):
        return ID_NUMBER
    if is_credit_code(text):
        return CREDIT_CODE
    if is_mobile(text):
        return PHONE
    return None


def _is_empty(value: object) -> bool:
    return not isinstance(value, str) or not value.strip() or value.strip().lower() in _PLACEHOLDERS


def column_kind(values: Iterable[object]) -> str | None:
    """The personal kind of a column from its values (in file order), or None when it is not personal data.

    Empty values and placeholders (-, 无 …) do not count; of the first :data:`SAMPLE_VALUES` others, at
    least :data:`MIN_VALUES` must be there and at least :data:`THRESHOLD` valid. The kind is the most
    frequent one (a column of 18- and 15-digit IDs is one of ID numbers).
    """
    sample = []
    for value in values:
        if not _is_empty(value):
            sample.append(value)
            if len(sample) == SAMPLE_VALUES:
                break
    if len(sample) < MIN_VALUES:
        return None
    kinds = Counter(value_kind(v) for v in sample)
    valid = len(sample) - kinds.pop(None, 0)
    numerator, denominator = THRESHOLD
    if valid * denominator < len(sample) * numerator:
        return None
    return max(kinds, key=lambda k: (kinds[k], k == ID_NUMBER))


def detect(columns: Sequence[Iterable[object]]) -> dict[int, str]:
    """Column index -> personal kind, for the columns (each a sequence of values) that are personal data."""
    found = {}
    for index, values in enumerate(columns):
        kind = column_kind(values)
        if kind is not None:
            found[index] = kind
    return found


def sample_sql(relation: str, n_columns: int) -> str:
    """One query: for each column c0 … c(n-1) of ``relation``, its first non-empty values in the first rows.

    ``relation`` is a FROM item built by the loader (never text from the file); values are trimmed.
    """
    if n_columns <= 0:
        return "SELECT 1 WHERE false"
    lists = ", ".join(
        f"list(trim(c{i})) FILTER (WHERE c{i} IS NOT NULL AND trim(c{i}) <> '')[1:{SAMPLE_VALUES}]"
        for i in range(n_columns)
    )
    columns = ", ".join(f"c{i}" for i in range(n_columns))
    return f"SELECT {lists} FROM (SELECT {columns} FROM {relation} LIMIT {SAMPLE_ROWS})"


def scan(cur: duckdb.DuckDBPyConnection, relation: str, params: dict[str, object], n_columns: int) -> dict[int, str]:
    """The personal-data columns of a staged file or a CSV read in place (``relation`` with ``params``)."""
    if n_columns <= 0:
        return {}
    sql = sample_sql(relation, n_columns)
    row = cur.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchone()
    return detect([values or [] for values in row]) if row else {}


#: Words in a header that say the column belongs to someone other than the applicant: such an ID or phone
#: column is masked like any other, but never keys the applicant.
OTHER_PERSONS = (
    "经办人",
    "代理人",
    "代办人",
    "受托人",
    "被委托人",
    "工作人员",
    "受理人",
    "联系人",
    "办理人",
    "审批人",
    "操作人",
    "窗口人员",
    "法定代表人",
    "法人代表",
    "监护人",
)


def names_someone_else(header: str) -> bool:
    """Whether a header names a person other than the applicant (经办人手机, 证件号码（代理人）…)."""
    return any(word in str(header or "") for word in OTHER_PERSONS)


def label_list(names: Sequence[str], lang: str = "zh") -> str:
    """Column names as a list in one language's way (、 or ,)."""
    return LIST_SEP(lang).join(names)


def found_message(names: Sequence[str]) -> str | None:
    """The report's line naming the personal-data columns, Chinese then English (None when there are none).

    A name's own " (" is closed up: the page splits a stored line at its first " (" into its two languages.
    """
    if not names:
        return None
    shown = [str(n).replace(" (", "(") for n in names]
    return (
        f"已识别并遮盖：{label_list(shown)}（个人信息，不以原文存入数据库） "
        f"(Personal data found and masked: {label_list(shown, 'en')}; never stored raw)"
    )
