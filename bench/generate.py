"""Demo-shaped logs of any size for the benchmark: events (UTF-8 and the same text as GBK), cases, one more month.

The log spreads over a demo county of ``TOWNS`` towns (:mod:`demo.county`: a leading, a lagging, a
slow-market town and the rest in between, each with its own volume and random stream). Every file is
one county-wide file with a first column ``乡镇``, which the loader reads row by row; the towns number
their cases alike, so 办件编号 repeat between towns and a case is (乡镇, 办件编号).

The events are exactly those of :func:`demo.exports.iter_event_chunks` with the same ``towns`` (same
window, scale and slices); the slices come from the same :func:`demo.exports.iter_county_slices`, so
that beside each slice of events the case export of the same cases is written, and the benchmark
database holds channels, visits and ratings as a real one would. Files are written chunk by chunk
through DuckDB's CSV writer: memory stays bounded at any size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from demo import exports, simulation

#: The benchmark's window: 18 months ending here; the "one more month" is the month after.
END_MONTH = "2026-09"
NEXT_MONTH = "2026-10"
MONTHS = exports.DEFAULT_MONTHS
#: The demo county the benchmark's logs spread over (issue 16).
TOWNS = 20


@dataclass
class LogFiles:
    events_utf8: Path
    events_gbk: Path | None
    cases: Path | None
    month_events: Path | None
    events: int
    cases_count: int
    month_events_count: int

    def as_dict(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def iter_chunks(
    target_events: int,
    *,
    seed: int = exports.DEFAULT_SEED,
    end_month: str = END_MONTH,
    months: int = MONTHS,
    towns: int = TOWNS,
    stream: int = 0,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(events, cases) per slice of every town: the events of ``exports.iter_event_chunks`` with their cases."""
    for ctx, slices in exports.iter_county_slices(target_events, seed, end_month, months, towns, stream):
        events, cases = [], []
        for name, town_seed, m in slices:
            if m.n_events:
                ev, cs = simulation.events_frame(ctx, m), simulation.cases_frame(ctx, m, town_seed)
                events.append(ev if towns == 1 else exports.with_town(ev, name))
                cases.append(cs if towns == 1 else exports.with_town(cs, name))
        if events:
            yield pd.concat(events, ignore_index=True), pd.concat(cases, ignore_index=True)


def _csv_bytes(frame: pd.DataFrame, header: bool, tmp: Path) -> bytes:
    """The frame as CSV text the way exports look (quotes only where needed), via DuckDB's fast writer."""
    con = duckdb.connect()
    try:
        con.register("frame", frame)
        con.execute(f"COPY frame TO '{tmp}' (FORMAT csv, HEADER {str(header).lower()})")
    finally:
        con.close()
    data = tmp.read_bytes()
    tmp.unlink()
    return data


def write_logs(
    out_dir: Path,
    events: int,
    *,
    seed: int = exports.DEFAULT_SEED,
    with_cases: bool = True,
    with_gbk: bool = True,
    with_next_month: bool = True,
    towns: int = TOWNS,
    log=print,
) -> LogFiles:
    """Write the benchmark's input files into ``out_dir`` and return their paths and row counts.

    The events spread over the ``towns`` of ``demo.county.county(towns, seed)``; the month after the
    window is the same towns' (their next random stream).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "utf8": out_dir / "events_utf8.csv",
        "gbk": out_dir / "events_gbk.csv",
        "cases": out_dir / "cases_utf8.csv",
        "month": out_dir / "month_events_utf8.csv",
    }
    tmp = out_dir / "chunk.tmp.csv"
    n_events = n_cases = 0
    with (
        open(paths["utf8"], "wb") as utf8,
        open(paths["gbk"] if with_gbk else "/dev/null", "wb") as gbk,
        open(paths["cases"] if with_cases else "/dev/null", "wb") as cases,
    ):
        for ev, cs in iter_chunks(events, seed=seed, towns=towns):
            data = _csv_bytes(ev, header=n_events == 0, tmp=tmp)
            utf8.write(data)
            if with_gbk:
                gbk.write(data.decode("utf-8").encode("gbk"))
            if with_cases:
                cases.write(_csv_bytes(cs, header=n_cases == 0, tmp=tmp))
            n_events += len(ev)
            n_cases += len(cs)
            log(f"  generated {n_events:,} events")
    # One more month: the month after the window, about a month's share of the events.
    n_month = 0
    if with_next_month:
        with open(paths["month"], "wb") as month:
            more = iter_chunks(
                max(events // MONTHS, 1), seed=seed, end_month=NEXT_MONTH, months=1, towns=towns, stream=1
            )
            for ev, _ in more:
                month.write(_csv_bytes(ev, header=n_month == 0, tmp=tmp))
                n_month += len(ev)
    return LogFiles(
        paths["utf8"], paths["gbk"] if with_gbk else None, paths["cases"] if with_cases else None,
        paths["month"] if with_next_month else None, n_events, n_cases if with_cases else 0, n_month,
    )  # fmt: skip


def month_bounds(month: str = END_MONTH) -> tuple[dt.date, dt.date]:
    year, mon = (int(p) for p in month.split("-"))
    first = dt.date(year, mon, 1)
    return first, (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
