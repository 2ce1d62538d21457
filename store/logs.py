"""Where the program writes what it did: ``data/logs/egov.log`` (rotated) and standard error.

Logs carry what happened — uploads with their counts, removals, failures with their traceback —
never row contents, so no personal data reaches them (a test scans them).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

import settings

_configured = False


def log_dir() -> Path:
    return Path(os.environ.get("EGOV_LOG_DIR") or settings.DATA_DIR / "logs")


def configure() -> logging.Logger:
    """Set up the ``egov`` logger once per process; returns it."""
    global _configured
    logger = logging.getLogger("egov")
    if _configured:
        return logger
    logger.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            directory / "egov.log", maxBytes=5 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
    except OSError:  # a read-only data folder: log to standard error only
        handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    _configured = True
    return logger
