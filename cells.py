"""Spreadsheet cells that stay data: text a spreadsheet would run as a formula is made inert.

Excel, WPS and LibreOffice evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, on
import, tab or carriage return); a name or value from an uploaded file could then run as a formula
in every download. One rule, used by every download (rejected rows, report workbooks, tables):
such text gets a leading single quote. A leaf module: it imports nothing of the project.
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell value that no spreadsheet will evaluate as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
