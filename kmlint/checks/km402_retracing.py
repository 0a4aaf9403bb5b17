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
        sequential: dict[int, list[tuple[CallSite, TfFunction]]] = {}
        for cs in model.calls:
            if cs.node.func is None:
                continue
            if not cs.loops and cs.function is not None:
                continue
            tf = callee_tf_function(model, cs)
            if tf is None or tf.has_input_signature or tf.reduces_retracing:
                continue
            if not cs.loops:
                # module level (a script's or a notebook's successive calls)
                sequential.setdefault(id(tf.declaration), []).append((cs, tf))
                continue
            if inside_tf_function(model, cs.function):
                continue  # a call traced inside another tf.function is inlined, not retraced
            self._check_args(model, ctx, cs, tf)
        for calls in sequential.values():
            self._check_successive(model, ctx, sorted(calls, key=lambda c: (c[0].top_index, c[0].order)))

    def _check_successive(self, model: SemanticModel, ctx, calls: list) -> None:
        """Successive calls of one tf.function with different Python numbers
        for the same parameter (``f(1)`` ... ``f(2)``, often in consecutive
        notebook cells): each new value traces another graph that stays."""
        seen: dict[object, tuple] = {}  # parameter (position or keyword) -> first literal and its text
        for cs, tf in calls:
            for key, value in _literal_arguments(cs.node):
                first = seen.setdefault(key, (value.value, model.text(value)))
                if first[0] == value.value and type(first[0]) is type(value.value):
                    continue
                callee = model.text(cs.node.func)
                ctx.report(value, f"`{callee}` is a `tf.function` called with the Python number "
                           f"`{model.text(value)}` after `{first[1]}`: each new Python value traces another graph "
                           "that stays in memory; pass a tensor (`tf.constant(...)` of the dtype the function "
                           "computes in) or declare an `input_signature`", self._tensor_fix(model, value, cs, tf))
                return

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
                               "graph that stays in memory; pass a tensor (`tf.constant(...)` of the dtype the "
                               "function computes in) or declare an `input_signature`",
                               self._tensor_fix(model, value, cs, tf))
                    return
                if changes_shape(model, value, loop):
                    ctx.report(value, f"`{callee}` is a `tf.function` called with `{model.text(value)}`, whose shape "
                               "changes on every iteration: each new shape traces a new graph that stays in memory; "
                               "add `reduce_retracing=True` or an `input_signature` with `None` dimensions",
                               self._relax_fix(model, tf))
                    return

    @staticmethod
    def _tensor_fix(model: SemanticModel, value: ast.expr, cs: CallSite, tf: TfFunction) -> Optional[Fix]:
        """``tf.constant(x)`` only where the tensor keeps the program's dtypes
        (measured: ``f(x, tf.constant(step))`` dies with "Input 'y' of 'Mul' Op
        has type int32 that does not match type float32" when the function
        multiplies a float32 tensor by the step): the parameter reaches only
        ``tf.cast`` -> ``tf.constant(x)``; it meets a float tensor (a model or
        TensorFlow op's result, a float literal) in arithmetic ->
        ``tf.constant(x, tf.float32)``; any other use (an index, a shape, a
        Python condition) or a function not in this file -> no fix."""
        alias = tf_alias(model)
        if alias is None:
            return None
        dtype = _tensor_dtype_for(model, cs, tf, value)
        if dtype is None:
            return None
        text = model.text(value)
        new = f"{alias}.constant({text})" if dtype == "any" else f"{alias}.constant({text}, {alias}.{dtype})"
        return Fix(UNSAFE, f"Pass `{new}`", edits=[replace(model, value, new)])

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


def _parameter_for(cs: CallSite, fn, value: ast.expr) -> Optional[str]:
    """The parameter of ``fn`` that the argument ``value`` of ``cs`` binds."""
    node = cs.node
    for i, a in enumerate(node.args):
        if a is value:
            params = [p for p in fn.params]
            if fn.class_name is not None and params and params[0] == "self":
                params = params[1:]
            return params[i] if i < len(params) else None
    for k in node.keywords:
        if k.value is value:
            return k.arg
    return None


def _tensor_dtype_for(model: SemanticModel, cs: CallSite, tf: TfFunction, value: ast.expr) -> Optional[str]:
    """"any" when a tensor of any dtype serves the parameter, "float32" when it
    must be float32, None when no safe tensor is known."""
    fn = tf.function
    if fn is None:
        return None
    name = _parameter_for(cs, fn, value)
    if name is None:
        return None
    needs = "any"
    for use in model.uses.get(name, ()):
        if use.kind != "load" or not _within(use.scope, fn.scope):
            continue
        parent = model.parent(use.node)
        if isinstance(parent, ast.Call) and parent.args and parent.args[0] is use.node \
                and model.qualname(parent.func) == "tensorflow.cast":
            continue
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) \
                and parent.func.attr in ("assign", "assign_add", "assign_sub") and _python_float(model, value):
            continue  # a float variable takes a float32 constant (tf.constant of a Python float)
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, (ast.Mult, ast.Div, ast.Add, ast.Sub)):
            other = parent.right if parent.left is use.node else parent.left
            if isinstance(other, ast.Call) or (isinstance(other, ast.Constant) and isinstance(other.value, float)):
                # a Python float already makes a float32 constant
                needs = "any" if _python_float(model, value) and needs == "any" else "float32"
                continue
        return None
    return needs


def _within(scope, outer) -> bool:
    while scope is not None:
        if scope is outer:
            return True
        scope = scope.parent
    return False


def _python_float(model: SemanticModel, value: ast.expr) -> bool:
    """A float literal, or a name whose plain assignments are all float literals."""
    if isinstance(value, ast.Constant):
        return isinstance(value.value, float)
    if isinstance(value, ast.Name):
        b = model.binding_of(value)
        if b is None:
            return False
        values = [x.value for x in b.scope.bindings.get(value.id, ()) if x.kind == "assign"]
        return bool(values) and all(isinstance(v, ast.Constant) and isinstance(v.value, float) for v in values)
    return False


def _literal_arguments(call: ast.Call):
    """(parameter key, Python number literal) of a call's arguments: int/float
    constants (not bools), keyed by position or keyword."""
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            return
        if isinstance(a, ast.Constant) and type(a.value) in (int, float):
            yield i, a
    for k in call.keywords:
        if k.arg is not None and isinstance(k.value, ast.Constant) and type(k.value.value) in (int, float):
            yield k.arg, k.value
