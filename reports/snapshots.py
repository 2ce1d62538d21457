"""Publish, list and read monthly snapshots: frozen figures plus the exact bytes of every rendered file.

Publishing month M (:func:`publish`):

1. collects the figures (:func:`reports.content.collect`) and the PII-free case list on one read
   cursor inside one transaction, so both reflect the same committed data version;
2. renders the PDF, HTML, XLSX, Parquet, CSV, JSON and the zip of them all from that frozen data;
3. stores the figures (JSON), the data version and every file's bytes in one write, together with
   its audit row. A file is later served from these stored bytes (checked against their SHA-256),
   never re-rendered, so a published report stays byte-for-byte the same whatever is uploaded
   afterwards. Publishing a month again adds version N+1 beside the earlier ones, with the KPI
   figures that changed.

A snapshot belongs to a town (its figures alone) or to the county (:data:`COUNTY`: every town side by side,
:mod:`reports.county`); versions count per (town, month). In a database of one town the files are named as
they always were (``report-2026-10-v1.pdf``); once a second town holds data a town's files carry its name
(``report-柳林镇-2026-10-v1.pdf``) and the county's are ``county-report-2026-10-v1.pdf``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

import clock
import scope
from errors import BilingualError
from reports import content as frozen
from reports import county as county_report
from reports import data as data_files
from reports.html import render_html
from reports.pdf import html_to_pdf
from reports.xlsx import render_xlsx
from store import towns as store_towns
from store.db import Database
from store.rows import one
from store.towns import holds_several
from store.towns import towns as town_names

#: The files of a snapshot, in the order they are listed and zipped: kind -> (name pattern, media type).
FILE_KINDS: dict[str, tuple[str, str]] = {
    "pdf": ("report-{month}-v{version}.pdf", "application/pdf"),
    "html": ("report-{month}-v{version}.html", "text/html; charset=utf-8"),
    "xlsx": ("report-{month}-v{version}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "parquet": ("cases-{month}-v{version}.parquet", "application/vnd.apache.parquet"),
    "csv": ("cases-{month}-v{version}.csv", "text/csv; charset=utf-8"),
    "json": ("figures-{month}-v{version}.json", "application/json"),
    "zip": ("snapshot-{month}-v{version}.zip", "application/zip"),
}
#: Text files are stored zlib-compressed (plotly.js makes the HTML ~5 MB); the others are compressed already.
_COMPRESSED_KINDS = {"html", "csv", "json"}
#: ``snapshots.town`` of the county's snapshot: no town's name holds a '/' (store.towns.clean_town).
COUNTY = store_towns.COUNTY
#: The files of a county snapshot (no case list: each town's snapshot has its own).
COUNTY_KINDS = ("pdf", "html", "xlsx", "json", "zip")
_PUBLISH_LOCK = threading.Lock()


class SnapshotError(BilingualError, RuntimeError):
    """A snapshot that cannot be published or read; carries a Chinese and an English message."""


@dataclass(frozen=True)
class Published:
    snapshot_id: int
    month: str
    version: int
    files: dict[str, str]  # kind -> file name
    changes: dict | None
    town: str = ""  # the town, or COUNTY


def _name_part(town: str) -> str:
    """A town's name as a file name part: letters (Chinese included) and digits kept, anything else ``_``."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in town).strip("_") or "town"


def file_name(kind: str, month: str, version: int, town: str | None = None) -> str:
    """A snapshot file's name; ``town`` (given in a county database) goes into it, the county's starts ``county-``."""
    name = FILE_KINDS[kind][0].format(month=month, version=version)
    if town == COUNTY:
        return "county-" + name
    if town:
        stem, _, rest = name.partition("-")
        return f"{stem}-{_name_part(town)}-{rest}"
    return name


def _now() -> dt.datetime:
    """Publication time: the town's local time from the one clock (the zone every stored time is in)."""
    return clock.now()


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def diff_kpis(before: dict, after: dict) -> dict[str, object]:
    """KPI figures of ``after`` that differ from ``before`` (values, numerators or denominators)."""
    changed = []
    old, new = before.get("kpis") or {}, after.get("kpis") or {}
    for kpi_id in new:
        a, b = old.get(kpi_id) or {}, new.get(kpi_id) or {}
        keys = ("value", "numerator", "denominator", "natural_value", "n")
        if any(a.get(k) != b.get(k) for k in keys):
            changed.append(
                {
                    "id": kpi_id,
                    "before": a.get("value"),
                    "after": b.get("value"),
                    **{f"{k}_before": a.get(k) for k in ("numerator", "denominator") if k in a or k in b},
                    **{f"{k}_after": b.get(k) for k in ("numerator", "denominator") if k in a or k in b},
                }
            )
    return {
        "data_version_before": before.get("data_version"),
        "data_version_after": after.get("data_version"),
        "kpis": changed,
    }


def _latest(cur: duckdb.DuckDBPyConnection, month: str, town: str) -> dict | None:
    row = cur.execute(
        """
        SELECT snapshot_id, version, data_version, content FROM snapshots
        WHERE month = ? AND town = ? ORDER BY version DESC LIMIT 1
        """,
        [month, town],
    ).fetchone()
    if row is None:
        return None
    return {"snapshot_id": row[0], "version": row[1], "data_version": row[2], "content": json.loads(row[3])}


def render_files(content: dict, meta: dict, cases, town: str | None = None) -> dict[str, bytes]:
    """Every file of a snapshot (kind -> bytes), rendered from frozen content only (``town``: see file_name)."""
    month, version = content["month"], int(meta["version"])
    if county_report.is_county(content):
        html = county_report.render_county_html(content, meta)
        files = {
            "pdf": html_to_pdf(county_report.render_county_html(content, meta, print_mode=True)),
            "html": html.encode("utf-8"),
            "xlsx": county_report.render_county_xlsx(content, meta),
            "json": (json.dumps({"snapshot": meta, "content": content}, ensure_ascii=False, indent=1) + "\n").encode(),
        }
        when = dt.datetime.fromisoformat(str(meta["published_at"]))
        files["zip"] = data_files.zip_files([(file_name(k, month, version, COUNTY), files[k]) for k in files], when)
        return files
    html = render_html(content, meta)
    pdf = html_to_pdf(render_html(content, meta, print_mode=True))
    files = {
        "pdf": pdf,
        "html": html.encode("utf-8"),
        "xlsx": render_xlsx(content, meta, cases),
        "parquet": data_files.cases_parquet(cases),
        "csv": data_files.cases_csv(cases),
        "json": (json.dumps({"snapshot": meta, "content": content}, ensure_ascii=False, indent=1) + "\n").encode(),
    }
    when = dt.datetime.fromisoformat(str(meta["published_at"]))
    files["zip"] = data_files.zip_files([(file_name(k, month, version, town), files[k]) for k in files], when)
    return files


def is_county_database(cur: duckdb.DuckDBPyConnection) -> bool:
    """More than one town holds data (what the app calls a county database), for a town user too."""
    return holds_several(cur)


def no_such_town(town: str, names: Sequence[str]) -> SnapshotError:
    """The refusal of a snapshot of a town that holds no cases (naming the towns there are)."""
    return SnapshotError(
        f"没有乡镇 {town} 的办件数据；现有乡镇：{'、'.join(names)}",
        f"no cases of the town {town}; the towns are: {', '.join(names)}",
    )


def resolve_town(cur: duckdb.DuckDBPyConnection, town: str | None) -> str:
    """The town a snapshot is for: ``town``, else the database's only town (a county database must name one)."""
    names = town_names(cur)
    if town:
        if town != COUNTY and town not in names:
            raise no_such_town(town, names)
        return town
    if len(names) > 1:
        raise SnapshotError(
            f"数据库中有 {len(names)} 个乡镇，请选择乡镇或全县",
            f"the database holds {len(names)} towns: choose one, or the county",
        )
    return names[0]


def publish(
    db: Database,
    month: str,
    *,
    by: str | None,
    note: str | None = None,
    town: str | None = None,
    cover: str | None = None,
    now: dt.datetime | None = None,
) -> Published:
    """Freeze ``month`` of ``town`` (a town's name, :data:`COUNTY`, or None: the database's only town) as its next
    version and store it with its files (raises NoDataForMonth, SnapshotError). ``cover``: the name on a town's
    cover (default: the town's own name). Within a town scope (:mod:`scope`) only a town of the scope may be
    published: never the county's report, which would show other towns."""
    frozen.check_month(month)
    note = (note or "").strip() or None
    with _PUBLISH_LOCK:
        with frozen.consistent_cursor(db) as cur:
            town = resolve_town(cur, town)
            _refuse_outside_scope(town)
            named = town if is_county_database(cur) else None  # file names carry the town in a county only
            if town == COUNTY:
                content = county_report.collect_county(cur, month)
                cases = None
            else:
                content = frozen.collect(cur, month, town=town, cover=cover or (town if named else None))
                cases = frozen.case_list(cur, month, town)
            previous = _latest(cur, month, town)
        content_text = _dump(content)
        version = 1 if previous is None else int(previous["version"]) + 1
        changes = diff_kpis(previous["content"], content) if previous else None
        published_at = now or _now()
        meta = {
            "month": month,
            "version": version,
            "published_at": published_at.isoformat(),
            "published_by": by,
            "note": note,
            "supersedes_version": previous["version"] if previous else None,
            "supersedes_data_version": previous["data_version"] if previous else None,
            "changes": changes,
            "content_sha256": hashlib.sha256(content_text.encode()).hexdigest(),
        }
        files = render_files(content, meta, cases, named)
        upload_ids = [u["upload_id"] for u in content["uploads"]]
        with db.write() as w:
            taken = w.execute(
                "SELECT count(*) FROM snapshots WHERE town = ? AND month = ? AND version = ?", [town, month, version]
            )
            if one(taken)[0]:
                raise SnapshotError(
                    f"{month} 第 {version} 版刚刚已由他人发布，请刷新后再试",
                    f"version {version} of {month} was just published by someone else; reload and try again",
                )
            snapshot_id = int(one(w.execute("SELECT nextval('snapshot_id_seq')"))[0])
            w.execute(
                """
                INSERT INTO snapshots (snapshot_id, town, month, version, published_at, published_by, data_version,
                                       uploads, note, supersedes, changes, content, content_sha256)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    snapshot_id, town, month, version, published_at, by, content["data_version"], _dump(upload_ids), note,
                    previous["snapshot_id"] if previous else None, _dump(changes) if changes else None,
                    content_text, meta["content_sha256"],
                ],
            )  # fmt: skip
            for kind, data in files.items():
                stored = zlib.compress(data, 6) if kind in _COMPRESSED_KINDS else data
                w.execute(
                    "INSERT INTO snapshot_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        snapshot_id, file_name(kind, month, version, named), kind, FILE_KINDS[kind][1], len(data),
                        hashlib.sha256(data).hexdigest(), "zlib" if kind in _COMPRESSED_KINDS else "none", stored,
                    ],
                )  # fmt: skip
            _audit(w, by, month, version, snapshot_id, content["data_version"], changes, note, town)
    names = {k: file_name(k, month, version, named) for k in files}
    return Published(snapshot_id, month, version, names, changes, town)


def _audit(
    cur: duckdb.DuckDBPyConnection,
    by: str | None,
    month: str,
    version: int,
    snapshot_id: int,
    data_version: int,
    changes: dict | None,
    note: str | None,
    town: str,
) -> None:
    """One audit row in the same transaction (when the audit log exists in this build)."""
    try:
        from store import audit
    except ImportError:
        return
    details = {
        "snapshot_id": snapshot_id, "town": town, "month": month, "version": version, "data_version": data_version,
        "note": note, "changed_kpis": [c["id"] for c in (changes or {}).get("kpis", [])] if changes else None,
    }  # fmt: skip
    audit.record(cur, by, "publish_snapshot", f"{month} v{version}", details)


# --- reading ----------------------------------------------------------------------------------------

_LIST_COLUMNS = "snapshot_id, town, month, version, published_at, published_by, data_version, note, supersedes, changes"


def _visible() -> tuple[str, list[object]]:
    """The snapshots this run may read, as a condition: every one without a town scope (:mod:`scope`), else
    those of the scope's towns (never the county's, which shows every town).

    The one place the snapshots' reads (:func:`list_snapshots`, :func:`get_snapshot`, :func:`file_bytes`) are
    limited.
    """
    allowed = scope.current()
    if allowed is None:
        return "true", []
    return "list_contains(?::VARCHAR[], town)", [list(allowed)]


def _refuse_outside_scope(town: str) -> None:
    if not scope.allows(town):
        raise SnapshotError(
            "只能发布您负责的乡镇的快照（全县快照由县级用户发布）",
            "you can publish only your own towns' snapshots (the county's is published by a county user)",
        )


def list_snapshots(cur: duckdb.DuckDBPyConnection, month: str | None = None, town: str | None = None) -> list[dict]:
    """Snapshots (without their content), newest month first, then newest version first; with their files.
    ``town``: only that town's (or :data:`COUNTY`'s); None: every town's and the county's (that this run may see)."""
    visible, params = _visible()
    sql = f"SELECT {_LIST_COLUMNS} FROM snapshots WHERE {visible}"
    if month:
        sql += " AND month = ?"
        params.append(month)
    if town:
        sql += " AND town = ?"
        params.append(town)
    sql += " ORDER BY month DESC, version DESC, town"
    rel = cur.execute(sql, params)
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, r, strict=True)) for r in rel.fetchall()]
    files = _files(cur, [r["snapshot_id"] for r in rows])
    for r in rows:
        r["changes"] = json.loads(r["changes"]) if r["changes"] else None
        r["files"] = files.get(r["snapshot_id"], [])
    return rows


def _files(cur: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[int, list[dict]]:
    if not ids:
        return {}
    rel = cur.execute(
        "SELECT snapshot_id, file_name, kind, media_type, size, sha256 FROM snapshot_files "
        "WHERE list_contains(?::INTEGER[], snapshot_id)",
        [ids],
    )
    order = list(FILE_KINDS)
    out: dict[int, list[dict]] = {}
    for sid, name, kind, media, size, sha in rel.fetchall():
        out.setdefault(sid, []).append(
            {"file_name": name, "kind": kind, "media_type": media, "size": int(size), "sha256": sha}
        )
    for files in out.values():
        files.sort(key=lambda f: order.index(f["kind"]) if f["kind"] in order else len(order))
    return out


def get_snapshot(cur: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict | None:
    """One snapshot with its frozen content (parsed) and files."""
    visible, params = _visible()
    row = cur.execute(
        f"SELECT {_LIST_COLUMNS}, content, content_sha256 FROM snapshots WHERE snapshot_id = ? AND {visible}",
        [snapshot_id, *params],
    ).fetchone()
    if row is None:
        return None
    names = [*_LIST_COLUMNS.split(", "), "content", "content_sha256"]
    snap = dict(zip(names, row, strict=True))
    snap["changes"] = json.loads(snap["changes"]) if snap["changes"] else None
    snap["content"] = json.loads(snap["content"])
    snap["files"] = _files(cur, [snapshot_id]).get(snapshot_id, [])
    return snap


def latest_versions(cur: duckdb.DuckDBPyConnection, town: str | None = None) -> dict[str, dict]:
    """month -> its newest snapshot (no content) of ``town`` (None: of any town)."""
    out: dict[str, dict] = {}
    for row in list_snapshots(cur, town=town):
        out.setdefault(row["month"], row)
    return out


def file_bytes(cur: duckdb.DuckDBPyConnection, snapshot_id: int, name: str) -> bytes:
    """The stored bytes of one file of a snapshot, exactly as published (SHA-256 checked)."""
    visible, params = _visible()
    row = cur.execute(
        "SELECT compression, content, sha256 FROM snapshot_files WHERE snapshot_id = ? AND file_name = ? "
        f"AND snapshot_id IN (SELECT snapshot_id FROM snapshots WHERE {visible})",
        [snapshot_id, name, *params],
    ).fetchone()
    if row is None:
        raise SnapshotError(f"快照中没有文件 {name}", f"the snapshot has no file {name}")
    compression, stored, sha = row
    data = zlib.decompress(bytes(stored)) if compression == "zlib" else bytes(stored)
    if hashlib.sha256(data).hexdigest() != sha:
        raise SnapshotError(
            f"文件 {name} 已损坏（校验值不符）", f"the stored file {name} is damaged (checksum mismatch)"
        )
    return data


def frozen_kpis(cur: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict | None:
    """The KPI figures of a snapshot as published."""
    snap = get_snapshot(cur, snapshot_id)
    return None if snap is None else snap["content"]["kpis"]
