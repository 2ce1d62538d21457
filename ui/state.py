"""The one database resource of the app process, and data-version cache keys."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import scratch
import settings
from store.db import Database
from store.rows import one


@st.cache_resource(show_spinner=False)
def database(path: str) -> Database:
    """One :class:`Database` per file for the whole server; pages take cursors from it.

    Shared: the file is released between page runs, so command-line jobs (ingest, backup, the
    monthly snapshot) can run while the app serves.
    """
    scratch.folder()  # this server's temp folder; sweeps the copies a killed process left behind
    return Database(path, shared=True, lock_timeout=settings.APP_DB_LOCK_TIMEOUT)


@st.cache_resource(show_spinner="首次启动：正在生成演示数据… (first start: generating the demo data)")
def _demo_filled(path: str) -> bool:
    """The embedded default database is filled with the demo town on first start, once per server."""
    db = database(path)
    with db.reading() as cur:
        empty = one(cur.execute("SELECT count(*) FROM uploads"))[0] == 0
    if path == str(settings.DEFAULT_DB) and empty:
        from demo.load import load_demo
        from metrics import precomputed_views

        load_demo(db)
        precomputed_views.refresh(db)
    return True


@st.cache_resource(show_spinner="正在读取省级汇总… (reading the province's cube…)", max_entries=4)
def _province_filled(path: str, folder: str, stamp: str) -> bool:
    """``EGOV_CUBE``: the cube read into the app's database once per build (``stamp``: its manifest's digest)."""
    from lake import province

    province.load(database(path), Path(folder))
    return True


def get_db() -> Database:
    path = str(settings.resolve_db_path())
    folder = settings.cube_dir()
    if folder is not None:
        from lake import province
        from lake.export import LakeError

        try:
            _province_filled(path, str(folder), province.stamp(folder))
        except (LakeError, OSError) as exc:  # a folder that is not a cube build, another version's, unreadable
            from ui import fmt

            detail = fmt.md_text(str(exc))  # a folder's name is no markup
            st.error(
                f"省级汇总无法读取 (the province's cube in EGOV_CUBE cannot be read): {detail}", icon=":material/error:"
            )
            st.stop()
    else:
        _demo_filled(path)
    return database(path)
