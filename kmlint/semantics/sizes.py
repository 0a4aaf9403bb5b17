"""Size knowledge: the ONE table of known data sources and the estimator that
turns shapes and dtypes into bytes (engine v2: CPython ``ast`` nodes).

Rules never hard-code sizes; they ask ``estimate(model, expr)``.  Unknown size
means no size-based finding (precision over recall).

The array estimates delegate to the abstract-value layer
(:mod:`kmlint.semantics.values`, issue 16) and fall back to this module's own
reading of constructors; the tables here remain for the rules that still read
them directly (the knowledge proper lives in :mod:`kmlint.knowledge`).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Optional

from kmlint.semantics.model import unpack_value
from kmlint.knowledge import split_total
from kmlint.semantics.names import argument_values, get_arg, literal_value

ITEMSIZE = {
    "bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2, "half": 2,
    "int32": 4, "uint32": 4, "float32": 4, "single": 4, "int64": 8, "uint64": 8, "float64": 8,
    "double": 8, "complex64": 8, "complex128": 16, "string": 0, "object": 0,
}
FLOAT_DTYPES = {"float16", "bfloat16", "float32", "float64", "half", "single", "double"}
INT_DTYPES = {"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "bool"}


@dataclass(frozen=True)
class ArrayInfo:
    shape: tuple[Optional[int], ...]
    dtype: Optional[str]
    source: str = ""  # human description, e.g. "cifar10.load_data()"
    whole_dataset: bool = False
    lib: str = "numpy"  # numpy | tensorflow
    assumed: str = ""  # what the estimate rests on, in words (values.Value.describe())

    @property
    def nbytes(self) -> Optional[int]:
        if self.dtype is None or self.dtype not in ITEMSIZE or any(d is None for d in self.shape):
            return None
        return math.prod(self.shape) * ITEMSIZE[self.dtype]  # type: ignore[arg-type]

    def with_dtype(self, dtype: Optional[str]) -> "ArrayInfo":
        return ArrayInfo(self.shape, dtype, self.source, self.whole_dataset, self.lib, self.assumed)


# ----------------------------------------------------------------------------- the table

# keras.datasets loaders: ((x_train, y_train), (x_test, y_test))
KERAS_DATASETS: dict[str, tuple[tuple[ArrayInfo, ArrayInfo], tuple[ArrayInfo, ArrayInfo]]] = {}


def _ds(name, train_x, train_y, test_x, test_y, dtype_x="uint8", dtype_y="uint8"):
    src = f"{name}.load_data()"
    KERAS_DATASETS[name] = (
        (ArrayInfo(train_x, dtype_x, src + " x_train", True), ArrayInfo(train_y, dtype_y, src + " y_train", True)),
        (ArrayInfo(test_x, dtype_x, src + " x_test", True), ArrayInfo(test_y, dtype_y, src + " y_test", True)),
    )


_ds("mnist", (60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
_ds("fashion_mnist", (60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
_ds("cifar10", (50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1))
_ds("cifar100", (50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1), dtype_y="int64")
_ds("boston_housing", (404, 13), (404,), (102, 13), (102,), "float64", "float64")
_ds("california_housing", (16512, 8), (16512,), (4128, 8), (4128,), "float64", "float32")
# imdb / reuters return ragged sequences of word ids: size unknown
KERAS_DATASETS_UNKNOWN = {"imdb", "reuters"}

# tensorflow_datasets names -> decoded size in bytes of the whole data set (all
# splits, images decoded to uint8); rounded public figures.
TFDS_DECODED_BYTES: dict[str, int] = {
    "mnist": 55 * 10**6,
    "fashion_mnist": 55 * 10**6,
    "cifar10": 184 * 10**6,
    "cifar100": 184 * 10**6,
    "svhn_cropped": 304 * 10**6,
    "stl10": 1_060 * 10**6,
    "eurosat": 1_300 * 10**6,
    "tf_flowers": 1_500 * 10**6,
    "food101": 22 * 10**9,
    "oxford_iiit_pet": 3_000 * 10**6,
    "cats_vs_dogs": 5_500 * 10**6,
    "caltech101": 1_700 * 10**6,
    "celeb_a": 24 * 10**9,
    "coco": 120 * 10**9,
    "imagenet2012": 700 * 10**9,
    "imagenet_resized/32x32": 4 * 10**9,
    "imagenet_resized/64x64": 15 * 10**9,
    "places365_small": 80 * 10**9,
    "imdb_reviews": 130 * 10**6,
    "speech_commands": 8 * 10**9,
    "librispeech": 300 * 10**9,
    "kinetics400": 500 * 10**9,
    "ucf101": 60 * 10**9,
}

# tensorflow_datasets names -> examples per split (public catalog figures); with
# TFDS_DECODED_BYTES they give the decoded size of one example.
TFDS_SPLITS: dict[str, dict[str, int]] = {
    "mnist": {"train": 60_000, "test": 10_000},
    "fashion_mnist": {"train": 60_000, "test": 10_000},
    "cifar10": {"train": 50_000, "test": 10_000},
    "cifar100": {"train": 50_000, "test": 10_000},
    "svhn_cropped": {"train": 73_257, "test": 26_032, "extra": 531_131},
    "stl10": {"train": 5_000, "test": 8_000, "unlabelled": 100_000},
    "eurosat": {"train": 27_000},
    "tf_flowers": {"train": 3_670},
    "food101": {"train": 75_750, "validation": 25_250},
    "oxford_iiit_pet": {"train": 3_680, "test": 3_669},
    "cats_vs_dogs": {"train": 23_262},
    "caltech101": {"train": 3_060, "test": 6_084},
    "celeb_a": {"train": 162_770, "validation": 19_867, "test": 19_962},
    "coco": {"train": 118_287, "validation": 5_000, "test": 40_670},
    "imagenet2012": {"train": 1_281_167, "validation": 50_000, "test": 100_000},
    "imagenet_resized/32x32": {"train": 1_281_167, "validation": 50_000},
    "imagenet_resized/64x64": {"train": 1_281_167, "validation": 50_000},
    "places365_small": {"train": 1_803_460, "validation": 36_500, "test": 328_500},
    "imdb_reviews": {"train": 25_000, "test": 25_000, "unsupervised": 50_000},
    "speech_commands": {"train": 85_511, "validation": 10_102, "test": 4_890},
}


def tfds_base_name(name: str) -> str:
    """``"cifar10:3.0.2"`` -> ``"cifar10"`` (config names such as
    ``imagenet_resized/32x32`` are kept)."""
    return name.split(":", 1)[0].strip()


def tfds_split_examples(name: str, split: str) -> Optional[int]:
    """Examples in ``split`` of a known tfds data set: ``"train"``,
    ``"train[:80%]"``, ``"train[:5000]"``, ``"train+test"``; None when unknown."""
    splits = TFDS_SPLITS.get(tfds_base_name(name))
    if splits is None:
        return None
    return split_total(splits, split)


def tfds_example_bytes(name: str) -> Optional[int]:
    """Average decoded size of one example of a known tfds data set."""
    base = tfds_base_name(name)
    total, splits = TFDS_DECODED_BYTES.get(base), TFDS_SPLITS.get(base)
    if total is None or not splits:
        return None
    return total // sum(splits.values())


# numpy/tensorflow constructors: qualname -> (how the shape is passed, default dtype, lib)
#   "shape": first positional arg / shape= is a shape tuple or int
#   "dims": positional args are the dimensions (np.random.rand(3, 4))
#   "size": size= keyword (or positional index given) is the shape
ARRAY_CONSTRUCTORS: dict[str, tuple[str, Optional[str], str, int]] = {
    "numpy.zeros": ("shape", "float64", "numpy", 0),
    "numpy.ones": ("shape", "float64", "numpy", 0),
    "numpy.empty": ("shape", "float64", "numpy", 0),
    "numpy.full": ("shape", None, "numpy", 0),
    "numpy.random.rand": ("dims", "float64", "numpy", 0),
    "numpy.random.randn": ("dims", "float64", "numpy", 0),
    "numpy.random.random": ("size", "float64", "numpy", 0),
    "numpy.random.random_sample": ("size", "float64", "numpy", 0),
    "numpy.random.uniform": ("size", "float64", "numpy", 2),
    "numpy.random.normal": ("size", "float64", "numpy", 2),
    "numpy.random.randint": ("size", "int64", "numpy", 2),
    "numpy.random.standard_normal": ("size", "float64", "numpy", 0),
    "tensorflow.zeros": ("shape", "float32", "tensorflow", 0),
    "tensorflow.ones": ("shape", "float32", "tensorflow", 0),
    "tensorflow.fill": ("shape", None, "tensorflow", 0),
    "tensorflow.random.normal": ("shape", "float32", "tensorflow", 0),
    "tensorflow.random.uniform": ("shape", "float32", "tensorflow", 0),
    "tensorflow.random.truncated_normal": ("shape", "float32", "tensorflow", 0),
    "tensorflow.random.stateless_normal": ("shape", "float32", "tensorflow", 0),
    "tensorflow.random.stateless_uniform": ("shape", "float32", "tensorflow", 0),
    "keras.random.normal": ("shape", "float32", "tensorflow", 0),
    "keras.random.uniform": ("shape", "float32", "tensorflow", 0),
    "keras.ops.zeros": ("shape", "float32", "tensorflow", 0),
    "keras.ops.ones": ("shape", "float32", "tensorflow", 0),
}
# numpy array constructors whose default dtype is float64 (KM302 sources)
NUMPY_FLOAT64_DEFAULT = {q for q, v in ARRAY_CONSTRUCTORS.items() if v[2] == "numpy" and v[1] == "float64"}

# functions that keep shape and dtype of their first argument
SHAPE_PRESERVING = {"numpy.asarray", "numpy.array", "numpy.copy", "numpy.ascontiguousarray", "tensorflow.convert_to_tensor",
                    "tensorflow.constant", "tensorflow.identity", "tensorflow.Variable"}


# ----------------------------------------------------------------------------- argument helpers


def _unstar(node: ast.expr) -> ast.expr:
    """``*a`` -> ``a`` (the libcst model read a starred argument's value)."""
    return node.value if isinstance(node, ast.Starred) else node


# every argument value in source order (``*a``/``**kw`` give ``a``/``kw``): what
# ``call.args`` was in the libcst model
arg_values = argument_values


def first_arg(call: ast.Call) -> Optional[ast.expr]:
    """The first argument's value, positional or keyword."""
    values = arg_values(call)
    return values[0] if values else None


def _elements(node: ast.expr) -> list[ast.expr]:
    return [_unstar(e) for e in node.elts]  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- dtype names

_SHORT_DTYPES = {"f2": "float16", "f4": "float32", "f8": "float64", "i4": "int32", "i8": "int64", "u1": "uint8",
                 "<f4": "float32", "<f8": "float64", "float": "float64"}


def dtype_name(node: Optional[ast.expr]) -> Optional[str]:
    """``np.float32``, ``tf.float32``, ``"float32"``, ``float``, ``'f4'`` -> canonical name."""
    if node is None:
        return None
    if isinstance(node, ast.Name):
        if node.id == "float":
            return "float64"
        if node.id == "int":
            return "int64"
        if node.id == "bool":
            return "bool"
        return node.id if node.id in ITEMSIZE else None
    if isinstance(node, ast.Attribute):
        return node.attr if node.attr in ITEMSIZE else None
    try:
        v = literal_value(node)
    except ValueError:
        return None
    if isinstance(v, str):
        return _SHORT_DTYPES.get(v, v if v in ITEMSIZE else None)
    return None


# ----------------------------------------------------------------------------- estimation


def _int_value(model, node: Optional[ast.expr], depth: int = 0) -> Optional[int]:
    if node is None or depth > 8:
        return None
    try:
        v = literal_value(node)
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    except ValueError:
        pass
    if isinstance(node, ast.Name):
        b = model.binding_of(node)
        if b is not None and b.kind in ("assign", "annassign") and b.value is not None and not b.path:
            return _int_value(model, b.value, depth + 1)
        return None
    if isinstance(node, ast.BinOp):
        a, c = _int_value(model, node.left, depth + 1), _int_value(model, node.right, depth + 1)
        if a is None or c is None:
            return None
        op = node.op
        if isinstance(op, ast.Mult):
            return a * c
        if isinstance(op, ast.Add):
            return a + c
        if isinstance(op, ast.Sub):
            return a - c
        if isinstance(op, ast.FloorDiv) and c:
            return a // c
        if isinstance(op, ast.Pow) and 0 <= c < 64:
            return a ** c
    return None


def int_value(model, node: Optional[ast.expr]) -> Optional[int]:
    """An int literal, a name bound to one, or arithmetic of those."""
    return _int_value(model, node)


def shape_of(model, node: Optional[ast.expr]) -> Optional[tuple[Optional[int], ...]]:
    if node is None:
        return None
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_int_value(model, e) for e in _elements(node))
    if isinstance(node, ast.Name):
        b = model.binding_of(node)
        if b is not None and b.kind == "assign" and b.value is not None and isinstance(b.value, (ast.Tuple, ast.List)):
            return shape_of(model, b.value)
    if isinstance(node, ast.IfExp):
        # `(2, 7, 3) if conv else (2, 3)`: the larger branch, an upper bound (known only when both are)
        shapes = [shape_of(model, node.body), shape_of(model, node.orelse)]
        if any(s is None or None in s for s in shapes):
            return None
        return max(shapes, key=math.prod)
    v = _int_value(model, node)
    if v is not None:
        return (v,)
    return None


def loader_info(model, call: ast.Call, path: tuple[int, ...]) -> Optional[ArrayInfo]:
    """Arrays returned by ``keras.datasets.<name>.load_data()`` at an unpacking path."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr != "load_data":
        return None
    q = model.qualname(call.func.value)
    if q is None:
        return None
    name = q.rsplit(".", 1)[-1]
    if name not in KERAS_DATASETS or not (q.startswith("keras.datasets") or "." not in q):
        return None
    node = KERAS_DATASETS[name]
    for i in path:
        if isinstance(node, tuple) and 0 <= i < len(node):
            node = node[i]
        else:
            return None
    return node if isinstance(node, ArrayInfo) else None


def _short(q: str) -> str:
    head, rest = q.split(".", 1)
    return f"{head.replace('numpy', 'np').replace('tensorflow', 'tf')}.{rest}"


def estimate(model, expr: Optional[ast.expr], depth: int = 0) -> Optional[ArrayInfo]:
    """Shape/dtype of an array-valued expression.  Asks the abstract-value
    layer (:mod:`kmlint.semantics.values`: names through one more name, slicing,
    helper returns, dtype promotion) and falls back to this module's direct
    reading of constructors.  None when unknown."""
    if expr is None:
        return None
    if depth == 0:
        from kmlint.semantics.values import value_of

        v = value_of(model, expr)
        if v.kind == "array" and v.dtype is not None:
            info = ArrayInfo(v.shape if v.shape is not None else (None,), v.dtype, v.origin, v.whole_dataset,
                             v.lib or "numpy", v.describe())
            if info.nbytes is not None:
                return info
            older = _estimate(model, expr, 0)
            return older if older is not None and older.nbytes is not None else info
    return _estimate(model, expr, depth)


def binding_estimate(model, binding) -> Optional[ArrayInfo]:
    """The array a binding gives its name (``x`` of ``(x, y), _ = load_data()``,
    a loader result unpacked from another name, a helper's tuple return), from
    the abstract-value layer; this module's loader table as the fallback."""
    from kmlint.semantics.values import binding_value

    v = binding_value(model, binding)
    if v.kind == "array" and v.dtype is not None:
        info = ArrayInfo(v.shape if v.shape is not None else (None,), v.dtype, v.origin, v.whole_dataset,
                         v.lib or "numpy", v.describe())
        if info.nbytes is not None:
            return info
    if binding.value is None:
        return None
    if binding.path:
        return loader_info(model, binding.value, binding.path) if isinstance(binding.value, ast.Call) else None
    return estimate(model, binding.value)


def _estimate(model, expr: Optional[ast.expr], depth: int = 0) -> Optional[ArrayInfo]:
    """This module's own reading (constructors, loaders, reshape, astype)."""
    if expr is None or depth > 12:
        return None
    if isinstance(expr, ast.Name):
        b = model.binding_of(expr)
        if b is None or b.value is None or b.kind not in ("assign", "annassign"):
            return None
        if b.path:
            if isinstance(b.value, ast.Call):
                return loader_info(model, b.value, b.path)
            # `a, b = x / 255.0, y / 255.0`: the element of the literal tuple
            element = unpack_value(b.value, b.path)
            return estimate(model, element, depth + 1) if element is not None else None
        return estimate(model, b.value, depth + 1)
    if isinstance(expr, ast.Call):
        return _estimate_call(model, expr, depth)
    if isinstance(expr, ast.BinOp):
        left = estimate(model, expr.left, depth + 1)
        right = estimate(model, expr.right, depth + 1)
        base = left or right
        if base is None:
            return None
        other = right if base is left else left
        if isinstance(expr.op, ast.Div):
            # true division of integer arrays yields float64 in numpy
            if base.dtype in INT_DTYPES and base.lib == "numpy":
                return base.with_dtype("float64")
            return base
        if other is None and base.dtype in INT_DTYPES and base.lib == "numpy":
            other_node = expr.right if base is left else expr.left
            if isinstance(other_node, ast.Constant) and type(other_node.value) is float:
                return base.with_dtype("float64")
        return base
    return None  # slicing and everything else: size unknown


def _estimate_call(model, expr: ast.Call, depth: int) -> Optional[ArrayInfo]:
    q = model.qualname(expr.func)
    args = arg_values(expr)
    if q in ARRAY_CONSTRUCTORS:
        how, dtype, lib, size_pos = ARRAY_CONSTRUCTORS[q]
        given = get_arg(expr, "dtype")
        if given is not None:
            dtype = dtype_name(given)
        elif q in ("numpy.full", "tensorflow.fill"):
            dtype = None
        if how == "dims":
            shape = tuple(_int_value(model, _unstar(a)) for a in expr.args)
        elif how == "size":
            arg = get_arg(expr, "size", size_pos) if q != "numpy.random.random" else get_arg(expr, "size", 0)
            shape = shape_of(model, arg) if arg is not None else None
        else:
            arg = get_arg(expr, "shape", 0) if q != "tensorflow.fill" else get_arg(expr, "dims", 0)
            shape = shape_of(model, arg) if arg is not None else None
        if shape is None:
            return ArrayInfo((None,), dtype, q, lib=lib)
        return ArrayInfo(shape, dtype, _short(q), lib=lib)
    if isinstance(expr.func, ast.Attribute) and expr.func.attr == "astype" and args:
        inner = estimate(model, expr.func.value, depth + 1)
        return inner.with_dtype(dtype_name(args[0])) if inner is not None else None
    if q == "tensorflow.cast" and len(args) >= 2:
        inner = estimate(model, args[0], depth + 1)
        if inner is not None:
            return ArrayInfo(inner.shape, dtype_name(args[1]), inner.source, inner.whole_dataset, "tensorflow")
        return None
    if q in ("numpy.reshape", "tensorflow.reshape") and len(args) >= 2:
        return _reshaped(model, estimate(model, args[0], depth + 1), args[1])
    if isinstance(expr.func, ast.Attribute) and expr.func.attr == "reshape" and q is None and args:
        shape = args[0] if len(args) == 1 else ast.Tuple(elts=list(args), ctx=ast.Load())
        return _reshaped(model, estimate(model, expr.func.value, depth + 1), shape)
    if q in ("numpy.concatenate", "numpy.vstack") and args and isinstance(args[0], (ast.List, ast.Tuple)):
        axis = get_arg(expr, "axis", 1)
        if axis is not None and _int_value(model, axis) != 0:
            return None
        parts = [estimate(model, e, depth + 1) for e in _elements(args[0])]
        if not parts or any(p is None or not p.shape or None in p.shape for p in parts):
            return None
        if len({p.shape[1:] for p in parts}) != 1 or len({p.dtype for p in parts}) != 1:
            return None  # broadcasting or dtype promotion: not worth guessing
        first = parts[0]
        return ArrayInfo((sum(p.shape[0] for p in parts),) + first.shape[1:], first.dtype, first.source,
                         any(p.whole_dataset for p in parts), first.lib)
    if q in SHAPE_PRESERVING and args:
        inner = estimate(model, args[0], depth + 1)
        if inner is not None:
            given = get_arg(expr, "dtype")
            if given is not None:
                inner = inner.with_dtype(dtype_name(given))
            return inner
        return None
    return None


def _reshaped(model, inner: Optional[ArrayInfo], shape_expr: ast.expr) -> Optional[ArrayInfo]:
    """``inner`` reshaped: same elements and dtype; one ``-1`` is inferred."""
    if inner is None:
        return None
    shape = shape_of(model, shape_expr)
    total = math.prod(inner.shape) if inner.shape and None not in inner.shape else None
    if shape is None or None in shape or total is None:
        return ArrayInfo((None,), inner.dtype, inner.source, inner.whole_dataset, inner.lib)
    known = math.prod(d for d in shape if d != -1)
    if shape.count(-1) == 1 and known and total % known == 0:
        shape = tuple(total // known if d == -1 else d for d in shape)
    if -1 in shape or math.prod(shape) != total:
        return ArrayInfo((None,), inner.dtype, inner.source, inner.whole_dataset, inner.lib)
    return ArrayInfo(shape, inner.dtype, inner.source, inner.whole_dataset, inner.lib)


def describe_bytes(n: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def describe_mb(n: int) -> str:
    """Decimal megabytes, as RULES.md counts (10000x10000 float32 = 400 MB)."""
    if n >= 10**9:
        return f"{n / 10**9:.1f} GB"
    return f"{n / 10**6:.0f} MB"


# ---------------------------------------------------------------- loop bounds


def iteration_bound(model, loop) -> Optional[int]:
    """An upper bound on a loop's iterations when the code states one:
    ``model.known_iterations`` (literal counts and sequences), ``range(k)``
    with ``k`` an int known through names, ``enumerate``/``zip``/``reversed``
    of a name bound once to a literal sequence, and ``ds.take(n)`` /
    ``range(n)`` where ``n`` is a parameter of the loop's function whose
    default and every argument passed for it in this file are known ints
    (``def show(ds, num=1)`` called as ``show(ds, 3)``).  None when unknown."""
    n = model.known_iterations(loop)
    if n is not None:
        return n
    return _iterable_bound(model, loop.iter, loop.function, 0)


def total_iterations(model, loop) -> Optional[int]:
    """How many times the body of ``loop`` runs in all: the product of the
    bounds of the loop and of every loop around it (None when one is unknown)."""
    total = 1
    while loop is not None:
        n = iteration_bound(model, loop)
        if n is None:
            return None
        total *= n
        loop = loop.parent
    return total


def _iterable_bound(model, it, fn, depth: int) -> Optional[int]:
    if it is None or depth > 3:
        return None
    if isinstance(it, (ast.List, ast.Tuple, ast.Set)):
        return None if any(isinstance(e, ast.Starred) for e in it.elts) else len(it.elts)
    if isinstance(it, ast.Name):
        b = model.binding_of(it)
        if (b is not None and b.kind == "assign" and not b.path and isinstance(b.value, (ast.List, ast.Tuple))
                and len(b.scope.bindings.get(b.name, ())) == 1):
            return _iterable_bound(model, b.value, fn, depth + 1)
        return None
    if not isinstance(it, ast.Call) or it.keywords:
        return None
    func = it.func
    if isinstance(func, ast.Name) and func.id in ("enumerate", "reversed", "zip") and it.args:
        parts = it.args if func.id == "zip" else it.args[:1]
        if any(isinstance(a, ast.Starred) for a in parts):
            return None
        known = [b for b in (_iterable_bound(model, a, fn, depth + 1) for a in parts) if b is not None]
        return min(known) if known else None
    if isinstance(func, ast.Name) and func.id == "range" and len(it.args) == 1:
        return _int_bound(model, it.args[0], fn)
    if isinstance(func, ast.Attribute) and func.attr == "take" and len(it.args) == 1:
        return _int_bound(model, it.args[0], fn)
    if isinstance(func, ast.Attribute) and func.attr == "split":
        return _splitter_count(model, func.value)
    return None


# scikit-learn cross-validators: default n_splits (documented defaults, scikit-learn >= 0.22)
SPLITTER_DEFAULTS = {"KFold": 5, "StratifiedKFold": 5, "GroupKFold": 5, "TimeSeriesSplit": 5,
                     "ShuffleSplit": 10, "StratifiedShuffleSplit": 10, "GroupShuffleSplit": 5}


def _splitter_count(model, expr, depth: int = 0) -> Optional[int]:
    """``KFold(n_splits=4)`` (or a name bound to it): the number of splits
    that ``.split(...)`` yields."""
    if isinstance(expr, ast.Name) and depth < 3:
        b = model.binding_of(expr)
        if b is not None and b.kind == "assign" and not b.path and b.value is not None:
            return _splitter_count(model, b.value, depth + 1)
        return None
    if not isinstance(expr, ast.Call):
        return None
    q = model.qualname(expr.func) or ""
    if not q.startswith("sklearn."):
        return None
    name = q.rsplit(".", 1)[-1]
    if name not in SPLITTER_DEFAULTS:
        return None
    given = get_arg(expr, "n_splits", 0)
    return int_value(model, given) if given is not None else SPLITTER_DEFAULTS[name]


def _int_bound(model, expr, fn) -> Optional[int]:
    """A known int, or the largest value a parameter of ``fn`` takes: its
    default and what each call of ``fn`` in this file passes (all known, at
    least one call)."""
    v = int_value(model, expr)
    if v is not None:
        return v
    if not isinstance(expr, ast.Name) or fn is None or isinstance(fn.node, ast.Lambda):
        return None
    b = model.binding_of(expr)
    if b is None or b.kind != "param":
        return None
    args = fn.node.args
    positional = [*args.posonlyargs, *args.args]
    names = [a.arg for a in positional]
    defaults = dict(zip(names[len(names) - len(args.defaults):], args.defaults))
    defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
    name = expr.id
    default = int_value(model, defaults[name]) if name in defaults else None
    index = names.index(name) if name in names else None
    if index is not None and fn.class_name is not None:
        index -= 1  # `self` is not passed at the call
    callers = model.callers(fn)
    if not callers:
        return None
    values = []
    for cs in callers:
        node = cs.node
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        passed = next((k.value for k in node.keywords if k.arg == name), None)
        if passed is None and index is not None and 0 <= index < len(node.args):
            passed = node.args[index]
        value = int_value(model, passed) if passed is not None else default
        if value is None:
            return None
        values.append(value)
    return max(values)
