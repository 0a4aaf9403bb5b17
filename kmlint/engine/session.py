"""Per-run state in one place.

A :class:`Session` is what one run remembers about the file system: the
project index (project roots, module files, resolved directories and the
semantic models of imported helper files and whether a helper file's text
can use TensorFlow, ``kmlint.semantics.project``), read by the gate before
the model and, through the model, by the rules.  One invalidation rule for all of it: what is known
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

from pathlib import Path
from typing import Optional

from kmlint.semantics.project import REMEMBER_SECONDS, ProjectIndex


class Session:
    def __init__(self, remember: float = REMEMBER_SECONDS):
        self.project = ProjectIndex(remember=remember)

    def resolved(self, path: Path) -> Path:
        """``path.resolve()``, each directory resolved once (see ProjectIndex.resolved)."""
        return self.project.resolved(path)

    def forget(self) -> None:
        self.project.forget()


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
