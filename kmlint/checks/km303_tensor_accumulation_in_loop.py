"""KM303: tensors appended to a list that lives across training steps."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint.edits import replace
from kmlint.findings import UNSAFE, Fix
from kmlint.semantics.sizes import iteration_bound
from kmlint.registry import Rule, register
from kmlint.semantics.blocks import call_parent, enclosing_statements
from kmlint.semantics.model import Binding, CallSite, Loop, SemanticModel, unpack_value
from kmlint.semantics.tensors import TensorValue, inside_tf_function, is_training_loop, tensor_value, tf_op_name

# what a list starts as: [] / list()
def _is_new_list(expr: Optional[ast.expr]) -> bool:
    if isinstance(expr, ast.List):
        return True
    return (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "list"
            and not expr.args and not expr.keywords)


@register
class TensorAccumulationInLoop(Rule):
    code = "KM303"
    name = "tensor-accumulation-in-loop"
    summary = "Tensors appended to a list that lives across training steps keep their device memory alive"
    fixable = "unsafe"
    confirmable = True
    tokens = (".append(", ".extend(")
    requires = ("keras_model",)
    calls = frozenset({"append", "extend"})

    def check_call(self, call: CallSite, ctx) -> None:
        model = ctx.model
        receiver = call.receiver
        node = call.node
        if (not isinstance(receiver, ast.Name) or len(node.args) != 1 or node.keywords
                or isinstance(node.args[0], ast.Starred)):
            return
        lst = model.lookup(receiver.id, call.scope, call.order)
        if lst is None or lst.kind not in ("assign", "annassign") or not _is_new_list(unpack_value(lst.value, lst.path)):
            return
        if inside_tf_function(model, call.function):
            return  # appends while tracing run once per trace, not per step
        value = node.args[0]
        tensor = tensor_value(model, value)
        if tensor is None:
            return
        for loop, chain in model.loop_contexts(call):
            site = next((c for c in chain if loop in c.loops), call)
            if site is not call and lst.scope is call.scope:
                continue  # a helper's own list dies when the helper returns
            across = [lp for lp in site.loops if lp not in lst.loops]
            if len(across) < len(site.loops) or not any(is_training_loop(model, lp) for lp in across):
                continue  # reset inside an enclosing loop (per step / per epoch), or not a training loop
            if _reset_in(model, lst, across) or _in_gradient_tape(model, call) or _reduced_after(model, lst, across[0]):
                continue
            if (_few_iterations(model, across, ctx.settings.tiny_loop_iterations)
                    and not any(_trains_in_inner_loop(model, lp) for lp in across)):
                continue  # one tensor per GPU tower, per test case...: a handful, nothing accumulates
            where = f"`{site.name}()` appends" if site is not call else "appends"
            ctx.report(site.node, f"{where} {tensor.what} to `{receiver.id}`, which lives across training steps: "
                       "every step's tensor (and its device memory) stays referenced; append a Python number "
                       "(`float(x)`, `x.numpy()`) instead", self._fix(model, value, tensor, call))
            return

    @staticmethod
    def _fix(model: SemanticModel, value: ast.expr, tensor: TensorValue, call: CallSite) -> Optional[Fix]:
        if not tensor.scalar or call.name != "append":
            return None
        text = model.text(value)
        return Fix(UNSAFE, f"Append `float({text})`", edits=[replace(model, value, f"float({text})")])


def _few_iterations(model: SemanticModel, loops: list[Loop], tiny: int) -> bool:
    """Every loop the list outlives has a known bound and together they run at
    most ``tiny`` times (``for i in range(num_gpus)`` with ``num_gpus = 4``)."""
    total = 1
    for lp in loops:
        n = iteration_bound(model, lp)
        if n is None:
            return False
        total *= n
    return total <= tiny


def _trains_in_inner_loop(model: SemanticModel, loop: Loop) -> bool:
    """``loop`` runs a training loop inside it (an epoch loop over batches): a
    list kept across it lives across training steps however few the epochs
    (RULES.md: "across training steps or epochs")."""
    for cs in loop.calls:
        for inner in cs.loops:
            if inner is loop:
                continue
            up = inner.parent
            while up is not None and up is not loop:
                up = up.parent
            if up is loop and is_training_loop(model, inner):
                return True
    return False


def _reset_in(model: SemanticModel, lst: Binding, loops: list[Loop]) -> bool:
    """The list is emptied or rebound inside one of the loops (``buf.clear()``,
    ``buf = []`` after logging): it does not grow across the whole loop."""
    for b in lst.scope.bindings.get(lst.name, ()):
        if b is not lst and any(lp in b.loops for lp in loops):
            return True
    for cs in model.calls_by_name.get("clear", ()):
        if isinstance(cs.receiver, ast.Name) and cs.receiver.id == lst.name and any(lp in cs.loops for lp in loops):
            return True
    return False


def _in_gradient_tape(model: SemanticModel, call: CallSite) -> bool:
    """Appends recorded under a GradientTape keep tensors the gradient needs
    (per-step values of an RL episode, for instance)."""
    for stmt in enclosing_statements(model, call.stmt):
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and model.qualname(expr.func) == "tensorflow.GradientTape":
                    return True
    return False


def _reduced_after(model: SemanticModel, lst: Binding, loop: Loop) -> bool:
    """The first use of the list after the loop turns it into one tensor
    (``tf.stack``, ``tf.reduce_mean``, ``tf.convert_to_tensor``, a metric's
    ``update_state``): the tensors were collected to be combined at once."""
    after = [u for u in model.uses.get(lst.name, ()) if u.kind == "load" and u.order > loop.end_order
             and model.lookup(lst.name, u.scope, u.order) is lst]
    if not after:
        return False
    first = min(after, key=lambda u: u.order)
    parent = call_parent(model, first.node)
    if not isinstance(parent, ast.Call) or parent.func is first.node:
        return False
    if isinstance(parent.func, ast.Attribute) and parent.func.attr == "update_state":
        return True
    return tf_op_name(model.qualname(parent.func)) is not None
