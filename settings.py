"""Where things live and which defaults apply; one place so the CLI, the app and tests agree."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
DEFAULT_DB = DATA_DIR / "egov.duckdb"
SAMPLE_DIR = DATA_DIR / "sample"
MAPPINGS_DIR = DATA_DIR / "mappings"

#: The town of a single-town installation, and of every row a database held before it knew towns; an upload
#: goes into it unless another town is chosen (upload page, ``--town``) or the file has a town column.
DEFAULT_TOWN = os.environ.get("EGOV_TOWN", "").strip() or "沙堰镇"

#: Naive timestamps in input files are local time of this zone; offsets in the input are respected.
DEFAULT_TIMEZONE = "Asia/Shanghai"

#: How long a program waits for the database file while another process (app, CLI job) holds it.
DB_LOCK_TIMEOUT = float(os.environ.get("EGOV_DB_LOCK_TIMEOUT", "120"))

#: The app waits less: a reader would rather see "busy, try again" than a page that hangs.
APP_DB_LOCK_TIMEOUT = float(os.environ.get("EGOV_APP_DB_LOCK_TIMEOUT", "30"))
#: A page that found the database busy tries again by itself this many times, after this pause.
BUSY_RETRIES = 10
BUSY_RETRY_SECONDS = 2.0

#: A file in which more than this share of data rows fail validation is refused whole.
MAX_REJECTED_SHARE = 0.5

#: Largest file the upload page accepts, in MB; keep equal to server.maxUploadSize in .streamlit/config.toml.
MAX_UPLOAD_MB = 200

#: Most data rows one file may bring through the upload page (the CLI takes larger files for county-scale
#: loads unless given --max-rows). A file over it is refused whole, before anything is written.
MAX_UPLOAD_ROWS = int(os.environ.get("EGOV_MAX_UPLOAD_ROWS", 2_000_000))

# Bounds on the work one file may cause, checked while it is read (never after): a few bytes must not be able to
# take the server down. README "异常输入 / Bad input" lists them. Each can be lowered (tests do) by its variable.
#: Most data rows in any one file, the command line included (a county's year is about five million).
MAX_FILE_ROWS = int(os.environ.get("EGOV_MAX_FILE_ROWS", 50_000_000))
#: Most columns (or distinct keys of a JSON Lines / XES file); real exports have a few dozen.
MAX_COLUMNS = int(os.environ.get("EGOV_MAX_COLUMNS", 1_000))
#: Longest cell, in characters: Excel's own limit for one cell.
MAX_CELL_CHARS = int(os.environ.get("EGOV_MAX_CELL_CHARS", 32_767))
#: Longest line of a CSV or JSON Lines file, in bytes; a longer line is a rejected row.
MAX_LINE_BYTES = int(os.environ.get("EGOV_MAX_LINE_BYTES", 10_000_000))
#: Most bytes a compressed input (.xes.gz, the XML inside .xlsx) may unpack to, in MB.
MAX_UNPACKED_MB = int(os.environ.get("EGOV_MAX_UNPACKED_MB", 1_024))
#: Files other than CSV are parsed in a child process with this much address space (MB) and time (s): a file
#: that needs more is refused, and the server never runs out of memory because of it.
PARSE_MEMORY_MB = int(os.environ.get("EGOV_PARSE_MEMORY_MB", 2_048))
PARSE_TIMEOUT_SECONDS = int(os.environ.get("EGOV_PARSE_TIMEOUT_SECONDS", 900))
#: Fewest events or cases a finding, a ranked row or a department's bar is built on; below it the row is
#: listed as "样本太少" (too few) instead of ranked: one slow event is no bottleneck.
MIN_SAMPLE = int(os.environ.get("EGOV_MIN_SAMPLE", 10))
#: How many of the latest months have their pages' figures computed after each load (metrics/precomputed_views.py).
KEPT_MONTHS = int(os.environ.get("EGOV_KEPT_MONTHS", 3))

#: A signed-in session ends after this long without any interaction, and in any case after SESSION_MAX_HOURS.
SESSION_IDLE_MINUTES = int(os.environ.get("EGOV_SESSION_IDLE_MINUTES", 8 * 60))
SESSION_MAX_HOURS = int(os.environ.get("EGOV_SESSION_MAX_HOURS", 24))

#: Failed password attempts per user name within LOGIN_LOCKOUT_MINUTES before further attempts wait.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT_MINUTES = 10


#: The database a province's cube is read into when ``EGOV_CUBE`` is set and ``EGOV_DB`` is not.
PROVINCE_DB = DATA_DIR / "province.duckdb"


def cube_dir() -> Path | None:
    """``$EGOV_CUBE``: a folder written by ``cli.py cube build`` the app shows instead of a town's data."""
    env = os.environ.get("EGOV_CUBE")
    return Path(env) if env else None


def resolve_db_path(cli_value: str | os.PathLike | None = None) -> Path:
    """The database file: the --db option, else $EGOV_DB, else data/egov.duckdb (data/province.duckdb when the app
    shows a province's cube, ``EGOV_CUBE``: never the town's own file)."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("EGOV_DB")
    if env:
        return Path(env)
    return PROVINCE_DB if cube_dir() is not None else DEFAULT_DB


def timezone() -> str:
    return os.environ.get("EGOV_TZ", DEFAULT_TIMEZONE)


# --- what a value may be (ingest/normalize.py, ingest/validate.py; README "数值规则 / Value rules") -----------------
#: A time in a file later than now plus this many minutes is rejected as 未来时间 (future_time): a clock a few
#: minutes fast on the platform's server is no reason to refuse a row; a date next year is.
FUTURE_TOLERANCE_MINUTES = int(os.environ.get("EGOV_FUTURE_TOLERANCE_MINUTES", 10))
#: Longest promised or statutory time limit read, in working days (natural days: twice as many). A longer one
#: (99999个工作日) is kept as a warning and left empty; the case loads.
MAX_LIMIT_WORKING_DAYS = int(os.environ.get("EGOV_MAX_LIMIT_WORKING_DAYS", 365))
MAX_LIMIT_NATURAL_DAYS = 2 * MAX_LIMIT_WORKING_DAYS
#: Most visits (跑动次数) and resubmissions (补正次数) one case can have; more is a warning, the field left empty.
MAX_VISITS = int(os.environ.get("EGOV_MAX_VISITS", 50))
MAX_RESUBMISSIONS = int(os.environ.get("EGOV_MAX_RESUBMISSIONS", 50))
