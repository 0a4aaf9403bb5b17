"""KM305: an array grown by concatenation inside a loop (quadratic copying)."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint.semantics.names import is_argument_of
from kmlint.semantics.blocks import call_parent
from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, SemanticModel, names_in
from kmlint.semantics.names import dotted_name, get_arg
from kmlint.semantics.values import value_of

# a grown array whose final size is known to stay under this is too small to matter
TINY_BYTES = 10**6
# a piece this small added per iteration (a row of a few numbers) is not worth a finding
SMALL_PIECE = 1024

# canonical callee -> how the grown array is passed: "sequence" (first argument is
# a list/tuple of arrays) or "first" (first argument is the array itself)
GROWERS = {
    "numpy.concatenate": "sequence", "numpy.vstack": "sequence", "numpy.hstack": "sequence",
    "numpy.row_stack": "sequence", "numpy.column_stack": "sequence", "numpy.dstack": "sequence",
    "numpy.append": "first", "tensorflow.concat": "sequence", "keras.ops.concatenate": "sequence",
    "keras.ops.append": "first", "tensorflow.experimental.numpy.concatenate": "sequence",
}
METADATA_ATTRIBUTES = {"shape", "dtype", "ndim", "size", "nbytes"}


SCALAR_CALLS = {"time.time", "time.perf_counter", "time.monotonic", "time.process_time", "float", "int", "len",
                "round", "abs"}


def _scalar_row(model, node, depth: int = 0) -> bool:
    """A literal list/tuple (nested at most twice) of at most 16 plain scalars."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return depth < 3 and 0 < len(node.elts) <= 16 and all(_scalar_row(model, e, depth + 1) for e in node.elts)
    return depth > 0 and _scalar(model, node, 0)


def _scalar(model, node, depth: int) -> bool:
    """A Python number or string: a constant, arithmetic of scalars, a clock
    reading or ``float``/``int``/``len`` call, ``x.item()``, a name bound to
    one, or the counter of a ``range``/``enumerate`` loop."""
    if depth > 4:
        return False
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp):
        return _scalar(model, node.operand, depth + 1)
    if isinstance(node, ast.BinOp):
        return _scalar(model, node.left, depth + 1) and _scalar(model, node.right, depth + 1)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "item" and not node.args:
            return True
        return (model.qualname(node.func) or "") in SCALAR_CALLS
    if isinstance(node, ast.Name):
        b = model.binding_of(node)
        if b is None:
            return False
        if b.kind == "assign" and not b.path and b.value is not None:
            return _scalar(model, b.value, depth + 1)
        if b.kind == "for" and isinstance(b.stmt, (ast.For, ast.AsyncFor)) and isinstance(b.stmt.iter, ast.Call):
            it = b.stmt.iter
            fname = it.func.id if isinstance(it.func, ast.Name) else None
            # `for i in range(n)`; `for i, x in enumerate(xs)`: only the index
            return fname == "range" or (fname == "enumerate" and b.path == (0,))
    return False


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
        if self._final_bytes_known_tiny(model, call, how, grown, n):
            return  # e.g. a 10x10 grid of tiles: the copies cost nothing worth a change
        if self._pieces_known_small(model, call, how, grown) and self._only_small_growth(model, call, target):
            return  # a row of a few numbers per iteration (timing logs, counters): no memory to speak of
        reported = model._memo.setdefault("km305_reported", set())
        if (target, id(loop)) in reported:
            return  # one finding per growing array and loop
        reported.add((target, id(loop)))
        func = model.text(call.node.func)
        total = f"{n} iterations copy ~{n * n // 2} pieces in all" if n is not None else \
            "n iterations copy ~n\u00b2/2 pieces in all"
        ctx.report(call.node, f"`{target}` grows by `{func}` on every iteration: each call copies the whole array, "
                   f"so {total} (quadratic time: it dominates once the loop runs thousands of times or the pieces "
                   "are large) and the peak holds two copies; append the pieces to a list and concatenate once "
                   "after the loop")

    @staticmethod
    def _final_bytes_known_tiny(model, call: CallSite, how: str, grown, iterations: Optional[int]) -> bool:
        """The loop's iteration count and every added piece's size are known
        (abstract-value layer), and the array it builds stays under TINY_BYTES."""
        if iterations is None:
            return False
        grown_ids = set(map(id, grown))
        if how == "first":
            pieces = [p for p in [get_arg(call.node, "values", 1)] if p is not None]
        else:
            pieces = [p for p in _grown_parts(call.node, how) if id(p) not in grown_ids]
        if not pieces:
            return False
        per_iteration = 0
        for piece in pieces:
            v = value_of(model, piece)
            if v.kind != "array" or v.nbytes is None:
                return False
            per_iteration += v.nbytes
        start = value_of(model, grown[0])
        initial = start.nbytes if start.kind == "array" and start.nbytes is not None else None
        if initial is None:
            return False
        return initial + iterations * per_iteration < TINY_BYTES

    @staticmethod
    def _pieces_known_small(model, call: CallSite, how: str, grown) -> bool:
        """Every piece added per iteration is known to be at most SMALL_PIECE
        bytes: a literal row of scalars (``[(start, elapsed)]``, ``[["Epoch"]]``)
        or an array the abstract-value layer sizes (``tf.reshape(x, (1,))``).
        The array grows by a few numbers per iteration: even a long loop builds
        kilobytes, nothing a memory linter should report."""
        grown_ids = set(map(id, grown))
        if how == "first":
            pieces = [p for p in [get_arg(call.node, "values", 1)] if p is not None]
        else:
            pieces = [p for p in _grown_parts(call.node, how) if id(p) not in grown_ids]
        if not pieces:
            return False
        for piece in pieces:
            if _scalar_row(model, piece):
                continue
            v = value_of(model, piece)
            if v.kind != "array" or v.nbytes is None or v.nbytes > SMALL_PIECE:
                return False
        return True

    def _only_small_growth(self, model, call: CallSite, target: str) -> bool:
        """No other concatenation in this function grows the same array by
        more than a small row: ``names`` grown by whole batches per step and by
        one ``[["epoch"]]`` row per epoch is copied whole every epoch."""
        for other in model.calls:
            if other is call or other.function is not call.function or other.name not in self.calls:
                continue
            how = GROWERS.get(model.qualname(other.node.func) or "")
            if how is None or self._assigned_target(other) != target:
                continue
            grown = [p for p in _grown_parts(other.node, how) if dotted_name(p) == target]
            if grown and not self._pieces_known_small(model, other, how, grown):
                return False
        return True

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
