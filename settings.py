"""Where things live and which defaults apply; one place so the CLI, the app and tests agree."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
DEFAULT_DB = DATA_DIR / "egov.duckdb"
SAMPLE_DIR = DATA_DIR / "sample"
MAPPINGS_DIR = DATA_DIR / "mappings"

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
#: Fewest events or cases a finding, a ranked row or a department's bar is built on; below it the row is
#: listed as "样本太少" (too few) instead of ranked: one slow event is no bottleneck.
MIN_SAMPLE = int(os.environ.get("EGOV_MIN_SAMPLE", 10))
#: How many of the latest months have their pages' figures computed after each load (metrics/kept.py).
KEPT_MONTHS = int(os.environ.get("EGOV_KEPT_MONTHS", 3))

#: A signed-in session ends after this long without any interaction, and in any case after SESSION_MAX_HOURS.
SESSION_IDLE_MINUTES = int(os.environ.get("EGOV_SESSION_IDLE_MINUTES", 8 * 60))
SESSION_MAX_HOURS = int(os.environ.get("EGOV_SESSION_MAX_HOURS", 24))

#: Failed password attempts per user name within LOGIN_LOCKOUT_MINUTES before further attempts wait.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT_MINUTES = 10


def resolve_db_path(cli_value: str | os.PathLike | None = None) -> Path:
    """The database file: the --db option, else $EGOV_DB, else data/egov.duckdb."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("EGOV_DB")
    return Path(env) if env else DEFAULT_DB


def timezone() -> str:
    return os.environ.get("EGOV_TZ", DEFAULT_TIMEZONE)
