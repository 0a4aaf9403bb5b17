"""Data types shared by the engine, the rules, the output formats and the fixers.

A finding carries 1-based lines and 1-based columns in code points (like Ruff);
rules hand over the ``ast`` node the model gave them and the engine locates it
from its span (kmlint/syntax).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

SAFE = "safe"
UNSAFE = "unsafe"


@dataclass
class Edit:
    """A textual replacement, located once positions are known.

    Lines are the module's (a notebook's joined cells) until the engine moves
    them into ``cell``; columns are 1-based code points, the end exclusive."""

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
    """A fix proposed by a rule: located text edits (kmlint/edits.py builds
    them from the model's spans), applied together or not at all."""

    applicability: str  # SAFE or UNSAFE
    description: str
    edits: list[Edit] = field(default_factory=list)

    def apply(self, text: str) -> str:
        """``text`` (the linted module's source) with this fix applied."""
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
    node: Any = None  # the ast node; dropped before crossing process boundaries
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
        """A copy without the ast node, safe to pickle or cache."""
        fix = None
        if self.fix is not None:
            fix = Fix(self.fix.applicability, self.fix.description, list(self.fix.edits))
        return Finding(
            self.code, self.name, self.message, self.path, self.line, self.column,
            self.end_line, self.end_column, self.severity, fix, self.cell, None, dict(self.extra),
        )
