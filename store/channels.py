"""The canonical channel codes and the table that maps raw channel text to them.

The codes are part of the model (metrics count ``online`` and ``mobile`` as 网办, charts colour them),
so they live here, below ingest and metrics. The table ``channel_synonyms`` is seeded from
``data/channel_synonyms.csv`` on first start and can be edited afterwards (the file for new databases,
the table for this one); how a raw value is looked up in it is ingest's (:mod:`ingest.channels`).
"""

from __future__ import annotations

import csv

import duckdb

import settings
from store.rows import one

CHANNELS = ("online", "mobile", "window", "self_service", "post", "other")
#: Channels that count as handled online (网办).
ONLINE_CHANNELS = ("online", "mobile")
SYNONYMS_FILE = settings.DATA_DIR / "channel_synonyms.csv"


def read_synonyms_file() -> list[tuple[str, str, int]]:
    with SYNONYMS_FILE.open(encoding="utf-8") as fh:
        rows = [(r["keyword"].strip().lower(), r["channel"].strip(), int(r["priority"])) for r in csv.DictReader(fh)]
    bad = [r for r in rows if r[1] not in CHANNELS]
    if bad:
        raise ValueError(f"unknown channel in {SYNONYMS_FILE.name}: {bad}")
    return rows


def ensure_seeded(con: duckdb.DuckDBPyConnection) -> None:
    if one(con.execute("SELECT count(*) FROM channel_synonyms"))[0]:
        return
    con.executemany("INSERT INTO channel_synonyms VALUES (?, ?, ?)", read_synonyms_file())


def set_synonym(con: duckdb.DuckDBPyConnection, keyword: str, channel: str, priority: int = 50) -> None:
    """Add or change one synonym (affects uploads loaded afterwards)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    con.execute(
        "INSERT OR REPLACE INTO channel_synonyms VALUES (?, ?, ?)", [keyword.strip().lower(), channel, priority]
    )
