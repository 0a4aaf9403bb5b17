"""KM102: `.cache().take(n)` never completes the cache."""

from __future__ import annotations

from kmlint.findings import UNSAFE
from kmlint.registry import Rule, register
from kmlint.semantics.datasets import (
    consumed_repeatedly, dataset_chain, element_count, move_fix, step_arg, upstream,
)
from kmlint.semantics.names import attribute_name_node
from kmlint.semantics.sizes import int_value

# steps between `cache` and `take` that still read the cache only partially
_PASSTHROUGH = {"map", "batch", "padded_batch", "ragged_batch", "shuffle", "prefetch", "filter", "with_options",
                "unbatch", "enumerate", "skip", "ignore_errors", "apply"}


@register
class PartialCacheRead(Rule):
    code = "KM102"
    name = "partial-cache-read"
    summary = "`.cache().take(n)`: the cache is never completed, so it is discarded and rebuilt every epoch"
    fixable = "unsafe"
    tokens = ("cache",)
    requires = ("dataset",)
    calls = frozenset({"take"})

    def check_call(self, call, ctx) -> None:
        chain = dataset_chain(ctx.model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        j = upstream(chain, last, lambda s: s.method == "cache", lambda s: s.method in _PASSTHROUGH)
        if j is None:
            return
        n = int_value(ctx.model, step_arg(chain.steps[last], "count", 0))
        if n is not None:
            size = element_count(ctx.model, chain, j)
            if n < 0 or (size is not None and n >= size):
                return  # takes everything: the cache completes
        how = consumed_repeatedly(ctx.model, call.node)
        if how is None:
            return  # a one-off look at a few elements: harmless
        fix = move_fix(ctx.model, chain, last, j, UNSAFE, "Take before caching: `.take(n).cache()`")
        ctx.report(attribute_name_node(call.node.func),
                   f"`.take()` after `.cache()` reads the cache only partially and {how}: TensorFlow discards an "
                   "incomplete cache, so the data are recomputed every epoch while the partial cache still costs "
                   "memory; call `.take(n)` before `.cache()`", fix, end_node=call.node)
