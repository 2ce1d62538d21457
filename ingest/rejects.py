"""The rejected rows (or field warnings) of an upload as a table, and as the Excel file the pages offer.

Every cell that a spreadsheet would run as a formula is made inert (:func:`cells.neutralise`), and the
writer is told never to turn a string into a formula or a link.
"""

from __future__ import annotations

import io
import json

import duckdb
import pandas as pd

from cells import neutralise
from ingest.reasons import reason_text
from store import uploads
from text import Text

_HEADS = (Text("行号", "Row"), Text("原因", "Reason"), Text("列", "Column"), Text("值", "Value"))
_SHEET_NAME = Text("拒收行", "Rejected rows")


def rejects_table(rejects: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Rejected rows as a flat table: row, reason, column, value, then the row's mapped fields."""
    heads = tuple(h(lang) for h in _HEADS)
    records = []
    for rec in rejects.to_dict("records"):
        reason = rec.get("reason")
        label = reason_text(reason)(lang)
        row = {heads[0]: rec.get("row"), heads[1]: label, heads[2]: rec.get("column"), heads[3]: rec.get("value")}
        fields = rec.get("fields")
        if isinstance(fields, str):
            try:
                fields = json.loads(fields)
            except ValueError:
                fields = None
        if isinstance(fields, dict):
            for key, value in fields.items():
                row.setdefault(str(key), value)
        records.append(row)
    return pd.DataFrame(records, columns=None if records else list(heads))


def rejects_xlsx(rejects: pd.DataFrame, lang: str = "zh", sheet: str | None = None) -> bytes:
    """The rejected rows as an .xlsx file, formulas neutralised, strings never turned into formulas."""
    table = rejects_table(rejects, lang)
    table = table.map(neutralise) if not table.empty else table
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer,
        engine="xlsxwriter",
        engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}},
    ) as writer:
        name = sheet or _SHEET_NAME(lang)
        table.to_excel(writer, sheet_name=name, index=False)
        worksheet = writer.sheets[name]
        worksheet.freeze_panes(1, 0)
        for i, column in enumerate(table.columns):
            width = max([len(str(column))] + [len(str(v)) for v in table[column].head(200).tolist()])
            worksheet.set_column(i, i, min(max(8, width * 1.6), 60))
    return buffer.getvalue()


def stored_rejects(cur: duckdb.DuckDBPyConnection, upload_id: int) -> pd.DataFrame:
    """The rejected rows kept for a past upload, in the shape :func:`rejects_table` takes (none of an upload the
    run's town scope may not see: :func:`store.uploads.visible`)."""
    frame = cur.execute(
        """SELECT row_number AS row, reason, column_name AS "column", value, raw AS fields
           FROM rejected_rows WHERE upload_id = ? ORDER BY row_number""",
        [int(upload_id)],
    ).df()
    return frame if uploads.visible(cur, int(upload_id)) else frame.iloc[0:0]
