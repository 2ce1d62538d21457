"""Names that become files are names, never paths; and files written under them never follow a link.

Why: a name typed into the upload page's “另存为映射” box used to be taken as a path when it ended in
``.toml``, so ``../../.streamlit/secrets.toml`` or an absolute path overwrote any TOML file the
server could write; a symbolic link planted in an output folder (a snapshot's ``--out``, the
backups folder) had its target overwritten. Hence one rule, checked in one place:

* :func:`check_name`: letters (Chinese included), digits, space, ``-``, ``_`` and ``.`` (not first,
  never two in a row), at most :data:`MAX_NAME_LENGTH` characters. No ``/``, ``\\``, ``..``, NUL or
  other control characters, so a name cannot leave its folder or hide what it is.
* :func:`path_in`: a checked name inside its folder (the folder resolved, the result's parent
  checked to be that folder), refused otherwise.
* :func:`replacing` / :func:`write_file`: a file is written to a new temporary file created in the
  same folder with ``O_CREAT | O_EXCL | O_NOFOLLOW`` and then renamed onto its name
  (``os.replace`` replaces a link itself, never its target); an interrupted write leaves the old
  file as it was.
* :func:`read_file`: a file read by name is opened with ``O_NOFOLLOW``: a link planted under a
  saved name is refused instead of read.

A leaf module: it imports nothing of the project but :mod:`errors`.
"""

from __future__ import annotations

import os
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from errors import BilingualError

MAX_NAME_LENGTH = 64
_PUNCTUATION = frozenset("-_. ")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # not on Windows: the O_EXCL temp file and os.replace still hold
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)

RULE_ZH = (
    "只能包含字母、汉字、数字、空格、下划线（_）、连字符（-）和点（.，不能在开头，不能连用），"
    f"最多 {MAX_NAME_LENGTH} 个字符；是名称，不能是路径"
)
RULE_EN = (
    "it may hold only letters (Chinese included), digits, spaces, _, - and . (not first, never two in a row), "
    f"at most {MAX_NAME_LENGTH} characters; it is a name, not a path"
)


class NameRefused(BilingualError, ValueError):
    """A name that is not a plain file name, or a file that is a link; says why in Chinese and English."""


def check_name(name: object, what_zh: str = "名称", what_en: str = "the name") -> str:
    """``name`` stripped of surrounding spaces (NFC) when it follows the rule; raises :class:`NameRefused`."""
    text = unicodedata.normalize("NFC", str(name if name is not None else "")).strip()
    ok = (
        0 < len(text) <= MAX_NAME_LENGTH
        and not text.startswith(".")
        and ".." not in text
        and all(ch.isalnum() or ch in _PUNCTUATION for ch in text)
    )
    if not ok:
        raise NameRefused(f"{what_zh}不可用：{RULE_ZH}", f"{what_en} is not usable: {RULE_EN}")
    return text


def path_in(folder: str | os.PathLike, name: object, suffix: str = "", *, what_zh="名称", what_en="the name") -> Path:
    """The file ``<name><suffix>`` directly inside ``folder`` (resolved); refused when it would be anywhere else."""
    base = Path(folder).resolve()
    path = base / f"{check_name(name, what_zh, what_en)}{suffix}"
    if path.parent != base or Path(os.path.normpath(path)).parent != base:  # cannot happen after check_name
        raise NameRefused(f"{what_zh}不可用：{RULE_ZH}", f"{what_en} is not usable: {RULE_EN}")
    return path


@contextmanager
def replacing(target: str | os.PathLike, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file to write that becomes ``target`` when the block ends without an error.

    The bytes go to a new file beside ``target`` (created exclusively, never through a link) that is
    then renamed onto ``target``: a link found at ``target`` is replaced by the file, its target left
    untouched; on an error the temporary file is removed and ``target`` stays as it was.
    """
    target = Path(target)
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    for _ in range(100):
        temp = target.with_name(f".{target.name[:80]}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temp, flags, mode)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred random names taken
        raise FileExistsError(f"no free temporary name beside {target}")
    try:
        with os.fdopen(fd, "w+b") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            temp.unlink()
        raise


def write_file(target: str | os.PathLike, data: bytes, mode: int = 0o644) -> Path:
    """Write ``data`` as ``target`` through :func:`replacing` (never through a link); returns the path."""
    with replacing(target, mode) as fh:
        fh.write(data)
    return Path(target)


def read_file(path: str | os.PathLike, limit: int | None = None) -> bytes:
    """The bytes of ``path``, refusing a link (``O_NOFOLLOW``) and, with ``limit``, a file larger than it.

    Raises :class:`NameRefused` for a link or an oversized file, :class:`FileNotFoundError` for none.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _BINARY)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        if path.is_symlink():
            raise NameRefused(f"{path.name} 是一个链接，不予读取", f"{path.name} is a symbolic link; not read") from exc
        raise
    with os.fdopen(fd, "rb") as fh:
        data = fh.read() if limit is None else fh.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise NameRefused(
            f"{path.name} 过大（超过 {limit:,} 字节）", f"{path.name} is too large (over {limit:,} bytes)"
        )
    return data
