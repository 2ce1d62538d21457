"""Numbers written one way for every output (pages, charts, findings, reports): a leaf below all layers.

A figure that rounds to zero is written without a sign: never "-0.0" (shown red on a tile, or read as a fall).
What a missing value reads ("—", "未知") stays with each caller.
"""

from __future__ import annotations


def fixed(value: float, digits: int = 1, thousands: bool = True) -> str:
    """``value`` with ``digits`` decimals (and thousands separators): ``1,234.5``; ``-0.04`` -> ``0.0``."""
    rounded = round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:,.{digits}f}" if thousands else f"{rounded:.{digits}f}"


def percent(value: float, digits: int = 1) -> str:
    """A rate (a fraction) as ``53.3%``."""
    return fixed(float(value) * 100, digits, thousands=False) + "%"
