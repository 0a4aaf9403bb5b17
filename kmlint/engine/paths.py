"""``Path.resolve()`` for many files in few directories.

``resolve`` asks the kernel about every component of the path (realpath);
discovery, display paths and cache keys resolve each file several times, which
was a third of a warm run on a 900-file tree.  A file that is not itself a
symlink resolves to its resolved directory plus its name, so only directories
are resolved, once per run (``forget`` at the start of each run: a
long-running language server sees renamed directories)."""

from __future__ import annotations

import os
from pathlib import Path

_dirs: dict[str, Path] = {}


def resolved(path: Path) -> Path:
    """``path.resolve()``; raises OSError as it does."""
    name = path.name
    if not name or name in (".", "..") or os.path.islink(path):
        return path.resolve()
    parent = str(path.parent) if path.is_absolute() else os.path.join(os.getcwd(), str(path.parent))
    base = _dirs.get(parent)
    if base is None:
        if len(_dirs) > 8192:
            _dirs.clear()
        base = _dirs[parent] = Path(parent).resolve()
    return base / name


def forget() -> None:
    _dirs.clear()
