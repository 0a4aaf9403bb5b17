"""Data types shared by the engine, the rules, the output formats and the fixers.

A finding carries 1-based lines and 1-based columns (like Ruff) once the engine has
located it; rules only hand over the libcst node, positions are computed lazily for
files that actually have findings (see engine.positions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

if TYPE_CHECKING:  # pragma: no cover
    import libcst as cst

SAFE = "safe"
UNSAFE = "unsafe"


@dataclass
class Edit:
    """A textual replacement, located once positions are known.

    ``node`` is the libcst node being replaced (None for pure insertions, where
    ``anchor`` gives the node after whose statement the content goes)."""

    content: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    cell: Optional[int] = None  # notebooks: the cell the lines count in (may differ from the finding's)

    def to_json(self) -> dict:
        return {
            "content": self.content,
            "location": {"line": self.line, "column": self.column},
            "end_location": {"line": self.end_line, "column": self.end_column},
        }


@dataclass
class Fix:
    """A fix proposed by a rule.

    ``transform`` receives the whole module and returns the fixed module; it is a
    libcst transformation so formatting and comments survive.  ``edits`` are the
    located textual edits derived from it for JSON/SARIF/LSP consumers.
    """

    applicability: str  # SAFE or UNSAFE
    description: str
    transform: Optional[Callable[["cst.Module"], "cst.Module"]] = None  # legacy rules only
    edits: list[Edit] = field(default_factory=list)

    def apply(self, text: str, module=None) -> str:
        """``text`` (the linted module's source) with this fix applied: the
        text edits of an engine v2 fix, or a legacy rule's transform of the
        libcst ``module``."""
        if self.transform is not None and module is not None:
            return self.transform(module).code
        from kmlint.edits import apply_edits

        return apply_edits(text, self.edits)

    def to_json(self) -> dict:
        return {
            "applicability": self.applicability,
            "message": self.description,
            "edits": [e.to_json() for e in self.edits],
        }


@dataclass
class Finding:
    code: str
    name: str
    message: str
    path: str
    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1
    severity: str = "warning"
    fix: Optional[Fix] = None
    cell: Optional[int] = None  # 0-based index into a notebook's cells (markdown included)
    node: Any = None  # the libcst node; dropped before crossing process boundaries
    extra: dict = field(default_factory=dict)  # e.g. {"runtime": {...}}

    @property
    def sort_key(self):
        return (self.path, self.cell if self.cell is not None else -1, self.line, self.column, self.code)

    def to_json(self) -> dict:
        data = {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "fix": self.fix.to_json() if self.fix else None,
        }
        if self.cell is not None:
            data["cell"] = self.cell
        data.update(self.extra)
        return data

    def detached(self) -> "Finding":
        """A copy without libcst objects, safe to pickle or cache."""
        fix = None
        if self.fix is not None:
            fix = Fix(self.fix.applicability, self.fix.description, None, list(self.fix.edits))
        return Finding(
            self.code, self.name, self.message, self.path, self.line, self.column,
            self.end_line, self.end_column, self.severity, fix, self.cell, None, dict(self.extra),
        )
