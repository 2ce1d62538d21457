"""Fake but well-formed people: applicants' 姓名 / 身份证号 / 手机号, firms with their 统一社会信用代码, staff.

The check characters are right (ID numbers, GB 32100 credit codes), so that the personal-data detection
is tested on values shaped like real ones, without anyone's records.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from demo.town import DEPT_INDEX, N_DEPT, REGION_CODE, TOWN

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


def staff() -> tuple[list[str], np.ndarray, np.ndarray]:
    """A handful of fake staff per unit; fixed (not seeded) because a town's staff do not change per draw."""
    rng = np.random.default_rng(7)
    counts = np.array([6] + [3] * N_DEPT + [2] * N_DEPT + [5])
    counts[1 + DEPT_INDEX["SB"]] = 4
    counts[1 + DEPT_INDEX["HJ"]] = 4
    names = _names(rng, rng.random(int(counts.sum())) < 0.5).tolist()
    return names, np.cumsum(counts) - counts, counts


def apply_people(
    rng: np.random.Generator, applicant_type: np.ndarray, today: dt.date, same_as: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """姓名 / 证件号码 / 联系电话 per case; pools smaller than the case count so people come back.

    ``same_as`` (from :func:`demo.life.same_person`) gives case i the applicant of case ``same_as[i]``, so
    life events link cases; it changes no random draw, so without it the people are exactly as before.
    A missing phone number stays a property of the record, not of the person.
    """
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
    if same_as is not None:
        name, ident, phone = name[same_as], ident[same_as], phone[same_as]
    phone[rng.random(n) < 0.02] = None  # a few records without a phone number
    return {"申请人姓名": name, "证件号码": ident, "联系电话": phone}
