"""KM103: an endless `.repeat()` before `.cache()`."""

from __future__ import annotations

from kmlint.findings import SAFE
from kmlint.registry import Rule, register
from kmlint.semantics.datasets import dataset_chain, is_endless_repeat, move_fix, upstream
from kmlint.semantics.names import attribute_name_node


@register
class RepeatBeforeCache(Rule):
    code = "KM103"
    name = "repeat-before-cache"
    summary = "`.cache()` after an endless `.repeat()`: the cache never completes and grows without bound"
    fixable = "safe"
    tokens = ("repeat",)
    requires = ("dataset",)
    calls = frozenset({"cache"})

    def check_call(self, call, ctx) -> None:
        chain = dataset_chain(ctx.model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        # take() bounds the stream again; an earlier cache is the one that matters
        j = upstream(chain, last, lambda s: s.method == "repeat", lambda s: s.method not in ("take", "take_while", "cache"))
        if j is None or not is_endless_repeat(chain.steps[j]):
            return
        fix = move_fix(ctx.model, chain, last, j, SAFE, "Cache before repeating: `.cache().repeat()`")
        ctx.report(attribute_name_node(call.node.func),
                   "`.cache()` on an endless `.repeat()`: the first pass never ends, so the cache never completes "
                   "and keeps every element it has seen until memory runs out; call `.cache()` before `.repeat()`",
                   fix, end_node=call.node)
