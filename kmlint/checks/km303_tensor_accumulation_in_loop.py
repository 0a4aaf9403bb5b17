"""KM303: tensors appended to a list that lives across training steps."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import UNSAFE, Fix
from kmlint.fixes import replace_node
from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, unpack_value
from kmlint.semantics.names import source_text
from kmlint.semantics.tensors import TensorValue, inside_tf_function, is_training_loop, tensor_value

# what a list starts as: [] / list()
def _is_new_list(expr: Optional[cst.BaseExpression]) -> bool:
    if isinstance(expr, cst.List):
        return True
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "list" and not expr.args


@register
class TensorAccumulationInLoop(Rule):
    code = "KM303"
    name = "tensor-accumulation-in-loop"
    summary = "Tensors appended to a list that lives across training steps keep their device memory alive"
    fixable = "unsafe"
    confirmable = True
    tokens = (".append(", ".extend(")
    calls = frozenset({"append", "extend"})

    def check_call(self, call: CallSite, ctx) -> None:
        model = ctx.model
        receiver = call.receiver
        if not isinstance(receiver, cst.Name) or len(call.node.args) != 1 or call.node.args[0].keyword is not None:
            return
        lst = model.lookup(receiver.value, call.scope, call.order)
        if lst is None or lst.kind not in ("assign", "annassign") or not _is_new_list(unpack_value(lst.value, lst.path)):
            return
        if inside_tf_function(model, call.function):
            return  # appends while tracing run once per trace, not per step
        value = call.node.args[0].value
        tensor = tensor_value(model, value)
        if tensor is None:
            return
        for loop, chain in model.loop_contexts(call):
            site = next((c for c in chain if loop in c.loops), call)
            if site is not call and lst.scope is call.scope:
                continue  # a helper's own list dies when the helper returns
            if set(site.loops) & set(lst.loops) or not any(is_training_loop(model, lp) for lp in site.loops):
                continue  # reset inside the loop (per step / per epoch), or not a training loop
            where = f"`{site.name}()` appends" if site is not call else "appends"
            ctx.report(site.node, f"{where} {tensor.what} to `{receiver.value}`, which lives across training steps: "
                       "every step's tensor (and its device memory) stays referenced; append a Python number "
                       "(`float(x)`, `x.numpy()`) instead", self._fix(value, tensor, call))
            return

    @staticmethod
    def _fix(value: cst.BaseExpression, tensor: TensorValue, call: CallSite) -> Optional[Fix]:
        if not tensor.scalar or call.name != "append":
            return None

        def transform(module: cst.Module) -> cst.Module:
            return replace_node(module, value, cst.Call(cst.Name("float"), [cst.Arg(value)]))

        return Fix(UNSAFE, f"Append `float({source_text(value)})`", transform)
