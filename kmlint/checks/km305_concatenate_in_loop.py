"""KM305: an array grown by concatenation inside a loop (quadratic copying)."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint.semantics.names import is_argument_of
from kmlint.semantics.blocks import call_parent
from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, SemanticModel, names_in
from kmlint.semantics.names import dotted_name, get_arg

# canonical callee -> how the grown array is passed: "sequence" (first argument is
# a list/tuple of arrays) or "first" (first argument is the array itself)
GROWERS = {
    "numpy.concatenate": "sequence", "numpy.vstack": "sequence", "numpy.hstack": "sequence",
    "numpy.row_stack": "sequence", "numpy.column_stack": "sequence", "numpy.dstack": "sequence",
    "numpy.append": "first", "tensorflow.concat": "sequence", "keras.ops.concatenate": "sequence",
    "keras.ops.append": "first", "tensorflow.experimental.numpy.concatenate": "sequence",
}
METADATA_ATTRIBUTES = {"shape", "dtype", "ndim", "size", "nbytes"}


def _grown_parts(call: ast.Call, how: str) -> list[ast.expr]:
    first = get_arg(call, "arr" if how == "first" else "values", 0)
    if first is None:
        return []
    if how == "first":
        return [first]
    if isinstance(first, (ast.List, ast.Tuple)):
        return [el.value if isinstance(el, ast.Starred) else el for el in first.elts]
    return []


@register
class ConcatenateInLoop(Rule):
    code = "KM305"
    name = "concatenate-in-loop"
    summary = "An array grown with `np.concatenate`/`np.append`/`tf.concat` in a loop is copied whole on every iteration"
    tokens = ("concatenate", "append(", "stack(", "concat(")
    requires = ("array",)
    calls = frozenset({"concatenate", "append", "vstack", "hstack", "row_stack", "column_stack", "dstack", "concat"})

    def check_call(self, call: CallSite, ctx) -> None:
        model = ctx.model
        if not call.loops:
            return
        how = GROWERS.get(model.qualname(call.node.func) or "")
        if how is None:
            return
        target = self._assigned_target(call)
        if target is None:
            return
        grown = [p for p in _grown_parts(call.node, how) if dotted_name(p) == target]
        if not grown:
            return
        loop = next((lp for lp in reversed(call.loops) if target.split(".")[0] not in lp.targets), None)
        if loop is None:
            return
        n = model.known_iterations(loop)
        if n is not None and n <= ctx.settings.tiny_loop_iterations:
            return
        if isinstance(loop.node, ast.While) and target.split(".")[0] in names_in(loop.node.test):
            return  # `while len(x) < n`: filled until full, a bounded handful of iterations
        if self._read_in_loop(model, target, loop, set(map(id, grown))):
            return  # the grown array is needed whole each iteration (e.g. autoregressive decoding)
        reported = model._memo.setdefault("km305_reported", set())
        if (target, id(loop)) in reported:
            return  # one finding per growing array and loop
        reported.add((target, id(loop)))
        func = model.text(call.node.func)
        ctx.report(call.node, f"`{target}` grows by `{func}` on every iteration: each call copies the whole array "
                   "(quadratic time, twice the memory at the peak); append the pieces to a list and concatenate "
                   "once after the loop")

    @staticmethod
    def _assigned_target(call: CallSite) -> Optional[str]:
        stmt = call.stmt
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            return None
        return dotted_name(stmt.targets[0])

    @staticmethod
    def _read_in_loop(model: SemanticModel, target: str, loop, grown_ids: set[int]) -> bool:
        """Whether the loop passes the growing array to a call, or indexes it,
        anywhere but in the concatenation itself."""
        head, _, attr = target.partition(".")
        for use in model.uses.get(head, ()):
            if use.kind != "load" or loop not in use.loops:
                continue
            node: ast.AST = use.node
            if attr:
                parent = model.parent(node)
                if not (isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == attr):
                    continue
                node = parent
            if id(node) in grown_ids:
                continue
            parent = model.parent(node)
            if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr in METADATA_ATTRIBUTES:
                continue
            if isinstance(parent, ast.Subscript) and parent.value is node:
                return True
            holder = call_parent(model, node)
            if is_argument_of(node, holder):
                if isinstance(holder.func, ast.Name) and holder.func.id == "len":
                    continue
                return True
        return False
