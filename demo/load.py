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
    db: Database, *, small: bool = False, seed: int | None = None, end_month: str | None = None, loaded_by: str = "demo"
) -> list[IngestResult]:
    """Generate (or, with ``small``, take the shipped sample) and ingest catalogue, cases and events."""
    if small:
        return _ingest_exports(db, _sample_files(), loaded_by)
    from demo import exports  # the generator (numpy, pyarrow) only when generating

    kwargs: dict[str, Any] = {"end_month": end_month}
    if seed is not None:
        kwargs["seed"] = seed
    data = exports.generate(**kwargs)
    with tempfile.TemporaryDirectory(prefix="egov-demo-") as tmp:
        files = exports.write_exports(Path(tmp), data)
        return _ingest_exports(db, files, loaded_by)


def _sample_files() -> dict[str, Path]:
    names = {"catalog": "service_catalog.xlsx", "cases": "cases_export.csv", "events": "events_export.csv"}
    return {kind: settings.SAMPLE_DIR / name for kind, name in names.items()}


def _ingest_exports(db: Database, files: dict[str, Path], loaded_by: str) -> list[IngestResult]:
    return [ingest_file(db, files[kind], kind=kind, loaded_by=loaded_by) for kind in DEMO_FILES]
