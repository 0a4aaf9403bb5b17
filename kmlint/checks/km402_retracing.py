"""KM402: a tf.function called with Python scalars or shapes that change on
every iteration (each new value or shape traces and keeps a new graph)."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import UNSAFE, Fix
from kmlint.fixes import replace_node
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.model import CallSite, Loop, SemanticModel
from kmlint.legacy.semantics.names import get_arg, literal_value, source_text
from kmlint.legacy.semantics.sizes import ARRAY_CONSTRUCTORS
from kmlint.legacy.semantics.tensors import (
    TfFunction, callee_tf_function, inside_tf_function, is_python_scalar, tf_alias, varies_in,
)


def _is_zero_or_none(expr: Optional[cst.BaseExpression]) -> bool:
    if expr is None:
        return True
    try:
        return literal_value(expr) in (0, None)
    except ValueError:
        return False


def changes_shape(model: SemanticModel, expr: cst.BaseExpression, loop: Loop) -> bool:
    """``x[:i]`` / ``x[i:]`` with ``i`` changing per iteration, or an array
    constructor whose shape depends on the iteration.  Fixed-size windows such as
    ``x[i:i + 32]`` keep their shape."""
    if isinstance(expr, cst.Subscript):
        for el in expr.slice:
            s = el.slice
            if not isinstance(s, cst.Slice) or s.step is not None:
                continue
            lower_varies = s.lower is not None and varies_in(model, s.lower, loop)
            upper_varies = s.upper is not None and varies_in(model, s.upper, loop)
            if (upper_varies and _is_zero_or_none(s.lower)) or (lower_varies and s.upper is None):
                return True
        return False
    if isinstance(expr, cst.Call) and model.qualname(expr.func) in ARRAY_CONSTRUCTORS:
        shape = get_arg(expr, "shape", 0) or get_arg(expr, "size")
        return shape is not None and varies_in(model, shape.value, loop)
    return False


@register
class Retracing(Rule):
    code = "KM402"
    name = "retracing"
    summary = "A `tf.function` called with changing Python scalars or input shapes retraces and keeps every graph"
    fixable = "unsafe"
    confirmable = True
    tokens = ("function",)
    requires = ("tensorflow",)

    @classmethod
    def may_match_syntax(cls, facts) -> bool:
        # every tf.function spelling ends in `function` (is_tf_function_qualname), and it is reported in a loop
        return "function" in facts.identifiers and facts.any_loop

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
        callee = source_text(cs.node.func)
        for arg in cs.node.args:
            if arg.star:
                continue
            for loop in reversed(cs.loops):
                if not varies_in(model, arg.value, loop):
                    continue
                n = model.known_iterations(loop)
                if n is not None and n <= ctx.settings.tiny_loop_iterations:
                    continue
                if is_python_scalar(model, arg.value):
                    ctx.report(arg.value, f"`{callee}` is a `tf.function` called with the Python number "
                               f"`{source_text(arg.value)}`, which changes on every iteration: each new value traces a new "
                               "graph that stays in memory; pass a tensor (`tf.constant(...)`) or declare an "
                               "`input_signature`", self._tensor_fix(model, arg))
                    return
                if changes_shape(model, arg.value, loop):
                    ctx.report(arg.value, f"`{callee}` is a `tf.function` called with `{source_text(arg.value)}`, whose shape "
                               "changes on every iteration: each new shape traces a new graph that stays in memory; "
                               "add `reduce_retracing=True` or an `input_signature` with `None` dimensions",
                               self._relax_fix(model, tf))
                    return

    @staticmethod
    def _tensor_fix(model: SemanticModel, arg: cst.Arg) -> Optional[Fix]:
        alias = tf_alias(model)
        if alias is None:
            return None
        value = arg.value

        def transform(module: cst.Module) -> cst.Module:
            wrapped = cst.Call(cst.Attribute(cst.Name(alias), cst.Name("constant")), [cst.Arg(value)])
            return replace_node(module, value, wrapped)

        return Fix(UNSAFE, f"Pass `{alias}.constant({source_text(value)})`", transform)

    @staticmethod
    def _relax_fix(model: SemanticModel, tf: TfFunction) -> Optional[Fix]:
        decl, options = tf.declaration, tf.options
        new_arg = cst.Arg(cst.Name("True"), keyword=cst.Name("reduce_retracing"),
                          equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))

        def transform(module: cst.Module) -> cst.Module:
            if options is None:  # bare @tf.function
                assert isinstance(decl, cst.Decorator)
                return replace_node(module, decl, decl.with_changes(decorator=cst.Call(decl.decorator, [new_arg])))
            args = list(options.args)
            if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            return replace_node(module, options, options.with_changes(args=[*args, new_arg]))

        return Fix(UNSAFE, "Add `reduce_retracing=True` to the tf.function", transform)
