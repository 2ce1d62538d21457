"""The record of command-line publishing runs (the monthly cron job), kept beside the database file.

A scheduled run may fail because the database cannot be opened at all (held by a backup, a full
disk), so its record cannot live inside the database: it is one JSON line per run in
``<database>.runs.jsonl``, appended whole (one ``write`` of one short line) and trimmed to the last
:data:`KEEP` runs. The snapshots page reads it to say what the last scheduled run did, and the next
run reads it to retry a month whose run failed.

A line holds: ``at`` (town time), ``job``, ``month``, ``outcome`` (``published`` | ``skipped`` |
``failed``), ``version``, ``by``, ``reason_zh``/``reason_en`` (a failure's one-line reason).
In a county database a line also holds ``town`` (the town, or ``/county``).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import clock
import names

KEEP = 200
_MAX_BYTES = 512 * 1024  # a run's line is some 300 bytes: far more than KEEP lines means the file is not ours
OUTCOMES = ("published", "skipped", "failed")
log = logging.getLogger("egov.runs")


def log_path(db_path: str | os.PathLike) -> Path:
    path = Path(db_path)
    return path.with_name(path.name + ".runs.jsonl")


def record(db_path: str | os.PathLike, month: str, outcome: str, *, version: int | None = None, by: str | None = None,
           reason_zh: str = "", reason_en: str = "", retry: bool = True, job: str = "snapshot",
           town: str | None = None) -> None:  # fmt: skip
    """Append one run. Never raises: a run whose record cannot be written still reports on its own output.

    ``retry=False`` marks a failure that trying again cannot mend (the month has no data).
    """
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    entry = {
        "at": clock.now().isoformat(), "job": job, "month": month, "outcome": outcome, "version": version,
        "by": by, "reason_zh": reason_zh[:300], "reason_en": reason_en[:300], "retry": retry and outcome == "failed",
    }  # fmt: skip
    if town:  # a county database's runs name the town (or /county); a one-town database's lines stay as they were
        entry["town"] = town[:60]
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    path = log_path(db_path)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags, 0o644)
        try:
            os.write(fd, line)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size > _MAX_BYTES / 2:
            _trim(db_path)
    except OSError as exc:
        log.warning("could not record the %s run of %s in %s: %s", job, month, path, exc.strerror or exc)


def _trim(db_path: str | os.PathLike) -> None:
    """Keep the newest runs: at most :data:`KEEP`, in at most a quarter of the size bound."""
    kept: list[bytes] = []
    size = 0
    for entry in reversed(read(db_path, limit=KEEP)):
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        if size + len(line) > _MAX_BYTES / 4:
            break
        kept.append(line)
        size += len(line)
    names.write_file(log_path(db_path), b"".join(reversed(kept)))


def read(db_path: str | os.PathLike, limit: int = KEEP) -> list[dict]:
    """The last ``limit`` runs of the database ``db_path``, oldest first; lines that are not a run's are passed over."""
    path = log_path(db_path)
    try:
        data = names.read_file(path, limit=_MAX_BYTES * 2)
    except (OSError, names.NameRefused):
        return []
    runs = []
    for raw in data.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(raw)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("outcome") in OUTCOMES and isinstance(entry.get("month"), str):
            runs.append(entry)
    return runs[-limit:]


def last_run(db_path: str | os.PathLike, town: str | None = None) -> dict | None:
    """The latest run; given a ``town`` (or the county), the latest that was about it, or about every town (a run
    that failed before it knew which: the database would not open)."""
    runs = read(db_path, limit=1) if town is None else [r for r in read(db_path) if r.get("town") in (None, town)]
    return runs[-1] if runs else None


def months_to_retry(db_path: str | os.PathLike) -> list[str]:
    """Months whose latest recorded run failed: the next scheduled run tries them again (if still unpublished)."""
    latest: dict[tuple[str, object], dict] = {}
    for entry in read(db_path):
        latest[(entry["month"], entry.get("town"))] = entry
    return sorted({m for (m, _), e in latest.items() if e["outcome"] == "failed" and e.get("retry", True)})
