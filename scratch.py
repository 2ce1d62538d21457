"""One private folder per process for temporary copies of uploads (transcoded CSV, parsed sheets).

A process killed mid-upload (kill -9, a power cut) cannot clean up after itself, and a transcoded
copy of a GBK export is as large as the export and holds personal data. So each process works in
``<tmp>/egov-scratch/p<pid>`` and holds a lock on it that the kernel frees when the process ends,
however it ends; the next process to start sweeps every folder whose lock it can take.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from pathlib import Path

_LOCK = threading.Lock()
_mine: Path | None = None
_lock_fd: int | None = None


def root() -> Path:
    return Path(os.environ.get("EGOV_SCRATCH") or Path(tempfile.gettempdir()) / "egov-scratch")


def folder() -> Path:
    """This process's scratch folder (made, locked, and the dead processes' swept, on first use)."""
    global _mine, _lock_fd
    with _LOCK:
        if _mine is not None and _mine.is_dir():
            return _mine
        base = root()
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        sweep(base)
        mine = base / f"p{os.getpid()}"
        mine.mkdir(mode=0o700, exist_ok=True)
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
    for entry in base.glob("p*"):
        if entry == _mine or not entry.is_dir():
            continue
        try:
            fd = os.open(entry / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
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
