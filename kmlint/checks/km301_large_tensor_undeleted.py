"""KM301: a large array/tensor at module (notebook) scope that is no longer
used but still referenced while heavy work (fit/predict/evaluate, a training
loop) runs."""

from __future__ import annotations

import math
from typing import Optional

import libcst as cst

from kmlint.findings import SAFE, UNSAFE, Fix
from kmlint.fixes import del_without, rewrite
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.names import call_name
from kmlint.legacy.semantics.sizes import describe_mb, estimate, loader_info

HEAVY_METHODS = {"fit", "predict", "evaluate", "train_on_batch", "fit_generator", "predict_generator", "evaluate_generator"}
TRAINING_STEPS = {"apply_gradients"}  # an optimizer step: a custom training loop
# functions that read globals behind the analysis' back
DYNAMIC_ACCESS = {"globals", "locals", "vars", "eval", "exec"}
# uses that produce a new value and keep no reference to the array
INFO_ATTRIBUTES = {"shape", "dtype", "ndim", "size", "nbytes", "itemsize"}
COPYING_METHODS = {"astype", "copy", "numpy", "mean", "sum", "std", "var", "min", "max", "argmax", "argmin", "tolist",
                   "tobytes", "any", "all", "prod", "round", "clip"}
COPYING_CALLS = {
    "tensorflow.data.Dataset.from_tensor_slices", "tensorflow.data.Dataset.from_tensors", "tensorflow.constant",
    "tensorflow.convert_to_tensor", "tensorflow.cast", "numpy.array", "numpy.concatenate", "numpy.stack",
    "numpy.vstack", "numpy.hstack", "numpy.save", "numpy.savez", "numpy.savez_compressed",
    "sklearn.model_selection.train_test_split", "len", "print", "repr", "str", "type", "isinstance", "id",
}
STORING_METHODS = {"append", "extend", "insert", "add", "update", "setdefault", "put"}
# TensorFlow ops return new tensors, except these, which may share the buffer
TF_ALIASING_OPS = {"identity", "reshape", "squeeze", "expand_dims", "convert_to_tensor", "ensure_shape",
                   "stop_gradient", "gather", "slice", "strided_slice", "unstack", "split"}
INFINITY = math.inf


@register
class LargeTensorUndeleted(Rule):
    code = "KM301"
    name = "large-tensor-undeleted"
    summary = "A large module-level array/tensor stays alive through fit/predict/evaluate after its last use"
    fixable = "sometimes"
    confirmable = True
    tokens = tuple(HEAVY_METHODS | TRAINING_STEPS)
    requires = ("array",)

    @classmethod
    def may_match_syntax(cls, facts) -> bool:
        # an array assigned in module scope, and a call that trains or runs a model
        return facts.module_assignments and not facts.calls.isdisjoint(HEAVY_METHODS | TRAINING_STEPS)

    def check_module(self, model, ctx) -> None:
        heavy = _heavy_work(model)
        if not heavy:
            return
        threshold = ctx.settings.large_tensor_bytes
        for name, bindings in model.module_scope.bindings.items():
            for i, b in enumerate(bindings):
                if b.kind not in ("assign", "annassign") or b.loops or b.value is None:
                    continue
                info = loader_info(model, b.value, b.path) if b.path and isinstance(b.value, cst.Call) else (
                    None if b.path else estimate(model, b.value))
                if info is None or info.nbytes is None or info.nbytes < threshold:
                    continue
                later = [x.order for x in bindings[i + 1:]] + [
                    d.order for d in model.dels if d.name == name and d.function is None and d.order > b.order]
                end = min(later, default=INFINITY)
                last = _last_use(model, b, end)
                if last is None:
                    continue  # a reference may survive it, or it is read later
                position, anchor = last
                top = anchor_top(model, anchor)
                if any(h[2] is top for h in heavy):
                    continue  # last used by the heavy work itself: it was part of that peak anyway
                work = next((h for h in heavy if position < h[0] < end), None)
                if work is None:
                    continue
                self._report(model, ctx, b, info, work[1], anchor)

    def _report(self, model, ctx, b, info, work: str, anchor) -> None:
        name = b.name
        shape = "x".join(str(d) for d in info.shape)
        deleted_later = [d for d in model.dels if d.name == name and d.function is None and d.order > b.order]
        later = " (it is only deleted after that)" if deleted_later else ""
        message = (f"`{name}` holds ~{describe_mb(info.nbytes)} ({info.source} {shape} {info.dtype}) and is no longer "
                   f"used, but stays alive through `{work}`{later}; `del {name}` after its last use")
        ctx.report(b.node, message, _fix(model, b, anchor, deleted_later))


def anchor_top(model, stmt):
    """The module-level statement holding ``stmt``."""
    while id(stmt) in model.parent_stmt:
        stmt = model.parent_stmt[id(stmt)]
    return stmt


def _execution_position(order: int, loops) -> float:
    """When a module-level use is over: the end of its outermost loop (the
    loop body runs again), or the use itself."""
    return loops[0].end_order if loops else order


def _heavy_work(model) -> list[tuple[float, str, cst.CSTNode]]:
    """(start position, description, module-level statement) of every
    module-level call that trains or runs a model, directly or through local
    functions, sorted by position."""
    def is_heavy(cs) -> bool:
        if cs.name in TRAINING_STEPS:
            return True
        if cs.name not in HEAVY_METHODS or not isinstance(cs.node.func, cst.Attribute) or model.function_called(cs):
            return False
        return cs.name.endswith("_generator") or model.is_keras_model(cs.receiver)

    heavy_functions: set[int] = set()
    changed = True
    while changed:
        changed = False
        for fn in model.functions:
            if id(fn) in heavy_functions:
                continue
            for cs in fn.calls:
                called = model.function_called(cs)
                if is_heavy(cs) or (called is not None and id(called) in heavy_functions):
                    heavy_functions.add(id(fn))
                    changed = True
                    break
    code = cst.Module([]).code_for_node
    out = []
    for cs in model.calls:
        if cs.function is not None:
            continue
        called = model.function_called(cs)
        if is_heavy(cs) or (called is not None and id(called) in heavy_functions):
            start = cs.loops[0].order if cs.loops else cs.order
            out.append((start, f"{code(cs.node.func)}(...)", anchor_top(model, cs.stmt)))
    return sorted(out, key=lambda h: h[0])


def _function_positions(model, fn, seen=None) -> list[tuple[float, Optional[cst.CSTNode]]]:
    """Module-level moments at which ``fn`` runs (INFINITY when it is called
    from somewhere this file does not show: a callback, a lambda, a map)."""
    seen = seen or set()
    if id(fn) in seen:
        return []
    seen.add(id(fn))
    callers = model.callers(fn) if fn.name != "<lambda>" else []
    if not callers:
        return [(INFINITY, None)]
    out = []
    for cs in callers:
        if cs.function is None:
            out.append((_execution_position(cs.order, cs.loops), cs.stmt))
        else:
            out.extend(_function_positions(model, cs.function, seen))
    return out


def _last_use(model, b, end: float) -> Optional[tuple[float, cst.CSTNode]]:
    """(position, statement) of the binding's last use before ``end``; None
    when a use may keep a reference (view, container, object) or comes at an
    unknown time."""
    last: tuple[float, cst.CSTNode] = (b.order, b.stmt)
    for use in model.uses.get(b.name, ()):
        if use.kind != "load" or use.order < b.order:
            continue
        if use.function is None:
            found = model.lookup(use.name, use.scope, use.order)
            if found is None or found.scope is not model.module_scope:
                continue  # a comprehension variable of the same name
            live = [x for x in model.module_scope.bindings[b.name] if x.order < use.order]
            if not live or live[-1] is not b:
                continue
            moments = [(_execution_position(use.order, use.loops), use.stmt)]
        else:
            if model.lookup(use.name, use.scope, use.order) is None or \
                    model.lookup(use.name, use.scope, use.order).scope is not model.module_scope:
                continue  # a local of the same name
            moments = [m for m in _function_positions(model, use.function) if b.order < m[0] < end or m[0] == INFINITY]
            if not moments:
                continue
        if any(m[0] == INFINITY for m in moments):
            if end == INFINITY:
                return None
            continue
        if keeps_reference(model, use):
            return None
        last = max([last, *moments], key=lambda m: m[0])
    return last


def keeps_reference(model, use) -> bool:
    """Whether this use may leave another reference to the array behind (a
    view, a container, an object holding it), so ``del`` would free nothing."""
    node: cst.CSTNode = use.node
    for parent in use.parents:
        if isinstance(parent, (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison, cst.BooleanOperation)):
            return False  # a new array
        if isinstance(parent, cst.Attribute):
            if parent.value is node and parent.attr.value in INFO_ATTRIBUTES:
                return False
            if parent.value is node and parent.attr.value in COPYING_METHODS:
                return False
            if parent.value is node and parent.attr.value in STORING_METHODS:
                return True
        elif isinstance(parent, cst.Call):
            q = model.qualname(parent.func)
            if q in COPYING_CALLS or call_name(parent) in COPYING_CALLS:
                return False
            if q and q.startswith("tensorflow.") and q.rsplit(".", 1)[-1] not in TF_ALIASING_OPS:
                return False  # a new tensor
            if isinstance(parent.func, cst.Attribute) and call_name(parent) in STORING_METHODS:
                return True
            if _in_expression_statement(use) and _is_plain_function(model, parent.func):
                return False  # e.g. plt.imshow(x[0]): the result is discarded
            return True
        elif isinstance(parent, cst.Expr):
            return False  # value discarded
        elif not isinstance(parent, (cst.Subscript, cst.SubscriptElement, cst.Index, cst.Slice, cst.Arg, cst.Element,
                                     cst.Tuple, cst.List)):
            return True  # stored (assignment, return, yield, loop, container)
        node = parent
    return True


def _in_expression_statement(use) -> bool:
    stmt = use.stmt
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)


def _is_plain_function(model, func) -> bool:
    """A function of an imported module or a bare function, not a method of
    an object that could keep its argument."""
    root = func
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return False
    b = model.binding_of(root)
    return b is None and func is root or b is not None and b.kind in ("import", "def")


def _fix(model, b, anchor: cst.CSTNode, later_dels) -> Optional[Fix]:
    """``del name`` right after the statement of the last use, in the block
    that binds it; later ``del name`` statements go (they would fail)."""
    home = model.enclosing_body(b.stmt)
    stmt = anchor
    while stmt is not None and (model.enclosing_body(stmt) is None or model.enclosing_body(stmt)[0] is not home[0]):
        stmt = model.parent_stmt.get(id(stmt))
    if home is None or stmt is None:
        return None
    removals = []
    for d in later_dels:
        line = d.stmt
        if not (isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and isinstance(line.body[0], cst.Del)):
            return None
        body = model.enclosing_body(line)
        if body is None or (len(body[1]) == 1 and isinstance(line.body[0].target, cst.Name)):
            return None  # removing it would leave an empty block
        removals.append(line)
    name = b.name

    def transform(module: cst.Module) -> cst.Module:
        changes = {line: (lambda node: del_without(node, name)) for line in removals}
        changes[stmt] = lambda node: cst.FlattenSentinel([node, cst.parse_statement(f"del {name}\n")])
        return rewrite(module, changes)

    dynamic = any(model.calls_by_name.get(f) for f in DYNAMIC_ACCESS)
    if model.is_notebook or dynamic:
        why = "cells may be re-run out of order" if model.is_notebook else "the file reads globals dynamically"
        return Fix(UNSAFE, f"Insert `del {name}` after its last use ({why})", transform)
    return Fix(SAFE, f"Insert `del {name}` after its last use", transform)
