"""Connections and the single writer.

DuckDB allows one read-write connection per database file and refuses concurrent use of one
connection, so a :class:`Database` owns the connection, hands every reader its own ``cursor()``,
and funnels every write through :meth:`Database.write`, which holds a lock and one transaction:
an error anywhere inside rolls the whole write back.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

import names
import settings
from errors import BilingualError
from store import schema
from store.rows import one

_CONNECT_LOCK = threading.Lock()


def _failpoint(name: str) -> None:
    """Fault injection for the crash tests: ``EGOV_FAILPOINT=before_commit:30`` pauses there for 30 s."""
    spec = os.environ.get("EGOV_FAILPOINT", "")
    point, _, seconds = spec.partition(":")
    if point == name:
        print(f"failpoint {name} reached", file=sys.stderr, flush=True)
        time.sleep(float(seconds or 60))


class StorageError(BilingualError):
    """The database file cannot be opened or written: a read-only folder, no permission, a full disk."""

    def __init__(self, path: Path, detail: str) -> None:
        lowered = detail.lower()
        if "no space" in lowered or "disk full" in lowered:
            why_zh, why_en = "磁盘空间已满", "the disk is full"
        elif "read-only" in lowered or "permission" in lowered or "access" in lowered:
            why_zh, why_en = "数据目录只读或没有写入权限", "the data folder is read-only or not writable"
        else:
            why_zh, why_en = "无法读写数据库文件", "the database file cannot be read or written"
        super().__init__(
            f"{why_zh}：{path}。本次操作未作任何修改。",
            f"{why_en}: {path}. Nothing was changed.",
            detail=f" [{detail.strip().splitlines()[0][:200]}]",
        )

    @classmethod
    def from_exception(cls, path: Path, exc: BaseException) -> StorageError:
        return cls(path, str(exc) or type(exc).__name__)


#: Run inside every write that bumps the data version, just before it commits: what is kept from the data
#: (``metrics.cube``, which registers itself here) is brought up to date in the same transaction.
BEFORE_COMMIT: list[Callable[[duckdb.DuckDBPyConnection], None]] = []


class DatabaseBusy(BilingualError):
    """Another process (a command-line ingest, a backup) holds the database file for longer than we wait."""

    def __init__(self, path: Path, waited: float) -> None:
        super().__init__(
            f"数据库正被另一个程序占用（如命令行导入或备份），已等待 {waited:.0f} 秒，请稍后再试",
            f"the database is held by another program (a command-line ingest or backup); waited {waited:.0f} s",
            detail=f": {path}",
        )


_STORAGE_WORDS = ("no space left", "could not write", "read-only file system", "permission denied", "disk full")


def _is_storage_failure(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) or any(w in str(exc).lower() for w in _STORAGE_WORDS)


def _process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (``/proc/PID/stat`` field 22).

    None where there is no ``/proc`` (not Linux); raises ProcessLookupError when there is and the
    process is not in it.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            raise ProcessLookupError(pid) from None
        return None
    except OSError:
        return None
    try:  # the command name (field 2) is in parentheses and may hold spaces: count from its end
        return int(stat[stat.rindex(")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


def _boot_time() -> float | None:
    with suppress(OSError, ValueError, StopIteration), open("/proc/stat") as fh:
        return float(next(line for line in fh if line.startswith("btime")).split()[1])
    return None


def _marker_is_live(text: str) -> bool:
    """Whether a waiting marker (``PID TIME START``, or the older ``PID TIME``) names the live job that wrote it."""
    parts = text.split()
    try:
        pid = int(parts[0])
        written = float(parts[1]) if len(parts) > 1 else None
    except (ValueError, IndexError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's: the start time says whether it is the job
    except OSError:
        return False
    try:
        start = _process_start(pid)
    except ProcessLookupError:
        return False
    if start is None:  # no /proc: as before, a live process id is taken for the job
        return True
    if len(parts) > 2 and parts[2] != "-":
        return parts[2] == str(start)  # the same id, started at another time: another process
    boot = _boot_time()  # an older marker without the start time: a process started after it cannot have written it
    if written is None or boot is None:
        return True
    return boot + start / os.sysconf("SC_CLK_TCK") <= written + 5


def _rollback_quietly(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back; if even that fails (the disk is gone), DuckDB discards the open transaction itself."""
    with suppress(duckdb.Error):
        cur.execute("ROLLBACK")


class Database:
    """One DuckDB file, migrated on open; readers take cursors, writers take :meth:`write`.

    DuckDB lets one process at a time open a file. ``shared=True`` (the app) holds no connection
    between uses: each ``cursor()`` and each write opens one (cheap while another is open: the
    process shares one DuckDB instance) and the file is released whenever none is in use, so the
    command line (ingest, backup, the monthly snapshot job) can work while the app runs. Whoever
    finds the file held waits for it, up to ``lock_timeout`` seconds.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        shared: bool = False,
        lock_timeout: float | None = None,
    ) -> None:
        self.path = settings.resolve_db_path(path) if path != ":memory:" else Path(":memory:")
        self.in_memory = str(self.path) == ":memory:"
        if not self.in_memory:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError.from_exception(self.path, exc) from exc
        self.read_only = read_only
        self.shared = shared and not self.in_memory
        self.lock_timeout = settings.DB_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._write_lock = threading.Lock()
        self._run = threading.local()  # .opened: the connections a page run opened on this thread (see hold)
        con = self._connect()
        if not read_only:
            schema.migrate(con)
            from store import calendar

            calendar.ensure_filled(con)
            from store import channels

            channels.ensure_seeded(con)
        self._con: duckdb.DuckDBPyConnection | None = None if self.shared else con
        if self.shared:
            con.close()

    @property
    def _waiting_marker(self) -> Path:
        """A job that waits for the file leaves this beside it; the app then opens nothing new until it is gone.

        It reads ``PID TIME START``: the job's process id, when it was written (epoch seconds) and the
        process's start time (``/proc/PID/stat`` field 22, ``-`` where unknown), so that a marker left by
        a killed job is not taken for a live one when another process is given the same id.
        """
        return self.path.with_name(self.path.name + ".wanted")

    def _announce_waiting(self) -> None:
        start = _process_start(os.getpid())
        text = f"{os.getpid()} {time.time():.0f} {'-' if start is None else start}\n"
        names.write_file(self._waiting_marker, text.encode())  # whole or not at all; never through a link

    def job_waiting(self) -> bool:
        """Whether a command-line job waits for the file of this shared database (its marker names a live job).

        Long readers of the app (the kept figures' refresh) check it between queries and give way.
        """
        if not self.shared:
            return False
        try:
            return _marker_is_live(self._waiting_marker.read_text())
        except OSError:
            return False

    def _yield_to_waiting_job(self) -> None:
        """The app gives way to a command-line job that waits for the file (else busy readers would starve it)."""
        marker = self._waiting_marker
        started = time.monotonic()
        while marker.exists() and time.monotonic() - started < self.lock_timeout:
            try:
                live = _marker_is_live(marker.read_text())
            except OSError:  # gone meanwhile
                return
            if not live:
                marker.unlink(missing_ok=True)  # left behind by a job that died
                return
            time.sleep(0.1)

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """A new connection, waiting while another process holds the file."""
        if self.shared:
            self._yield_to_waiting_job()
        started = time.monotonic()
        delay = 0.05
        announced = False
        try:
            while True:
                try:
                    with _CONNECT_LOCK:  # DuckDB's instance cache races when threads open one file at once
                        return duckdb.connect(str(self.path), read_only=self.read_only)
                except duckdb.IOException as exc:
                    waited = time.monotonic() - started
                    retryable = "lock" in str(exc).lower() or "handle conflict" in str(exc).lower()
                    if not retryable:
                        raise StorageError.from_exception(self.path, exc) from exc
                    if waited >= self.lock_timeout:
                        raise DatabaseBusy(self.path, waited) from exc
                    if not self.shared and not announced:
                        with suppress(OSError):
                            self._announce_waiting()
                            announced = True
                    time.sleep(min(delay, max(0.0, self.lock_timeout - waited)))
                    delay = min(delay * 2, 1.0)
        finally:
            if announced:
                self._waiting_marker.unlink(missing_ok=True)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of one's own: use it on one thread only, and close it (or take :meth:`reading`).

        In a shared database a cursor is a connection, which holds the file until closed; one opened
        inside :meth:`hold` is closed when the block ends, whatever its owner did with it.
        """
        if self._con is None:
            con = self._connect()
            opened = getattr(self._run, "opened", None)
            if opened is not None:
                opened.append(con)
            return con
        return self._con.cursor()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor closed when the block ends: the way for code that runs outside a page run (a download's
        deferred bytes, a callback) to read without keeping the file from the command-line jobs."""
        cur = self.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the file open for the block (one page run), and release it, fully, when the block ends.

        A shared database opens a connection per cursor; when none is open, DuckDB opens the file
        again (50 ms at ten million events), while beside an open one a cursor costs about 1 ms.
        Every cursor opened on this thread inside the block is closed at its end, even one a page
        kept in a variable or a closure: no connection outlives the run, so the command-line jobs
        (ingest, backup, the monthly snapshot) find the file free as soon as the run is over.
        """
        if not self.shared:
            yield
            return
        outer = getattr(self._run, "opened", None)
        opened: list[duckdb.DuckDBPyConnection] = []
        self._run.opened = opened
        held = self._connect()
        try:
            yield
        finally:
            self._run.opened = outer
            for con in opened:
                with suppress(duckdb.Error):
                    con.close()
            held.close()

    @contextmanager
    def write(self, *, bump: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """The single writer: one lock, one transaction, the data version bumped on commit.

        ``bump=False`` for writes no page shows (sign-in attempts): the pages' caches, keyed on the data
        version, stay warm however many people sign in.
        """
        if self.read_only:
            raise PermissionError("database opened read-only")
        with self._write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                if bump:
                    cur.execute("UPDATE data_version SET version = version + 1")
                    for keep in BEFORE_COMMIT:
                        keep(cur)
                _failpoint("before_commit")
                cur.execute("COMMIT")
            except duckdb.Error as exc:
                _rollback_quietly(cur)
                if _is_storage_failure(exc):  # a full disk or a folder gone read-only midway, even at commit
                    raise StorageError.from_exception(self.path, exc) from exc
                raise
            except BaseException:
                _rollback_quietly(cur)
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
            return int(one(cur.execute("SELECT version FROM data_version"))[0])
        finally:
            cur.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
