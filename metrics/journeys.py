"""Journeys (一件事): what one applicant files in one town close together, and which items go together.

A journey is the row set :func:`metrics.base.journey_cases` builds (one applicant's cases in one town, each no
more than the window after the one before, counted in the period of its first case). Its headline figures
are the catalogue's journey KPIs, computed by :func:`metrics.kpis.compute_kpis` like every other KPI; this
module adds what is not one figure: the pairs of items filed in the same journey, the known
高效办成一件事 bundles (``data/bundles.csv``) those journeys would have used, and the share of cases that
carry an applicant key at all. Small cells are never shown: a pair or a bundle with fewer than ``K`` distinct
applicants is left out and counted (``suppressed_pairs``, ``suppressed_bundles``), because a rare combination
of items in a township can name a person.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import duckdb
import pandas as pd

from cells import FORMULA_PREFIXES
from errors import BilingualError
from metrics import base
from metrics.catalog import JOURNEY_MIN_APPLICANTS, JOURNEY_WINDOW_DAYS
from metrics.filters import Filters, Params, where_clause
from metrics.kpis import KpiResult, compute_kpis
from store.rows import one
from text import Text

#: The journey KPIs of the catalogue, in the order the summary reads them.
JOURNEY_KPIS = (
    "multi_item_journey_rate",
    "multi_department_journey_rate",
    "visits_per_journey",
    "avoidable_submissions",
    "reapplications_after_refusal",
)

#: The known bundles shipped with the app; an admin may edit the file (it is read with the bounds below).
BUNDLES_FILE = Path(__file__).resolve().parent.parent / "data" / "bundles.csv"
MAX_BUNDLES_BYTES = 256 * 1024
MAX_BUNDLE_ROWS = 2000
MAX_BUNDLE_CELL = 100
#: Header words accepted for each column (Chinese as shipped, English for an admin who prefers it).
_BUNDLE_COLUMNS = {
    "bundle": ("一件事", "一件事名称", "bundle"),
    "item_name": ("事项名称", "item_name", "item"),
    "item_code": ("事项编码", "item_code", "code"),
}


class BundleFileError(BilingualError):
    """The bundles file cannot be used as it is: the message names the row and what is wrong."""


@dataclass(frozen=True)
class Bundle:
    """One 一件事: its name and its items (a name, and a code where the file gives one)."""

    name: str
    items: tuple[tuple[str, str | None], ...]

    @property
    def item_names(self) -> list[str]:
        return [name for name, _ in self.items]


class Pair(TypedDict):
    items: list[str]
    applicants: int
    journeys: int
    median_gap_days: float | None
    departments: list[str]
    visits: int | None


class BundleRow(TypedDict):
    name: str
    items: list[str]
    journeys: int
    applicants: int
    #: Σ over its journeys of (its items' cases − 1): the submissions one combined application would save.
    submissions_saved: int
    #: Σ over its journeys of (its items' visits − the most visits of one of them); None when a visit count is
    #: missing (a partial sum would understate it).
    trips_saved: int | None


class DepartmentPair(TypedDict):
    departments: list[str]
    applicants: int
    journeys: int


#: What the summary holds for the page and the snapshot beyond the ``cli.py journeys`` JSON the issue set out.
PAGE_ONLY = ("bundle_journeys", "coverage_cases", "department_pairs", "suppressed_department_pairs", "kpis")


class JourneySummary(TypedDict):
    applicants: int | None
    journeys: int | None
    multi_item_journeys: int | None
    multi_department_journeys: int | None
    avoidable_submissions: int | None
    reapplications_after_refusal: int | None
    coverage: float | None
    #: (cases with an applicant key, cases): what ``coverage`` is the share of.
    coverage_cases: list[int]
    suppressed_pairs: int
    suppressed_bundles: int
    bundle_journeys: int | None
    pairs: list[Pair]
    bundles: list[BundleRow]
    #: Pairs of departments the same journeys went to (shown ones), and how many were suppressed.
    department_pairs: list[DepartmentPair]
    suppressed_department_pairs: int
    #: The journey KPIs and the period's case count, as :func:`metrics.kpis.compute_kpis` gives them (the tiles).
    kpis: dict[str, KpiResult]


# --- the bundles file -------------------------------------------------------------------------------------


def _cell(value: str | None, row: int, column: str) -> str | None:
    """A cell as plain text: bounded, one line, never something a spreadsheet or a page would run."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_BUNDLE_CELL:
        raise BundleFileError(
            f"一件事清单第 {row} 行「{column}」超过 {MAX_BUNDLE_CELL} 个字符",
            f"bundles file row {row}: {column} is longer than {MAX_BUNDLE_CELL} characters",
        )
    if not text.isprintable() or text.startswith(FORMULA_PREFIXES) or any(ch in text for ch in "<>"):
        raise BundleFileError(
            f"一件事清单第 {row} 行「{column}」含有控制字符、尖括号或以公式符号（= + - @）开头",
            f"bundles file row {row}: {column} has a control character, an angle bracket or starts like a formula",
        )
    return text


def parse_bundles(data: bytes) -> list[Bundle]:
    """The bundles of a CSV file's bytes (UTF-8, BOM allowed), in file order; a bad file raises BundleFileError.

    Columns: 一件事 (bundle name), 事项名称 (item name), 事项编码 (item code, optional). One row per item;
    a bundle needs at least two items (a journey matches it with two of them).
    """
    if len(data) > MAX_BUNDLES_BYTES:
        raise BundleFileError(
            f"一件事清单超过 {MAX_BUNDLES_BYTES // 1024} KB", f"the bundles file is over {MAX_BUNDLES_BYTES // 1024} KB"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BundleFileError("一件事清单不是 UTF-8 编码", "the bundles file is not UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise BundleFileError("一件事清单是空的", "the bundles file is empty")
    names = [h.strip().lower() for h in header]
    index: dict[str, int] = {}
    for key, aliases in _BUNDLE_COLUMNS.items():
        found = next((i for i, h in enumerate(names) if h in aliases), None)
        if found is not None:
            index[key] = found
    if "bundle" not in index or "item_name" not in index:
        raise BundleFileError(
            "一件事清单第 1 行须有「一件事」和「事项名称」两列", "the bundles file needs columns 一件事 and 事项名称"
        )
    items: dict[str, list[tuple[str, str | None]]] = {}
    for n, row in enumerate(reader, start=2):
        if n - 1 > MAX_BUNDLE_ROWS:
            raise BundleFileError(
                f"一件事清单超过 {MAX_BUNDLE_ROWS} 行", f"the bundles file has more than {MAX_BUNDLE_ROWS} rows"
            )
        if not any(cell.strip() for cell in row):
            continue
        cells = {k: (row[i] if i < len(row) else None) for k, i in index.items()}
        bundle = _cell(cells["bundle"], n, "一件事")
        name = _cell(cells["item_name"], n, "事项名称")
        code = _cell(cells.get("item_code"), n, "事项编码")
        if bundle is None or name is None:
            raise BundleFileError(
                f"一件事清单第 {n} 行缺少「一件事」或「事项名称」",
                f"bundles file row {n}: a bundle or item name is empty",
            )
        if all(name != existing for existing, _ in items.get(bundle, [])):
            items.setdefault(bundle, []).append((name, code))
    short = [b for b, its in items.items() if len(its) < 2]
    if short:
        raise BundleFileError(
            f"一件事「{short[0]}」只有 1 个事项，至少需要 2 个",
            f"bundle {short[0]!r} has one item; it needs two or more",
        )
    return [Bundle(name, tuple(its)) for name, its in items.items()]


def load_bundles(path: Path | None = None) -> list[Bundle]:
    """The bundles of ``path`` (default: the shipped ``data/bundles.csv``); none when the file is absent."""
    path = path or BUNDLES_FILE
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BUNDLES_BYTES + 1)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BundleFileError("一件事清单无法读取", "the bundles file cannot be read", detail=f": {exc}") from None
    return parse_bundles(data)


# --- the analyses -----------------------------------------------------------------------------------------


def coverage(cur: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[int, int]:
    """(cases with an applicant key, cases) among the period's cases of the towns (journeys' denominator)."""
    params = Params()
    where, _ = where_clause(replace_dims(filters), "c", params)
    keyed, total = one(cur.execute(f"SELECT count(applicant_key), count(*) FROM cases c WHERE {where}", params.values))
    return int(keyed), int(total)


def replace_dims(filters: Filters) -> Filters:
    """The towns and the period only: a journey crosses departments, items and channels."""
    return Filters(filters.start, filters.end, towns=filters.towns)


def item_pairs(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    *,
    window_days: int = JOURNEY_WINDOW_DAYS,
    min_applicants: int = JOURNEY_MIN_APPLICANTS,
) -> tuple[list[Pair], int]:
    """Unordered pairs of different items filed in the same journey, and how many pairs were suppressed.

    Per pair: distinct applicants (a key in two towns is two applicants), journeys, the median gap in days
    between the first case of each item in the journey (absolute, fractional from the timestamps),
    the departments involved (sorted) and the visits of both items' cases in those journeys (None when
    any of those cases has no number of visits: a partial sum would understate them). Most applicants
    first, then by items; pairs with fewer than ``min_applicants`` applicants are only counted.
    """
    params = Params()
    cases = base.journey_cases(replace_dims(filters), params, window_days)
    floor = params.add(int(min_applicants), "k")
    sql = f"""
        WITH jc AS ({cases}),
        ji AS (
            SELECT town, applicant_key, journey_no, item, min(submitted_at) AS first_at,
                   sum(visits) AS visits, count(visits) = count(*) AS visits_known,
                   list(DISTINCT department) FILTER (WHERE department IS NOT NULL) AS departments
            FROM jc WHERE item IS NOT NULL
            GROUP BY town, applicant_key, journey_no, item
        ),
        pj AS (
            SELECT a.item AS item_a, b.item AS item_b, [a.town, a.applicant_key] AS applicant,
                   abs(epoch(b.first_at) - epoch(a.first_at)) / 86400.0 AS gap_days,
                   a.visits + b.visits AS visits, a.visits_known AND b.visits_known AS visits_known,
                   list_concat(coalesce(a.departments, []), coalesce(b.departments, [])) AS departments
            FROM ji a JOIN ji b
              ON a.town = b.town AND a.applicant_key = b.applicant_key AND a.journey_no = b.journey_no
             AND a.item < b.item
        ),
        pairs AS (
            SELECT item_a, item_b, count(DISTINCT applicant) AS applicants, count(*) AS journeys,
                   median(gap_days) AS median_gap_days,
                   list_sort(list_distinct(flatten(list(departments)))) AS departments,
                   CASE WHEN bool_and(visits_known) THEN sum(visits) END AS visits
            FROM pj GROUP BY item_a, item_b
        )
        SELECT item_a, item_b, applicants, journeys, median_gap_days, departments, visits,
               applicants >= {floor} AS shown
        FROM pairs ORDER BY applicants DESC, item_a, item_b
    """
    rows = cur.execute(sql, params.values).fetchall()
    shown: list[Pair] = [
        {
            "items": [a, b],
            "applicants": int(n),
            "journeys": int(j),
            "median_gap_days": None if gap is None else float(gap),
            "departments": list(depts or []),
            "visits": None if visits is None else int(visits),
        }
        for a, b, n, j, gap, depts, visits, ok in rows
        if ok
    ]
    return shown, sum(1 for *_, ok in rows if not ok)


def department_pairs(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    window_days: int = JOURNEY_WINDOW_DAYS,
    min_applicants: int = JOURNEY_MIN_APPLICANTS,
) -> tuple[list[DepartmentPair], int]:
    """Unordered pairs of departments one journey went to, most applicants first, and how many were suppressed.

    The 部门壁垒 seen from the applicant's side: two offices that the same people must both visit for one
    matter. Per pair: distinct applicants and journeys; a pair with fewer than ``min_applicants`` applicants
    is only counted, like an item pair.
    """
    params = Params()
    cases = base.journey_cases(replace_dims(filters), params, window_days)
    floor = params.add(int(min_applicants), "k")
    sql = f"""
        WITH jd AS (
            SELECT DISTINCT town, applicant_key, journey_no, department FROM ({cases}) WHERE department IS NOT NULL
        ),
        pairs AS (
            SELECT a.department AS dept_a, b.department AS dept_b,
                   count(DISTINCT [a.town, a.applicant_key]) AS applicants, count(*) AS journeys
            FROM jd a JOIN jd b
              ON a.town = b.town AND a.applicant_key = b.applicant_key AND a.journey_no = b.journey_no
             AND a.department < b.department
            GROUP BY a.department, b.department
        )
        SELECT dept_a, dept_b, applicants, journeys, applicants >= {floor} AS shown
        FROM pairs ORDER BY applicants DESC, journeys DESC, dept_a, dept_b
    """
    rows = cur.execute(sql, params.values).fetchall()
    shown: list[DepartmentPair] = [
        {"departments": [a, b], "applicants": int(n), "journeys": int(j)} for a, b, n, j, ok in rows if ok
    ]
    return shown, sum(1 for *_, ok in rows if not ok)


#: How many example journeys a pair shows: enough to see how people go about it, few enough to read.
EXAMPLE_JOURNEYS = 5


def example_journeys(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    items: list[str] | tuple[str, ...],
    window_days: int = JOURNEY_WINDOW_DAYS,
    min_applicants: int = JOURNEY_MIN_APPLICANTS,
    limit: int = EXAMPLE_JOURNEYS,
) -> pd.DataFrame:
    """The latest journeys that filed both ``items``, case by case: what a pair of items means in practice.

    Columns: journey (1, 2, … in the order shown), town, case_id, submitted_at, service_item, department,
    channel, status. Nothing that names a person (no applicant key, name, ID or phone). A pair with fewer
    than ``min_applicants`` applicants is shown nowhere, so it has no examples either (an empty frame).
    """
    params = Params()
    cases = base.journey_cases(replace_dims(filters), params, window_days)
    pair = params.add([str(i) for i in items], "pair")
    floor = params.add(int(min_applicants), "k")
    sql = f"""
        WITH jc AS ({cases}),
        hits AS (
            SELECT town, applicant_key, journey_no, min(first_at) AS first_at FROM jc
            GROUP BY town, applicant_key, journey_no
            HAVING count(DISTINCT item) FILTER (WHERE list_contains({pair}::VARCHAR[], item)) = 2
        ),
        chosen AS (
            SELECT *, row_number() OVER (ORDER BY first_at DESC, town, applicant_key, journey_no) AS journey
            FROM hits
            WHERE (SELECT count(DISTINCT [town, applicant_key]) FROM hits) >= {floor}
            QUALIFY journey <= {int(limit)}
        )
        SELECT ch.journey, jc.town, jc.case_id, jc.submitted_at, jc.item AS service_item, jc.department,
               jc.channel, jc.status
        FROM jc JOIN chosen ch USING (town, applicant_key, journey_no)
        ORDER BY ch.journey, jc.submitted_at, jc.case_id
    """
    return cur.execute(sql, params.values).df()


def bundle_matches(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    bundles: list[Bundle],
    *,
    window_days: int = JOURNEY_WINDOW_DAYS,
    min_applicants: int = JOURNEY_MIN_APPLICANTS,
) -> tuple[list[BundleRow], int, int | None]:
    """Per known bundle, the journeys that filed at least two of its items (by item name or item code).

    Returns the shown bundles (most journeys first, then in file order; bundles with fewer than ``min_applicants`` applicants are
    suppressed and counted; a bundle no journey matched is neither shown nor counted), the number
    suppressed, and how many distinct journeys match a shown bundle ("N 个旅程本可一次办成"; None when no
    bundle is known).
    """
    if not bundles:
        return [], 0, None
    flat = [(i, name, code) for i, bundle in enumerate(bundles) for name, code in bundle.items]
    params = Params()
    cases = base.journey_cases(replace_dims(filters), params, window_days)
    ids = params.add([b for b, _, _ in flat], "bid")
    names = params.add([n for _, n, _ in flat], "bname")
    codes = params.add([c for _, _, c in flat], "bcode")
    floor = params.add(int(min_applicants), "k")
    sql = f"""
        WITH jc AS ({cases}),
        bi AS (
            SELECT unnest({ids}::INTEGER[]) AS bundle, unnest({names}::VARCHAR[]) AS item_name,
                   unnest({codes}::VARCHAR[]) AS item_code
        ),
        bi_n AS (SELECT *, row_number() OVER () AS item_no FROM bi),
        bundle_cases AS (  -- a journey's cases of a bundle's items (an item matched by name or by code)
            SELECT DISTINCT bi_n.bundle, jc.town, jc.applicant_key, jc.journey_no, jc.case_id, jc.visits,
                   bi_n.item_no
            FROM jc JOIN bi_n ON jc.service_item = bi_n.item_name OR jc.item_code = bi_n.item_code
        ),
        hits AS (
            SELECT bundle, town, applicant_key, journey_no FROM bundle_cases
            GROUP BY bundle, town, applicant_key, journey_no HAVING count(DISTINCT item_no) >= 2
        ),
        matched AS (  -- per journey that filed two or more of a bundle's items: its cases of them, their visits
            SELECT h.bundle, h.town, h.applicant_key, h.journey_no, count(*) AS cases,
                   sum(c.visits) AS visits, max(c.visits) AS most_visits, count(c.visits) = count(*) AS visits_known
            FROM hits h
            JOIN (SELECT DISTINCT bundle, town, applicant_key, journey_no, case_id, visits FROM bundle_cases) c
              USING (bundle, town, applicant_key, journey_no)
            GROUP BY h.bundle, h.town, h.applicant_key, h.journey_no
        ),
        per_bundle AS (
            SELECT bundle, count(*) AS journeys, count(DISTINCT [town, applicant_key]) AS applicants,
                   sum(cases - 1) AS submissions_saved,
                   CASE WHEN bool_and(visits_known) THEN sum(visits - most_visits) END AS trips_saved
            FROM matched GROUP BY bundle
        )
        SELECT p.bundle, p.journeys, p.applicants, p.submissions_saved, p.trips_saved,
               p.applicants >= {floor} AS shown,
               (SELECT count(DISTINCT [m.town, m.applicant_key, m.journey_no::VARCHAR]) FROM matched m
                 WHERE m.bundle IN (SELECT bundle FROM per_bundle WHERE applicants >= {floor})) AS covered
        FROM per_bundle p ORDER BY p.bundle
    """
    rows = cur.execute(sql, params.values).fetchall()
    shown: list[BundleRow] = [
        {
            "name": bundles[b].name,
            "items": bundles[b].item_names,
            "journeys": int(j),
            "applicants": int(n),
            "submissions_saved": int(saved),
            "trips_saved": None if trips is None else int(trips),
        }
        for b, j, n, saved, trips, ok, _ in sorted(rows, key=lambda r: (-int(r[1]), int(r[0])))
        if ok
    ]
    covered = int(rows[0][6]) if rows else 0
    return shown, sum(1 for *_, ok, _ in rows if not ok), covered


def bundle_sentence(journeys: int | None) -> Text | None:
    """The sentence a page or report says of the bundles: ``N 个旅程本可一次办成``."""
    if journeys is None:
        return None
    return Text(
        f"{journeys:,} 个旅程本可一次办成（高效办成一件事）",
        f"{journeys:,} journeys could have been done in one go (高效办成一件事)",
    )


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def journey_summary(
    cur: duckdb.DuckDBPyConnection,
    filters: Filters,
    *,
    window_days: int = JOURNEY_WINDOW_DAYS,
    min_applicants: int = JOURNEY_MIN_APPLICANTS,
    bundles: list[Bundle] | None = None,
) -> JourneySummary:
    """Everything ``cli.py journeys`` prints (and a page or report may show) for one period and its towns.

    The headline counts are the catalogue KPIs' own numerators and denominators (one definition); they are
    None, not 0, when no case of the period carries an applicant key (``coverage`` says how many do).
    ``bundles`` default to the shipped file.
    """
    towns_only = replace_dims(filters)
    with base.journeys_built_once(cur, towns_only, window_days):  # six questions of the same journeys
        kpis = compute_kpis(cur, towns_only, JOURNEY_TILES, journey_window_days=window_days)
        keyed, total = coverage(cur, towns_only)
        known = keyed > 0
        params = Params()
        rows = (
            "SELECT count(DISTINCT [town, applicant_key]) "
            f"FROM ({base.journeys(towns_only, params, window_days=window_days)})"
        )
        (applicants,) = one(cur.execute(rows, params.values))
        pairs, suppressed_pairs = item_pairs(cur, towns_only, window_days=window_days, min_applicants=min_applicants)
        found, suppressed_bundles, covered = bundle_matches(
            cur,
            towns_only,
            load_bundles() if bundles is None else bundles,
            window_days=window_days,
            min_applicants=min_applicants,
        )
        department, suppressed_departments = department_pairs(cur, towns_only, window_days, min_applicants)
    multi_item, multi_department = kpis["multi_item_journey_rate"], kpis["multi_department_journey_rate"]

    def count(kpi_id: str) -> int | None:  # a journey count KPI: unknown only because no journey began
        value = kpis[kpi_id]["value"]
        return _int(value) if value is not None else (0 if known else None)

    return {
        "applicants": int(applicants) if known else None,
        "journeys": _int(multi_item.get("denominator")) if known else None,
        "multi_item_journeys": _int(multi_item.get("numerator")) if known else None,
        "multi_department_journeys": _int(multi_department.get("numerator")) if known else None,
        "avoidable_submissions": count("avoidable_submissions") if known else None,
        "reapplications_after_refusal": count("reapplications_after_refusal") if known else None,
        "coverage": keyed / total if total else None,
        "coverage_cases": [keyed, total],
        "suppressed_pairs": suppressed_pairs,
        "suppressed_bundles": suppressed_bundles,
        "bundle_journeys": covered if known else None,
        "pairs": pairs,
        "bundles": found,
        "department_pairs": department,
        "suppressed_department_pairs": suppressed_departments,
        "kpis": kpis,
    }


# --- what the 一件事 page asks for ---------------------------------------------------------------------------

#: The page's tiles, and 办件量 (whether the period before has anything to compare with).
JOURNEY_TILES = (*JOURNEY_KPIS, "cases")


def journey_kpis(
    cur: duckdb.DuckDBPyConnection, filters: Filters, window_days: int = JOURNEY_WINDOW_DAYS
) -> dict[str, KpiResult]:
    """The journey KPIs of the period's towns (no other filter splits a journey), with its case count."""
    return compute_kpis(cur, replace_dims(filters), list(JOURNEY_TILES), journey_window_days=window_days)


def previous_journey_kpis(
    cur: duckdb.DuckDBPyConnection, filters: Filters, window_days: int = JOURNEY_WINDOW_DAYS
) -> dict[str, KpiResult]:
    """:func:`journey_kpis` of the period before (the tiles' change vs last month)."""
    previous = filters.previous_period()
    if previous is None:  # pages always filter a period with both ends
        raise ValueError("the period before an open-ended one is undefined")
    return journey_kpis(cur, previous, window_days)


#: Bundles as plain lists (``[name, [[item name, item code], …]]``): what a kept figure or a cache can key on.
BundleSpec = list[list[Any]]


def bundle_spec(bundles: list[Bundle]) -> BundleSpec:
    return [[b.name, [[name, code] for name, code in b.items]] for b in bundles]


def usable_bundles() -> list[Bundle]:
    """The shipped bundles, or none when the file cannot be used: the figures go on without them, and the page
    says why (:func:`load_bundles` raises the reason)."""
    try:
        return load_bundles()
    except BundleFileError:
        return []


def shipped_bundle_spec() -> BundleSpec:
    """:func:`usable_bundles` as a spec (what the page's cached call is keyed on)."""
    return bundle_spec(usable_bundles())


def page_summary(
    cur: duckdb.DuckDBPyConnection, filters: Filters, window_days: int, spec: BundleSpec
) -> JourneySummary:
    """:func:`journey_summary` for the page: its window, and the bundles read when the page ran."""
    bundles = [
        Bundle(str(name), tuple((str(n), None if c is None else str(c)) for n, c in items)) for name, items in spec
    ]
    return journey_summary(cur, filters, window_days=window_days, bundles=bundles)


def settles_on(filters: Filters, window_days: int = JOURNEY_WINDOW_DAYS) -> dt.date | None:
    """The last day on which the period's journeys can still take a case (its last day + the window).

    Until then a journey begun late in the period may still go on, so its figures can still grow: a page
    read on the 1st says so rather than show last month's journeys as if they were over.
    """
    if filters.end is None:
        return None
    end = filters.end
    if filters.is_month_to_date():  # the running month goes on taking journeys until its last day
        end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
    return end + dt.timedelta(days=int(window_days))


def is_settled(filters: Filters, window_days: int = JOURNEY_WINDOW_DAYS, today: dt.date | None = None) -> bool:
    """Whether the period's journeys can take no more cases: :func:`settles_on` is behind us (today in the town).

    Until then a change against the period before (whose journeys are over) would be only the calendar.
    """
    settles = settles_on(filters, window_days)
    return settles is None or (today or Filters().as_of()) > settles
