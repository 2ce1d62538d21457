"""Load the demo town through the same pipeline as real uploads (its files look like real exports)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import settings
from ingest.load import IngestResult, ingest_file
from store.db import Database

#: Load order: the catalogue first, then cases, then their steps (which add events, not new cases).
DEMO_FILES = ("catalog", "cases", "events")


def load_demo(
    db: Database,
    *,
    small: bool = False,
    seed: int | None = None,
    end_month: str | None = None,
    loaded_by: str = "demo",
    towns: int = 1,
    months: int | None = None,
    scale: float = 1.0,
) -> list[IngestResult]:
    """Generate (or, with ``small``, take the shipped sample) and ingest catalogue, cases and events.

    ``towns`` > 1 generates a county (:mod:`demo.county`) whose first town is ``settings.DEFAULT_TOWN``.
    Each town's files are loaded with ``town=`` its name rather than written with a 乡镇 column: a real
    town's platform exports carry no town column, so the demo's files stay shaped like real ones (and
    the first town's are byte for byte the one-town demo's), and each town gets its own uploads, which
    is how a county would load its towns' exports. ``small`` is the shipped one-town sample only.
    ``months`` and ``scale`` (default: the generator's 18 months at full volume) let tests load a small county.
    """
    if small:
        if towns != 1:
            raise ValueError("the shipped sample is one town; a county is generated (leave out small)")
        return _ingest_exports(db, _sample_files(), loaded_by)
    from demo import exports  # the generator (numpy, pyarrow) only when generating

    kwargs: dict[str, Any] = {"end_month": end_month, "scale": scale, "first": settings.DEFAULT_TOWN}
    if seed is not None:
        kwargs["seed"] = seed
    if months is not None:
        kwargs["months"] = months
    results: list[IngestResult] = []
    with tempfile.TemporaryDirectory(prefix="egov-demo-") as tmp:
        for k, data in enumerate(exports.generate_county(towns, **kwargs)):
            files = exports.write_exports(Path(tmp) / str(k), data)
            results += _ingest_exports(db, files, loaded_by, data.town)
    return results


def _sample_files() -> dict[str, Path]:
    names = {"catalog": "service_catalog.xlsx", "cases": "cases_export.csv", "events": "events_export.csv"}
    return {kind: settings.SAMPLE_DIR / name for kind, name in names.items()}


def _ingest_exports(
    db: Database, files: dict[str, Path], loaded_by: str, town: str | None = None
) -> list[IngestResult]:
    return [ingest_file(db, files[kind], kind=kind, loaded_by=loaded_by, town=town) for kind in DEMO_FILES]
