"""Hostile input (issue 13, parts 1 and 10): names that are paths, planted links, stale markers, zip bombs,
terminal escapes.

* A mapping name is a name, never a path: ``../x``, an absolute path, ``..\\x``, NUL, an overlong name,
  ``.streamlit/config.toml`` are refused and the file they point at stays byte-identical; a link planted
  in the mappings folder is neither read nor written through.
* ``snapshot --out`` and ``backup`` never write through a link planted at an output name.
* A waiting job's marker naming a live but unrelated process (a reused pid) does not stall the app.
* ``restore`` of a zip bomb is refused in bounded memory, the database untouched.
* Nothing the command line prints carries an escape sequence from data or a file name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import settings
from ingest.errors import IngestRefused
from ingest.mapping import apply_overrides, auto_map, load_saved, load_saved_name, save_mapping, saved_mapping_names
from tests.cli_support import cli

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
HAS_PROC = Path("/proc/self/stat").exists()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def a_mapping():
    columns = ["编号", "提交日期"]
    return apply_overrides(
        auto_map(columns, "cases"), columns, {"case_id": "编号", "submitted_at": "提交日期"}
    ), columns


# --- part 1: mapping names ----------------------------------------------------------------------------


@pytest.fixture
def victims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A working directory laid out like the repository, with TOML files a hostile name could reach."""
    work = tmp_path / "repo"
    (work / ".streamlit").mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(settings, "MAPPINGS_DIR", work / "data" / "mappings")
    files = {
        "config": work / ".streamlit" / "config.toml",
        "secrets": work / ".streamlit" / "secrets.toml",
        "outside": tmp_path / "x.toml",
        "backslash": work / "..\\x.toml",  # on Linux a backslash is part of a file name
        "long": work / ("长" * 70 + ".toml"),
    }
    for name, path in files.items():
        path.write_text(f'[server]\nsecret = "{name}"\n', encoding="utf-8")
    return files


def hostile_names(victims: dict[str, Path]) -> dict[str, str]:
    return {
        "traversal": "../x.toml",
        "absolute": str(victims["outside"]),
        "backslash": "..\\x.toml",
        "nul": "x\x00.toml",
        "long": "长" * 70 + ".toml",
        "config": ".streamlit/config.toml",
        "secrets": "../repo/.streamlit/secrets.toml",
    }


@pytest.mark.parametrize("attack", ["traversal", "absolute", "backslash", "nul", "long", "config", "secrets"])
def test_a_mapping_name_that_is_a_path_is_refused_and_nothing_is_overwritten(victims, attack):
    before = {k: p.read_bytes() for k, p in victims.items()}
    name = hostile_names(victims)[attack]
    mapping, columns = a_mapping()
    with pytest.raises(IngestRefused) as info:
        save_mapping(name, mapping, columns)
    assert info.value.code == "bad_mapping"
    assert "映射名称不可用" in info.value.message_zh and "not a path" in info.value.message_en
    assert {k: p.read_bytes() for k, p in victims.items()} == before
    # The upload page loads by name only: the same rule, nothing read.
    with pytest.raises(IngestRefused):
        load_saved_name(name)
    assert not settings.MAPPINGS_DIR.exists() or not any(settings.MAPPINGS_DIR.iterdir())


def test_loading_by_name_never_reads_a_toml_file_elsewhere(victims):
    with pytest.raises(IngestRefused) as info:
        load_saved_name(".streamlit/secrets.toml")
    assert "secrets" not in str(info.value.message_zh)
    # The operator's command line may still name a TOML file (cli.py ingest --mapping FILE).
    assert load_saved(str(victims["config"]))[0] is None


def test_plain_names_still_work(victims):
    mapping, columns = a_mapping()
    for name in ("乡镇平台A", "省平台 v1.2", "my-map_2"):
        path = save_mapping(name, mapping, columns)
        assert path.parent == settings.MAPPINGS_DIR.resolve() and path.name == f"{name}.toml"
        assert load_saved_name(name)[1]["case_id"] == "编号"
    assert saved_mapping_names() == sorted(["乡镇平台A", "省平台 v1.2", "my-map_2"])


def test_a_link_planted_in_the_mappings_folder_is_neither_read_nor_written_through(victims):
    folder = settings.MAPPINGS_DIR
    folder.mkdir(parents=True)
    (folder / "evil.toml").symlink_to(victims["secrets"])
    before = victims["secrets"].read_bytes()
    assert "evil" not in saved_mapping_names()
    with pytest.raises(IngestRefused):
        load_saved_name("evil")  # would show the secrets' values as "columns" in the form
    mapping, columns = a_mapping()
    save_mapping("evil", mapping, columns)  # replaces the link, never writes its target
    assert victims["secrets"].read_bytes() == before
    assert not (folder / "evil.toml").is_symlink() and load_saved_name("evil")[0] == "cases"


def test_the_upload_pages_save_as_box_takes_no_path(small_demo_db, tmp_path, monkeypatch):
    from tests.apptest_support import button, demo_copy_with_users, login, selectbox, start_app

    victim = tmp_path / "victim.toml"
    victim.write_text('[server]\nsecret = "keep"\n', encoding="utf-8")
    before = victim.read_bytes()
    db_path = demo_copy_with_users(small_demo_db, tmp_path)
    at = login(start_app(db_path, monkeypatch, tmp_path), "ana")
    at.switch_page("views/upload.py").run()
    text = (DATA / "cases_title_total_gbk.csv").read_bytes().decode("gbk").replace("业务流水号", "统一收件码")
    at.file_uploader(key="upload_files").set_value([("x.csv", text.encode("gbk"), "text/csv")]).run()
    selectbox(at, "办件编号 *").set_value("统一收件码")
    box = next(t.key for t in at.text_input if t.label == "另存为映射（可选）")
    at.text_input(key=box).input(str(victim))
    button(at, "应用映射并重新校验").click().run()
    assert not at.exception, at.exception
    shown = " ".join(m.value for m in [*at.info, *at.error, *at.warning])
    assert "映射名称不可用" in shown, shown
    assert victim.read_bytes() == before
    assert not (tmp_path / "mappings").exists() or not list((tmp_path / "mappings").iterdir())


# --- part 1: output files never written through a planted link ---------------------------------------------


def _db_with_a_snapshot(path: Path, file_name: str = "report-2026-10-v1.pdf", data: bytes = b"%PDF-1.7 new") -> Path:
    """A database holding one published snapshot (rows written directly: no Chromium needed)."""
    from store.db import Database

    with Database(path) as db, db.write() as w:
        w.execute(
            "INSERT INTO snapshots (snapshot_id, town, month, version, published_at, published_by, data_version, "
            "uploads, content, content_sha256) VALUES (1, ?, '2026-10', 1, now()::TIMESTAMP, 'cron', 1, '[]', '{}', 'x')",
            [settings.DEFAULT_TOWN],
        )
        w.execute(
            "INSERT INTO snapshot_files VALUES (1, ?, 'pdf', 'application/pdf', ?, ?, 'none', ?)",
            [file_name, len(data), hashlib.sha256(data).hexdigest(), data],
        )
    return path


def test_snapshot_out_replaces_a_planted_link_instead_of_writing_its_target(tmp_path):
    db = _db_with_a_snapshot(tmp_path / "db" / "egov.duckdb")
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report-2026-10-v1.pdf").symlink_to(victim)
    proc = cli("snapshot", "--month", "2026-10", "--if-missing", "--db", str(db), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert victim.read_bytes() == b"precious"
    written = out / "report-2026-10-v1.pdf"
    assert not written.is_symlink() and written.read_bytes() == b"%PDF-1.7 new"
    assert sorted(p.name for p in out.iterdir()) == ["report-2026-10-v1.pdf"]  # no temporary file left


def test_snapshot_out_refuses_a_stored_file_name_that_is_a_path(tmp_path):
    db = _db_with_a_snapshot(tmp_path / "db" / "egov.duckdb", file_name="../escaped.pdf")
    out = tmp_path / "out"
    proc = cli("snapshot", "--month", "2026-10", "--if-missing", "--db", str(db), "--out", str(out))
    assert proc.returncode == 1
    assert "快照文件名不可用" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "escaped.pdf").exists()


def test_backup_never_writes_through_a_link_planted_at_its_output_names(tmp_path):
    from store.db import Database

    db_path = tmp_path / "live" / "egov.duckdb"
    Database(db_path).close()
    victims = {name: tmp_path / f"victim-{name}" for name in ("out", "partial")}
    for victim in victims.values():
        victim.write_bytes(b"precious")
    out = tmp_path / "backups" / "egov-backup.zip"
    out.parent.mkdir()
    out.symlink_to(victims["out"])
    out.with_name(out.name + ".partial").symlink_to(victims["partial"])  # the name the backup used to write
    proc = cli("backup", "--db", str(db_path), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert all(v.read_bytes() == b"precious" for v in victims.values())
    assert not out.is_symlink() and zipfile.ZipFile(out).namelist()
    assert out.stat().st_mode & 0o077 == 0  # it holds the salt key: the owner's only


# --- part 10 a: a waiting marker naming a reused process id ------------------------------------------------


def _start_ticks(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()[19]


@pytest.fixture
def app_db(tmp_path: Path):
    from store.db import Database

    path = tmp_path / "egov.duckdb"
    Database(path).close()
    db = Database(path, shared=True, lock_timeout=8)
    yield db
    db.close()


def _timed_read(db) -> float:
    started = time.monotonic()
    cur = db.cursor()
    cur.execute("SELECT 1").fetchone()
    cur.close()
    return time.monotonic() - started


@pytest.mark.skipif(not HAS_PROC, reason="process start times come from /proc")
def test_a_marker_naming_a_live_process_started_at_another_time_does_not_stall_the_app(app_db):
    marker = app_db._waiting_marker
    real = int(_start_ticks(os.getpid()))
    marker.write_text(f"{os.getpid()} {time.time():.0f} {real + 12345}\n")  # this pid, but not the job's start
    assert _timed_read(app_db) < 3
    assert not marker.exists()


@pytest.mark.skipif(not HAS_PROC, reason="process start times come from /proc")
def test_an_older_marker_naming_a_process_started_after_it_does_not_stall_the_app(app_db):
    marker = app_db._waiting_marker
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        marker.write_text(f"{sleeper.pid} {time.time() - 3600:.0f}\n")  # written an hour ago: not by this process
        assert _timed_read(app_db) < 3
        assert not marker.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.skipif(not HAS_PROC, reason="process start times come from /proc")
def test_a_marker_of_a_live_waiting_job_is_still_honoured(tmp_path):
    from store.db import Database

    path = tmp_path / "egov.duckdb"
    Database(path).close()
    db = Database(path, shared=True, lock_timeout=1.5)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        db._waiting_marker.write_text(f"{sleeper.pid} {time.time():.0f} {_start_ticks(sleeper.pid)}\n")
        assert _timed_read(db) >= 1.4  # gave way for as long as it waits
        assert db._waiting_marker.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
        db.close()


# --- part 10 b: restore of a zip bomb ---------------------------------------------------------------------

MEMORY_BOUND_MB = 300

_MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr, "peak_kb": peak}))
"""


def restore_measured(archive: Path, db_path: Path, env: dict | None = None) -> dict:
    """``cli.py restore`` in a child of a fresh process, with that child's peak resident memory."""
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE,
            sys.executable,
            "cli.py",
            "restore",
            str(archive),
            "--db",
            str(db_path),
            "--yes",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    from ingest.load import ingest_file
    from store.db import Database

    path = tmp_path / "live" / "egov.duckdb"
    with Database(path) as db:
        ingest_file(db, DATA / "cases_title_total_gbk.csv")
    return path


def _untouched(db_path: Path, before: dict[str, str]) -> None:
    assert {p.name: sha(p) for p in db_path.parent.iterdir() if p.is_file()} == before
    assert not [p for p in db_path.parent.iterdir() if p.name.startswith("egov-restore-")]


def _bomb(path: Path, member: str, size_mb: int, compression: int) -> Path:
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("egov.duckdb" if member != "egov.duckdb" else "manifest.json"), b"{}")
        info = zipfile.ZipInfo(member)
        info.compress_type = compression
        with zf.open(info, "w", force_zip64=True) as fh:
            for _ in range(size_mb):
                fh.write(chunk)
    return path


def test_restore_of_a_few_kilobyte_bomb_is_refused_in_bounded_memory(live_db, tmp_path):
    archive = _bomb(tmp_path / "bomb.zip", "manifest.json", 512, zipfile.ZIP_BZIP2)
    assert archive.stat().st_size < 8 * 1024
    before = {p.name: sha(p) for p in live_db.parent.iterdir()}
    result = restore_measured(archive, live_db)
    assert result["peak_kb"] / 1024 < MEMORY_BOUND_MB, result  # 512 MB unpacked into memory, before
    assert result["rc"] == 1, result
    assert "恢复失败" in result["stderr"] and "Error" not in result["stderr"], result["stderr"]
    _untouched(live_db, before)


def test_restore_stops_a_database_member_over_the_limit(live_db, tmp_path):
    archive = _bomb(tmp_path / "bomb.zip", "egov.duckdb", 64, zipfile.ZIP_DEFLATED)
    assert archive.stat().st_size < 512 * 1024
    before = {p.name: sha(p) for p in live_db.parent.iterdir()}
    result = restore_measured(archive, live_db, env={"EGOV_RESTORE_MAX_MB": "16"})
    assert result["rc"] == 1, result
    assert "上限" in result["stderr"] and "EGOV_RESTORE_MAX_MB" in result["stderr"], result["stderr"]
    assert result["peak_kb"] / 1024 < MEMORY_BOUND_MB, result["peak_kb"]
    _untouched(live_db, before)


def test_restore_does_not_trust_a_declared_size(live_db, tmp_path):
    """A member whose headers claim 100 bytes but which holds 8 MB: refused as damaged, in words."""
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("egov.duckdb", b"\0" * (8 << 20))
    raw = bytearray(archive.read_bytes())
    central = raw.rindex(b"PK\x01\x02")  # the last central record is the big member's
    struct.pack_into("<I", raw, central + 24, 100)  # its uncompressed size: 100 bytes
    archive.write_bytes(bytes(raw))
    before = {p.name: sha(p) for p in live_db.parent.iterdir()}
    result = restore_measured(archive, live_db, env={"EGOV_RESTORE_MAX_MB": "4"})
    assert result["rc"] == 1, result
    assert "恢复失败" in result["stderr"] and "Bad" not in result["stderr"], result["stderr"]
    _untouched(live_db, before)


def test_the_byte_counter_stops_at_the_limit_whatever_the_headers_say():
    from store.backup import BackupError, copy_limited

    sink = io.BytesIO()
    with pytest.raises(BackupError) as info:
        copy_limited(io.BytesIO(b"x" * (3 << 20)), sink, limit=1 << 20)
    assert "上限" in info.value.message_zh
    assert sink.tell() <= 1 << 20


# --- part 10 c: nothing the CLI prints carries an escape sequence -------------------------------------------

ESC_DEPARTMENT = "\x1b[31m民政办\x1b]0;owned\x07\u202e"


def test_cli_output_carries_no_escape_sequences_from_file_names_or_data(tmp_path):
    db = str(tmp_path / "egov.duckdb")
    source = tmp_path / "办件\x1b[31m导出\x9b2J.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["办件编号", "事项名称", "实施部门", "申请时间", "受理时间", "办结时间", "承诺时限"])
        for i in range(12):
            day = f"2026-10-{10 + i:02d}"
            writer.writerow([f"E-{i}", "户籍\x1b[2J迁移", ESC_DEPARTMENT, f"{day} 09:00", f"{day} 09:30",
                             f"{day} 16:00", "5个工作日"])  # fmt: skip
    runs = [
        cli("ingest", str(source), "--db", db, "--no-refresh"),
        cli("uploads", "--db", db),
        cli("audit", "--db", db),
        cli("bottlenecks", "--db", db, "--month", "2026-10", "--by", "department", "--min-sample", "1"),
        cli("kpis", "--db", db, "--month", "2026-10", "--department", ESC_DEPARTMENT),
        cli("ingest", str(tmp_path / "无此\x1b[5m文件.csv"), "--db", db),
        cli("snapshot", "--month", "\x1b[31m2026", "--db", db),
        cli("uploads", "--db", db, "--format", "\x1b[31mjson"),
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert "办件导出.csv: 上传 #1" in runs[0].stdout  # the name is shown, its escapes gone
    assert "民政办" in runs[3].stdout, runs[3].stdout
    for run in runs:
        text = run.stdout + run.stderr
        assert not any(c in text for c in "\x1b\x9b\x07\u202e"), (run.args, text)
        assert "Traceback" not in text
