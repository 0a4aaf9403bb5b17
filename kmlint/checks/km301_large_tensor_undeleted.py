"""KM301: a large array/tensor at module (notebook) scope that is no longer
used but still referenced while heavy work (fit/predict/evaluate, a training
loop) runs."""

from __future__ import annotations

import ast
import math
from typing import Optional

from kmlint.edits import insert_after, replace
from kmlint.findings import SAFE, UNSAFE, Edit, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.blocks import block_of, parent_statement, statement_line, top_statement
from kmlint.semantics.names import call_name
from kmlint.semantics.sizes import describe_mb, estimate, loader_info

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

    def check_module(self, model, ctx) -> None:
        heavy = _heavy_work(model)
        if not heavy:
            return
        threshold = ctx.settings.large_tensor_bytes
        for name, bindings in model.module_scope.bindings.items():
            for i, b in enumerate(bindings):
                if b.kind not in ("assign", "annassign") or b.loops or b.value is None:
                    continue
                info = loader_info(model, b.value, b.path) if b.path and isinstance(b.value, ast.Call) else (
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
                top = top_statement(model, anchor)
                if any(h[2] is top or _shares_a_line(h[2], top) for h in heavy):
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


def _shares_a_line(a: Optional[ast.stmt], b: Optional[ast.stmt]) -> bool:
    """``x = big.mean(); model.fit(...)``: one statement line to libcst, to
    which the last use and the heavy work belonged alike."""
    return a is not None and b is not None and a.lineno <= b.end_lineno and b.lineno <= a.end_lineno


def _execution_position(order: int, loops) -> float:
    """When a module-level use is over: the end of its outermost loop (the
    loop body runs again), or the use itself."""
    return loops[0].end_order if loops else order


def _heavy_work(model) -> list[tuple[float, str, ast.stmt]]:
    """(start position, description, module-level statement) of every
    module-level call that trains or runs a model, directly or through local
    functions, sorted by position."""
    def is_heavy(cs) -> bool:
        if cs.name in TRAINING_STEPS:
            return True
        if cs.name not in HEAVY_METHODS or not isinstance(cs.node.func, ast.Attribute) or model.function_called(cs):
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
    out = []
    for cs in model.calls:
        if cs.function is not None:
            continue
        called = model.function_called(cs)
        if is_heavy(cs) or (called is not None and id(called) in heavy_functions):
            start = cs.loops[0].order if cs.loops else cs.order
            out.append((start, f"{model.text(cs.node.func)}(...)", top_statement(model, cs.stmt)))
    return sorted(out, key=lambda h: h[0])


def _function_positions(model, fn, seen=None) -> list[tuple[float, Optional[ast.stmt]]]:
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


def _last_use(model, b, end: float) -> Optional[tuple[float, ast.stmt]]:
    """(position, statement) of the binding's last use before ``end``; None
    when a use may keep a reference (view, container, object) or comes at an
    unknown time."""
    last: tuple[float, ast.stmt] = (b.order, b.stmt)
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
            found = model.lookup(use.name, use.scope, use.order)
            if found is None or found.scope is not model.module_scope:
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


# How far up from a use ``keeps_reference`` looks, counted in libcst nodes as
# the libcst engine did (it kept the 6 nearest ancestors of each name use):
# ``f(x)`` is Name -> Arg -> Call there, Name -> Call here, so each ast step
# is weighed by the libcst nodes it stands for and the verdicts stay the same.
PARENT_DEPTH = 6


def _steps_up(model, node: ast.AST):
    """(parent, child, libcst depth of the parent) for the ancestors of a name use."""
    depth = 0
    child = node
    parent = model.parent(node)
    while parent is not None:
        if isinstance(parent, ast.Tuple) and isinstance(model.parent(parent), ast.Subscript) \
                and model.parent(parent).slice is parent:
            parent = model.parent(parent)  # x[a, b]: libcst has no tuple, only the subscript's elements
        if isinstance(parent, ast.Subscript):
            depth += 1 if parent.value is child else (2 if isinstance(child, ast.Slice) else 3)
        elif isinstance(parent, ast.Call):
            depth += 1 if parent.func is child or isinstance(child, (ast.keyword, ast.Starred)) else 2
        elif isinstance(parent, (ast.Tuple, ast.List, ast.Set)):
            depth += 1 if isinstance(child, ast.Starred) else 2  # Element + the container
        else:
            depth += 1
        yield parent, child, depth
        child, parent = parent, model.parent(parent)


def keeps_reference(model, use) -> bool:
    """Whether this use may leave another reference to the array behind (a
    view, a container, an object holding it), so ``del`` would free nothing."""
    for parent, node, depth in _steps_up(model, use.node):
        if depth > PARENT_DEPTH:
            return True
        if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp)):
            return False  # a new array
        if isinstance(parent, ast.Attribute):
            if parent.value is node and parent.attr in INFO_ATTRIBUTES:
                return False
            if parent.value is node and parent.attr in COPYING_METHODS:
                return False
            if parent.value is node and parent.attr in STORING_METHODS:
                return True
        elif isinstance(parent, ast.Call):
            q = model.qualname(parent.func)
            if q in COPYING_CALLS or call_name(parent) in COPYING_CALLS:
                return False
            if q and q.startswith("tensorflow.") and q.rsplit(".", 1)[-1] not in TF_ALIASING_OPS:
                return False  # a new tensor
            if isinstance(parent.func, ast.Attribute) and call_name(parent) in STORING_METHODS:
                return True
            if _in_expression_statement(model, use) and _is_plain_function(model, parent.func):
                return False  # e.g. plt.imshow(x[0]): the result is discarded
            return True
        elif isinstance(parent, ast.Expr):
            return False  # value discarded
        elif isinstance(parent, ast.Starred):
            if not isinstance(model.parent(parent), ast.Call):
                return True  # [*x]: unpacked into a container
        elif not isinstance(parent, (ast.Subscript, ast.Slice, ast.keyword, ast.Tuple, ast.List)):
            return True  # stored (assignment, return, yield, loop, container)
    return True


def _in_expression_statement(model, use) -> bool:
    """An expression statement alone on its statement line (as libcst saw it)."""
    return isinstance(use.stmt, ast.Expr) and statement_line(model, use.stmt) == [use.stmt]


def _is_plain_function(model, func) -> bool:
    """A function of an imported module or a bare function, not a method of
    an object that could keep its argument."""
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name):
        return False
    b = model.binding_of(root)
    return b is None and func is root or b is not None and b.kind in ("import", "def")


def _fix(model, b, anchor: ast.stmt, later_dels) -> Optional[Fix]:
    """``del name`` right after the statement of the last use, in the block
    that binds it; later ``del name`` statements go (they would fail)."""
    home = block_of(model, b.stmt)
    if home is None:
        return None
    stmt = anchor
    while stmt is not None and (block_of(model, stmt) is None or block_of(model, stmt).key != home.key):
        stmt = parent_statement(model, stmt)
    if stmt is None:
        return None
    name = b.name
    edits = []
    for d in later_dels:
        edit = _del_without(model, d.stmt, name)
        if edit is None:
            return None
        edits.append(edit)
    edits.insert(0, insert_after(model, stmt, f"del {name}\n"))
    dynamic = any(model.calls_by_name.get(f) for f in DYNAMIC_ACCESS)
    if model.is_notebook or dynamic:
        why = "cells may be re-run out of order" if model.is_notebook else "the file reads globals dynamically"
        return Fix(UNSAFE, f"Insert `del {name}` after its last use ({why})", edits=edits)
    return Fix(SAFE, f"Insert `del {name}` after its last use", edits=edits)


def _del_without(model, stmt, name: str) -> Optional[Edit]:
    """The edit that takes ``name`` out of the ``del`` statement ``stmt``: the
    whole statement (with the blank and comment lines above it, as libcst's
    statement removal did) when it deletes nothing else.  None when that is
    not a clean edit: another statement on its lines, or a block left empty."""
    if not isinstance(stmt, ast.Delete) or not _alone_on_its_lines(model, stmt):
        return None
    block = block_of(model, stmt)
    if block is None:
        return None
    if len(stmt.targets) == 1 and isinstance(stmt.targets[0], (ast.Tuple, ast.List)):
        target = stmt.targets[0]
        elements = target.elts
        text = model.text(target)
        brackets = (text[0], text[-1]) if text[:1] in "([" else ("", "")
    else:
        target, elements, brackets = None, stmt.targets, ("", "")
    kept = [e for e in elements if not (isinstance(e, ast.Name) and e.id == name)]
    if kept:
        new = ", ".join(model.text(e) for e in kept)
        if target is not None:
            if not brackets[0]:
                return replace(model, target, new)
            comma = "," if brackets[0] == "(" and len(kept) == 1 else ""  # (a,) stays a tuple, as libcst wrote it
            return replace(model, target, f"{brackets[0]}{new}{comma}{brackets[1]}")
        return _span_edit(model, (stmt.targets[0], stmt.targets[-1]), new)
    if len(block.statements) == 1:
        return None  # removing it would leave an empty block
    return _line_removal(model, stmt)


def _alone_on_its_lines(model, stmt: ast.stmt) -> bool:
    span = model.span(stmt)
    before = model.index.line_text(span.line)[:span.col]
    after = model.index.line_text(span.end_line)[span.end_col:].strip()
    return not before.strip() and (not after or after.startswith("#") or after.lstrip(";").strip()[:1] in ("", "#"))


def _span_edit(model, nodes: tuple[ast.AST, ast.AST], text: str) -> Edit:
    start, end = model.span(nodes[0]), model.span(nodes[1])
    return Edit(text, start.line, start.col + 1, end.end_line, end.end_col + 1)


def _line_removal(model, stmt: ast.stmt) -> Edit:
    """Remove a statement's lines and the blank/comment lines right above it
    that libcst counted as its leading lines."""
    span = model.span(stmt)
    indent = len(model.index.indentation(span.line))
    first = span.line
    while first > 1:
        text = model.index.line_text(first - 1)
        stripped = text.strip()
        if stripped and not (stripped.startswith("#") and len(text) - len(text.lstrip()) <= indent):
            break
        first -= 1
    last_line = span.end_line + 1
    if last_line > model.index.line_count:  # the last line of a file without a final line break
        end_col = len(model.index.line_text(span.end_line)) + 1
        if first > 1:  # the line before becomes the last one, without its line break (as libcst wrote it)
            return Edit("", first - 1, len(model.index.line_text(first - 1)) + 1, span.end_line, end_col)
        return Edit("", first, 1, span.end_line, end_col)
    return Edit("", first, 1, last_line, 1)
