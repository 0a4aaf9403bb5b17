"""KM105: `prefetch(n)` with a large literal number of batches."""

from __future__ import annotations

from typing import Optional

import ast

from kmlint.edits import add_import, fix as make_fix, replace
from kmlint.findings import UNSAFE
from kmlint.registry import Rule, register
from kmlint.semantics.datasets import dataset_chain, is_none, step_arg
from kmlint.semantics.names import attribute_name_node, get_arg
from kmlint.semantics.sizes import int_value

_BATCHING = {"batch", "padded_batch", "ragged_batch", "bucket_by_sequence_length"}
# constructors whose elements are already batches (their default batch_size is not None)
_BATCHED_SOURCES = {
    "keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory",
    "keras.utils.text_dataset_from_directory", "keras.preprocessing.text_dataset_from_directory",
    "keras.utils.audio_dataset_from_directory", "keras.utils.timeseries_dataset_from_array",
    "keras.preprocessing.timeseries_dataset_from_array", "tensorflow.data.experimental.make_csv_dataset",
}


def elements_are_batches(chain, upto: int) -> bool:
    batched = False
    if chain.origin_qualname in _BATCHED_SOURCES and isinstance(chain.origin, ast.Call):
        batched = not is_none(get_arg(chain.origin, "batch_size"))
    if chain.origin_qualname == "tensorflow_datasets.load" and isinstance(chain.origin, ast.Call):
        size = get_arg(chain.origin, "batch_size")
        batched = size is not None and not is_none(size)
    for step in chain.steps[:upto]:
        if step.method in _BATCHING and not step.maybe:
            batched = True
        elif step.method == "unbatch":
            batched = False
    return batched


def autotune_expression(model) -> tuple[str, bool]:
    """How this file spells ``tf.data.AUTOTUNE`` (and whether ``import
    tensorflow`` must be added)."""
    tf = model.alias_for("tensorflow")
    if tf is not None:
        return f"{tf}.data.AUTOTUNE", False
    for local, full in model.imports.items():
        if full == "tensorflow.data":
            return f"{local}.AUTOTUNE", False
        if full in ("tensorflow.data.AUTOTUNE", "tensorflow.data.experimental.AUTOTUNE"):
            return local, False
    return "tensorflow.data.AUTOTUNE", True


@register
class PrefetchOversized(Rule):
    code = "KM105"
    name = "prefetch-oversized"
    summary = "`prefetch(n)` with a large literal n keeps n batches in memory; use `tf.data.AUTOTUNE`"
    fixable = "unsafe"
    confirmable = True
    tokens = ("prefetch",)
    requires = ("dataset",)
    calls = frozenset({"prefetch"})

    def check_call(self, call, ctx) -> None:
        chain = dataset_chain(ctx.model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        buffer: Optional[ast.expr] = step_arg(chain.steps[last], "buffer_size", 0)
        n = int_value(ctx.model, buffer)
        if n is None or n < ctx.settings.prefetch_batches or not elements_are_batches(chain, last):
            return
        spelled, needs_import = autotune_expression(ctx.model)
        fix = make_fix(UNSAFE, f"Use `prefetch({spelled})`", [
            replace(ctx.model, buffer, spelled),
            add_import(ctx.model, "tensorflow") if needs_import else None,
        ])
        ctx.report(attribute_name_node(call.node.func),
                   f"`prefetch({n})` keeps up to {n} batches in memory ahead of the model (the limit is "
                   f"{ctx.settings.prefetch_batches}); a buffer of 1-2 batches or `tf.data.AUTOTUNE` hides the "
                   "input latency just as well", fix, end_node=call.node)
