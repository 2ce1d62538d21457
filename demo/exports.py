"""The demo generator's public side: a town's frames, the files the platform would export, event chunks.

``python -m demo.exports`` regenerates ``data/sample`` (or writes another size, seed or month elsewhere).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from demo.simulation import _Context, _Month, cases_frame, concat, context, events_frame, parse_month, simulate_month
from demo.town import DEFAULT_PROFILE, TOWN, TownProfile, catalog_frame

DEFAULT_SEED = 20261126
DEFAULT_MONTHS = 18
#: The shipped sample in ``data/sample`` (kept small: a few MB).
SAMPLE_SCALE = 0.06
SAMPLE_END_MONTH = "2026-11"

#: Largest frame ``iter_event_chunks`` aims to yield (a month is split into runs of days above this).
CHUNK_EVENTS = 1_000_000


@dataclass
class DemoData:
    """One generated town: the case-level export, the step-level export and the catalogue."""

    cases: pd.DataFrame
    events: pd.DataFrame
    catalog: pd.DataFrame
    first_month: str = ""  # 'YYYY-MM' of the window, for export titles
    last_month: str = ""
    town: str = TOWN  # the town the exports are of (their titles name it)


def generate(
    seed: int = DEFAULT_SEED,
    end_month: str | None = None,
    months: int = DEFAULT_MONTHS,
    scale: float = 1.0,
    profile: TownProfile = DEFAULT_PROFILE,
) -> DemoData:
    """A town's ``months`` months of cases ending with ``end_month`` (default: this month, cut at today).

    ``scale`` multiplies the case volume (1.0 ≈ 2,450 cases and ~16,000 events a month for 沙堰镇's
    profile). An explicit ``end_month`` is cut off at the end of that month, so the output depends
    only on the arguments. ``profile`` is the town (see :mod:`demo.county` for a county's towns).
    """
    ctx = context(end_month, months)
    sims = [simulate_month(ctx, i, seed, scale, profile=profile) for i in range(len(ctx.months))]
    m = concat(sims)
    first, last = ctx.months[0], ctx.months[-1]
    return DemoData(
        cases=cases_frame(ctx, m, seed),
        events=events_frame(ctx, m),
        catalog=catalog_frame(),
        first_month=f"{first[0]}-{first[1]:02d}",
        last_month=f"{last[0]}-{last[1]:02d}",
        town=profile.name,
    )


def generate_county(
    towns: int,
    seed: int = DEFAULT_SEED,
    end_month: str | None = None,
    months: int = DEFAULT_MONTHS,
    scale: float = 1.0,
    first: str = TOWN,
) -> list[DemoData]:
    """One :func:`generate` per town of :func:`demo.county.county`; ``towns=1`` is ``[generate(seed, …)]``."""
    from demo.county import county

    return [generate(t.seed, end_month, months, scale, t.profile) for t in county(towns, seed, first)]


#: The events (and cases) column naming each row's town in a county's chunks (``towns`` > 1).
TOWN_COLUMN = "乡镇"


@lru_cache(maxsize=64)
def _events_per_unit_scale(
    seed: int, end_month: str | None, months: int, profile: TownProfile = DEFAULT_PROFILE
) -> float:
    """Events a town's window produces per unit of scale, from a quick numeric pilot run."""
    ctx = context(end_month, months)
    pilot = 1.0
    total = sum(simulate_month(ctx, i, seed, pilot, profile=profile).n_events for i in range(len(ctx.months)))
    return max(total / pilot, 1.0)


def iter_county_slices(
    target_events: int,
    seed: int = DEFAULT_SEED,
    end_month: str | None = None,
    months: int = DEFAULT_MONTHS,
    towns: int = 1,
    stream: int = 0,
) -> Iterator[tuple[_Context, list[tuple[str, int, _Month]]]]:
    """About ``target_events`` events over the towns of ``demo.county.county(towns, seed)``, slice by slice.

    One scale for every town, calibrated on the sum of their pilot runs (each town's volume differs,
    so each keeps its share); the slice count comes from the whole county's target, so one slice of
    all the towns stays near CHUNK_EVENTS. Yields, per (month, slice), the context and one
    ``(town name, town seed, simulated slice)`` per town. ``stream`` shifts every town's random
    stream (another month of the same towns); ``towns=1`` is the one-town demo's stream exactly.
    """
    if target_events <= 0:
        return
    from demo.county import county

    ctx = context(end_month, months)
    members = [(t.profile, t.seed + stream) for t in county(towns, seed)]
    per_unit = sum(_events_per_unit_scale(s, end_month, months, p) for p, s in members)
    scale = target_events / per_unit
    parts = max(1, int(np.ceil(target_events / len(ctx.months) * 1.3 / CHUNK_EVENTS)))
    for i in range(len(ctx.months)):
        for k in range(parts):
            yield ctx, [(p.name, s, simulate_month(ctx, i, s, scale, (k, parts), profile=p)) for p, s in members]


def with_town(frame: pd.DataFrame, town: str) -> pd.DataFrame:
    """The frame with the town's name as its first column (``TOWN_COLUMN``), as a county-wide export has it."""
    return pd.concat([pd.DataFrame({TOWN_COLUMN: pd.Series([town] * len(frame), dtype="str")}), frame], axis=1)


def iter_event_chunks(
    target_events: int,
    seed: int = DEFAULT_SEED,
    end_month: str | None = None,
    months: int = DEFAULT_MONTHS,
    towns: int = 1,
) -> Iterator[pd.DataFrame]:
    """About ``target_events`` events (the events-export layout), month by month, for benchmarks.

    The scale is calibrated by a small pilot run. Each frame is one month, or a run of its days when
    a month would exceed ~CHUNK_EVENTS events, so memory stays bounded whatever the target. With
    ``towns`` > 1 the events spread over a demo county (:func:`iter_county_slices`): each frame holds
    every town's events of its slice, town after town, with a first column ``乡镇``; case ids repeat
    between towns (every town numbers its cases alike), so a case is (乡镇, 办件编号).
    """
    for ctx, slices in iter_county_slices(target_events, seed, end_month, months, towns):
        frames = [events_frame(ctx, m) if towns == 1 else with_town(events_frame(ctx, m), name)
                  for name, _, m in slices if m.n_events]  # fmt: skip
        if frames:
            yield frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _month_title(month: str) -> str:
    year, mon = parse_month(month)
    return f"{year}年{mon}月"


def write_exports(out_dir: Path, data: DemoData) -> dict[str, Path]:
    """Write the three files the way the platform exports them (GBK CSV with title and 合计 rows, …)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    first = data.first_month or str(data.cases["申请时间"].min())[:7]
    last = data.last_month or str(data.cases["申请时间"].max())[:7]
    paths = {
        "cases": out_dir / "cases_export.csv",
        "events": out_dir / "events_export.csv",
        "catalog": out_dir / "service_catalog.xlsx",
    }

    ncol = len(data.cases.columns)
    title = f"{data.town}便民服务中心办件明细表（{_month_title(first)}—{_month_title(last)}）"
    buf = io.StringIO()
    buf.write(title + "," * (ncol - 1) + "\r\n")
    data.cases.to_csv(buf, index=False, lineterminator="\r\n")
    buf.write(f"合计,{len(data.cases)}" + "," * (ncol - 2) + "\r\n")
    paths["cases"].write_bytes(buf.getvalue().encode("gbk"))

    data.events.to_csv(paths["events"], index=False, encoding="utf-8", lineterminator="\n")

    _write_catalog_xlsx(paths["catalog"], data.catalog, last, data.town)
    return paths


def _write_catalog_xlsx(path: Path, catalog: pd.DataFrame, last_month: str, town: str) -> None:
    """Title merged across the header width on row 1, header on row 2; fixed metadata for identical bytes."""
    import xlsxwriter

    year, month = parse_month(last_month)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties(
        {"title": "政务服务事项目录", "author": f"{town}便民服务中心", "created": dt.datetime(year, month, 1)}
    )
    ws = wb.add_worksheet("事项目录")
    title_fmt = wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    head_fmt = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"})
    ncol = len(catalog.columns)
    ws.merge_range(0, 0, 0, ncol - 1, f"{town}便民服务中心政务服务事项目录（{year}年版）", title_fmt)
    ws.set_row(0, 28)
    ws.write_row(1, 0, list(catalog.columns), head_fmt)
    for r, row in enumerate(catalog.astype(object).values.tolist(), start=2):
        ws.write_row(r, 0, row)
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 16)
    ws.set_column(3, ncol - 1, 13)
    ws.freeze_panes(2, 0)
    wb.close()


def write_sample(out_dir: Path | None = None) -> dict[str, Path]:
    """Regenerate the shipped sample in ``data/sample`` (see its README for the command)."""
    if out_dir is None:
        import settings

        out_dir = settings.SAMPLE_DIR
    return write_exports(Path(out_dir), generate(scale=SAMPLE_SCALE, end_month=SAMPLE_END_MONTH))


def main(argv: list[str] | None = None) -> None:
    """``python -m demo.exports``: regenerate data/sample, or write another size/seed/month elsewhere."""
    parser = argparse.ArgumentParser(description="Write demo exports (default: regenerate data/sample).")
    parser.add_argument("--out", type=Path, help="output folder (default: data/sample)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--end-month", default=SAMPLE_END_MONTH, help=f"YYYY-MM (default {SAMPLE_END_MONTH})")
    parser.add_argument("--scale", type=float, default=SAMPLE_SCALE, help=f"case volume (default {SAMPLE_SCALE})")
    args = parser.parse_args(argv)
    if args.out is None:
        import settings

        args.out = settings.SAMPLE_DIR
    paths = write_exports(args.out, generate(seed=args.seed, end_month=args.end_month, scale=args.scale))
    for kind, path in paths.items():
        print(f"{kind}: {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
