"""``tf.data`` pipeline analysis shared by the KM1xx rules (engine v2: CPython
``ast`` nodes handed out by :mod:`kmlint.semantics.model`).

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
* ``move_fix``: the fix (text edits, ``kmlint.edits.move_method_call``) that
  moves one chain step before another, when that cannot change anything but
  the pipeline itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from kmlint.edits import move_method_call
from kmlint.findings import Fix
from kmlint.semantics.model import (
    DATASET_METHODS, CallSite, Chain, ChainStep, FunctionInfo, Loop, SemanticModel, names_in,
)
from kmlint.semantics.names import get_arg, literal_value
from kmlint.semantics.sizes import arg_values, estimate, int_value, shape_of, tfds_split_examples

TFDS_LOAD = "tensorflow_datasets.load"

# --------------------------------------------------------------------------- evidence


def dataset_chain(model: SemanticModel, call: CallSite) -> Optional[Chain]:
    """The pipeline ending with ``call`` (a method call), if it is a tf.data dataset."""
    if not isinstance(call.node.func, ast.Attribute):
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


def step_arg(step: ChainStep, keyword: str, position: int = 0) -> Optional[ast.expr]:
    return get_arg(step.call, keyword, position)


def is_endless_repeat(step: ChainStep) -> bool:
    """``repeat()``, ``repeat(None)`` or ``repeat(-1)``; a variable count is taken as bounded."""
    count = step_arg(step, "count", 0)
    if count is None:
        return True
    try:
        return literal_value(count) in (None, -1)
    except ValueError:
        return False


def has_filename(cache_call: ast.Call) -> bool:
    """``cache(path)``: the cache lives on disk.  ``cache("")`` is in memory."""
    arg = get_arg(cache_call, "filename", 0)
    if arg is None:
        return False
    try:
        return literal_value(arg) not in ("", None)
    except ValueError:
        return True


def is_false(node: Optional[ast.expr]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def is_none(node: Optional[ast.expr]) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


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
    objects: list[tuple[ast.Call, Optional[CallSite]]]  # (constructor of the object, the call invoking it)


def _resolve_callable(model: SemanticModel, expr: Optional[ast.expr], depth: int = 0):
    """Functions (FunctionInfo) or object constructors (ast.Call) that ``expr`` names."""
    if expr is None or depth > 6:
        return []
    if isinstance(expr, ast.Lambda):
        fn = model.function_of.get(id(expr))
        return [fn] if fn is not None else []
    if isinstance(expr, ast.Name):
        b = model.binding_of(expr)
        if b is None:
            return []
        if b.kind == "def" and b.function is not None:
            return [b.function]
        if b.kind in ("assign", "annassign") and b.value is not None and not b.path:
            return _resolve_callable(model, b.value, depth + 1)
        return []
    if isinstance(expr, ast.Attribute):
        if isinstance(expr.value, ast.Name) and expr.value.id in ("self", "cls"):
            return [f for f in model.functions if f.class_name and f.name == expr.attr]
        return []
    if isinstance(expr, ast.Call):
        q = model.qualname(expr.func)
        if q in ("functools.partial", "tensorflow.function") or (q == "partial"):
            return _resolve_callable(model, get_arg(expr, "func", 0), depth + 1)
        returned = model._helper_return(expr)
        if returned is not None:
            return _resolve_callable(model, returned, depth + 1)
        call_method = _call_method(model, expr)
        if call_method is not None:
            return [call_method]  # an instance of a class of this file: its __call__ runs
        return [expr]  # an object built by a constructor (a layer, a Sequential, ...)
    return []


def _call_method(model: SemanticModel, ctor: ast.Call) -> Optional[FunctionInfo]:
    """``Preprocess(fmt, train=True)`` where ``class Preprocess`` of this file
    defines ``__call__``: the method the instance runs when called."""
    if not isinstance(ctor.func, ast.Name):
        return None
    b = model.binding_of(ctor.func)
    if b is None or b.kind != "class" or not isinstance(b.node, ast.ClassDef):
        return None
    return next((f for f in model.functions if f.name == "__call__" and f.class_name == b.node.name
                 and f.parent_scope.node is b.node), None)


def _instance_flags(model: SemanticModel, ctor: ast.Call, cls: ast.ClassDef) -> dict[str, bool]:
    """``self.<attr>`` set in ``__init__`` from a parameter that the
    constructor call gives as a literal ``True``/``False``."""
    init = next((f for f in model.functions if f.name == "__init__" and f.parent_scope.node is cls), None)
    if init is None:
        return {}
    params = [p for p in init.params if p != "self"]
    flags: dict[str, bool] = {}
    for st in model.target_stores:
        t = st.target
        if st.function is not init or not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)
                                           and t.value.id == "self" and isinstance(st.value, ast.Name)):
            continue
        name = st.value.id
        if name not in params:
            continue
        arg = get_arg(ctor, name, params.index(name))
        if isinstance(arg, ast.Constant) and isinstance(arg.value, bool):
            flags[t.attr] = arg.value
    return flags


def _not_run(model: SemanticModel, cs: CallSite, fn: FunctionInfo, flags: dict[str, bool]) -> bool:
    """The call sits in a branch of ``if self.<flag>:`` that the instance's
    flags never take (``if self._train:`` on ``Preprocess(train=False)``)."""
    if not flags:
        return False
    child: ast.AST = cs.node
    for up in model.ancestors(cs.node):
        if up is fn.node:
            return False
        if isinstance(up, ast.If):
            test, negate = up.test, False
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                test, negate = test.operand, True
            if isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name) and test.value.id == "self" \
                    and test.attr in flags:
                taken = flags[test.attr] != negate
                in_body = any(child is s for s in up.body)
                if in_body != taken:
                    return True
        child = up
    return False


def _reach(model: SemanticModel, fn_expr: Optional[ast.expr]) -> _Reached:
    out = _Reached([], [])
    seen: set[int] = set()
    todo: list[tuple[object, bool, int]] = [(t, False, 0) for t in _resolve_callable(model, fn_expr)]
    # an instance of a class of this file: the branches its constructor's flags rule out
    flags: dict[str, bool] = {}
    if isinstance(fn_expr, ast.Name):
        b = model.binding_of(fn_expr)
        fn_expr = b.value if b is not None and b.kind == "assign" and not b.path else fn_expr
    if isinstance(fn_expr, ast.Call):
        method = _call_method(model, fn_expr)
        if method is not None and isinstance(method.parent_scope.node, ast.ClassDef):
            flags = _instance_flags(model, fn_expr, method.parent_scope.node)
    while todo:
        target, eager, depth = todo.pop()
        if id(target) in seen or depth > 4:
            continue
        seen.add(id(target))
        if isinstance(target, ast.Call):
            out.objects.append((target, None))
            continue
        fn: FunctionInfo = target  # type: ignore[assignment]
        for cs in fn.calls:
            if fn.class_name is not None and _not_run(model, cs, fn, flags):
                continue
            out.calls.append((cs, eager))
            q = _plain(model.qualname(cs.node.func))
            if q in _EAGER_WRAPPERS:
                inner = get_arg(cs.node, "func", 0)
                todo.extend((t, True, depth + 1) for t in _resolve_callable(model, inner))
                continue
            called = model.function_called(cs)
            if called is not None:
                todo.append((called, eager, depth + 1))
                continue
            if isinstance(cs.node.func, ast.Name):
                for obj in _resolve_callable(model, cs.node.func):
                    if isinstance(obj, ast.Call):
                        out.objects.append((obj, cs))
                    else:
                        todo.append((obj, eager, depth + 1))
        # functions defined inside (passed to tf.map_fn, tf.cond, ...)
        for inner_fn in model.functions:
            if inner_fn.parent_scope is fn.scope:
                todo.append((inner_fn, eager, depth + 1))
    return out


def map_function(step: ChainStep) -> Optional[ast.expr]:
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


def _random_object(model: SemanticModel, ctor: ast.Call, depth: int = 0) -> Optional[str]:
    """The random preprocessing layer an object is, or holds (a Sequential)."""
    if depth > 4:
        return None
    q = model.qualname(ctor.func)
    if is_random_layer(q):
        return q
    if q in ("keras.Sequential", "keras.models.Sequential"):
        layers = get_arg(ctor, "layers", 0)
        if isinstance(layers, (ast.List, ast.Tuple)):
            for el in layers.elts:
                el = el.value if isinstance(el, ast.Starred) else el
                for obj in _resolve_callable(model, el):
                    found = _random_object(model, obj, depth + 1) if isinstance(obj, ast.Call) else None
                    if found:
                        return found
    return None


def _training_false(call: Optional[CallSite]) -> bool:
    return call is not None and is_false(get_arg(call.node, "training"))


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
            value = int_value(model, arg) if arg is not None else None
            if value and value > channels:
                channels = value
    best: Optional[int] = None
    for cs, _ in calls:
        q = _plain(model.qualname(cs.node.func)) or ""
        if q in ("tensorflow.image.resize", "tensorflow.image.resize_images"):
            size = get_arg(cs.node, "size", 1)
            dims = shape_of(model, size) if size is not None else None
        elif q in ("tensorflow.image.resize_with_pad", "tensorflow.image.resize_with_crop_or_pad"):
            h, w = get_arg(cs.node, "target_height", 1), get_arg(cs.node, "target_width", 2)
            dims = (int_value(model, h) if h is not None else None, int_value(model, w) if w is not None else None)
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
    if chain.origin_qualname != TFDS_LOAD or not isinstance(chain.origin, ast.Call):
        return None
    name = get_arg(chain.origin, "name", 0)
    split = get_arg(chain.origin, "split", 1)
    try:
        name_value = literal_value(name) if name is not None else None
        split_value = literal_value(split) if split is not None else None
    except ValueError:
        return None
    if not isinstance(name_value, str):
        return None
    return name_value, split_value if isinstance(split_value, str) else None


def _origin_count(model: SemanticModel, chain: Chain) -> Optional[int]:
    origin = chain.origin
    if not isinstance(origin, ast.Call):
        return None
    q = chain.origin_qualname or ""
    values = arg_values(origin)
    if q.endswith("from_tensor_slices") and values:
        return _slices_count(model, values[0])
    if q == TFDS_LOAD:
        src = tfds_source(model, chain)
        if src is not None and src[1] is not None:
            return tfds_split_examples(*src)
    return None


def _slices_count(model: SemanticModel, value: ast.expr, depth: int = 0) -> Optional[int]:
    if depth > 4:
        return None
    if isinstance(value, (ast.Tuple, ast.Dict)):
        if isinstance(value, ast.Tuple):
            parts = [e.value if isinstance(e, ast.Starred) else e for e in value.elts]
        else:
            parts = [v for k, v in zip(value.keys, value.values) if k is not None]
        for part in parts:
            n = _slices_count(model, part, depth + 1)
            if n is not None:
                return n
        return None
    if isinstance(value, ast.List):
        if any(isinstance(e, ast.Starred) for e in value.elts):
            return None
        return len(value.elts)
    if isinstance(value, ast.Name):
        b = model.binding_of(value)
        if b is not None and b.kind == "assign" and not b.path and isinstance(b.value, (ast.List, ast.Tuple)):
            return _slices_count(model, b.value, depth + 1) if isinstance(b.value, ast.List) else None
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


def buffer_holds_whole_dataset(model: SemanticModel, buffer: Optional[ast.expr], chain: Chain,
                               upto: int, depth: int = 0) -> bool:
    """``shuffle(len(paths))``, ``shuffle(ds.cardinality())``,
    ``shuffle(info.splits["train"].num_examples)`` or a literal at least the
    element count: the buffer takes every element of the data set."""
    if buffer is None or depth > 4:
        return False
    if isinstance(buffer, ast.Name):
        b = model.binding_of(buffer)
        if b is not None and b.kind in ("assign", "annassign") and b.value is not None and not b.path:
            return buffer_holds_whole_dataset(model, b.value, chain, upto, depth + 1)
    if isinstance(buffer, ast.Attribute) and buffer.attr == "num_examples":
        return True
    if isinstance(buffer, ast.Call):
        func = buffer.func
        values = arg_values(buffer)
        if isinstance(func, ast.Name) and func.id in ("int", "len") and values:
            inner = values[0]
            if func.id == "int":
                return buffer_holds_whole_dataset(model, inner, chain, upto, depth + 1)
            return _is_source_of(model, inner, chain)
        if isinstance(func, ast.Attribute) and func.attr in ("numpy", "item"):
            return buffer_holds_whole_dataset(model, func.value, chain, upto, depth + 1)
        if isinstance(func, ast.Attribute) and func.attr == "cardinality":
            return True
        if (model.qualname(func) or "").endswith("data.experimental.cardinality"):
            return True
    if isinstance(buffer, ast.Subscript) and isinstance(buffer.value, ast.Attribute) and buffer.value.attr == "shape":
        return _is_source_of(model, buffer.value.value, chain)
    n = int_value(model, buffer)
    count = element_count(model, chain, upto)
    return n is not None and count is not None and n >= count


def _is_source_of(model: SemanticModel, expr: ast.expr, chain: Chain) -> bool:
    """``expr`` is one of the arrays/lists the dataset was built from, or the
    dataset itself."""
    if isinstance(chain.origin, ast.Call) and isinstance(expr, ast.Name):
        sources: set[str] = set()
        for value in arg_values(chain.origin):
            sources |= names_in(value)
        if expr.id in sources:
            return True
    if isinstance(expr, ast.Name) and any(n.id == expr.id for n in chain.names):
        return True
    return False


# --------------------------------------------------------------------------- forward flow


@dataclass
class Use:
    kind: str  # method | call | arg | iter | return | attr
    call: Optional[CallSite] = None
    loop: Optional[Loop] = None


def forward_uses(model: SemanticModel, expr: ast.expr, max_depth: int = 10,
                 stop_at: frozenset[str] = frozenset()) -> Iterator[Use]:
    """Where the value of ``expr`` goes: dataset methods called on it (followed
    further, except past those in ``stop_at``), other calls on it, calls it is
    passed to (followed into helpers of this file), loops iterating it, and
    callers of helpers returning it.  Names are followed to their loads."""
    seen: set[int] = set()
    todo: list[tuple[ast.expr, int]] = [(expr, 0)]
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


def _parameter_receiving(model: SemanticModel, call: CallSite, value: ast.expr):
    """The parameter binding of a local function that receives ``value`` at ``call``."""
    fn = model.function_called(call)
    if fn is None:
        return None
    offset = 1 if fn.class_name and fn.params[:1] == ["self"] and isinstance(call.node.func, ast.Attribute) else 0
    name = None
    for kw in call.node.keywords:
        if kw.value is value and kw.arg is not None:
            name = kw.arg
    positional = [a for a in call.node.args if not isinstance(a, ast.Starred)]
    for i, a in enumerate(positional):
        if a is value and i + offset < len(fn.params):
            name = fn.params[i + offset]
    bindings = fn.scope.bindings.get(name or "", [])
    return bindings[0] if bindings and bindings[0].kind == "param" else None


def _fit_runs_epochs(call: CallSite) -> bool:
    epochs = get_arg(call.node, "epochs", 2)
    if epochs is None:
        return False
    try:
        return literal_value(epochs) != 1
    except ValueError:
        return True


def consumed_repeatedly(model: SemanticModel, expr: ast.expr) -> Optional[str]:
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


# --------------------------------------------------------------------------- statements


_BLOCK_FIELDS = ("body", "orelse", "finalbody")


def parent_statement(model: SemanticModel, node: ast.AST) -> Optional[ast.stmt]:
    """The nearest statement strictly above ``node`` (None at module level)."""
    parent = model.parent(node)
    while parent is not None and not isinstance(parent, ast.stmt):
        parent = model.parent(parent)
    return parent


def enclosing_block(model: SemanticModel, stmt: ast.stmt) -> Optional[tuple[ast.AST, str, list]]:
    """(owner node, field, statement list) of the block holding ``stmt``: the
    module's body, a loop's ``body`` or ``orelse``, a handler's body, ..."""
    owner = model.parent(stmt)
    if owner is None:
        owner = model.tree
    for name in ("body", "orelse", "finalbody", "handlers", "cases"):
        block = getattr(owner, name, None)
        if isinstance(block, list) and any(s is stmt for s in block):
            return owner, name, block
    return None


# --------------------------------------------------------------------------- fixes


def _statement_of(model: SemanticModel, call: ast.Call) -> Optional[ast.stmt]:
    cs = model.call_of.get(id(call))
    return cs.stmt if cs is not None else None


def move_step_edits(model: SemanticModel, chain: Chain, moved: int, target: int):
    """The text edits moving ``chain.steps[moved]`` to just before ``steps[target]``
    (``target < moved``), or None when the steps between are shared with other
    code (a name read elsewhere), cross a helper, or sit in different blocks.

    Where the moved step was, its receiver remains; a statement ``ds = ds.cache()``
    that only held the moved step is removed."""
    if not 0 <= target < moved < len(chain.steps):
        return None
    moved_call, target_call = chain.steps[moved].call, chain.steps[target].call
    if not isinstance(moved_call.func, ast.Attribute) or not isinstance(target_call.func, ast.Attribute):
        return None
    # walk back from the moved step to the target; every name passed must be
    # read only there, and every link must be a plain method call or name
    expr: ast.expr = moved_call.func.value
    moved_stmt = _statement_of(model, moved_call)
    drop: Optional[ast.stmt] = None
    if any(step.maybe for step in chain.steps[target:moved + 1]):
        return None
    for _ in range(200):
        if expr is target_call:
            break
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and model._helper_return(expr) is None:
            expr = expr.func.value
            continue
        if isinstance(expr, ast.Name):
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
        owner = enclosing_block(model, moved_stmt)
        other = enclosing_block(model, target_stmt)
        if owner is None or other is None or owner[0] is not other[0] or owner[1] != other[1]:
            return None
        drop = _self_assignment(model, moved_stmt, moved_call, owner[2])
    return move_method_call(model, moved_call, target_call, drop)


def move_fix(model: SemanticModel, chain: Chain, moved: int, target: int, applicability: str, description: str,
             adjacent_only: bool = True) -> Optional[Fix]:
    """``move_step_edits`` as a Fix; with ``adjacent_only`` only for neighbouring steps."""
    if adjacent_only and target != moved - 1:
        return None
    edits = move_step_edits(model, chain, moved, target)
    return Fix(applicability, description, edits=edits) if edits is not None else None


def _self_assignment(model: SemanticModel, stmt: ast.stmt, call: ast.Call, body: list) -> Optional[ast.stmt]:
    """``ds = ds.cache()`` (alone on its lines, same name on both sides, not
    alone in its block): removable once the call moves."""
    if len(body) < 2 or not isinstance(stmt, ast.Assign) or stmt.value is not call or len(stmt.targets) != 1:
        return None
    target, receiver = stmt.targets[0], call.func.value  # type: ignore[attr-defined]
    if not (isinstance(target, ast.Name) and isinstance(receiver, ast.Name) and target.id == receiver.id):
        return None
    if not _alone_on_its_lines(model, stmt, body):
        return None
    return stmt


def _alone_on_its_lines(model: SemanticModel, stmt: ast.stmt, body: list) -> bool:
    """No other statement shares a line with ``stmt`` (``a = 1; ds = ds.cache()``),
    and ``stmt`` is not the body of a one-line compound statement."""
    i = next(i for i, s in enumerate(body) if s is stmt)
    if i > 0 and body[i - 1].end_lineno >= stmt.lineno:
        return False
    if i + 1 < len(body) and body[i + 1].lineno <= stmt.end_lineno:
        return False
    span = model.span(stmt)
    return model.index.indentation(span.line) == model.index.line_text(span.line)[:span.col]
