"""What a rule gets while checking one file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from kmlint.findings import Fix

if TYPE_CHECKING:  # pragma: no cover
    from kmlint.config import Settings
    from kmlint.registry import Rule
    from kmlint.semantics.model import SemanticModel


@dataclass
class RawFinding:
    rule: type
    node: Any  # an ast node (engine v2 rules) or a libcst node (legacy rules)
    message: str
    fix: Optional[Fix] = None
    end_node: Any = None


@dataclass
class RuleContext:
    rule: "Rule"
    model: "SemanticModel"
    settings: "Settings"
    path: str
    out: list[RawFinding] = field(default_factory=list)

    def report(self, node: Any, message: Optional[str] = None, fix: Optional[Fix] = None,
               end_node: Any = None) -> None:
        self.out.append(RawFinding(type(self.rule), node, message or self.rule.summary, fix, end_node))
