"""What every command of the command line does around its own work, written once for cli.py and the
``*/cli_commands.py`` modules: open the database ``--db`` names (closed however the command ends), refuse in one
line on stderr with an exit code (2: a bad argument), print ``--format json``.

The command line is the top layer, beside the app: only cli.py and the ``cli_commands`` modules import this
module (tests/test_cli_and_store.py checks it), and it imports only leaves and the store, so the rest of
store/, metrics/ and reports/ never depends on the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import settings
from store.db import Database
from terminal import echo


def open_database(db: str | None) -> Database:
    """The database ``--db`` names (else ``$EGOV_DB``, else data/egov.duckdb), waited for up to
    ``EGOV_DB_LOCK_TIMEOUT`` while another process holds it (DatabaseBusy after)."""
    return Database(settings.resolve_db_path(db))


@contextmanager
def database(args: argparse.Namespace) -> Iterator[Database]:
    """The command's database (``args.db``), closed however the command ends (refusals are printed by cli.main)."""
    db = open_database(args.db)
    try:
        yield db
    finally:
        db.close()


def _line(zh: str, en: str, detail: object) -> str:
    return f"{zh} ({en})" if detail is None else f"{zh} ({en}): {detail}"


def refuse(zh: str, en: str, detail: object = None, *, code: int = 1) -> int:
    """One line on stderr, ``zh (en)`` or ``zh (en): detail``; returns the exit code (1, or 2 for a bad argument)."""
    echo(_line(zh, en, detail), file=sys.stderr)
    return code


class Refused(Exception):
    """:func:`refuse` from inside a ``with`` (a bad option found while opening): cli.main prints it, exits ``code``."""

    def __init__(self, zh: str, en: str, detail: object = None, *, code: int = 1) -> None:
        super().__init__(_line(zh, en, detail))
        self.code = code


def print_json(value: Any, *, note: str | None = None, default: Callable[[Any], Any] = str) -> int:
    """``--format json``: the value on stdout (indented, Chinese as it is); a ``note`` for the reader goes to
    stderr, so that stdout stays JSON. Returns 0."""
    if note:
        echo(note, file=sys.stderr)
    echo(json.dumps(value, ensure_ascii=False, indent=1, default=default))
    return 0
