"""KM201: fit_generator / predict_generator / evaluate_generator."""

from __future__ import annotations

import ast

from kmlint import edits
from kmlint.semantics.names import attribute_name_node
from kmlint.findings import SAFE, UNSAFE, Fix
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
        model = ctx.model
        func = call.node.func
        if not isinstance(func, ast.Attribute):
            return
        if model.function_called(call) is not None:
            return  # a method of this file's own class, not Keras'
        old = func.attr
        new = RENAMES[old]
        dropped = [k for k in call.node.keywords if k.arg in DROPPED_IN_KERAS3]
        changes = [edits.rename_attribute(model, func, new), *edits.remove_arguments(model, call.node, dropped)]
        if dropped:
            names = ", ".join(k.arg for k in dropped)
            fix = Fix(UNSAFE, f"Replace with `{new}` and drop {names}", edits=edits.flatten(changes))
            extra = f"; `{names}` no longer exist in Keras 3"
        else:
            fix = Fix(SAFE, f"Replace with `{new}`", edits=edits.flatten(changes))
            extra = ""
        where = attribute_name_node(func)
        ctx.report(where, f"`{old}` is deprecated since TF 2.1 and removed in Keras 3 (AttributeError); use `{new}`{extra}", fix,
                   end_node=where)

