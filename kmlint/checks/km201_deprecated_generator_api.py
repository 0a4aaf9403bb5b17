"""KM201: fit_generator / predict_generator / evaluate_generator."""

from __future__ import annotations

import libcst as cst

from kmlint.findings import SAFE, UNSAFE, Fix
from kmlint.fixes import replace_node
from kmlint.registry import Rule, register

RENAMES = {"fit_generator": "fit", "predict_generator": "predict", "evaluate_generator": "evaluate"}
DROPPED_IN_KERAS3 = {"workers", "use_multiprocessing", "max_queue_size"}


@register
class DeprecatedGeneratorApi(Rule):
    code = "KM201"
    name = "deprecated-generator-api"
    summary = "`fit_generator`/`predict_generator`/`evaluate_generator` are removed in Keras 3"
    fixable = "sometimes"
    tokens = ("_generator(",)
    calls = frozenset(RENAMES)

    def check_call(self, call, ctx) -> None:
        func = call.node.func
        if not isinstance(func, cst.Attribute):
            return
        if ctx.model.function_called(call) is not None:
            return  # a method of this file's own class, not Keras'
        old = func.attr.value
        new = RENAMES[old]
        dropped = [a for a in call.node.args if a.keyword is not None and a.keyword.value in DROPPED_IN_KERAS3]
        node = call.node

        def transform(module: cst.Module) -> cst.Module:
            args = [a for a in node.args if a not in dropped]
            if args and dropped and node.args[-1] in dropped:
                # keep the original closing layout (trailing comma + newline before ')')
                args[-1] = args[-1].with_changes(comma=node.args[-1].comma)
            new_call = node.with_changes(func=func.with_changes(attr=cst.Name(new)), args=args)
            return replace_node(module, node, new_call)

        if dropped:
            names = ", ".join(a.keyword.value for a in dropped)
            fix = Fix(UNSAFE, f"Replace with `{new}` and drop {names}", transform)
            extra = f"; `{names}` no longer exist in Keras 3"
        else:
            fix = Fix(SAFE, f"Replace with `{new}`", transform)
            extra = ""
        ctx.report(func.attr, f"`{old}` is deprecated since TF 2.1 and removed in Keras 3 (AttributeError); use `{new}`{extra}", fix,
                   end_node=func.attr)
