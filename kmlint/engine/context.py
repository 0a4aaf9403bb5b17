"""What a rule gets while checking one file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

import libcst as cst

from kmlint.findings import Fix

if TYPE_CHECKING:  # pragma: no cover
    from kmlint.config import Settings
    from kmlint.registry import Rule
    from kmlint.legacy.semantics.model import SemanticModel


@dataclass
class RawFinding:
    rule: type
    node: cst.CSTNode
    message: str
    fix: Optional[Fix] = None
    end_node: Optional[cst.CSTNode] = None


@dataclass
class RuleContext:
    rule: "Rule"
    model: "SemanticModel"
    settings: "Settings"
    path: str
    out: list[RawFinding] = field(default_factory=list)

    def report(self, node: cst.CSTNode, message: Optional[str] = None, fix: Optional[Fix] = None,
               end_node: Optional[cst.CSTNode] = None) -> None:
        self.out.append(RawFinding(type(self.rule), node, message or self.rule.summary, fix, end_node))
