"""KM401: a tf.function created inside a loop."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint.registry import Rule, register
from kmlint.semantics.model import FunctionInfo, Loop, SemanticModel, names_in
from kmlint.semantics.tensors import TfFunction, decorated_tf_function, tf_function_call, tf_function_calls


def free_names(fn: FunctionInfo) -> set[str]:
    """Names a function reads from enclosing scopes."""
    body = fn.node.body
    read: set[str] = set()
    for node in (body if isinstance(body, list) else [body]):
        read |= names_in(node)
    return read - set(fn.params) - set(fn.scope.bindings)


def _depends_on_iteration(model: SemanticModel, tf: TfFunction, loop: Loop) -> bool:
    """A function that closes over something rebuilt in each iteration (a new
    model, optimizer, ...) needs a new trace anyway: hoisting would not help."""
    variant = loop.variant_names
    if tf.function is not None:
        return bool((free_names(tf.function) - {tf.function.name}) & variant)
    return tf.wrapped is not None and bool(names_in(tf.wrapped) & variant)


@register
class TfFunctionInLoop(Rule):
    code = "KM401"
    name = "tf-function-in-loop"
    summary = "A `tf.function` created inside a loop is traced again on every iteration"
    confirmable = True
    tokens = ("function",)
    requires = ("tensorflow",)

    def check_module(self, model, ctx) -> None:
        for fn in model.functions:
            tf = decorated_tf_function(model, fn)
            if tf is None:
                continue
            loop = self._def_loop(model, fn)
            if loop is not None and not _depends_on_iteration(model, tf, loop):
                ctx.report(decorator_region(model, tf.declaration),
                           f"`@tf.function` on `{fn.name}` inside a loop creates and traces a new "
                           "function (and keeps its graph) on every iteration; define it once before the loop")
        for cs in tf_function_calls(model):
            tf = tf_function_call(model, cs.node)
            if tf is None or tf.declaration is not cs.node:
                continue
            if cs.loops:
                if not _depends_on_iteration(model, tf, cs.loops[-1]):
                    ctx.report(cs.node, "`tf.function(...)` inside a loop creates and traces a new function (and keeps "
                               "its graph) on every iteration; create it once before the loop")
                continue
            self._throwaway_in_helper(model, ctx, cs, tf)

    @staticmethod
    def _def_loop(model: SemanticModel, fn: FunctionInfo) -> Optional[Loop]:
        for b in fn.parent_scope.bindings.get(fn.name, ()):
            if b.kind == "def" and b.function is fn:
                return b.loops[-1] if b.loops else None
        return None

    @staticmethod
    def _throwaway_in_helper(model: SemanticModel, ctx, cs, tf: TfFunction) -> None:
        """A helper that wraps and calls a tf.function each time it runs, called
        from a loop: ``def predict(x): return tf.function(net)(x)``."""
        helper = cs.function
        if helper is None or not _called_in(model, cs.node, helper):
            return
        for loop, chain in model.loop_contexts(cs):
            if chain and not _depends_on_iteration(model, tf, loop):
                name = helper.name
                ctx.report(chain[0].node, f"`{name}()` is called in a loop and creates a new `tf.function` on every call "
                           f"(traced again each time, graphs kept); create the tf.function once outside `{name}`")
                return


def decorator_region(model: SemanticModel, expr: ast.expr) -> ast.AST:
    """Where a decorator is reported: from its ``@`` to the end of its
    expression, as the libcst engine reported a ``Decorator``.  The ast has no
    node for it, so a bare positioned node is made (``ast.expr`` positions:
    UTF-8 byte columns)."""
    line = model.index.line_text(expr.lineno).encode("utf-8")
    at = line.rfind(b"@", 0, expr.col_offset)
    if at < 0:
        return expr
    region = ast.expr()
    region.lineno, region.col_offset = expr.lineno, at
    region.end_lineno, region.end_col_offset = expr.end_lineno, expr.end_col_offset
    return region


def _called_in(model: SemanticModel, created: ast.Call, helper: FunctionInfo) -> bool:
    for other in helper.calls:
        func = other.node.func
        if func is created:
            return True
        if isinstance(func, ast.Name):
            b = model.lookup(func.id, other.scope, other.order)
            if b is not None and b.value is created:
                return True
    return False
