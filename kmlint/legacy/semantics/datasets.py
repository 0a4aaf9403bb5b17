"""``tf.data`` pipeline analysis shared by the KM1xx rules.

Built on the semantic model's ``chain()`` (which follows method chains back
through assignments and helper returns).  What it adds:

* ``dataset_chain``: the chain ending at a method call, when there is evidence
  that it is a ``tf.data`` pipeline (generic names such as ``cache`` or
  ``shuffle`` need it);
* what a ``map`` applies: ``is_decoding_map`` (files decoded / records parsed),
  ``is_random_map`` (random augmentation), ``decoded_element_bytes``;
* sizes: ``element_count`` (cardinality upper bound), ``buffer_holds_whole_dataset``,
  ``tfds_source`` (known ``tfds.load`` data sets);
* forward flow: ``forward_uses`` (where a dataset value goes next: further
  methods, loops, ``fit``, returns), ``consumed_repeatedly``;
* ``move_step_fix``: the libcst fix that moves one chain step before another,
  when that cannot change anything but the pipeline itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import libcst as cst

from kmlint.findings import Fix
from kmlint.fixes import move_method_call
from kmlint.legacy.semantics.model import (
    DATASET_METHODS, CallSite, Chain, ChainStep, FunctionInfo, Loop, SemanticModel, names_in,
)
from kmlint.legacy.semantics.names import get_arg, literal_value
from kmlint.legacy.semantics.sizes import estimate, int_value, shape_of, tfds_split_examples

TFDS_LOAD = "tensorflow_datasets.load"

# --------------------------------------------------------------------------- evidence


def dataset_chain(model: SemanticModel, call: CallSite) -> Optional[Chain]:
    """The pipeline ending with ``call`` (a method call), if it is a tf.data dataset."""
    if not isinstance(call.node.func, cst.Attribute):
        return None
    chain = model.chain(call.node)
    if not chain.steps or chain.steps[-1].call is not call.node:
        return None  # the call is a helper or constructor, not a method step
    return chain if model.is_dataset_chain(chain) else None


def upstream(chain: Chain, index: int, wanted: Callable[[ChainStep], bool],
             crossing: Callable[[ChainStep], bool] = lambda step: True) -> Optional[int]:
    """Index of the nearest step before ``steps[index]`` for which ``wanted``
    holds, passing only steps for which ``crossing`` holds.  A step that may
    not run (``maybe``) is never the one wanted, but may still block."""
    for j in range(index - 1, -1, -1):
        step = chain.steps[j]
        if wanted(step) and not step.maybe:
            return j
        if not crossing(step):
            return None
    return None


def step_arg(step: ChainStep, keyword: str, position: int = 0) -> Optional[cst.BaseExpression]:
    arg = get_arg(step.call, keyword, position)
    return arg.value if arg is not None else None


def is_endless_repeat(step: ChainStep) -> bool:
    """``repeat()``, ``repeat(None)`` or ``repeat(-1)``; a variable count is taken as bounded."""
    count = step_arg(step, "count", 0)
    if count is None:
        return True
    try:
        return literal_value(count) in (None, -1)
    except ValueError:
        return False


def has_filename(cache_call: cst.Call) -> bool:
    """``cache(path)``: the cache lives on disk.  ``cache("")`` is in memory."""
    arg = get_arg(cache_call, "filename", 0)
    if arg is None:
        return False
    try:
        return literal_value(arg.value) not in ("", None)
    except ValueError:
        return True


# --------------------------------------------------------------------------- map functions

_READERS = (
    "tensorflow.io.read_file", "tensorflow.read_file", "tensorflow.io.decode_", "tensorflow.image.decode_",
    "tensorflow.audio.decode_", "tensorflow.io.parse_single_example", "tensorflow.io.parse_example",
    "tensorflow.io.parse_tensor", "tensorflow.io.parse_single_sequence_example",
    "tensorflow.io.parse_sequence_example", "tensorflow.parse_single_example", "tensorflow.image.decode",
    "tensorflow_io.", "keras.utils.load_img", "keras.preprocessing.image.load_img",
    # file readers that only work under tf.py_function / tf.numpy_function
    "numpy.load", "PIL.Image.open", "cv2.imread", "imageio.imread", "imageio.v2.imread", "imageio.v3.imread",
    "librosa.load", "soundfile.read", "scipy.io.wavfile.read", "skimage.io.imread", "matplotlib.pyplot.imread",
)
_EAGER_WRAPPERS = {"tensorflow.py_function", "tensorflow.numpy_function", "tensorflow.py_func"}
# random ops that give new values every epoch when traced into a map function
_RANDOM_PREFIXES = ("tensorflow.image.random_", "tensorflow.random.", "tensorflow.random_", "keras.random.")
_DETERMINISTIC_RANDOM = ("tensorflow.random.set_seed", "tensorflow.random.stateless_",
                         "tensorflow.random.experimental.stateless_", "tensorflow.random.experimental.index_shuffle",
                         "tensorflow.random.Generator", "tensorflow.random.experimental.Generator",
                         "keras.random.SeedGenerator")
# under py_function the Python code runs every call: numpy/stdlib randomness counts there
_EAGER_RANDOM_PREFIXES = ("numpy.random.", "random.")
_RANDOM_LAYER_NAMES = {"AugMix", "RandAugment", "MixUp", "CutMix", "Solarization"}


def _plain(q: Optional[str]) -> Optional[str]:
    """``tensorflow.compat.v1.image.random_crop`` -> ``tensorflow.image.random_crop``."""
    if q is None:
        return None
    for prefix in ("tensorflow.compat.v1.", "tensorflow.compat.v2."):
        if q.startswith(prefix):
            return "tensorflow." + q[len(prefix):]
    return q


def is_random_layer(q: Optional[str]) -> bool:
    if not q:
        return False
    last = q.rsplit(".", 1)[-1]
    return q.startswith(("keras.layers.", "keras_cv.layers.", "keras_cv.")) and (
        last.startswith("Random") or last in _RANDOM_LAYER_NAMES)


@dataclass
class _Reached:
    """Everything a map function can execute: call sites (with whether they run
    eagerly under ``py_function``) and callable objects it invokes."""

    calls: list[tuple[CallSite, bool]]
    objects: list[tuple[cst.Call, CallSite]]  # (constructor of the object, the call invoking it)


def _resolve_callable(model: SemanticModel, expr: Optional[cst.BaseExpression], depth: int = 0):
    """Functions (FunctionInfo) or object constructors (cst.Call) that ``expr`` names."""
    if expr is None or depth > 6:
        return []
    if isinstance(expr, cst.Lambda):
        fn = model.function_of.get(id(expr))
        return [fn] if fn is not None else []
    if isinstance(expr, cst.Name):
        b = model.binding_of(expr)
        if b is None:
            return []
        if b.kind == "def" and b.function is not None:
            return [b.function]
        if b.kind in ("assign", "annassign") and b.value is not None and not b.path:
            return _resolve_callable(model, b.value, depth + 1)
        return []
    if isinstance(expr, cst.Attribute):
        if isinstance(expr.value, cst.Name) and expr.value.value in ("self", "cls"):
            return [f for f in model.functions if f.class_name and f.name == expr.attr.value]
        return []
    if isinstance(expr, cst.Call):
        q = model.qualname(expr.func)
        if q in ("functools.partial", "tensorflow.function") or (q == "partial"):
            first = get_arg(expr, "func", 0)
            return _resolve_callable(model, first.value if first else None, depth + 1)
        returned = model._helper_return(expr)
        if returned is not None:
            return _resolve_callable(model, returned, depth + 1)
        return [expr]  # an object built by a constructor (a layer, a Sequential, ...)
    return []


def _reach(model: SemanticModel, fn_expr: Optional[cst.BaseExpression]) -> _Reached:
    out = _Reached([], [])
    seen: set[int] = set()
    todo: list[tuple[object, bool, int]] = [(t, False, 0) for t in _resolve_callable(model, fn_expr)]
    while todo:
        target, eager, depth = todo.pop()
        if id(target) in seen or depth > 4:
            continue
        seen.add(id(target))
        if isinstance(target, cst.Call):
            out.objects.append((target, None))
            continue
        fn: FunctionInfo = target
        for cs in fn.calls:
            out.calls.append((cs, eager))
            q = _plain(model.qualname(cs.node.func))
            if q in _EAGER_WRAPPERS:
                inner = get_arg(cs.node, "func", 0)
                todo.extend((t, True, depth + 1) for t in _resolve_callable(model, inner.value if inner else None))
                continue
            called = model.function_called(cs)
            if called is not None:
                todo.append((called, eager, depth + 1))
                continue
            if isinstance(cs.node.func, cst.Name):
                for obj in _resolve_callable(model, cs.node.func):
                    if isinstance(obj, cst.Call):
                        out.objects.append((obj, cs))
                    else:
                        todo.append((obj, eager, depth + 1))
        # functions defined inside (passed to tf.map_fn, tf.cond, ...)
        for inner in model.functions:
            if inner.parent_scope is fn.scope:
                todo.append((inner, eager, depth + 1))
    return out


def map_function(step: ChainStep) -> Optional[cst.BaseExpression]:
    return step_arg(step, "map_func", 0)


def is_decoding_map(model: SemanticModel, step: ChainStep) -> bool:
    """A ``map`` whose function reads or decodes files, or parses serialized
    records: the elements after it are decoded examples."""
    if step.method != "map":
        return False
    for cs, _ in _reach(model, map_function(step)).calls:
        q = _plain(model.qualname(cs.node.func))
        if q and q.startswith(_READERS):
            return True
    return False


_RECORD_PARSERS = ("tensorflow.io.parse_", "tensorflow.parse_")


def file_decoder_in_map(model: SemanticModel, step: ChainStep) -> Optional[str]:
    """The call by which a ``map``/``interleave``/``flat_map`` function reads or
    decodes files (images, audio, arrays), not counting the parsing of
    serialized records; None when the function shows none."""
    if step.method not in ("map", "interleave", "flat_map", "parallel_interleave"):
        return None
    for cs, _ in _reach(model, map_function(step)).calls:
        q = _plain(model.qualname(cs.node.func))
        if q and q.startswith(_READERS) and not q.startswith(_RECORD_PARSERS):
            return q
    return None


def _random_object(model: SemanticModel, ctor: cst.Call, depth: int = 0) -> Optional[str]:
    """The random preprocessing layer an object is, or holds (a Sequential)."""
    if depth > 4:
        return None
    q = model.qualname(ctor.func)
    if is_random_layer(q):
        return q
    if q in ("keras.Sequential", "keras.models.Sequential"):
        layers = get_arg(ctor, "layers", 0)
        if layers is not None and isinstance(layers.value, (cst.List, cst.Tuple)):
            for el in layers.value.elements:
                for obj in _resolve_callable(model, el.value):
                    found = _random_object(model, obj, depth + 1) if isinstance(obj, cst.Call) else None
                    if found:
                        return found
    return None


def _training_false(call: Optional[CallSite]) -> bool:
    if call is None:
        return False
    arg = get_arg(call.node, "training")
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "False"


def random_op_in_map(model: SemanticModel, step: ChainStep) -> Optional[str]:
    """The name of a random op the map function applies (new values every epoch),
    or None when the map is deterministic as far as the file shows."""
    if step.method != "map":
        return None
    reached = _reach(model, map_function(step))
    for cs, eager in reached.calls:
        q = _plain(model.qualname(cs.node.func))
        if not q:
            continue
        if q.startswith(_RANDOM_PREFIXES) and not q.startswith(_DETERMINISTIC_RANDOM):
            if q.startswith("keras.random.") and get_arg(cs.node, "seed") is not None:
                continue  # keras.random with a fixed seed repeats its values
            return q
        if eager and q.startswith(_EAGER_RANDOM_PREFIXES):
            return q
    for ctor, invoked_by in reached.objects:
        layer = _random_object(model, ctor)
        if layer and not _training_false(invoked_by):
            return layer
    return None


def decoded_element_bytes(model: SemanticModel, step: ChainStep) -> Optional[int]:
    """A lower bound for the bytes of one element after a decoding map, from the
    ``tf.image.resize``-like call it makes (float32 output) and the decoder's
    ``channels``.  None when the map resizes to no literal size."""
    calls = _reach(model, map_function(step)).calls
    channels = 1
    for cs, _ in calls:
        q = _plain(model.qualname(cs.node.func)) or ""
        if q.startswith(("tensorflow.io.decode_", "tensorflow.image.decode_")):
            arg = get_arg(cs.node, "channels", 1)
            value = int_value(model, arg.value) if arg is not None else None
            if value and value > channels:
                channels = value
    best: Optional[int] = None
    for cs, _ in calls:
        q = _plain(model.qualname(cs.node.func)) or ""
        if q in ("tensorflow.image.resize", "tensorflow.image.resize_images"):
            size = get_arg(cs.node, "size", 1)
            dims = shape_of(model, size.value) if size is not None else None
        elif q in ("tensorflow.image.resize_with_pad", "tensorflow.image.resize_with_crop_or_pad"):
            h, w = get_arg(cs.node, "target_height", 1), get_arg(cs.node, "target_width", 2)
            dims = (int_value(model, h.value) if h else None, int_value(model, w.value) if w else None)
        else:
            continue
        if not dims or len(dims) != 2 or None in dims:
            continue
        nbytes = dims[0] * dims[1] * channels * 4
        best = nbytes if best is None else min(best, nbytes)
    return best


# --------------------------------------------------------------------------- sizes


def tfds_source(model: SemanticModel, chain: Chain) -> Optional[tuple[str, Optional[str]]]:
    """(name, split) of a ``tfds.load`` origin with a literal name."""
    if chain.origin_qualname != TFDS_LOAD or not isinstance(chain.origin, cst.Call):
        return None
    name = get_arg(chain.origin, "name", 0)
    split = get_arg(chain.origin, "split", 1)
    try:
        name_value = literal_value(name.value) if name is not None else None
        split_value = literal_value(split.value) if split is not None else None
    except ValueError:
        return None
    if not isinstance(name_value, str):
        return None
    return name_value, split_value if isinstance(split_value, str) else None


def _origin_count(model: SemanticModel, chain: Chain) -> Optional[int]:
    origin = chain.origin
    if not isinstance(origin, cst.Call):
        return None
    q = chain.origin_qualname or ""
    if q.endswith("from_tensor_slices") and origin.args:
        return _slices_count(model, origin.args[0].value)
    if q == TFDS_LOAD:
        src = tfds_source(model, chain)
        if src is not None and src[1] is not None:
            return tfds_split_examples(*src)
    return None


def _slices_count(model: SemanticModel, value: cst.BaseExpression, depth: int = 0) -> Optional[int]:
    if depth > 4:
        return None
    if isinstance(value, (cst.Tuple, cst.Dict)):
        parts = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [e.value for e in value.elements if isinstance(e, cst.DictElement)]
        for part in parts:
            n = _slices_count(model, part, depth + 1)
            if n is not None:
                return n
        return None
    if isinstance(value, cst.List):
        if any(isinstance(e, cst.StarredElement) for e in value.elements):
            return None
        return len(value.elements)
    if isinstance(value, cst.Name):
        b = model.binding_of(value)
        if b is not None and b.kind == "assign" and not b.path and isinstance(b.value, (cst.List, cst.Tuple)):
            return _slices_count(model, b.value, depth + 1) if isinstance(b.value, cst.List) else None
    info = estimate(model, value)
    if info is not None and info.shape and info.shape[0] is not None:
        return info.shape[0]
    return None


def element_count(model: SemanticModel, chain: Chain, upto: Optional[int] = None) -> Optional[int]:
    """An upper bound of the number of elements after ``steps[:upto]``."""
    count = _origin_count(model, chain)
    steps = chain.steps if upto is None else chain.steps[:upto]
    for step in steps:
        if count is None:
            return None
        m = step.method
        if m in ("map", "filter", "cache", "prefetch", "shuffle", "with_options", "apply", "enumerate", "ignore_errors"):
            continue
        if step.maybe:
            return None
        value = step_arg(step, "count", 0)
        n = int_value(model, value) if value is not None else None
        if m == "take":
            count = min(count, n) if n is not None and n >= 0 else (count if n == -1 else None)
        elif m == "skip":
            count = max(count - n, 0) if n is not None and n >= 0 else None
        elif m in ("batch", "padded_batch"):
            size = int_value(model, step_arg(step, "batch_size", 0))
            count = -(-count // size) if size else None
        elif m == "shard":
            shards = int_value(model, step_arg(step, "num_shards", 0))
            count = -(-count // shards) if shards else None
        else:
            return None  # repeat, unbatch, flat_map, ...: unknown
    return count


def buffer_holds_whole_dataset(model: SemanticModel, buffer: Optional[cst.BaseExpression], chain: Chain,
                               upto: int, depth: int = 0) -> bool:
    """``shuffle(len(paths))``, ``shuffle(ds.cardinality())``,
    ``shuffle(info.splits["train"].num_examples)`` or a literal at least the
    element count: the buffer takes every element of the data set."""
    if buffer is None or depth > 4:
        return False
    if isinstance(buffer, cst.Name):
        b = model.binding_of(buffer)
        if b is not None and b.kind in ("assign", "annassign") and b.value is not None and not b.path:
            return buffer_holds_whole_dataset(model, b.value, chain, upto, depth + 1)
    if isinstance(buffer, cst.Attribute) and buffer.attr.value == "num_examples":
        return True
    if isinstance(buffer, cst.Call):
        func = buffer.func
        if isinstance(func, cst.Name) and func.value in ("int", "len") and buffer.args:
            inner = buffer.args[0].value
            if func.value == "int":
                return buffer_holds_whole_dataset(model, inner, chain, upto, depth + 1)
            return _is_source_of(model, inner, chain)
        if isinstance(func, cst.Attribute) and func.attr.value in ("numpy", "item"):
            return buffer_holds_whole_dataset(model, func.value, chain, upto, depth + 1)
        if isinstance(func, cst.Attribute) and func.attr.value == "cardinality":
            return True
        if (model.qualname(func) or "").endswith("data.experimental.cardinality"):
            return True
    if isinstance(buffer, cst.Subscript) and isinstance(buffer.value, cst.Attribute) and buffer.value.attr.value == "shape":
        return _is_source_of(model, buffer.value.value, chain)
    n = int_value(model, buffer)
    count = element_count(model, chain, upto)
    return n is not None and count is not None and n >= count


def _is_source_of(model: SemanticModel, expr: cst.BaseExpression, chain: Chain) -> bool:
    """``expr`` is one of the arrays/lists the dataset was built from, or the
    dataset itself."""
    if isinstance(chain.origin, cst.Call) and isinstance(expr, cst.Name):
        sources = set()
        for a in chain.origin.args:
            sources |= names_in(a.value)
        if expr.value in sources:
            return True
    if isinstance(expr, cst.Name) and any(n.value == expr.value for n in chain.names):
        return True
    return False


# --------------------------------------------------------------------------- forward flow


@dataclass
class Use:
    kind: str  # method | call | arg | iter | return | attr
    call: Optional[CallSite] = None
    loop: Optional[Loop] = None


def forward_uses(model: SemanticModel, expr: cst.BaseExpression, max_depth: int = 10,
                 stop_at: frozenset[str] = frozenset()) -> Iterator[Use]:
    """Where the value of ``expr`` goes: dataset methods called on it (followed
    further, except past those in ``stop_at``), other calls on it, calls it is
    passed to (followed into helpers of this file), loops iterating it, and
    callers of helpers returning it.  Names are followed to their loads."""
    seen: set[int] = set()
    todo: list[tuple[cst.BaseExpression, int]] = [(expr, 0)]
    while todo:
        node, depth = todo.pop()
        if id(node) in seen or depth > max_depth:
            continue
        seen.add(id(node))
        for kind, target in model.value_uses.get(id(node), ()):
            if kind == "receiver":
                if target.name in DATASET_METHODS:
                    yield Use("method", target)
                    if target.name not in stop_at:
                        todo.append((target.node, depth + 1))
                else:
                    yield Use("call", target)
            elif kind == "arg":
                yield Use("arg", target)
                param = _parameter_receiving(model, target, node)
                if param is not None:  # a helper of this file: follow it inside
                    for load in model.loads_of(param):
                        todo.append((load.node, depth + 1))
            elif kind == "iter":
                yield Use("iter", loop=target)
            elif kind == "bound":
                for load in model.loads_of(target):
                    todo.append((load.node, depth + 1))
            elif kind == "return":
                yield Use("return")
                for caller in model.callers(target):
                    todo.append((caller.node, depth + 1))


def _parameter_receiving(model: SemanticModel, call: CallSite, value: cst.BaseExpression):
    """The parameter binding of a local function that receives ``value`` at ``call``."""
    fn = model.function_called(call)
    if fn is None:
        return None
    offset = 1 if fn.class_name and fn.params[:1] == ["self"] and isinstance(call.node.func, cst.Attribute) else 0
    positional = [a for a in call.node.args if a.keyword is None and not a.star]
    name = None
    for a in call.node.args:
        if a.value is value:
            if a.keyword is not None:
                name = a.keyword.value
            elif a in positional and positional.index(a) + offset < len(fn.params):
                name = fn.params[positional.index(a) + offset]
    bindings = fn.scope.bindings.get(name or "", [])
    return bindings[0] if bindings and bindings[0].kind == "param" else None


def _fit_runs_epochs(call: CallSite) -> bool:
    epochs = get_arg(call.node, "epochs", 2)
    if epochs is None:
        return False
    try:
        return literal_value(epochs.value) != 1
    except ValueError:
        return True


def consumed_repeatedly(model: SemanticModel, expr: cst.BaseExpression) -> Optional[str]:
    """How the dataset ``expr`` is read more than once (every epoch), or None:
    passed to ``fit`` for several epochs, iterated inside another loop, or
    repeated."""
    # past a later cache() the upstream is read once, however often the rest is
    for use in forward_uses(model, expr, stop_at=frozenset({"cache"})):
        if use.kind == "method" and use.call.name == "repeat":
            return "it is repeated"
        if use.kind == "arg" and use.call.name == "fit" and _fit_runs_epochs(use.call):
            return "`fit` reads it every epoch"
        if use.kind == "iter" and use.loop is not None:
            if use.loop.parent is not None:
                return "it is iterated inside a loop"
            if use.loop.function is not None and any(
                    caller.loops for caller in model.callers(use.loop.function)):
                return "it is iterated by a function called in a loop"
    return None


# --------------------------------------------------------------------------- fixes


def _statement_of(model: SemanticModel, call: cst.Call) -> Optional[cst.CSTNode]:
    cs = model.call_of.get(id(call))
    return cs.stmt if cs is not None else None


def move_step_fix(model: SemanticModel, chain: Chain, moved: int, target: int):
    """A transform moving ``chain.steps[moved]`` to just before ``steps[target]``
    (``target < moved``), or None when the steps between are shared with other
    code (a name read elsewhere), cross a helper, or sit in different blocks.

    Where the moved step was, its receiver remains; a statement ``ds = ds.cache()``
    that only held the moved step is removed."""
    if not 0 <= target < moved < len(chain.steps):
        return None
    moved_call, target_call = chain.steps[moved].call, chain.steps[target].call
    # walk back from the moved step to the target; every name passed must be
    # read only there, and every link must be a plain method call or name
    expr: cst.BaseExpression = moved_call.func.value
    moved_stmt = _statement_of(model, moved_call)
    drop: Optional[cst.CSTNode] = None
    if any(step.maybe for step in chain.steps[target:moved + 1]):
        return None
    for _ in range(200):
        if expr is target_call:
            break
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and model._helper_return(expr) is None:
            expr = expr.func.value
            continue
        if isinstance(expr, cst.Name):
            b = model.binding_of(expr)
            if b is None or b.kind != "assign" or b.path or b.value is None or len(model.loads_of(b)) != 1:
                return None
            expr = b.value
            continue
        return None
    else:
        return None
    target_stmt = _statement_of(model, target_call)
    if moved_stmt is None or target_stmt is None:
        return None
    if moved_stmt is not target_stmt:
        owner = model.enclosing_body(moved_stmt)
        if owner is None or owner != model.enclosing_body(target_stmt):
            return None
        drop = _self_assignment(moved_stmt, moved_call, owner[1])
    return lambda module: move_method_call(module, moved_call, target_call, drop)


def move_fix(model: SemanticModel, chain: Chain, moved: int, target: int, applicability: str, description: str,
             adjacent_only: bool = True) -> Optional[Fix]:
    """``move_step_fix`` as a Fix; with ``adjacent_only`` only for neighbouring steps."""
    if adjacent_only and target != moved - 1:
        return None
    transform = move_step_fix(model, chain, moved, target)
    return Fix(applicability, description, transform) if transform is not None else None


def _self_assignment(stmt: cst.CSTNode, call: cst.Call, body) -> Optional[cst.CSTNode]:
    """``ds = ds.cache()`` (one statement on its line, same name on both sides, not
    alone in its block): removable once the call moves."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or len(body) < 2:
        return None
    assign = stmt.body[0]
    if not isinstance(assign, cst.Assign) or assign.value is not call or len(assign.targets) != 1:
        return None
    target, receiver = assign.targets[0].target, call.func.value
    if isinstance(target, cst.Name) and isinstance(receiver, cst.Name) and target.value == receiver.value:
        return stmt
    return None
