"""KM101: ``Dataset.cache()`` in memory on data that is large once decoded or
whose size is unbounded (decoded files, generators, directories, TFRecord
corpora)."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from kmlint.registry import Rule, register
from kmlint.semantics.names import call_name, get_arg, literal_value
from kmlint.semantics.sizes import TFDS_DECODED_BYTES, _int_value, describe_bytes, describe_mb, estimate

# calls that read or decode a file (images, audio, video): a map holding one
# makes the pipeline as large as the files it lists
DECODERS = {
    *(f"tensorflow.{m}.decode_{k}" for m in ("io", "image") for k in ("image", "jpeg", "png", "bmp", "gif", "webp", "and_crop_jpeg")),
    "tensorflow.io.read_file", "tensorflow.audio.decode_wav", "tensorflow.io.decode_video",
    "keras.utils.load_img", "keras.preprocessing.image.load_img",
    "cv2.imread", "PIL.Image.open", "imageio.imread", "imageio.v3.imread", "librosa.load", "soundfile.read",
}
# constructors that decode every image/audio file of a directory
DIRECTORY_SOURCES = {
    "keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory",
    "keras.utils.audio_dataset_from_directory",
}
GLOBS = {"tensorflow.io.gfile.glob", "glob.glob", "tensorflow.io.matching_files", "tensorflow.data.Dataset.list_files"}
TFRECORD = "tensorflow.data.TFRecordDataset"
# take(n).cache() with at most this many elements is a small, bounded cache
SMALL_TAKE = 1000
_SPLIT_PERCENT = re.compile(r"^\w+\[(\d+)?%?:(\d+)?%?\]$")


@register
class CacheInMemoryLarge(Rule):
    code = "KM101"
    name = "cache-in-memory-large"
    summary = "`Dataset.cache()` in memory on data that is large once decoded or of unbounded size"
    confirmable = True
    tokens = ("cache",)
    calls = frozenset({"cache"})

    def check_call(self, call, ctx) -> None:
        node = call.node
        if not isinstance(node.func, cst.Attribute):
            return
        filename = get_arg(node, "filename", 0)
        if filename is not None:
            try:
                if literal_value(filename.value) != "":
                    return
            except ValueError:
                return  # a path computed at run time: on disk
        model = ctx.model
        chain = model.chain(node)
        if not model.is_dataset_chain(chain):
            return
        before = chain.steps[:-1]  # the steps feeding this cache()
        if _small_take(model, before):
            return
        reason = self._unbounded(model, chain, before) or self._too_large(model, chain, ctx.settings.cache_bytes)
        if reason is None:
            return
        advice = "cache to disk with `cache(\"/path/to/cache\")`"
        if "decodes files" in reason:
            advice += " or cache before the decoding `map` (encoded files are far smaller)"
        ctx.report(node.func.attr,
                   f"`cache()` without a filename keeps the whole dataset in memory, and {reason}; {advice}", end_node=node)

    # ---------------------------------------------------------------- unbounded sources
    def _unbounded(self, model, chain, before) -> Optional[str]:
        origin = chain.origin_qualname or ""
        if origin in DIRECTORY_SOURCES:
            return f"`{origin.rsplit('.', 1)[-1]}` decodes every file of the directory (size grows with it)"
        for step in before:
            if step.method in ("map", "interleave", "flat_map", "parallel_interleave"):
                func = get_arg(step.call, "map_func", 0)
                decoder = _decoder_in(model, func.value if func is not None else None)
                if decoder is not None:
                    return f"`{decoder}` in the `{step.method}` before it decodes files (size grows with their number)"
        if origin == "tensorflow.data.Dataset.from_generator" and not any(
                s.method in ("take", "apply") and _bounds_length(model, s) for s in before):
            return "`from_generator` has no known length (it may never end)"
        if origin == TFRECORD and _many_files(model, get_arg(chain.origin, "filenames", 0)):
            return "it reads TFRecord shards matched by a glob (a corpus, not a sample)"
        if origin == "tensorflow.data.Dataset.list_files":
            for step in before:
                if step.method in ("interleave", "flat_map") and _creates_tfrecords(model, step):
                    return "it reads every TFRecord shard matched by `list_files` (a corpus, not a sample)"
        return None

    # ---------------------------------------------------------------- known sizes
    def _too_large(self, model, chain, threshold: int) -> Optional[str]:
        size, what = _source_bytes(model, chain)
        if size is None or size < threshold:
            return None
        return f"{what} is ~{describe_mb(size)} (threshold {describe_bytes(threshold)})"


def _decoder_in(model, expr, depth: int = 0) -> Optional[str]:
    """The decoding call reachable from a map function (a lambda, a local def,
    ``functools.partial`` of one, and local functions they call or hand to
    ``tf.py_function``/``tf.numpy_function``)."""
    if expr is None or depth > 4:
        return None
    if isinstance(expr, cst.Call) and call_name(expr) == "partial" and expr.args:
        expr = expr.args[0].value
    fn = model.function_for(expr)
    if fn is None:
        return None
    for cs in fn.calls:
        q = model.qualname(cs.node.func)
        if q in DECODERS:
            return q.replace("tensorflow.", "tf.")
        # the local function called, or handed over: tf.py_function(load, ...)
        candidates = [cs.node.func] + [a.value for a in cs.node.args if isinstance(a.value, (cst.Name, cst.Lambda))]
        for candidate in candidates:
            found = _decoder_in(model, candidate, depth + 1)
            if found:
                return found
    return None


def _small_take(model, steps) -> bool:
    """A ``take(n)`` before the cache bounds it to at most SMALL_TAKE elements."""
    per_element = 1
    for step in steps:
        arg = step.call.args[0].value if step.call.args else None
        if step.method == "batch":
            size = _int_value(model, arg)
            per_element = per_element * size if size else per_element * SMALL_TAKE
        elif step.method in ("unbatch", "flat_map", "interleave"):
            per_element = SMALL_TAKE  # element counts no longer known
        elif step.method == "take":
            n = _int_value(model, arg)
            if n is not None and 0 <= n * per_element <= SMALL_TAKE:
                return True
    return False


def _bounds_length(model, step) -> bool:
    if step.method == "take":
        return True  # take(n) with any n ends the generator
    arg = step.call.args[0].value if step.call.args else None
    return isinstance(arg, cst.Call) and call_name(arg) == "assert_cardinality"


def _many_files(model, arg) -> bool:
    """A glob pattern or a glob call (directly or through a name)."""
    value = arg.value if arg is not None else None
    for _ in range(5):
        if isinstance(value, cst.Name):
            b = model.binding_of(value)
            value = b.value if b is not None and b.kind == "assign" and not b.path else None
            continue
        break
    if isinstance(value, cst.Call):
        return model.qualname(value.func) in GLOBS
    try:
        text = literal_value(value)
    except ValueError:
        return False
    return isinstance(text, str) and any(c in text for c in "*?[")


def _creates_tfrecords(model, step) -> bool:
    func = get_arg(step.call, "map_func", 0)
    if func is None:
        return False
    if model.qualname(func.value) == TFRECORD:
        return True
    fn = model.function_for(func.value)
    return fn is not None and any(model.qualname(c.node.func) == TFRECORD for c in fn.calls)


def _source_bytes(model, chain) -> tuple[Optional[int], str]:
    origin = chain.origin
    q = chain.origin_qualname or ""
    if isinstance(origin, cst.Call) and q in ("tensorflow.data.Dataset.from_tensor_slices", "tensorflow.data.Dataset.from_tensors"):
        arg = get_arg(origin, "tensors", 0)
        parts = arg.value.elements if arg is not None and isinstance(arg.value, (cst.Tuple, cst.List)) else [arg] if arg else []
        sizes = [estimate(model, p.value) for p in parts]
        if not sizes or any(s is None or s.nbytes is None for s in sizes):
            return None, ""
        return sum(s.nbytes for s in sizes), "the data it holds"
    path: tuple[int, ...] = ()
    if isinstance(origin, cst.Name):  # ds, info = tfds.load(..., with_info=True)
        b = model.binding_of(origin)
        if b is None or not b.path or not isinstance(b.value, cst.Call):
            return None, ""
        origin, path = b.value, b.path
        q = model.qualname(origin.func) or ""
    if q == "tensorflow_datasets.load" and isinstance(origin, cst.Call):
        return _tfds_bytes(origin, path)
    return None, ""


def _tfds_bytes(call: cst.Call, path: tuple[int, ...]) -> tuple[Optional[int], str]:
    name_arg, split_arg = get_arg(call, "name", 0), get_arg(call, "split", 1)
    try:
        name = literal_value(name_arg.value) if name_arg is not None else None
        split = literal_value(split_arg.value) if split_arg is not None else None
    except ValueError:
        return None, ""
    if not isinstance(name, str) or name.split(":")[0] not in TFDS_DECODED_BYTES:
        return None, ""
    total = TFDS_DECODED_BYTES[name.split(":")[0]]
    if isinstance(split, tuple):  # a list of splits unpacked into names
        split = split[path[0]] if path and 0 <= path[0] < len(split) and isinstance(split[path[0]], str) else None
    fraction = _split_fraction(split)
    if fraction is None:
        return None, ""
    return int(total * fraction), f"tfds `{name}` decoded"


def _split_fraction(split) -> Optional[float]:
    """Share of the whole data set a split string covers, when it is known:
    no split or the train split (most of the data), percent slices of it."""
    if split is None or split in ("train", "all"):
        return 1.0
    if not isinstance(split, str):
        return None
    m = _SPLIT_PERCENT.match(split.replace(" ", ""))
    if m and "%" in split and split.startswith("train"):
        lo, hi = int(m.group(1) or 0), int(m.group(2) or 100)
        return max(hi - lo, 0) / 100
    return None
