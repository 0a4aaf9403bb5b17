"""KM404: a persistent GradientTape in a loop that is not deleted after its
last use (it keeps every recorded intermediate tensor alive)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import SAFE, Fix
from kmlint.fixes import insert_statements
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.model import Binding, Loop, NameUse, SemanticModel
from kmlint.legacy.semantics.names import get_arg


def tape_binding(model: SemanticModel, call) -> Optional[Binding]:
    """The name bound to ``tf.GradientTape(...)``: ``with ... as tape`` or ``tape = ...``."""
    for b in call.scope.bindings.get(_bound_name(model, call.node) or "", ()):
        if b.value is call.node and not b.path:
            return b
    return None


def _bound_name(model: SemanticModel, node: cst.Call) -> Optional[str]:
    item = model.with_items.get(id(node))
    if item is not None:
        return item.asname.name.value if item.asname is not None and isinstance(item.asname.name, cst.Name) else None
    cs = model.call_of.get(id(node))
    stmt = cs.stmt if cs is not None else None
    if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign):
        targets = stmt.body[0].targets
        if len(targets) == 1 and isinstance(targets[0].target, cst.Name) and stmt.body[0].value is node:
            return targets[0].target.value
    return None


def uses_of(model: SemanticModel, b: Binding) -> list[NameUse]:
    """Load/del uses of a name that refer to binding ``b``."""
    out = []
    for u in model.uses.get(b.name, ()):
        if u.kind == "store" or u.scope is not b.scope or u.order <= b.order:
            continue
        if model.lookup(b.name, u.scope, u.order) is b:
            out.append(u)
    return out


def statement_in_block(model: SemanticModel, stmt: cst.CSTNode, block_owner: cst.CSTNode) -> Optional[cst.CSTNode]:
    """The ancestor of ``stmt`` (or itself) that sits directly in ``block_owner``'s body."""
    node = stmt
    for _ in range(64):
        if node is None:
            return None
        owner = model.enclosing_body(node)
        if owner is not None and owner[0] is block_owner:
            return node
        node = model.parent_stmt.get(id(node))
    return None


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
        if persistent is None or not (isinstance(persistent.value, cst.Name) and persistent.value.value == "True"):
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
        if isinstance(last.stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in last.stmt.body):
            return  # the function returns: the tape dies with its frame
        ctx.report(call.node, f"persistent `GradientTape` `{b.name}` keeps every intermediate tensor of the step alive "
                   f"until it is rebound in the next iteration; `del {b.name}` after its last use",
                   self._fix(model, b, last))

    @staticmethod
    def _fix(model: SemanticModel, b: Binding, last: NameUse) -> Optional[Fix]:
        holder = model.enclosing_body(b.stmt) if b.stmt is not None else None
        if holder is None or last.stmt is None:
            return None
        anchor = statement_in_block(model, last.stmt, holder[0])
        if anchor is None:
            return None
        stmt = cst.parse_statement(f"del {b.name}\n")

        def transform(module: cst.Module) -> cst.Module:
            return insert_statements(module, anchor, [stmt])

        return Fix(SAFE, f"Insert `del {b.name}` after its last use", transform)
