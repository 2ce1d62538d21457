"""What the command line prints, made inert for a terminal: no control characters from data or file names.

A file name, a department or an item name is printed by ``cli.py`` as it came in. With an escape
sequence in it (``\\x1b[31m``, ``\\x1b]0;title\\x07``, a C1 ``\\x9b`` CSI) it would recolour, retitle
or rewrite the operator's terminal, and a bidirectional override (U+202E …) would show text in
another order than it is. :func:`clean` removes escape sequences whole, then every other C0 control
character but newline and tab, DEL, the C1 controls and the bidi embeddings, overrides and isolates
(U+202A–U+202E, U+2066–U+2069). :func:`echo` is ``print`` through :func:`clean`: every line of the
command line (cli.py and the ``*/cli_commands.py``) goes through it. A leaf module.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

# ESC sequences first, so that their parameters go with them: CSI ``ESC [ … final`` (and the 8-bit CSI U+009B),
# OSC/DCS/PM/APC/SOS strings ended by BEL or ST on the same line, then any other ``ESC x`` (a lone ESC too).
# What is left of an unended string is plain text once its introducer is gone; the C1 pass removes the rest.
_ESCAPES = re.compile(
    r"[\x1b]\[[0-?]*[ -/]*[@-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]?"
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: object) -> str:
    """``str(value)`` without escape sequences, control characters (but ``\\n`` and ``\\t``) or bidi controls."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing to remove (newline and tab are not printable)
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def echo(*values: object, sep: str = " ", end: str = "\n", file: TextIO | None = None, flush: bool = False) -> None:
    """``print`` for the command line: every value through :func:`clean` (``end`` and ``sep`` are the code's)."""
    print(*(clean(v) for v in values), sep=sep, end=end, file=file if file is not None else sys.stdout, flush=flush)
