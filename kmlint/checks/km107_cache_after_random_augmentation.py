"""KM107: `.cache()` downstream of a `map` that applies random augmentation."""

from __future__ import annotations

from kmlint.findings import UNSAFE
from kmlint.registry import Rule, register
from kmlint.semantics.datasets import dataset_chain, move_fix, random_op_in_map
from kmlint.semantics.names import attribute_name_node


@register
class CacheAfterRandomAugmentation(Rule):
    code = "KM107"
    name = "cache-after-random-augmentation"
    summary = "`.cache()` after a `map` with random augmentation: every epoch replays epoch 1's augmentation"
    fixable = "unsafe"
    tokens = ("random", "Random", "RandAugment", "AugMix", "MixUp", "CutMix")
    requires = ("dataset",)
    calls = frozenset({"cache"})

    def check_call(self, call, ctx) -> None:
        chain = dataset_chain(ctx.model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        earliest, op = None, None
        for j in range(last - 1, -1, -1):
            step = chain.steps[j]
            if step.method == "cache":
                break  # an earlier cache (maybe) already decides what is replayed
            found = None if step.maybe else random_op_in_map(ctx.model, step)
            if found is not None:
                earliest, op = j, found
        if earliest is None:
            return
        fix = move_fix(ctx.model, chain, last, earliest, UNSAFE, "Cache before the random augmentation `map`",
                       adjacent_only=False)
        op_name = op.replace("tensorflow.", "tf.")
        ctx.report(attribute_name_node(call.node.func),
                   f"`.cache()` after a `map` that applies random augmentation (`{op_name}`): the cache stores the "
                   "first epoch's augmented elements and every later epoch replays them; call `.cache()` before "
                   "the random `map`", fix, end_node=call.node)
