"""Paths: ``resolved`` (through the run's session), printable and byte forms,
reading regular files only."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path


def resolved(path: Path) -> Path:
    """``path.resolve()`` with each directory resolved once per run (discovery,
    display paths and cache keys resolve every file several times); raises
    OSError as ``resolve`` does."""
    from kmlint.engine.session import current

    return current().resolved(path)


def printable(path: str) -> str:
    """A path for reports and messages.  Paths are bytes on Linux: a name that is
    not valid UTF-8 is carried as ``str`` with ``surrogateescape`` (what
    ``os.fsdecode`` makes of it) and printed here with each undecodable byte
    as ``\\xNN`` (``caf\\xe9.py``); control characters (a newline in a name
    would split a report line) are escaped the same way.  Valid names are
    returned unchanged."""
    if path.isprintable() and not _has_surrogates(path):
        return path
    out = []
    for ch in path:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF or (not ch.isprintable() and ch != " "):
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def path_bytes(path: str) -> bytes:
    """The bytes of a path (the inverse of ``os.fsdecode``), for hashing."""
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no byte decoded to
        return path.encode("utf-8", "surrogatepass")


class NotRegularFile(OSError):
    """The path is (now) a pipe, socket, device or directory."""


class TooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


# A notebook's bytes are mostly its outputs (embedded images, tables), which are
# never analysed: the size budget applies to its code cells, and the file itself
# may be up to this many times the budget.
NOTEBOOK_RAW_FACTOR = 32


def read_limit(path, budget: int) -> int:
    """The most bytes to read of ``path`` for a ``max-file-size`` of ``budget``."""
    if budget > 0 and os.fspath(path).endswith(".ipynb"):
        return budget * NOTEBOOK_RAW_FACTOR
    return budget


def analysed_size(data: bytes, name, budget: int) -> int:
    """The size that counts against the budget: the file's bytes, or for a
    notebook over the budget, the UTF-8 bytes of its code cells (a notebook
    that is not valid JSON counts whole)."""
    if not (budget > 0 and len(data) > budget and os.fspath(name).endswith(".ipynb")):
        return len(data)
    try:
        nb = json.loads(data)
        cells = nb.get("cells") if isinstance(nb, dict) else None
        if not isinstance(cells, list):
            return len(data)
        size = 0
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "code":
                src = cell.get("source", "")
                src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else src
                size += len(src.encode("utf-8", "surrogatepass")) if isinstance(src, str) else 0
        return size
    except (ValueError, RecursionError):
        return len(data)


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_regular(path, limit: int = 0) -> bytes:
    """The bytes of a regular file.  Never blocks: the file is opened
    non-blocking (a FIFO that replaced a file after discovery opens at once
    instead of waiting for a writer) and the opened descriptor must be a
    regular file (else ``NotRegularFile``).  With ``limit`` > 0, a file larger
    than ``limit`` bytes raises ``TooLarge`` without being read."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file (a pipe, socket or device)", str(path))
        if limit and st.st_size > limit:
            raise TooLarge(st.st_size)
        chunks = []
        while True:
            chunk = os.read(fd, max(st.st_size + 1, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            if limit and sum(map(len, chunks)) > limit:  # grew since fstat
                raise TooLarge(sum(map(len, chunks)))
        return b"".join(chunks)
    finally:
        os.close(fd)


def node_state(path: str):
    """What a dependency path is now, for the cache: the content bytes of a
    regular file, "<dir>" for a directory (a package that appeared), None when
    absent or unreadable.  Never blocks."""
    try:
        return read_regular(path)
    except IsADirectoryError:
        return "<dir>"
    except (OSError, ValueError):
        return None
