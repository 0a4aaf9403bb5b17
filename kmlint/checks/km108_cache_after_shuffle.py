"""KM108: `.shuffle()` followed by `.cache()` freezes the first epoch's order."""

from __future__ import annotations

from kmlint.findings import UNSAFE
from kmlint.registry import Rule, register
from kmlint.semantics.datasets import (
    dataset_chain, forward_uses, is_endless_repeat, is_false, move_fix, step_arg, upstream,
)
from kmlint.semantics.names import attribute_name_node


def reshuffles(step) -> bool:
    """False for ``shuffle(..., reshuffle_each_iteration=False)``: a fixed order on purpose."""
    return not is_false(step_arg(step, "reshuffle_each_iteration", 2))


@register
class CacheAfterShuffle(Rule):
    code = "KM108"
    name = "cache-after-shuffle"
    summary = "`.cache()` after `.shuffle()`: every epoch replays the first epoch's order"
    fixable = "unsafe"
    tokens = ("shuffle",)
    requires = ("dataset",)
    calls = frozenset({"cache"})

    def check_call(self, call, ctx) -> None:
        chain = dataset_chain(ctx.model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        # an endless repeat in between is KM103's finding; an earlier cache is the one that matters
        j = upstream(chain, last, lambda s: s.method == "shuffle",
                     lambda s: s.method != "cache" and not (s.method == "repeat" and is_endless_repeat(s)))
        if j is None or not reshuffles(chain.steps[j]):
            return
        if any(use.kind == "method" and use.call.name == "shuffle" for use in forward_uses(ctx.model, call.node)):
            return  # shuffled again after the cache: the order changes every epoch
        fix = move_fix(ctx.model, chain, last, j, UNSAFE, "Cache before shuffling: `.cache().shuffle(...)`")
        ctx.report(attribute_name_node(call.node.func),
                   "`.cache()` after `.shuffle()` stores the first epoch's shuffled order and replays it every "
                   "epoch; call `.cache()` before `.shuffle()` so each epoch is reshuffled", fix, end_node=call.node)
