"""Raw channel text to a canonical channel code, through the editable synonym table.

A raw channel maps to the channel of the first keyword it contains, by priority then by keyword
length, so the more specific ``网上申请`` beats ``网上``; values that match nothing become ``other``.
The codes and the table itself belong to the model: :mod:`store.channels`.
"""

from __future__ import annotations


#: SQL mapping a raw-channel column ``{raw}`` to a canonical channel (a correlated lookup).
def channel_sql(raw: str) -> str:
    return (
        f"CASE WHEN nullif(trim({raw}), '') IS NULL THEN NULL ELSE coalesce(("
        f"SELECT s.channel FROM channel_synonyms s WHERE contains(lower(trim({raw})), s.keyword) "
        "ORDER BY s.priority, length(s.keyword) DESC LIMIT 1), 'other') END"
    )
