"""One sentence for a failed action, never a traceback: the error's own words when it has them."""

from __future__ import annotations

import logging

from errors import BilingualError
from ui.i18n import lang, t

log = logging.getLogger(__name__)


def failure(exc: BaseException, what: str) -> str:
    """The message to show for ``exc``; unexpected errors are logged (with traceback) for the admin."""
    language = lang()
    own = exc.message(language) if isinstance(exc, BilingualError) else None
    if own:
        return own
    log.exception("%s failed", what, exc_info=exc)
    return t("up_unexpected")
