"""Per-run state in one place.

A :class:`Session` is what one run remembers about the file system: the
project index (project roots, module files, resolved directories and the
semantic models of imported helper files, ``kmlint.semantics.project``) and
facts about other files read by the gate before the model (whether a helper
file imports TensorFlow).  One invalidation rule for all of it: what is known
about a *file* is keyed on its modification time and size; what was found by
looking at *directories* is remembered for ``REMEMBER_SECONDS`` at most, and a
new session starts empty.

Who owns a session: ``kmlint check`` and ``--fix`` start one per run (and one
in each worker process, which cannot share the parent's), the language server
one per lint request batch, runtime mode uses the run's.  Code below the engine
never reaches for it: the linter hands ``session.project`` to the model
(``model.project_index``), which is how rules see the project.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Optional

from kmlint.semantics.project import REMEMBER_SECONDS, ProjectIndex

MAX_FILE_FACTS = 4096


class Session:
    def __init__(self, remember: float = REMEMBER_SECONDS):
        self.project = ProjectIndex(remember=remember)
        self._file_facts: dict[tuple[str, str], tuple[tuple[int, int], Any]] = {}

    def resolved(self, path: Path) -> Path:
        """``path.resolve()``, each directory resolved once (see ProjectIndex.resolved)."""
        return self.project.resolved(path)

    def file_fact(self, kind: str, file: Path, compute: Callable[[str], Any], default: Any) -> Any:
        """``compute(text of file)``, remembered while the file's mtime and
        size stay the same; ``default`` when it cannot be read."""
        key = (kind, str(file))
        try:
            st = os.stat(key[1])
            stamp = (st.st_mtime_ns, st.st_size)
            cached = self._file_facts.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            value = compute(file.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            return default
        if len(self._file_facts) > MAX_FILE_FACTS:
            self._file_facts.clear()
        self._file_facts[key] = (stamp, value)
        return value

    def forget(self) -> None:
        self.project.forget()
        self._file_facts.clear()


_current: Optional[Session] = None


def current() -> Session:
    """The session of the run going on in this process (one is started on
    first use, for callers that lint without owning a run)."""
    global _current
    if _current is None:
        _current = Session()
    return _current


def begin() -> Session:
    """Start a new run's session in this process (the previous one is dropped)."""
    global _current
    _current = Session()
    return _current
