"""Backups: one zip with the database and its salt key, consistent while the app keeps running.

The backup holds the database file (waiting while the app or a job uses it), checkpoints it so the
file alone is complete, and copies it with ``secret.key`` (without the key, hashed applicant
identifiers in the copy could not be matched with new data). Restoring replaces the database and
key, after checking the copy opens and migrating it to this program's schema.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

import duckdb

import clock
import names
from errors import BilingualError
from store import schema
from store.db import Database, StorageError
from store.rows import one

DB_MEMBER = "egov.duckdb"
KEY_MEMBER = "secret.key"
MANIFEST_MEMBER = "manifest.json"

#: What a restore unpacks, at most (a zip bomb — a huge member compressed well — is refused, not unpacked):
#: ``$EGOV_RESTORE_MAX_MB`` when set, else the largest of RESTORE_FLOOR_BYTES, RESTORE_DB_FACTOR times the
#: current database file and RESTORE_RATIO times the archive (a DuckDB file deflates by far less than that).
RESTORE_FLOOR_BYTES = 1024**3
RESTORE_DB_FACTOR = 4
RESTORE_RATIO = 200
#: The manifest is a few hundred bytes and the key 64 characters: read into memory, so bounded tightly.
MANIFEST_LIMIT = 1024 * 1024
KEY_LIMIT = 4096
_CHUNK = 1024 * 1024
#: Our backups are deflated; bzip2 and LZMA members are refused: Python's zipfile unpacks those without a
#: bound on each step's output, so a few kilobytes can become gigabytes in memory before any count is made.
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class BackupError(BilingualError):
    """A backup that cannot be written or restored."""


def default_backup_name(now: dt.datetime | None = None) -> str:
    return f"egov-backup-{(now or clock.now()):%Y%m%d-%H%M%S}.zip"


def backup(db_path: Path, out: Path) -> dict:
    """Write a consistent backup zip of ``db_path`` to ``out``; returns the manifest.

    The zip is written to a new private file beside ``out`` and renamed onto it (:func:`names.replacing`):
    a link planted at ``out`` is replaced, its target never written.
    """
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
            "uploads": one(cur.execute("SELECT count(*) FROM uploads WHERE status = 'loaded'"))[0],
            "cases": one(cur.execute("SELECT count(*) FROM cases"))[0],
            "events": one(cur.execute("SELECT count(*) FROM events"))[0],
        }
        cur.close()
        # 0600: the zip holds the salt key. Complete after CHECKPOINT; nobody writes while we hold the file.
        with names.replacing(out, mode=0o600) as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.write(db_path, DB_MEMBER)
            key = db_path.parent / "secret.key"
            if key.exists():
                zf.write(key, KEY_MEMBER)
            zf.writestr(MANIFEST_MEMBER, json.dumps(manifest, ensure_ascii=False, indent=1))
    finally:
        db.close()
    return manifest


def restore_limit(archive: Path, db_path: Path) -> int:
    """The most bytes a restore of ``archive`` over ``db_path`` unpacks (see RESTORE_FLOOR_BYTES)."""
    setting = os.environ.get("EGOV_RESTORE_MAX_MB", "").strip()
    if setting:
        try:
            return max(1, int(float(setting) * 1024 * 1024))
        except ValueError:
            pass
    current = db_path.stat().st_size if db_path.is_file() else 0
    size = archive.stat().st_size if archive.is_file() else 0
    return max(RESTORE_FLOOR_BYTES, RESTORE_DB_FACTOR * current, RESTORE_RATIO * size)


def _too_large(limit: int) -> BackupError:
    mb = limit / 1024 / 1024
    return BackupError(
        f"备份文件解压后超过 {mb:,.0f} MB 的上限，可能已损坏或被篡改；未作任何修改（确属正常的大备份，"
        f"可设置环境变量 EGOV_RESTORE_MAX_MB 放宽上限）",
        f"the archive unpacks to more than the {mb:,.0f} MB limit: damaged or tampered with; nothing was changed "
        f"(for a genuinely large backup, raise EGOV_RESTORE_MAX_MB)",
    )


def _damaged() -> BackupError:
    return BackupError(
        "备份文件已损坏，无法解压；未作任何修改", "the archive is damaged and cannot be unpacked; nothing was changed"
    )


def _check_members(zf: zipfile.ZipFile, limit: int) -> None:
    """Refuse before unpacking anything: unknown compressions, declared sizes over their limits."""
    total = 0
    for info in zf.infolist():
        if info.filename not in (DB_MEMBER, KEY_MEMBER, MANIFEST_MEMBER):
            continue  # never unpacked
        if info.compress_type not in _COMPRESSIONS:
            raise BackupError(
                "备份文件使用了不支持的压缩方式（本程序的备份只用 deflate）；未作任何修改",
                "the archive uses an unsupported compression (this program's backups are deflated); nothing was changed",
            )
        cap = {MANIFEST_MEMBER: MANIFEST_LIMIT, KEY_MEMBER: KEY_LIMIT}.get(info.filename, limit)
        total += info.file_size
        if info.file_size > cap or total > limit:
            raise _too_large(limit)


def copy_limited(src: IO[bytes], dst: IO[bytes], limit: int) -> int:
    """Copy ``src`` to ``dst`` in chunks, counting: refused (BackupError) once more than ``limit`` bytes came."""
    copied = 0
    while chunk := src.read(_CHUNK):
        copied += len(chunk)
        if copied > limit:
            raise _too_large(limit)
        dst.write(chunk)
    return copied


def _read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    buffer = io.BytesIO()
    with zf.open(name) as src:
        copy_limited(src, buffer, limit)
    return buffer.getvalue()


def restore(archive: Path, db_path: Path, *, lock_timeout: float = 5.0) -> dict:
    """Replace ``db_path`` (and its key) with a backup; the app must not be running.

    Everything is unpacked into a staging folder first, within :func:`restore_limit` (declared sizes
    checked first, then every byte counted while unpacking); whatever goes wrong before the final
    rename leaves the database and key as they were.
    """
    archive, db_path = Path(archive), Path(db_path)
    limit = restore_limit(archive, db_path)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"不是有效的备份文件：{exc}", f"not a backup archive: {exc}") from exc
    with zf:
        names_in = set(zf.namelist())
        if DB_MEMBER not in names_in or MANIFEST_MEMBER not in names_in:
            raise BackupError("备份文件中缺少数据库或清单", "the archive lacks the database or its manifest")
        _check_members(zf, limit)
        try:
            manifest = json.loads(_read_member(zf, MANIFEST_MEMBER, MANIFEST_LIMIT))
            if not isinstance(manifest, dict):
                raise ValueError("manifest is not an object")
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise _damaged() from exc
        try:
            work = Path(tempfile.mkdtemp(prefix="egov-restore-", dir=db_path.parent))
        except OSError as exc:
            raise BackupError(
                f"无法在 {db_path.parent} 中解压：{exc.strerror}",
                f"cannot unpack into {db_path.parent}: {exc.strerror}",
            ) from exc
        try:
            staged = work / DB_MEMBER
            try:  # fixed member names: no path traversal; the budget is shared with the key
                with zf.open(DB_MEMBER) as src, open(staged, "xb") as dst:
                    copy_limited(src, dst, limit)
                if KEY_MEMBER in names_in:
                    (work / KEY_MEMBER).write_bytes(_read_member(zf, KEY_MEMBER, KEY_LIMIT))
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise _damaged() from exc
            except OSError as exc:
                raise BackupError(
                    f"无法解压备份：{exc.strerror}（磁盘空间不足？）；未作任何修改",
                    f"cannot unpack the backup: {exc.strerror} (disk full?); nothing was changed",
                ) from exc
            try:
                Database(staged).close()  # opens, and migrates an older backup to this schema
            except (duckdb.Error, StorageError) as exc:
                raise BackupError(
                    "备份中的数据库无法打开，可能已损坏；未作任何修改",
                    "the database in the archive cannot be opened: damaged?; nothing was changed",
                ) from exc
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
