"""One private folder per process for temporary copies of uploads (transcoded CSV, parsed sheets).

A process killed mid-upload (kill -9, a power cut) cannot clean up after itself, and a transcoded
copy of a GBK export is as large as the export and holds personal data. So each process works in
``<tmp>/egov-scratch/p<pid>-…`` and holds a lock on it that the kernel frees when the process ends,
however it ends; the next process to start sweeps every folder whose lock it can take.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path

_LOCK = threading.Lock()
_mine: Path | None = None
_lock_fd: int | None = None


def root() -> Path:
    return Path(os.environ.get("EGOV_SCRATCH") or Path(tempfile.gettempdir()) / "egov-scratch")


#: A folder younger than this is never swept: its process may be about to lock it.
YOUNG_SECONDS = 60


def _private(base: Path) -> bool:
    """Whether ``base`` is a real folder of ours that no one else may write to."""
    info = os.lstat(base)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def folder() -> Path:
    """This process's scratch folder (made, locked, and the dead processes' swept, on first use)."""
    global _mine, _lock_fd
    with _LOCK:
        if _mine is not None and _mine.is_dir():
            return _mine
        base = root()
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _private(base):
            sweep(base)
        else:  # someone else's, or open to others: work in a folder of our own (not swept by others)
            base = Path(tempfile.mkdtemp(prefix="egov-scratch-"))
        mine = Path(tempfile.mkdtemp(prefix=f"p{os.getpid()}-", dir=base))
        fd = os.open(mine / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _lock_fd is not None:
            os.close(_lock_fd)
        _mine, _lock_fd = mine, fd
        return mine


def sweep(base: Path | None = None) -> int:
    """Remove the folders of processes that have ended; returns how many were removed."""
    base = base or root()
    removed = 0
    now = time.time()
    for entry in base.glob("p*"):
        if entry == _mine or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            if now - entry.stat().st_mtime < YOUNG_SECONDS:
                continue
            fd = os.open(entry / ".lock", os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its process still runs
        try:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        finally:
            os.close(fd)
    return removed


def mkstemp(suffix: str = "", prefix: str = "egov-") -> tuple[int, str]:
    return tempfile.mkstemp(suffix=suffix, prefix=prefix, dir=folder())


def mkdtemp(prefix: str = "egov-") -> str:
    return tempfile.mkdtemp(prefix=prefix, dir=folder())
