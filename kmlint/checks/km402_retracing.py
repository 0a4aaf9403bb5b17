"""KM402: a tf.function called with Python scalars or shapes that change on
every iteration (each new value or shape traces and keeps a new graph)."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint.edits import edit, insertion, replace
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, Loop, SemanticModel
from kmlint.semantics.names import get_arg, literal_value
from kmlint.semantics.sizes import ARRAY_CONSTRUCTORS
from kmlint.semantics.tensors import (
    TfFunction, callee_tf_function, inside_tf_function, is_python_scalar, tf_alias, varies_in,
)


def _is_zero_or_none(expr: Optional[ast.expr]) -> bool:
    if expr is None:
        return True
    try:
        return literal_value(expr) in (0, None)
    except ValueError:
        return False


def changes_shape(model: SemanticModel, expr: ast.expr, loop: Loop) -> bool:
    """``x[:i]`` / ``x[i:]`` with ``i`` changing per iteration, or an array
    constructor whose shape depends on the iteration.  Fixed-size windows such as
    ``x[i:i + 32]`` keep their shape."""
    if isinstance(expr, ast.Subscript):
        elements = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        for s in elements:
            if not isinstance(s, ast.Slice) or s.step is not None:
                continue
            lower_varies = s.lower is not None and varies_in(model, s.lower, loop)
            upper_varies = s.upper is not None and varies_in(model, s.upper, loop)
            if (upper_varies and _is_zero_or_none(s.lower)) or (lower_varies and s.upper is None):
                return True
        return False
    if isinstance(expr, ast.Call) and model.qualname(expr.func) in ARRAY_CONSTRUCTORS:
        shape = get_arg(expr, "shape", 0) or get_arg(expr, "size")
        return shape is not None and varies_in(model, shape, loop)
    return False


def _arguments(call: ast.Call) -> list[ast.expr]:
    """The call's argument values in source order, ``*a``/``**kw`` left out."""
    args = [a for a in call.args if not isinstance(a, ast.Starred)]
    args.extend(k.value for k in call.keywords if k.arg is not None)
    return sorted(args, key=lambda a: (a.lineno, a.col_offset))


@register
class Retracing(Rule):
    code = "KM402"
    name = "retracing"
    summary = "A `tf.function` called with changing Python scalars or input shapes retraces and keeps every graph"
    fixable = "unsafe"
    confirmable = True
    tokens = ("function",)
    requires = ("tensorflow",)

    def check_module(self, model, ctx) -> None:
        for cs in model.calls:
            if not cs.loops or cs.node.func is None:
                continue
            tf = callee_tf_function(model, cs)
            if tf is None or tf.has_input_signature or tf.reduces_retracing:
                continue
            if inside_tf_function(model, cs.function):
                continue  # a call traced inside another tf.function is inlined, not retraced
            self._check_args(model, ctx, cs, tf)

    def _check_args(self, model: SemanticModel, ctx, cs: CallSite, tf: TfFunction) -> None:
        callee = model.text(cs.node.func)
        for value in _arguments(cs.node):
            for loop in reversed(cs.loops):
                if not varies_in(model, value, loop):
                    continue
                n = model.known_iterations(loop)
                if n is not None and n <= ctx.settings.tiny_loop_iterations:
                    continue
                if is_python_scalar(model, value):
                    ctx.report(value, f"`{callee}` is a `tf.function` called with the Python number "
                               f"`{model.text(value)}`, which changes on every iteration: each new value traces a new "
                               "graph that stays in memory; pass a tensor (`tf.constant(...)`) or declare an "
                               "`input_signature`", self._tensor_fix(model, value))
                    return
                if changes_shape(model, value, loop):
                    ctx.report(value, f"`{callee}` is a `tf.function` called with `{model.text(value)}`, whose shape "
                               "changes on every iteration: each new shape traces a new graph that stays in memory; "
                               "add `reduce_retracing=True` or an `input_signature` with `None` dimensions",
                               self._relax_fix(model, tf))
                    return

    @staticmethod
    def _tensor_fix(model: SemanticModel, value: ast.expr) -> Optional[Fix]:
        alias = tf_alias(model)
        if alias is None:
            return None
        text = model.text(value)
        return Fix(UNSAFE, f"Pass `{alias}.constant({text})`", edits=[replace(model, value, f"{alias}.constant({text})")])

    @staticmethod
    def _relax_fix(model: SemanticModel, tf: TfFunction) -> Optional[Fix]:
        if tf.options is None:  # bare @tf.function
            change = replace(model, tf.declaration, f"{model.text(tf.declaration)}(reduce_retracing=True)")
        else:
            change = _append_keyword(model, tf.options, "reduce_retracing=True")
        return Fix(UNSAFE, "Add `reduce_retracing=True` to the tf.function", edits=[change])


def _append_keyword(model: SemanticModel, call: ast.Call, text: str):
    """``text`` as the call's last argument, after ``, `` (or after the
    trailing comma already there), as the libcst fix appended it.  An option
    already given (``reduce_retracing=False``) has its value replaced."""
    name, _, value = text.partition("=")
    for k in call.keywords:
        if k.arg == name:
            return replace(model, k.value, value)
    items = sorted([*call.args, *call.keywords], key=lambda a: (a.lineno, a.col_offset))
    end = model.span(call)
    close = (end.end_line, end.end_col - 1)  # the closing parenthesis
    if not items:
        return insertion(model, close[0], close[1], text)
    last = model.span(items[-1])
    ix = model.index
    rest = ix.source[ix.offset(last.end_line, last.end_col):ix.offset(*close)]
    if rest.lstrip().startswith(","):  # a trailing comma: the new argument goes after it
        return insertion(model, close[0], close[1], text)
    return edit(model, last.end_line, last.end_col, last.end_line, last.end_col, ", " + text)
