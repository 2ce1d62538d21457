"""Spreadsheet cells that stay data: text a spreadsheet would run as a formula is made inert.

Excel, WPS and LibreOffice evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, on
import, tab or carriage return); a name or value from an uploaded file could then run as a formula
in every download. One rule, used by every download (rejected rows, report workbooks, tables):
such text gets a leading single quote. A leaf module: it imports nothing of the project.
"""

from __future__ import annotations

from typing import TypeVar, overload

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_Value = TypeVar("_Value")


@overload
def neutralise(value: str) -> str: ...
@overload
def neutralise(value: _Value) -> _Value: ...
def neutralise(value: object) -> object:
    """A cell value that no spreadsheet will evaluate as a formula (text stays text, anything else as it is)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
