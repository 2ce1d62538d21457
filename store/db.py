"""Connections and the single writer.

DuckDB allows one read-write connection per database file and refuses concurrent use of one
connection, so a :class:`Database` owns the connection, hands every reader its own ``cursor()``,
and funnels every write through :meth:`Database.write`, which holds a lock and one transaction:
an error anywhere inside rolls the whole write back.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

import settings
from store import schema


class Database:
    """One DuckDB file, migrated on open; readers take cursors, writers take :meth:`write`."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        self.path = settings.resolve_db_path(path) if path != ":memory:" else Path(":memory:")
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.read_only = read_only
        self._con = duckdb.connect(str(self.path), read_only=read_only)
        self._write_lock = threading.Lock()
        if not read_only:
            schema.migrate(self._con)
            from store import calendar

            calendar.ensure_filled(self._con)
            from ingest import channels

            channels.ensure_seeded(self._con)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of one's own: use it on one thread only."""
        return self._con.cursor()

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer: one lock, one transaction, the data version bumped on commit."""
        if self.read_only:
            raise PermissionError("database opened read-only")
        with self._write_lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("UPDATE data_version SET version = version + 1")
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def secret_salt(self) -> str:
        """The salt for hashing applicant identifiers, kept beside the database file, never inside it.

        Without the salt, a hash of an 18-digit ID number could be reversed by trying them all.
        """
        if str(self.path) == ":memory:":
            if not hasattr(self, "_memory_salt"):
                self._memory_salt = secrets.token_hex(32)
            return self._memory_salt
        key_file = self.path.parent / "secret.key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return key_file.read_text().strip()

    def data_version(self) -> int:
        """Changes with every committed write: a cache key for everything read from the store."""
        cur = self.cursor()
        try:
            return int(cur.execute("SELECT version FROM data_version").fetchone()[0])
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
