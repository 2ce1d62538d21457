"""Backups: one zip with the database and its salt key, consistent while the app keeps running.

The backup holds the database file (waiting while the app or a job uses it), checkpoints it so the
file alone is complete, and copies it with ``secret.key`` (without the key, hashed applicant
identifiers in the copy could not be matched with new data). Restoring replaces the database and
key, after checking the copy opens and migrating it to this program's schema.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import clock
from errors import BilingualError
from store import schema
from store.db import Database

DB_MEMBER = "egov.duckdb"
KEY_MEMBER = "secret.key"
MANIFEST_MEMBER = "manifest.json"


class BackupError(BilingualError):
    """A backup that cannot be written or restored."""


def default_backup_name(now: dt.datetime | None = None) -> str:
    return f"egov-backup-{(now or clock.now()):%Y%m%d-%H%M%S}.zip"


def backup(db_path: Path, out: Path) -> dict:
    """Write a consistent backup zip of ``db_path`` to ``out``; returns the manifest."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise BackupError(f"数据库文件不存在：{db_path}", f"no database file at {db_path}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    db = Database(db_path)  # waits while the app or a job holds the file, then holds it itself
    try:
        cur = db.cursor()
        cur.execute("CHECKPOINT")
        manifest = {
            "created_at": clock.now().isoformat(timespec="seconds"),
            "schema_version": schema.current_version(cur),
            "data_version": db.data_version(),
            "uploads": cur.execute("SELECT count(*) FROM uploads WHERE status = 'loaded'").fetchone()[0],
            "cases": cur.execute("SELECT count(*) FROM cases").fetchone()[0],
            "events": cur.execute("SELECT count(*) FROM events").fetchone()[0],
        }
        cur.close()
        partial = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.write(db_path, DB_MEMBER)  # complete after CHECKPOINT; nobody writes while we hold it
            key = db_path.parent / "secret.key"
            if key.exists():
                zf.write(key, KEY_MEMBER)
            zf.writestr(MANIFEST_MEMBER, json.dumps(manifest, ensure_ascii=False, indent=1))
    finally:
        db.close()
    os.replace(partial, out)
    return manifest


def restore(archive: Path, db_path: Path, *, lock_timeout: float = 5.0) -> dict:
    """Replace ``db_path`` (and its key) with a backup; the app must not be running."""
    archive, db_path = Path(archive), Path(db_path)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"不是有效的备份文件：{exc}", f"not a backup archive: {exc}") from exc
    with zf:
        names = set(zf.namelist())
        if DB_MEMBER not in names or MANIFEST_MEMBER not in names:
            raise BackupError("备份文件中缺少数据库或清单", "the archive lacks the database or its manifest")
        manifest = json.loads(zf.read(MANIFEST_MEMBER))
        work = Path(tempfile.mkdtemp(prefix="egov-restore-", dir=db_path.parent))
        try:
            staged = work / DB_MEMBER
            with zf.open(DB_MEMBER) as src, open(staged, "wb") as dst:  # fixed member names: no path traversal
                shutil.copyfileobj(src, dst)
            if KEY_MEMBER in names:
                (work / KEY_MEMBER).write_bytes(zf.read(KEY_MEMBER))
            Database(staged).close()  # opens, and migrates an older backup to this schema
            if db_path.exists():
                Database(db_path, lock_timeout=lock_timeout).close()  # refuses while the app holds it
            for suffix in (".wal",):
                Path(str(db_path) + suffix).unlink(missing_ok=True)
            os.replace(staged, db_path)
            if (work / KEY_MEMBER).exists():
                os.replace(work / KEY_MEMBER, db_path.parent / "secret.key")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return manifest
