"""KM103: an endless `.repeat()` before `.cache()`."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import SAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.datasets import dataset_chain, move_step_fix, step_arg
from kmlint.semantics.names import literal_value


def is_endless_repeat(step) -> bool:
    """``repeat()``, ``repeat(None)`` or ``repeat(-1)``."""
    count: Optional[cst.BaseExpression] = step_arg(step, "count", 0)
    if count is None:
        return True
    try:
        return literal_value(count) in (None, -1)
    except ValueError:
        return False  # a variable count: bounded as far as we can tell


@register
class RepeatBeforeCache(Rule):
    code = "KM103"
    name = "repeat-before-cache"
    summary = "`.cache()` after an endless `.repeat()`: the cache never completes and grows without bound"
    fixable = "safe"
    tokens = ("repeat",)
    calls = frozenset({"cache"})

    def check_call(self, call, ctx) -> None:
        chain = dataset_chain(ctx.model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        for j in range(last - 1, -1, -1):
            step = chain.steps[j]
            if step.method == "repeat":
                if not is_endless_repeat(step):
                    return
                break
            if step.method in ("take", "take_while", "cache"):
                return  # bounded again, or cached earlier
        else:
            return
        fix = None
        if j == last - 1:
            transform = move_step_fix(ctx.model, chain, last, j)
            if transform is not None:
                fix = Fix(SAFE, "Cache before repeating: `.cache().repeat()`", transform)
        ctx.report(call.node.func.attr,
                   "`.cache()` on an endless `.repeat()`: the first pass never ends, so the cache never completes "
                   "and keeps every element it has seen until memory runs out; call `.cache()` before `.repeat()`",
                   fix, end_node=call.node)
