"""Town-scoped users (issue 16 part 4): a user limited to a town reads and writes only that town, on the server.

A county of two towns: the shipped sample loaded into 柳林镇 (A), and the same export with every case id
prefixed ``B-`` loaded into 石桥镇 (B), so that B's cases are recognisable anywhere (the demo towns' ids
overlap). ``a_analyst`` is limited to A; ``county_viewer`` sees the county (the control: B must show for
them, or the checks below could not fail). We try to read or write B through the URL, crafted session
state, the command line with ``--user``, uploads and removals, and scan every page's text, tables, options
and charts for B's name and ids.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

import scope
import settings
from ingest.errors import IngestRefused
from ingest.load import ingest_file, remove_upload
from metrics import precomputed_views
from metrics.filters import Filters, where_clause
from metrics.kpis import compute_kpis
from store import audit, users
from store.db import Database
from store.uploads import list_uploads
from tests.apptest_support import button, start_app
from tests.cli_support import cli

A, B = "柳林镇", "石桥镇"
MONTH = "2026-10"
PASSWORDS = {"zhang": "admin-pass-1", "a_analyst": "analyst-pass-1", "county_viewer": "viewer-pass-1"}
_CASE_ID = re.compile(rb"(?<![0-9])41132320(2[56])")
PAGES = [
    "views/overview.py",
    "views/adoption.py",
    "views/timeliness.py",
    "views/bottlenecks.py",
    "views/snapshots.py",
    "views/upload.py",
    "views/uploads.py",
    "views/data_quality.py",
    "views/settings.py",
]


def _b_files(folder: Path) -> dict[str, Path]:
    """The sample's cases and events with every case id prefixed ``B-``."""
    out = {}
    for name in ("cases_export.csv", "events_export.csv"):
        data, count = _CASE_ID.subn(rb"B-41132320\1", (settings.SAMPLE_DIR / name).read_bytes())
        assert count > 1000  # every case (and event) row
        out[name] = folder / f"B_{name}"
        out[name].write_bytes(data)
    return out


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("county")
    b_files = _b_files(folder)
    path = folder / "egov.duckdb"
    db = Database(path)
    try:
        ingest_file(db, settings.SAMPLE_DIR / "service_catalog.xlsx")
        for name in ("cases_export.csv", "events_export.csv"):
            ingest_file(db, settings.SAMPLE_DIR / name, town=A)
            ingest_file(db, b_files[name], town=B, loaded_by="b_clerk")
        users.add_user(db, "zhang", "admin", PASSWORDS["zhang"], by="test")
        users.add_user(db, "a_analyst", "analyst", PASSWORDS["a_analyst"], by="test", towns=[A])
        users.add_user(db, "county_viewer", "viewer", PASSWORDS["county_viewer"], by="test")
        precomputed_views.refresh(db)  # county figures kept: a town user must never be served them
    finally:
        db.close()
    return path


@pytest.fixture
def db_copy(county: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "egov.duckdb"
    shutil.copy(county, target)
    shutil.copy(county.parent / "secret.key", tmp_path / "secret.key")
    for name in ("B_cases_export.csv", "B_events_export.csv"):
        shutil.copy(county.parent / name, tmp_path / name)
    return target


def _count(cur, town: str) -> int:
    """The month's cases of a town, by a plain count (not through the metrics)."""
    return cur.execute(
        "SELECT count(*) FROM cases WHERE town = ? AND strftime(submitted_at, '%Y-%m') = ?", [town, MONTH]
    ).fetchone()[0]


# --- the where clause, the kept figures ---------------------------------------------------------------


def test_the_scope_is_anded_whatever_the_filters_ask(county: Path) -> None:
    db = Database(county, read_only=True)
    try:
        cur = db.cursor()
        a, b = _count(cur, A), _count(cur, B)
        assert a > 0 and b > 0
        month = Filters.month(MONTH)
        assert compute_kpis(cur, month)["cases"]["value"] == a + b  # no scope: the county, as before
        with scope.scoped([A]):
            assert compute_kpis(cur, month)["cases"]["value"] == a
            assert compute_kpis(cur, Filters.month(MONTH, towns=[B]))["cases"]["value"] == 0  # never widens
            assert compute_kpis(cur, Filters.month(MONTH, towns=[A, B]))["cases"]["value"] == a
            sql, params = where_clause(Filters(towns=(B,)))
            assert list(params.values())[-1] == [A] and sql.count("list_contains") == 2
        with scope.scoped([]):  # an empty scope sees nothing, not everything
            assert compute_kpis(cur, month)["cases"]["value"] == 0
        assert scope.current() is None  # reset after the block
    finally:
        db.close()


def test_kept_county_figures_are_not_served_to_a_town_user(county: Path) -> None:
    from metrics.page_queries import PAGES as DECLARED
    from metrics.page_queries import default_context

    db = Database(county, read_only=True)
    try:
        cur = db.cursor()
        query = DECLARED["overview"]["tiles"]
        args = query.args(default_context(cur, MONTH))
        assert precomputed_views.lookup(cur, query.fn, args) is not precomputed_views.MISSING  # kept for the county
        county_tiles = precomputed_views.call(cur, query.fn, args)
        with scope.scoped([A]):
            town_tiles = precomputed_views.call(cur, query.fn, args)
        assert county_tiles["cases"]["value"] == _count(cur, A) + _count(cur, B)
        assert town_tiles["cases"]["value"] == _count(cur, A)
    finally:
        db.close()


# --- writes -------------------------------------------------------------------------------------------


def test_a_town_user_cannot_load_into_or_remove_from_another_town(db_copy: Path, tmp_path: Path) -> None:
    db = Database(db_copy)
    try:
        before = db.cursor().execute("SELECT count(*) FROM case_rows").fetchone()[0]
        b_upload = db.cursor().execute("SELECT min(upload_id) FROM uploads WHERE town = ?", [B]).fetchone()[0]
        with scope.scoped([A]):
            with pytest.raises(IngestRefused) as refused:
                ingest_file(db, tmp_path / "B_cases_export.csv", town=B)
            assert refused.value.code == "town_out_of_scope"
            mixed = tmp_path / "mixed.csv"  # a town column naming B, loaded "into A"
            mixed.write_text(
                "办件编号,事项名称,乡镇,申请时间\nX-1,户籍迁移,柳林镇,2026-10-05 09:00\nX-2,户籍迁移,石桥镇,2026-10-05 09:00\n"
            )
            with pytest.raises(IngestRefused) as refused:
                ingest_file(db, mixed, kind="cases")
            assert refused.value.code == "rows_out_of_scope"
            with pytest.raises(IngestRefused) as refused:
                ingest_file(db, settings.SAMPLE_DIR / "service_catalog.xlsx", kind="catalog")
            assert refused.value.code == "catalog_out_of_scope"
            with pytest.raises(IngestRefused):
                remove_upload(db, b_upload, removed_by="a_analyst")
            assert all(r["town"] == A or r["kind"] == "catalog" for r in list_uploads(db.cursor()))
        cur = db.cursor()
        assert cur.execute("SELECT count(*) FROM case_rows").fetchone()[0] == before
        assert cur.execute("SELECT status FROM uploads WHERE upload_id = ?", [b_upload]).fetchone()[0] == "loaded"
        assert cur.execute("SELECT count(*) FROM cases WHERE case_id LIKE 'X-%'").fetchone()[0] == 0
        with scope.scoped([A]):  # a file of A alone loads (the default: the user's one town)
            only_a = tmp_path / "only_a.csv"
            only_a.write_text("办件编号,事项名称,申请时间\nA-new-1,户籍迁移,2026-10-05 09:00\n")
            result = ingest_file(db, only_a, kind="cases")
            assert result.town == A and result.rows_loaded == 1
            remove_upload(db, result.upload_id)  # and its own upload may be removed
    finally:
        db.close()


def test_the_command_line_with_a_town_user(db_copy: Path, tmp_path: Path) -> None:
    d = str(db_copy)
    db = Database(db_copy, read_only=True)
    a, b = _count(db.cursor(), A), _count(db.cursor(), B)
    b_upload = db.cursor().execute("SELECT min(upload_id) FROM uploads WHERE town = ?", [B]).fetchone()[0]
    db.close()

    def kpis(*args: str):
        done = cli("kpis", "--db", d, "--month", MONTH, "--format", "json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert kpis("--user", "a_analyst")["cases"]["value"] == a
    assert kpis("--user", "a_analyst", "--town", B)["cases"]["value"] == 0
    assert [row["town"] for row in kpis("--user", "a_analyst", "--by", "town")] == [A]
    assert kpis("--user", "county_viewer")["cases"]["value"] == a + b  # the control
    refused = cli("ingest", str(tmp_path / "B_cases_export.csv"), "--town", B, "--db", d, "--user", "a_analyst")
    assert refused.returncode == 1 and "石桥镇" in refused.stderr
    refused = cli("uploads", "remove", str(b_upload), "--db", d, "--user", "a_analyst")
    assert refused.returncode == 1
    listing = cli("uploads", "list", "--format", "json", "--db", d, "--user", "a_analyst")
    assert listing.returncode == 0 and B not in listing.stdout and "B_" not in listing.stdout
    assert B in cli("uploads", "list", "--format", "json", "--db", d).stdout  # the control
    log = cli("audit", "--format", "json", "--db", d, "--user", "a_analyst")
    assert "B_cases" not in log.stdout and "b_clerk" not in log.stdout
    assert cli("calendar", "x.csv", "--db", d, "--user", "a_analyst").returncode == 1  # county-wide: refused
    county = cli("snapshot", "--month", MONTH, "--county", "--db", d, "--user", "a_analyst")
    assert county.returncode == 1 and "只能发布您负责的乡镇的快照" in county.stdout + county.stderr
    other = cli("snapshot", "--month", MONTH, "--town", B, "--db", d, "--user", "a_analyst")
    assert other.returncode != 0 and "没有乡镇 石桥镇" in other.stdout + other.stderr  # B is not even named


def test_towns_of_a_user_change_audited_and_end_sessions(db_copy: Path) -> None:
    db = Database(db_copy)
    try:
        before = users.get_user(db.cursor(), "county_viewer")
        users.set_towns(db, "county_viewer", [B, A], by="zhang")
        after = users.get_user(db.cursor(), "county_viewer")
        assert after.towns == tuple(sorted([A, B]))
        assert after.epoch == before.epoch + 1
        entry = audit.list_audit(db.cursor(), limit=1)[0]
        assert entry["action"] == "user_towns" and entry["details"] == {"from": None, "to": sorted([A, B])}
        with pytest.raises(users.UserError):
            users.set_role(db, "county_viewer", "admin", by="zhang")  # an admin is never limited
        with pytest.raises(users.UserError):
            users.add_user(db, "boss2", "admin", "long-enough-1", towns=[A])
        users.set_towns(db, "county_viewer", None, by="zhang")
        assert users.get_user(db.cursor(), "county_viewer").towns is None
    finally:
        db.close()
    added = cli("users", "add", "b_viewer", "--role", "viewer", "--town", B, "--no-password", "--email", "b@x.cn",
                "--db", str(db_copy))  # fmt: skip
    assert added.returncode == 0, added.stderr
    db = Database(db_copy, read_only=True)
    assert users.get_user(db.cursor(), "b_viewer").towns == (B,)
    db.close()


# --- the app ------------------------------------------------------------------------------------------


def page_text(at) -> str:
    """Everything a page shows: texts, labels, options, tables and charts, as one string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in at.get(kind)]
    for kind in ("selectbox", "multiselect", "radio"):
        for e in at.get(kind):
            parts += [str(e.label), *map(str, getattr(e, "options", []))]
    for e in at.get("metric"):
        parts += [str(e.label), str(e.value)]
    for e in at.dataframe:
        frame = e.value
        parts.append(frame.to_csv() if isinstance(frame, pd.DataFrame) else str(frame))
    for e in at.table:
        parts.append(str(e.value))
    for e in at.get("plotly_chart"):
        parts.append(str(e.proto))
    for kind in ("button", "download_button"):
        parts += [str(e.proto.label) for e in at.get(kind)]
    return "\n".join(parts)


def _sign_in(db_path: Path, monkeypatch, name: str, **query: str):
    at = start_app(db_path, monkeypatch)
    for key, value in query.items():
        at.query_params[key] = value
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(PASSWORDS[name])
    button(at, "登录").click().run()
    assert not at.exception, at.exception
    return at


def _every_page(at) -> dict[str, str]:
    seen = {}
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        seen[page] = page_text(at)
    return seen


@pytest.mark.parametrize("how", ["url", "session_state"])
def test_a_town_analyst_sees_nothing_of_the_other_town_on_any_page(county: Path, monkeypatch, how: str) -> None:
    at = _sign_in(county, monkeypatch, "a_analyst", **({"town": B, "month": MONTH} if how == "url" else {}))
    if how == "session_state":
        at.session_state["f_town"] = [B]  # crafted: a town the widget never offered
        at.run()
    assert at.session_state["auth"]["name"] == "a_analyst"
    seen = _every_page(at)
    for page, text in seen.items():
        assert B not in text, page
        assert "B-41132320" not in text, page
        assert "b_clerk" not in text and "B_cases_export" not in text, page
    assert A in seen["views/upload.py"]  # the upload page names the one town it loads into
    assert "乡镇范围：柳林镇" in seen["views/overview.py"]  # the sidebar says whose account this is
    assert f"{A}\n**20" in seen["views/overview.py"]  # and the scope line names the town, then the month


def test_the_county_viewer_sees_both_towns(county: Path, monkeypatch) -> None:
    """The control: the same scan finds B's name and ids for a county user, so the test above can fail."""
    at = _sign_in(county, monkeypatch, "county_viewer", month=MONTH)
    seen = _every_page(at)
    assert B in seen["views/overview.py"] and B in seen["views/uploads.py"]
    assert any("B-41132320" in text for text in seen.values())
