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


def changes_shape(model: SemanticModel, expr: ast.expr, loop: Loop, depth: int = 0) -> bool:
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
    if isinstance(expr, ast.Call) and model.qualname(expr.func) in SHAPE_SETTING:
        keyword, position = SHAPE_SETTING[model.qualname(expr.func)]
        shape = get_arg(expr, keyword, position)
        return shape is not None and varies_in(model, shape, loop)
    if isinstance(expr, ast.Name) and depth < 3:
        # bound one line earlier in the loop: `img = tf.image.resize(img, shape)`
        b = model.binding_of(expr)
        if b is not None and b.kind == "assign" and not b.path and b.value is not None and loop in b.loops:
            return changes_shape(model, b.value, loop, depth + 1)
    return False


# TensorFlow ops whose output shape is set by an argument: (keyword, position)
SHAPE_SETTING = {
    "tensorflow.image.resize": ("size", 1),
    "tensorflow.image.resize_with_pad": ("target_height", 1),
    "tensorflow.image.resize_with_crop_or_pad": ("target_height", 1),
    "tensorflow.reshape": ("shape", 1),
    "tensorflow.zeros": ("shape", 0),
    "tensorflow.ones": ("shape", 0),
    "tensorflow.fill": ("dims", 0),
    "tensorflow.random.uniform": ("shape", 0),
    "tensorflow.random.normal": ("shape", 0),
}


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
        self._told: set[int] = set()  # caller arguments reported through a helper (one finding each)
        for cs in model.calls:
            if cs.node.func is None:
                continue
            tf = callee_tf_function(model, cs)
            if tf is None or tf.has_input_signature or tf.reduces_retracing:
                continue
            if not cs.loops and cs.function is not None:
                # in a helper: what its callers in loops pass for the parameters it forwards
                if not inside_tf_function(model, cs.function):
                    self._check_helper_callers(model, ctx, cs, tf)
                continue
            if not cs.loops:
                # module level (a script's or a notebook's successive calls)
                sequential.setdefault(id(tf.declaration), []).append((cs, tf))
                continue
            if inside_tf_function(model, cs.function):
                continue  # a call traced inside another tf.function is inlined, not retraced
            if not self._check_args(model, ctx, cs, tf):
                self._check_helper_callers(model, ctx, cs, tf)
        for calls in sequential.values():
            self._check_successive(model, ctx, sorted(calls, key=lambda c: (c[0].top_index, c[0].order)))

    def _check_successive(self, model: SemanticModel, ctx, calls: list) -> None:
        """Successive calls of one tf.function with new Python values or new
        tensor shapes for the same parameter (``f(1)`` ... ``f(2)``,
        ``f(tf.constant([[1., 2.]]))`` ... ``f(tf.constant([[1.], [2.]]))``,
        ``f(tf.constant(1.))`` ... ``f([1, -1])``, often in consecutive notebook
        cells): each new value or shape traces another graph that stays."""
        numbers: dict[object, tuple] = {}  # parameter (position or keyword) -> first literal and its text
        shapes: dict[object, list] = {}  # parameter -> tensor shapes passed so far
        seen: dict[object, list] = {}  # parameter -> every signature passed so far
        reported_number = False
        for cs, tf in calls:
            callee = model.text(cs.node.func)
            for key, value in _literal_arguments(cs.node):
                first = numbers.setdefault(key, (value.value, model.text(value)))
                if reported_number or (first[0] == value.value and type(first[0]) is type(value.value)):
                    continue
                ctx.report(value, f"`{callee}` is a `tf.function` called with the Python number "
                           f"`{model.text(value)}` after `{first[1]}`: each new Python value traces another graph "
                           "that stays in memory; pass a tensor (`tf.constant(...)` of the dtype the function "
                           "computes in) or declare an `input_signature`", self._tensor_fix(model, value, cs, tf))
                reported_number = True
            told = False  # one finding per call
            for key, value, signature in _signatures(model, cs.node):
                earlier = seen.setdefault(key, [])
                if told:
                    earlier.append(signature)
                    if signature[0] == "tensor":
                        shapes.setdefault(key, []).append(signature[1])
                    continue
                if signature[0] == "tensor":
                    known = shapes.setdefault(key, [])
                    if known and signature[1] not in known:
                        ctx.report(value, f"`{callee}` is a `tf.function` called with a tensor of shape "
                                   f"{_shape_text(signature[1])} after {_shape_text(known[-1])}: each "
                                   "new shape traces another graph that stays in memory; add "
                                   "`reduce_retracing=True` or an `input_signature` with `None` dimensions",
                                   self._relax_fix(model, tf))
                        told = True
                    known.append(signature[1])
                elif signature[0] == "list" and earlier and signature not in earlier:
                    ctx.report(value, f"`{callee}` is a `tf.function` called with the Python list "
                               f"`{model.text(value)}`: a Python structure is part of the trace key, so each new "
                               "value traces another graph that stays in memory; pass `tf.constant(...)`")
                    told = True
                earlier.append(signature)

    def _check_args(self, model: SemanticModel, ctx, cs: CallSite, tf: TfFunction) -> bool:
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
                    return True
                if changes_shape(model, value, loop):
                    ctx.report(value, f"`{callee}` is a `tf.function` called with `{model.text(value)}`, whose shape "
                               "changes on every iteration: each new shape traces a new graph that stays in memory; "
                               "add `reduce_retracing=True` or an `input_signature` with `None` dimensions",
                               self._relax_fix(model, tf))
                    return True
        return False

    def _check_helper_callers(self, model: SemanticModel, ctx, cs: CallSite, tf: TfFunction) -> None:
        """``def pattern(index): ... step(image, index)`` called as
        ``for index in range(64): pattern(index)``: the helper forwards its
        parameter to the tf.function, so the caller's loop decides what the
        tf.function gets (a new Python number or a new shape per iteration)."""
        helper = cs.function
        if helper is None:
            return
        forwarded = {}  # parameter name -> the argument of cs that is that parameter
        for value in _arguments(cs.node):
            if isinstance(value, ast.Name) and value.id in helper.params:
                b = model.binding_of(value)
                if b is not None and b.kind == "param" and b.scope is helper.scope:
                    forwarded.setdefault(value.id, value)
        if not forwarded:
            return
        callee = model.text(cs.node.func)
        for caller in model.callers(helper):
            if not caller.loops or caller.function is helper or inside_tf_function(model, caller.function):
                continue
            for name in forwarded:
                given = _argument_for(caller, helper, name)
                if given is None:
                    continue
                if id(given) in self._told:
                    continue
                for loop in reversed(caller.loops):
                    if not varies_in(model, given, loop):
                        continue
                    n = model.known_iterations(loop)
                    if n is not None and n <= ctx.settings.tiny_loop_iterations:
                        continue
                    via = f"`{helper.name}()` passes its parameter `{name}` to the `tf.function` `{callee}`"
                    if is_python_scalar(model, given):
                        self._told.add(id(given))
                        ctx.report(given, f"{via}, and this loop calls it with the Python number "
                                   f"`{model.text(given)}`, which changes on every iteration: each new value traces "
                                   "a new graph that stays in memory; pass a tensor (`tf.constant(...)` of the dtype "
                                   "the function computes in) or declare an `input_signature`")
                        return
                    if changes_shape(model, given, loop):
                        self._told.add(id(given))
                        ctx.report(given, f"{via}, and this loop calls it with `{model.text(given)}`, whose shape "
                                   "changes on every iteration: each new shape traces a new graph that stays in "
                                   "memory; add `reduce_retracing=True` or an `input_signature` with `None` "
                                   "dimensions", self._relax_fix(model, tf))
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


def _argument_for(call: CallSite, fn, name: str) -> Optional[ast.expr]:
    """What ``call`` passes for the parameter ``name`` of ``fn`` (None when
    not visible: defaults, ``*args``)."""
    params = list(fn.params)
    if fn.class_name is not None and params[:1] in (["self"], ["cls"]):
        params = params[1:]
    position = params.index(name) if name in params else None
    return get_arg(call.node, name, position)


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


TENSOR_FROM_LITERAL = {"tensorflow.constant", "tensorflow.convert_to_tensor"}


def _signatures(model: SemanticModel, call: ast.Call):
    """(parameter key, argument, signature) for arguments whose trace key is
    visible: ``("tensor", shape)`` for ``tf.constant(<nested literal list>)``,
    ``("list", value)`` for a literal list or tuple of numbers,
    ``("number", value)`` for a number literal."""
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            return
        signature = _signature(model, a)
        if signature is not None:
            yield i, a, signature
    for k in call.keywords:
        if k.arg is not None:
            signature = _signature(model, k.value)
            if signature is not None:
                yield k.arg, k.value, signature


def _signature(model: SemanticModel, value: ast.expr) -> Optional[tuple]:
    if isinstance(value, ast.Constant) and type(value.value) in (int, float):
        return ("number", value.value)
    if isinstance(value, (ast.List, ast.Tuple)):
        try:
            literal = literal_value(value)
        except ValueError:
            return None
        return ("list", repr(literal)) if _literal_shape(literal) is not None else None
    if isinstance(value, ast.Call) and value.args and model.qualname(value.func) in TENSOR_FROM_LITERAL:
        try:
            literal = literal_value(value.args[0])
        except ValueError:
            return None
        shape = _literal_shape(literal)
        return ("tensor", shape) if shape is not None else None
    return None


def _literal_shape(value) -> Optional[tuple[int, ...]]:
    """The shape of a nested list of numbers (None when ragged or not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return ()
    if isinstance(value, (list, tuple)) and value:
        inner = [_literal_shape(v) for v in value]
        if inner[0] is None or any(s != inner[0] for s in inner):
            return None
        return (len(value), *inner[0])
    return None


def _shape_text(shape) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
