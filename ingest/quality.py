"""Data quality: how complete the loaded data is, what was rejected, and where data seems missing.

A KPI is only as good as the fields behind it: a 满意度 of 99.9% over 3% of the cases, or a month
with a third of the usual cases because one export was forgotten, must be visible before anyone
reads the dashboard. Everything here reads the ``cases``/``events`` views (current rows only) and
``rejected_rows``/``uploads``, in SQL, with bound parameters.
"""

from __future__ import annotations

import duckdb
import pandas as pd

import scope
from ingest.normalize import PLACEHOLDERS
from ingest.reasons import reason_text
from store.rows import one
from text import Text

#: A month (or a department's month) with fewer cases than this share of its median month is flagged.
THIN_SHARE = 0.5
#: A department needs this many months of data before its months are compared with its median.
MIN_MONTHS_FOR_DEPARTMENT = 3
#: ... and a median month of at least this many cases: 0 cases in a month of an office that sees 1 is no news.
MIN_MEDIAN_FOR_DEPARTMENT = 5

#: At most this many unknown items (and departments) are listed; the counts above the table are complete.
CATALOG_GAP_LIMIT = 20


def _absent(column: str) -> str:
    """SQL: ``column`` holds nothing — NULL, or a word an export writes for "none" ("—", "/", "无", …).

    Department and item load as written (a "—" is kept as text), so without this a case whose department
    is "—" would count as having one, and the page would say that every case has a department.
    """
    words = ", ".join("'" + w.replace("'", "''") + "'" for w in PLACEHOLDERS)
    return f"({column} IS NULL OR lower(trim({column})) IN ({words}))"


#: field -> (label, basis: the cases it is counted over, filled expression, base expression)
_ALL, _COMPLETED = Text("全部办件", "all cases"), Text("已办结办件", "completed cases")
COVERAGE: dict[str, tuple[Text, Text, str, str]] = {
    "department": (Text("实施部门", "department"), _ALL, f"NOT {_absent('department')}", "true"),
    "service_item": (
        Text("事项（名称或编码）", "service item (name or code)"),
        _ALL,
        f"NOT ({_absent('service_item')} AND {_absent('item_code')})",
        "true",
    ),
    "channel": (Text("申请渠道", "channel"), _ALL, "channel IS NOT NULL", "true"),
    "submitted_at": (Text("申请时间", "submission time"), _ALL, "submitted_at IS NOT NULL", "true"),
    "completed_at": (
        Text("办结时间", "completion time"),
        _COMPLETED,
        "completed_at IS NOT NULL",
        "status = 'completed'",
    ),
    "due_at": (Text("办结时限（截止日期）", "due date"), _ALL, "due_at IS NOT NULL", "true"),
    "promised_days": (Text("承诺时限", "promised time limit"), _ALL, "promised_days IS NOT NULL", "true"),
    "visits": (Text("跑动次数", "visits"), _ALL, "visits IS NOT NULL", "true"),
    "resubmissions": (Text("补正次数", "resubmissions"), _ALL, "resubmissions IS NOT NULL", "true"),
    "satisfaction": (
        Text("满意度评价", "satisfaction rating"),
        _COMPLETED,
        "satisfaction IS NOT NULL",
        "status = 'completed'",
    ),
    "events": (
        Text("办理环节记录", "step events"),
        _ALL,
        "(c.town, c.case_id) IN (SELECT town, case_id FROM events)",
        "true",
    ),
}


#: The current cases of this run's towns: all without a town scope (:mod:`scope`); the scope is bound per cursor
#: (a DuckDB variable set by :func:`_bind_scope`), so no town name is ever part of the SQL text.
CASES = (
    "(SELECT * FROM cases WHERE getvariable('egov_towns') IS NULL OR list_contains(getvariable('egov_towns'), town))"
)
#: An upload (``u``) of this run's towns: its rejected rows and field warnings are shown only then.
UPLOAD_IN_SCOPE = "(getvariable('egov_towns') IS NULL OR list_contains(getvariable('egov_towns'), u.town))"


def _bind_scope(cur: duckdb.DuckDBPyConnection) -> None:
    """Set this cursor's ``egov_towns`` to the run's town scope (NULL: the county) before a check reads."""
    towns = scope.current()
    cur.execute("SET VARIABLE egov_towns = ?::VARCHAR[]", [None if towns is None else list(towns)])


def case_count(cur: duckdb.DuckDBPyConnection) -> int:
    _bind_scope(cur)
    return int(one(cur.execute(f"SELECT count(*) FROM {CASES} cases"))[0])


def field_coverage(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per field: how many cases (of its basis: all, or completed ones) carry a value, and the share."""
    _bind_scope(cur)
    parts = []
    for key, (_, _, filled_sql, base) in COVERAGE.items():
        parts.append(f"count(*) FILTER (WHERE ({base}) AND ({filled_sql})) AS {key}_filled")
        parts.append(f"count(*) FILTER (WHERE {base}) AS {key}_total")
    row = one(cur.execute(f"SELECT {', '.join(parts)} FROM {CASES} c"))
    records = []
    for i, (key, (label, basis, _, _)) in enumerate(COVERAGE.items()):
        filled, total = int(row[2 * i]), int(row[2 * i + 1])
        records.append(
            {
                "field": key,
                "label_zh": label.zh,
                "label_en": label.en,
                "basis_zh": basis.zh,
                "basis_en": basis.en,
                "filled": filled,
                "total": total,
                "share": filled / total if total else None,
            }
        )
    return pd.DataFrame(records)


def rejects_by_month(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Rejected rows of the uploads still loaded, by the month they were uploaded and by reason."""
    _bind_scope(cur)
    frame = cur.execute(
        f"""
        SELECT strftime(u.loaded_at, '%Y-%m') AS month, r.reason, count(*) AS rows
        FROM rejected_rows r JOIN uploads u USING (upload_id)
        WHERE u.status = 'loaded' AND {UPLOAD_IN_SCOPE}
        GROUP BY ALL ORDER BY month, rows DESC
        """
    ).df()
    frame["reason_zh"] = [reason_text(r).zh for r in frame["reason"]]
    frame["reason_en"] = [reason_text(r).en for r in frame["reason"]]
    return frame


def thin_months(cur: duckdb.DuckDBPyConnection, share: float = THIN_SHARE) -> pd.DataFrame:
    """Every month from the first to the last with cases: count, the median month, and a flag.

    Months with no case at all are included (count 0): a forgotten export shows up as a gap. The
    last month is marked ``latest`` since it may simply not be over yet.
    """
    _bind_scope(cur)
    return cur.execute(
        f"""
        WITH m AS (
            SELECT date_trunc('month', submitted_at) AS month, count(*) AS cases
            FROM {CASES} cases WHERE submitted_at IS NOT NULL GROUP BY 1
        ),
        span AS (
            SELECT unnest(generate_series((SELECT min(month) FROM m), (SELECT max(month) FROM m), INTERVAL 1 MONTH))
                AS month
        ),
        filled AS (SELECT s.month, coalesce(m.cases, 0) AS cases FROM span s LEFT JOIN m USING (month)),
        med AS (SELECT median(cases) AS median FROM filled)
        SELECT strftime(f.month, '%Y-%m') AS month, f.cases, med.median,
               CASE WHEN med.median > 0 THEN f.cases / med.median END AS ratio,
               f.cases < ? * med.median AS flagged,
               f.month = (SELECT max(month) FROM m) AS latest
        FROM filled f, med ORDER BY f.month
        """,
        [share],
    ).df()


def thin_department_months(
    cur: duckdb.DuckDBPyConnection,
    share: float = THIN_SHARE,
    min_months: int = MIN_MONTHS_FOR_DEPARTMENT,
    min_median: float = MIN_MEDIAN_FOR_DEPARTMENT,
) -> pd.DataFrame:
    """Department-months with fewer than ``share`` of the department's median month (gaps included).

    Each department is compared with itself, from its first to its last month with data, so a
    small office is not flagged for being small, nor a new one for the months before it existed.
    """
    _bind_scope(cur)
    return cur.execute(
        f"""
        WITH m AS (
            SELECT department, date_trunc('month', submitted_at) AS month, count(*) AS cases
            FROM {CASES} cases WHERE submitted_at IS NOT NULL AND department IS NOT NULL GROUP BY ALL
        ),
        bounds AS (SELECT department, min(month) AS first, max(month) AS last, count(*) AS months FROM m GROUP BY 1),
        span AS (
            SELECT department, unnest(generate_series(first, last, INTERVAL 1 MONTH)) AS month
            FROM bounds WHERE months >= ?
        ),
        filled AS (
            SELECT s.department, s.month, coalesce(m.cases, 0) AS cases
            FROM span s LEFT JOIN m USING (department, month)
        ),
        med AS (SELECT department, median(cases) AS median FROM filled GROUP BY 1)
        SELECT f.department, strftime(f.month, '%Y-%m') AS month, f.cases, med.median,
               f.cases / med.median AS ratio,
               f.month = (SELECT max(month) FROM m) AS latest
        FROM filled f JOIN med USING (department)
        WHERE med.median >= ? AND f.cases < ? * med.median
        ORDER BY ratio, f.department, f.month
        """,
        [min_months, max(min_median, 1e-9), share],
    ).df()


def missing_keys(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many current cases lack a department, an item (name and code), or both ("—", "无" count as lacking)."""
    _bind_scope(cur)
    no_department, no_item = _absent("department"), f"({_absent('service_item')} AND {_absent('item_code')})"
    row = one(
        cur.execute(
            f"""
        SELECT count(*),
               count(*) FILTER (WHERE {no_department}),
               count(*) FILTER (WHERE {no_item}),
               count(*) FILTER (WHERE {no_department} AND {no_item})
        FROM {CASES} cases
        """
        )
    )
    return {"cases": row[0], "no_department": row[1], "no_item": row[2], "neither": row[3]}


def missing_keys_by_upload(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Which uploads brought the cases without department or item, so the analyst knows which export to fix."""
    _bind_scope(cur)
    no_department, no_item = _absent("c.department"), f"({_absent('c.service_item')} AND {_absent('c.item_code')})"
    return cur.execute(
        f"""
        SELECT c.upload_id, u.file_name, count(*) AS cases,
               count(*) FILTER (WHERE {no_department}) AS no_department,
               count(*) FILTER (WHERE {no_item}) AS no_item
        FROM {CASES} c JOIN uploads u USING (upload_id)
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE {no_department} OR {no_item}) > 0
        ORDER BY c.upload_id
        """
    ).df()


def missing_keys_sample(cur: duckdb.DuckDBPyConnection, limit: int = 200) -> pd.DataFrame:
    """A few such cases to look up in the platform (ids and dates only: no personal data is stored)."""
    _bind_scope(cur)
    no_department, no_item = _absent("c.department"), f"({_absent('c.service_item')} AND {_absent('c.item_code')})"
    return cur.execute(
        f"""
        SELECT c.case_id, c.submitted_at, c.department, coalesce(c.service_item, c.item_code) AS service_item,
               u.file_name, c.source_row
        FROM {CASES} c JOIN uploads u USING (upload_id)
        WHERE {no_department} OR {no_item}
        ORDER BY c.submitted_at DESC NULLS LAST, c.case_id
        LIMIT ?
        """,
        [int(limit)],
    ).df()


def _catalog_keyed() -> str:
    """The WITH clause ``k``: each current case's item and department, and whether the catalogue knows them.

    A case's item is in the catalogue when its item code is a catalogue code or its item (name, else code) a
    catalogue name — the rule by which the KPIs find a case's catalogue row (metrics.base.item_stats). Its
    department is in the catalogue when some catalogue item names it as its department. Placeholders ("—",
    "无") are no item or department here: :func:`missing_keys` counts those cases, this does not count them twice.
    """
    return f"""
        WITH cat AS (SELECT item_code, item_name, department FROM service_items),
        c AS (
            SELECT CASE WHEN NOT {_absent("service_item")} THEN service_item END AS name,
                   CASE WHEN NOT {_absent("item_code")} THEN item_code END AS code,
                   CASE WHEN NOT {_absent("department")} THEN department END AS department,
                   submitted_at
            FROM {CASES} cases
        ),
        k AS (
            SELECT coalesce(name, code) AS item, code, department, submitted_at,
                   coalesce(code IN (SELECT item_code FROM cat WHERE item_code IS NOT NULL), false)
                       OR coalesce(coalesce(name, code) IN (SELECT item_name FROM cat), false) AS item_known,
                   coalesce(department IN (SELECT department FROM cat WHERE NOT {_absent("department")}), false)
                       AS department_known
            FROM c
        )
    """


def catalog_gaps(cur: duckdb.DuckDBPyConnection) -> dict[str, int | None]:
    """How many current cases have an item, or a department, the service catalogue does not know.

    An item outside the catalogue has no 网上可办 flag or catalogue time limit, so the KPIs that need them
    cannot judge its cases; often the item is spelt differently or the catalogue is out of date. Keys:
    ``catalog_items`` and ``catalog_departments`` (the catalogue's size; 0 items = no catalogue, and then
    nothing else is counted: every item would be "unknown"), ``cases_with_item``, ``items`` (distinct
    unknown items), ``item_cases``; ``cases_with_department``, ``departments``, ``department_cases`` —
    these three ``None`` when the catalogue names no department, as it cannot be checked.
    """
    _bind_scope(cur)
    catalog_items, catalog_departments = one(
        cur.execute(
            f"SELECT count(*), count(DISTINCT department) FILTER (WHERE NOT {_absent('department')}) FROM service_items"
        )
    )
    gaps: dict[str, int | None] = {
        "catalog_items": int(catalog_items),
        "catalog_departments": int(catalog_departments),
        **dict.fromkeys(("cases_with_item", "items", "item_cases")),
        **dict.fromkeys(("cases_with_department", "departments", "department_cases")),
    }
    if not catalog_items:
        return gaps
    row = one(
        cur.execute(
            _catalog_keyed()
            + """
        SELECT count(item),
               count(DISTINCT item) FILTER (WHERE NOT item_known),
               count(item) FILTER (WHERE NOT item_known),
               count(department),
               count(DISTINCT department) FILTER (WHERE NOT department_known),
               count(department) FILTER (WHERE NOT department_known)
        FROM k
        """
        )
    )
    gaps.update(cases_with_item=int(row[0]), items=int(row[1]), item_cases=int(row[2]))
    if catalog_departments:
        gaps.update(cases_with_department=int(row[3]), departments=int(row[4]), department_cases=int(row[5]))
    return gaps


def catalog_gap_items(cur: duckdb.DuckDBPyConnection, limit: int = CATALOG_GAP_LIMIT) -> pd.DataFrame:
    """The unknown items with the most cases: item, code, its usual department, cases, first and last month.

    Empty without a catalogue (every item would be listed). Bounded by ``limit``; see :func:`catalog_gaps`.
    """
    _bind_scope(cur)
    return cur.execute(
        _catalog_keyed()
        + """
        SELECT item AS service_item, min(code) AS item_code, mode(department) AS department, count(*) AS cases,
               strftime(min(submitted_at), '%Y-%m') AS first_month, strftime(max(submitted_at), '%Y-%m') AS last_month
        FROM k
        WHERE item IS NOT NULL AND NOT item_known AND EXISTS (SELECT 1 FROM cat)
        GROUP BY item ORDER BY cases DESC, item
        LIMIT ?
        """,
        [int(limit)],
    ).df()


def catalog_gap_departments(cur: duckdb.DuckDBPyConnection, limit: int = CATALOG_GAP_LIMIT) -> pd.DataFrame:
    """The departments no catalogue item names, with the most cases first: department, items, cases, months.

    Empty when the catalogue names no department at all (nothing to check against).
    """
    _bind_scope(cur)
    return cur.execute(
        _catalog_keyed()
        + f"""
        SELECT department, count(DISTINCT item) AS items, count(*) AS cases,
               strftime(min(submitted_at), '%Y-%m') AS first_month, strftime(max(submitted_at), '%Y-%m') AS last_month
        FROM k
        WHERE department IS NOT NULL AND NOT department_known
          AND EXISTS (SELECT 1 FROM cat WHERE NOT {_absent("department")})
        GROUP BY department ORDER BY cases DESC, department
        LIMIT ?
        """,
        [int(limit)],
    ).df()


def field_warnings_by_reason(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Fields left empty on loaded rows (of the uploads still loaded), by reason and column.

    A time limit of 99999天 or 跑动次数 -3 does not cost the case; it costs the field, which the coverage
    figures then count as missing. This says why.
    """
    _bind_scope(cur)
    frame = cur.execute(
        f"""
        SELECT w.reason, w.column_name, count(*) AS rows, count(DISTINCT w.upload_id) AS uploads
        FROM field_warnings w JOIN uploads u USING (upload_id)
        WHERE u.status = 'loaded' AND {UPLOAD_IN_SCOPE}
        GROUP BY ALL ORDER BY rows DESC, w.reason
        """
    ).df()
    frame["reason_zh"] = [reason_text(r).zh for r in frame["reason"]]
    frame["reason_en"] = [reason_text(r).en for r in frame["reason"]]
    return frame


def field_warnings_of_upload(cur: duckdb.DuckDBPyConnection, upload_id: int) -> pd.DataFrame:
    """An upload's field warnings, row by row, in the shape ``ingest.rejects.rejects_table`` takes."""
    _bind_scope(cur)
    return cur.execute(
        f"""SELECT row_number AS row, reason, column_name AS "column", value, NULL::JSON AS fields
           FROM field_warnings w WHERE upload_id = ?
             AND upload_id IN (SELECT u.upload_id FROM uploads u WHERE {UPLOAD_IN_SCOPE})
           ORDER BY row_number, reason""",
        [int(upload_id)],
    ).df()
