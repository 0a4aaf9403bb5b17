"""KM104: a shuffle buffer of decoded examples that holds the whole data set."""

from __future__ import annotations

from typing import Optional

from kmlint.registry import Rule, register
from kmlint.semantics.datasets import (
    buffer_holds_whole_dataset, dataset_chain, decoded_element_bytes, element_count, has_filename, is_decoding_map,
    step_arg, tfds_source,
)
from kmlint.semantics.names import attribute_name_node
from kmlint.semantics.sizes import describe_bytes, int_value, tfds_example_bytes


@register
class ShuffleBufferWholeDataset(Rule):
    code = "KM104"
    name = "shuffle-buffer-whole-dataset"
    summary = "`shuffle()` of decoded examples with a buffer holding the whole data set (or over the memory limit)"
    confirmable = True
    tokens = ("shuffle",)
    requires = ("dataset",)
    calls = frozenset({"shuffle"})

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        chain = dataset_chain(model, call)
        if chain is None:
            return
        last = len(chain.steps) - 1
        decoder: Optional[int] = None
        batch = 1
        for j in range(last - 1, -1, -1):
            step = chain.steps[j]
            if step.method == "cache" and not has_filename(step.call):
                return  # the elements are held by the cache anyway (KM101's business)
            if step.method in ("batch", "padded_batch"):
                size = None if step.maybe else int_value(model, step_arg(step, "batch_size", 0))
                batch = batch * size if size else 0
            if step.method == "unbatch":
                batch = 0
            if not step.maybe and is_decoding_map(model, step):
                decoder = j
                break
        tfds = tfds_source(model, chain) if decoder is None else None
        if decoder is None and tfds is None:
            return  # shuffling paths, indices or in-memory arrays: cheap
        buffer = step_arg(chain.steps[last], "buffer_size", 0)
        whole = buffer_holds_whole_dataset(model, buffer, chain, last)
        count = element_count(model, chain, last)
        n = int_value(model, buffer)
        if decoder is not None:
            element = decoded_element_bytes(model, chain.steps[decoder])
        else:
            element = tfds_example_bytes(tfds[0])
        if element is not None and batch:
            element *= batch
        elif not batch:
            element = None
        held = None
        if element is not None:
            if whole and count is not None:
                held = count * element
            elif n is not None:
                held = min(n, count) * element if count is not None else n * element
        limit = ctx.settings.shuffle_buffer_bytes
        source = "decoded examples" if decoder is not None else f"decoded `{tfds[0]}` examples"
        if held is not None and held >= limit:
            size = f" (about {describe_bytes(held)})"
        elif whole and decoder is not None and (held is None or held >= limit):
            size = ""
        else:
            return
        if whole:
            what = f"holds the whole data set of {source}{size}"
        else:
            what = f"holds {source}{size}, over the {describe_bytes(limit)} limit"
        if decoder is not None:
            advice = ("shuffle the file paths or indices before the decoding `map` (any buffer size is cheap "
                      "there) and keep a small buffer after it")
        else:
            advice = "let `tfds.load(..., shuffle_files=True)` shuffle the files and keep a small buffer here"
        ctx.report(attribute_name_node(call.node.func), f"this shuffle buffer {what}: {advice}", end_node=call.node)
