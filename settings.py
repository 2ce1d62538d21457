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

#: A file in which more than this share of data rows fail validation is refused whole.
MAX_REJECTED_SHARE = 0.5


def resolve_db_path(cli_value: str | os.PathLike | None = None) -> Path:
    """The database file: the --db option, else $EGOV_DB, else data/egov.duckdb."""
    if cli_value:
        return Path(cli_value)
    env = os.environ.get("EGOV_DB")
    return Path(env) if env else DEFAULT_DB


def timezone() -> str:
    return os.environ.get("EGOV_TZ", DEFAULT_TIMEZONE)
