"""KM404: a persistent GradientTape in a loop that is not deleted after its
last use (it keeps every recorded intermediate tensor alive)."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint.edits import insert_after
from kmlint.findings import SAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.blocks import block_of, statement_in_block, statement_line
from kmlint.semantics.model import Binding, Loop, NameUse, SemanticModel
from kmlint.semantics.names import get_arg


def tape_binding(model: SemanticModel, call) -> Optional[Binding]:
    """The name bound to ``tf.GradientTape(...)``: ``with ... as tape`` or ``tape = ...``."""
    for b in call.scope.bindings.get(_bound_name(model, call.node) or "", ()):
        if b.value is call.node and not b.path:
            return b
    return None


def _bound_name(model: SemanticModel, node: ast.Call) -> Optional[str]:
    item = model.with_items.get(id(node))
    if item is not None:
        return item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
    cs = model.call_of.get(id(node))
    stmt = cs.stmt if cs is not None else None
    if isinstance(stmt, ast.Assign) and stmt.value is node:
        targets = stmt.targets
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            return targets[0].id
    return None


def _returns(model: SemanticModel, stmt: Optional[ast.stmt]) -> bool:
    """Whether the statement line of ``stmt`` returns, read as libcst read it:
    ``g = tape.gradient(...); return g`` is one line that returns, while a
    ``return`` in a one-line suite (``if done: return tape.gradient(...)``)
    belonged to the ``if``, which does not."""
    line = statement_line(model, stmt)
    return line is not None and any(isinstance(s, ast.Return) for s in line)


def uses_of(model: SemanticModel, b: Binding) -> list[NameUse]:
    """Load/del uses of a name that refer to binding ``b``."""
    out = []
    for u in model.uses.get(b.name, ()):
        if u.kind == "store" or u.scope is not b.scope or u.order <= b.order:
            continue
        if model.lookup(b.name, u.scope, u.order) is b:
            out.append(u)
    return out


@register
class PersistentTapeNotReleased(Rule):
    code = "KM404"
    name = "persistent-tape-not-released"
    summary = "A persistent `GradientTape` in a loop is not deleted after its last use"
    fixable = "safe"
    tokens = ("persistent",)
    requires = ("tensorflow",)
    calls = frozenset({"GradientTape"})

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        if model.qualname(call.node.func) != "tensorflow.GradientTape":
            return
        persistent = get_arg(call.node, "persistent", 0)
        if not (isinstance(persistent, ast.Constant) and persistent.value is True):
            return
        b = tape_binding(model, call)
        if b is None or not b.loops:
            return
        loop: Loop = b.loops[-1]
        uses = uses_of(model, b)
        if any(u.kind == "del" and loop in u.loops for u in uses):
            return
        loads = [u for u in uses if u.kind == "load"]
        if not loads or any(loop not in u.loops for u in loads):
            return  # never used, or still needed after the loop
        last = max(loads, key=lambda u: u.order)
        if _returns(model, last.stmt):
            return  # the function returns: the tape dies with its frame
        ctx.report(call.node, f"persistent `GradientTape` `{b.name}` keeps every intermediate tensor of the step alive "
                   f"until it is rebound in the next iteration; `del {b.name}` after its last use",
                   self._fix(model, b, last))

    @staticmethod
    def _fix(model: SemanticModel, b: Binding, last: NameUse) -> Optional[Fix]:
        holder = block_of(model, b.stmt) if b.stmt is not None else None
        if holder is None or last.stmt is None:
            return None
        anchor = statement_in_block(model, last.stmt, holder)
        if anchor is None:
            return None
        return Fix(SAFE, f"Insert `del {b.name}` after its last use", edits=[insert_after(model, anchor, f"del {b.name}\n")])
