"""The filter options kept at load time equal the same lists computed from the cases and events views."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.load import ingest_bytes, ingest_file, remove_upload
from store.db import Database
from store.facets import filter_options, options

DATA = Path(__file__).parent / "data"


def straightforward(cur) -> dict:
    """The options as the sidebar first computed them, from the full views."""
    months = cur.execute(
        "SELECT DISTINCT strftime(submitted_at, '%Y-%m') AS m FROM cases WHERE submitted_at IS NOT NULL ORDER BY m DESC"
    ).fetchall()
    pairs = cur.execute(
        "SELECT DISTINCT department, service_item FROM cases WHERE department IS NOT NULL AND service_item IS NOT NULL"
    ).fetchall()
    channels = cur.execute(
        "SELECT channel FROM cases WHERE channel IS NOT NULL GROUP BY channel ORDER BY count(*) DESC, channel"
    ).fetchall()
    units = cur.execute(
        "SELECT department FROM cases WHERE department IS NOT NULL UNION SELECT department FROM events "
        "WHERE department IS NOT NULL"
    ).fetchall()
    towns = cur.execute("SELECT DISTINCT town FROM cases").fetchall()
    return options(months, pairs, channels, units, towns)


def test_facets_follow_loads_new_versions_and_removals(tmp_db):
    cur = tmp_db.cursor()
    assert (
        filter_options(cur)
        == straightforward(cur)
        == {
            "months": [],
            "departments": [],
            "items": [],
            "items_by_department": {},
            "channels": [],
            "all_units": [],
            "towns": [],
        }
    )
    xlsx = ingest_file(tmp_db, DATA / "cases_merged_title.xlsx")
    events = ingest_file(tmp_db, DATA / "events.xes")
    assert filter_options(cur) == straightforward(cur)
    assert filter_options(cur)["months"]
    # A new version of one case moves it to another department, item and channel.
    lines = (DATA / "cases_title_total_gbk.csv").read_bytes().decode("gbk").splitlines()
    header, first = lines[1], lines[2].split(",")
    first[1:4] = ["新事项", "新部门", "自助终端"]
    ingest_bytes(tmp_db, "\n".join([header, ",".join(first)]).encode("gbk"), "moved.csv")
    got = filter_options(cur)
    assert got == straightforward(cur)
    assert "新事项" in got["items_by_department"]["新部门"] and "新部门" in got["all_units"]
    remove_upload(tmp_db, events.upload_id)
    assert filter_options(cur) == straightforward(cur)
    remove_upload(tmp_db, xlsx.upload_id)
    assert filter_options(cur) == straightforward(cur)


def test_migration_fills_the_facets_of_an_existing_database(small_demo_db, tmp_path):
    """A database of schema version 4 (no facets yet) gets them from its data when it is opened."""
    import duckdb

    path = tmp_path / "egov.duckdb"
    shutil.copy(small_demo_db, path)
    shutil.copy(small_demo_db.parent / "secret.key", tmp_path / "secret.key")
    con = duckdb.connect(str(path))
    con.execute(
        "DROP TABLE case_facets; DROP TABLE event_units; DROP TABLE kept_figures; "
        "DELETE FROM schema_version WHERE version >= 5"
    )
    con.close()
    db = Database(path)
    try:
        got = filter_options(db.cursor())
        assert got == straightforward(db.cursor()) and len(got["months"]) > 12
    finally:
        db.close()
