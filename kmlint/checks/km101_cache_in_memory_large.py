"""KM101: ``Dataset.cache()`` in memory on data that is large once decoded or
whose size is unbounded (decoded files, generators, directories, TFRecord
corpora)."""

from __future__ import annotations

from typing import Optional

import ast

from kmlint.registry import Rule, register
from kmlint.semantics.datasets import (
    dataset_chain, decoded_element_bytes, element_count, file_decoder_in_map, has_filename, map_function,
    tfds_source,
)
from kmlint.semantics.names import attribute_name_node, call_name, get_arg, literal_value
from kmlint.semantics.values import describe_mb as short_bytes, value_of
from kmlint.semantics.sizes import (
    TFDS_DECODED_BYTES, describe_bytes, describe_mb, estimate, first_arg, int_value, tfds_base_name,
    tfds_example_bytes, tfds_split_examples,
)

# constructors that decode every image/audio file of a directory
DIRECTORY_SOURCES = {
    "keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory",
    "keras.utils.audio_dataset_from_directory",
}
GLOBS = {"tensorflow.io.gfile.glob", "glob.glob", "tensorflow.io.matching_files", "tensorflow.data.Dataset.list_files"}
TFRECORD = "tensorflow.data.TFRecordDataset"
# a cache of at most this many elements (take(n), a short file list) is small
SMALL_ELEMENTS = 1000
# take(n) with n at most this, where an element's size is unknown (a batch of a
# parameter's size): a handful of elements, what a training step holds anyway
FEW_ELEMENTS = 10
# unknown count from an unbounded source (files of a directory): flagged when one
# example is at least this large once transformed (a TextVectorization multi_hot
# of 20000 tokens is 80 kB: 1 GiB at ~13000 files)
LARGE_EXAMPLE_BYTES = 64 * 1000


@register
class CacheInMemoryLarge(Rule):
    code = "KM101"
    name = "cache-in-memory-large"
    summary = "`Dataset.cache()` in memory on data that is large once decoded or of unbounded size"
    confirmable = True
    tokens = ("cache",)
    requires = ("dataset",)
    calls = frozenset({"cache"})

    def check_call(self, call, ctx) -> None:
        node = call.node
        if has_filename(node):
            return
        model = ctx.model
        chain = dataset_chain(model, call)
        cached = value_of(model, node.func.value) if isinstance(node.func, ast.Attribute) else None
        if chain is None and cached is not None and cached.kind == "dataset":
            # the value layer knows a dataset where the chain has no evidence (`splits["train"].map(f)`)
            chain = model.chain(node)
            if not chain.steps or chain.steps[-1].call is not node:
                chain = None
        if chain is None or (len(chain.steps) == 1 and isinstance(chain.origin, ast.Name)
                             and call.function is not None and chain.origin.id in call.function.params):
            self._check_helper_parameter(model, call, ctx)
            return
        upto = len(chain.steps) - 1  # the steps feeding this cache()
        before = chain.steps[:upto]
        threshold = ctx.settings.cache_bytes
        if _small_take(model, before):
            return
        count = element_count(model, chain, upto)
        size, what = _value_bytes(cached)
        if size is None:
            size, what = _known_bytes(model, chain, before, count)
        if size is not None:
            if size < threshold:
                return
            reason = f"{what} is ~{describe_mb(size)} (threshold {describe_bytes(threshold)})"
        else:
            if count is not None and count <= SMALL_ELEMENTS:
                return  # a few elements, whatever they hold
            reason = _unbounded(model, chain, before)
            if reason is None and not _validation_only(model, node):
                reason = _large_examples(cached, threshold)
            if reason is None:
                return
        advice = "cache to disk with `cache(\"/path/to/cache\")`"
        if "decodes files" in reason:
            advice += " or cache before the decoding `map` (encoded files are far smaller)"
        ctx.report(attribute_name_node(node.func),
                   f"`cache()` without a filename keeps the whole dataset in memory, and {reason}; {advice}",
                   end_node=node)


    def _check_helper_parameter(self, model, call, ctx) -> None:
        """``def configure(ds): ds = ds.cache() ...`` called with the pipelines
        of this file (``configure(train_ds)``): what the callers pass decides
        what the helper caches (issue 16, class 4).  Reported on the cache once,
        naming the first caller whose data is large."""
        node = call.node
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        fn = call.function
        if not isinstance(receiver, ast.Name) or fn is None or receiver.id not in fn.params:
            return
        b = model.binding_of(receiver)
        if b is None or b.kind != "param" or b.scope is not fn.scope:
            return
        params = [p for p in fn.params if p not in ("self", "cls")] if fn.class_name else list(fn.params)
        position = params.index(receiver.id) if receiver.id in params else None
        threshold = ctx.settings.cache_bytes
        for caller in model.callers(fn):
            given = get_arg(caller.node, receiver.id, position)
            value = value_of(model, given) if given is not None else None
            if value is None or value.kind != "dataset":
                continue
            size, what = _value_bytes(value)
            if size is not None:
                if size < threshold:
                    continue
                reason = f"{what} is ~{describe_mb(size)} (threshold {describe_bytes(threshold)})"
            else:
                reason = _large_examples(value, threshold)
                if reason is None:
                    continue
            ctx.report(attribute_name_node(node.func),
                       f"`cache()` without a filename keeps the whole dataset in memory, and `{fn.name}()` is called "
                       f"with `{model.text(given)}`: {reason}; cache to disk with "
                       "`cache(\"/path/to/cache\")`", end_node=node)
            return


def _value_bytes(cached) -> tuple[Optional[int], str]:
    """The cached size the abstract-value layer knows: a known number of
    elements of a known size, or a known data set split (tfds) before any map."""
    if cached is None or cached.kind != "dataset":
        return None, ""
    size = cached.nbytes
    if size is None:
        return None, ""
    return size, f"the data ({cached.describe()})"


def _large_examples(cached, threshold_bytes: int) -> Optional[str]:
    """Unknown count from an unbounded source (files of a directory) whose
    examples are large once transformed (README: the per-rule policy)."""
    if cached is None or cached.kind != "dataset" or not cached.unbounded or cached.count is not None:
        return None
    per = cached.example_bytes
    if per is None or per < LARGE_EXAMPLE_BYTES:
        return None
    element = cached.element
    if element is not None and element.kind == "tuple" and element.items:
        element = max(element.items, key=lambda v: v.nbytes or 0)
    shown = element.describe() if element is not None else ""
    files = threshold_bytes // per
    return (f"its source ({cached.origin}) has no known size and each example is ~{short_bytes(per)} once "
            f"transformed ({shown}): ~{files} files reach the threshold")


def _validation_only(model, node: ast.Call) -> bool:
    """The cached pipeline is only ever ``validation_data`` of ``fit`` (directly
    or through a name): validation sets are a fraction of the training data, so
    an unknown count is not taken as large (the per-example policy is for the
    training data)."""
    cur: ast.AST = node
    while True:  # .cache().prefetch(...): the end of the method chain
        p = model.parent(cur)
        if isinstance(p, ast.Attribute) and isinstance(model.parent(p), ast.Call) and model.parent(p).func is p:
            cur = model.parent(p)
            continue
        break
    p = model.parent(cur)
    if isinstance(p, ast.keyword):
        return p.arg == "validation_data"
    if isinstance(p, ast.Assign) and len(p.targets) == 1 and isinstance(p.targets[0], ast.Name):
        target = p.targets[0]
        scope = model.scope_of(target)
        binding = next((b for b in scope.bindings.get(target.id, ()) if b.node is target), None)
        loads = model.loads_of(binding) if binding is not None else []
        return bool(loads) and all(isinstance(model.parent(u.node), ast.keyword)
                                   and model.parent(u.node).arg == "validation_data" for u in loads)
    return False


def _unbounded(model, chain, before) -> Optional[str]:
    """Why the cached data grows with something the file does not bound."""
    origin = chain.origin_qualname or ""
    if origin in DIRECTORY_SOURCES:
        return f"`{origin.rsplit('.', 1)[-1]}` decodes every file of the directory (size grows with it)"
    for step in before:
        decoder = file_decoder_in_map(model, step)
        if decoder is not None:
            return (f"`{decoder.replace('tensorflow.', 'tf.')}` in the `{step.method}` before it decodes files "
                    f"(size grows with their number)")
    if origin == "tensorflow.data.Dataset.from_generator" and not any(_bounds_length(s) for s in before):
        return "`from_generator` has no known length (it may never end)"
    if origin == TFRECORD and _many_files(model, get_arg(chain.origin, "filenames", 0)):
        return "it reads TFRecord shards matched by a glob (a corpus, not a sample)"
    if origin == "tensorflow.data.Dataset.list_files":
        for step in before:
            if step.method in ("interleave", "flat_map") and _creates_tfrecords(model, step):
                return "it reads every TFRecord shard matched by `list_files` (a corpus, not a sample)"
    if origin == "tensorflow.data.Dataset.from_tensor_slices" and _many_files(model, first_arg(chain.origin)):
        for step in before:
            if step.method in ("interleave", "flat_map") and _creates_tfrecords(model, step):
                return "it reads the records of every TFRecord shard of a long file list (a corpus, not a sample)"
    return None


def _known_bytes(model, chain, before, count) -> tuple[Optional[int], str]:
    """The cached size when the file shows it: arrays handed to
    ``from_tensor_slices``, ``tfds`` data sets of known size, or a known
    number of decoded images of a known size."""
    q = chain.origin_qualname or ""
    origin = chain.origin
    decoding = [s for s in before if file_decoder_in_map(model, s)]
    if decoding:
        per_element = decoded_element_bytes(model, decoding[-1])
        if count is not None and per_element is not None:
            return count * per_element, f"{count} decoded elements"
        return None, ""
    if isinstance(origin, ast.Call) and q in ("tensorflow.data.Dataset.from_tensor_slices", "tensorflow.data.Dataset.from_tensors"):
        arg = get_arg(origin, "tensors", 0)
        if arg is None:
            return None, ""
        parts = ([e.value if isinstance(e, ast.Starred) else e for e in arg.elts]
                 if isinstance(arg, (ast.Tuple, ast.List)) else [arg])
        sizes = [estimate(model, p) for p in parts]
        if any(s is None or s.nbytes is None for s in sizes):
            return None, ""
        return sum(s.nbytes for s in sizes), "the data it holds"
    source = tfds_source(model, chain)
    if source is None:
        return None, ""
    name, split = source
    if split is None and get_arg(origin, "split", 1) is not None:
        return None, ""  # several splits unpacked into names: which one is unknown here
    if split is None:
        total = TFDS_DECODED_BYTES.get(tfds_base_name(name))
        return (total, f"tfds `{name}` decoded") if total is not None else (None, "")
    examples, per_example = tfds_split_examples(name, split), tfds_example_bytes(name)
    if examples is None or per_example is None:
        return None, ""
    return examples * per_example, f"tfds `{name}` split `{split}` decoded"


def _small_take(model, steps) -> bool:
    """A ``take(n)`` before the cache bounds it to at most SMALL_ELEMENTS
    elements (counting the batch sizes before it)."""
    per_element = 1
    for step in steps:
        arg = first_arg(step.call)
        if step.method in ("batch", "padded_batch"):
            size = int_value(model, arg)
            per_element *= size if size else SMALL_ELEMENTS + 1
        elif step.method in ("unbatch", "flat_map", "interleave"):
            per_element = SMALL_ELEMENTS + 1  # element counts no longer known
        elif step.method == "take":
            n = int_value(model, arg)
            if n is not None and 0 <= n * per_element <= SMALL_ELEMENTS:
                return True
            if n is not None and 0 <= n <= FEW_ELEMENTS and per_element > SMALL_ELEMENTS:
                return True  # take(1) of batches of unknown size: a handful of batches
    return False


def _bounds_length(step) -> bool:
    if step.method == "take":
        return True  # take(n) ends even an endless generator
    arg = first_arg(step.call)
    return step.method == "apply" and isinstance(arg, ast.Call) and call_name(arg) == "assert_cardinality"


# a file list of at least this many shards is a corpus (ImageNet's train-00000-of-01024 ...)
MANY_SHARDS = 16


def _many_files(model, arg, depth: int = 0) -> bool:
    """A glob pattern or a glob call, or a list of at least MANY_SHARDS file
    names built by a comprehension (``[f"train-{i:05d}" for i in
    range(1024)]``), directly, through a name or returned by a helper of
    this file."""
    value = arg
    for _ in range(5):
        if not isinstance(value, ast.Name):
            break
        b = model.binding_of(value)
        value = b.value if b is not None and b.kind == "assign" and not b.path else None
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)) and value.generators:
        it = value.generators[0].iter
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and it.args:
            n = int_value(model, it.args[-1] if len(it.args) == 1 else it.args[1])
            return n is not None and n >= MANY_SHARDS
        return _many_files(model, it, depth + 1) if depth < 3 else False
    if isinstance(value, ast.Call):
        cs = model.call_of.get(id(value))
        fn = model.function_called(cs) if cs is not None else None
        if fn is not None and depth < 3:
            return bool(fn.returns) and any(_many_files(model, r, depth + 1) for r in fn.returns)
        return model.qualname(value.func) in GLOBS
    try:
        text = literal_value(value)
    except ValueError:
        return False
    return isinstance(text, str) and any(c in text for c in "*?[")


def _creates_tfrecords(model, step) -> bool:
    func = map_function(step)
    if func is None:
        return False
    if model.qualname(func) == TFRECORD:
        return True
    fn = model.function_for(func)
    return fn is not None and any(model.qualname(c.node.func) == TFRECORD for c in fn.calls)
