"""Channel normalisation through an editable synonym table.

The table ``channel_synonyms`` is seeded from ``data/channel_synonyms.csv`` on first start and can
be edited afterwards (the file for new databases, the table for this one). A raw channel maps to
the channel of the first keyword it contains, by priority then by keyword length, so the more
specific ``网上申请`` beats ``网上``; values that match nothing become ``other``.
"""

from __future__ import annotations

import csv

import duckdb

import settings

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
    if con.execute("SELECT count(*) FROM channel_synonyms").fetchone()[0]:
        return
    con.executemany("INSERT INTO channel_synonyms VALUES (?, ?, ?)", read_synonyms_file())


def set_synonym(con: duckdb.DuckDBPyConnection, keyword: str, channel: str, priority: int = 50) -> None:
    """Add or change one synonym (affects uploads loaded afterwards)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    con.execute(
        "INSERT OR REPLACE INTO channel_synonyms VALUES (?, ?, ?)", [keyword.strip().lower(), channel, priority]
    )


#: SQL mapping a raw-channel column ``{raw}`` to a canonical channel (a correlated lookup).
def channel_sql(raw: str) -> str:
    return (
        f"CASE WHEN nullif(trim({raw}), '') IS NULL THEN NULL ELSE coalesce(("
        f"SELECT s.channel FROM channel_synonyms s WHERE contains(lower(trim({raw})), s.keyword) "
        "ORDER BY s.priority, length(s.keyword) DESC LIMIT 1), 'other') END"
    )
