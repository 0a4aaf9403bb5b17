"""KM405: TF1 code that adds ops to the graph inside a loop that runs a session."""

from __future__ import annotations

from typing import Optional

from kmlint.semantics.sizes import iteration_bound
from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, Loop, SemanticModel
from kmlint.semantics.tensors import creates_graph_op, is_session, tf1_name

# calls inside the loop that give it a fresh graph each iteration
FRESH_GRAPH = {"tensorflow.Graph", "tensorflow.reset_default_graph"}


def _op_in_loop(model: SemanticModel, loop: Loop) -> Optional[tuple[CallSite, str]]:
    """The first call in the loop that adds an op, directly or through a helper
    defined in this file (reported at the helper's call)."""
    for cs in loop.calls:
        op = creates_graph_op(model, cs.node)
        if op is not None:
            return cs, op
        fn = model.function_called(cs)
        if fn is not None:
            for inner in fn.calls:
                op = creates_graph_op(model, inner.node)
                if op is not None:
                    return cs, f"{op} (in `{fn.name}`)"
    return None


@register
class GraphGrowthInSessionLoop(Rule):
    code = "KM405"
    name = "graph-growth-in-session-loop"
    summary = "TF1 ops created inside a loop that calls `sess.run` make the graph grow every iteration"
    confirmable = True
    tokens = (".run(",)
    requires = ("tensorflow",)

    def check_module(self, model, ctx) -> None:
        if not model.is_imported("tensorflow"):
            return
        finalized = [cs.order for cs in model.calls_by_name.get("finalize", ())]
        seen: set[int] = set()
        for run in model.calls_by_name.get("run", ()):
            if not run.loops or not is_session(model, run.receiver):
                continue
            for loop in run.loops:
                if id(loop) in seen:
                    continue
                seen.add(id(loop))
                if any(order < loop.order for order in finalized):
                    continue  # a finalized graph raises instead of growing
                if any(tf1_name(model.qualname(cs.node.func)) in FRESH_GRAPH for cs in loop.calls):
                    continue
                n = iteration_bound(model, loop)
                if n is not None and n <= ctx.settings.tiny_loop_iterations:
                    continue  # `for phase in ["test", "train"]`: the graph grows by a handful of ops, once
                found = _op_in_loop(model, loop)
                if found is None:
                    continue
                site, op = found
                ctx.report(site.node, f"{op} adds new ops to the TF1 graph on every iteration of a loop that calls "
                           "`sess.run`: the graph (and the session's memory) grows each time; build the ops once "
                           "before the loop and only `sess.run` them inside it")
                break
