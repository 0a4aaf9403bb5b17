"""KM302: NumPy float64 data fed to a model, a dataset, or yielded by a batch
generator: twice the memory of float32, and Keras casts it again anyway."""

from __future__ import annotations

import ast
import builtins
from typing import Optional

from kmlint import edits
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.blocks import in_test_function
from kmlint.semantics.model import unpack_value
from kmlint.semantics.names import call_name, get_arg
from kmlint.semantics.sizes import FLOAT_DTYPES, INT_DTYPES, NUMPY_FLOAT64_DEFAULT, SHAPE_PRESERVING, dtype_name, estimate
from kmlint.semantics.values import describe_mb, value_of

MODEL_METHODS = {"fit", "predict", "evaluate", "train_on_batch", "test_on_batch", "predict_on_batch"}
GENERATOR_FEEDS = MODEL_METHODS | {"fit_generator", "predict_generator", "evaluate_generator"}
DATASET_FEEDS = {"tensorflow.data.Dataset.from_tensor_slices", "tensorflow.data.Dataset.from_tensors"}
# numpy constructors taking ``dtype`` (second positional argument)
TAKES_DTYPE = {"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.full", "numpy.array", "numpy.asarray"}
SEQUENCE_BASES = ("Sequence", "PyDataset")
# array methods whose result has the array's dtype
DTYPE_KEEPING = {"reshape", "squeeze", "transpose", "flatten", "ravel", "swapaxes", "copy"}
BUILTIN_NAMES = frozenset(dir(builtins))
# a batch generator's float64 buffer under this many bytes per batch is noise
BATCH_FLOOR_BYTES = 10**6
# operand types that take `.astype(...)` without parentheses
ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)


@register
class Float64Input(Rule):
    code = "KM302"
    name = "float64-input"
    summary = "NumPy float64 data fed to a model, a dataset or yielded by a batch generator (2x the memory of float32)"
    fixable = "unsafe"
    confirmable = True
    # keras.datasets arrays are NumPy arrays too; `astype` makes float64 from anything (pandas frames)
    tokens = ("numpy", "np.", "load_data", "astype")

    def check_module(self, model, ctx) -> None:
        # each source once, described by the first place that feeds it
        found: dict[int, tuple[int, ast.AST, str]] = {}
        for expr, where, order in self._fed(model):
            fed = value_of(model, expr)
            if fed.kind == "array" and fed.dtype is not None and fed.dtype != "float64":
                continue  # the abstract-value layer knows it is not float64 (float32 before `/ 255.`)
            source = float64_source(model, expr)
            if source is None and fed.kind == "array" and fed.dtype == "float64" and fed.lib == "numpy" \
                    and isinstance(fed.made_at, (ast.BinOp, ast.Call)):
                # float64 made through one more name, a helper's return, a slice or reshape
                source = fed.made_at
            if source is None:
                continue
            # a batch generator yields its buffer every step: the size of one batch does not bound it
            per_batch = where.startswith(("yielded by", "returned by"))
            # a generator's buffer is made every step: weighed per batch against a smaller floor
            floor = BATCH_FLOOR_BYTES if per_batch else ctx.settings.float64_min_bytes
            tiny = _tiny(model, source, floor) or _tiny_value(fed, floor)
            if tiny and not (per_batch and _sized_by_parameters(model, source)):
                continue
            if not _size_known(model, source, fed) and in_test_function(model, source):
                continue  # a unit test's fixture, sized by the test's cases
            if id(source) not in found or order < found[id(source)][0]:
                found[id(source)] = (order, source, where)
        np_alias = model.alias_for("numpy")
        for _, source, where in sorted(found.values(), key=lambda s: model.order(s[1]) or 0):
            fix = _fix(model, source, f"{np_alias}.float32" if np_alias else '"float32"')
            text = model.text(source)
            if len(text) > 60:
                text = text[:57] + "..."
            assumed = _assumed(model, source, where.startswith(("yielded by", "returned by")))
            ctx.report(source, f"`{text}` is float64{assumed} and is {where}: twice the memory of float32 (Keras "
                               f"computes in float32 and converts it again); cast to float32 where it is created", fix)

    # ---------------------------------------------------------------- where data enters
    def _fed(self, model):
        for name in MODEL_METHODS:
            for cs in model.calls_by_name.get(name, ()):
                if not isinstance(cs.node.func, ast.Attribute) or not model.is_keras_model(cs.receiver):
                    continue
                where = f"fed to `{model.text(cs.node.func)}`"
                x = get_arg(cs.node, "x", 0)
                if x is not None:
                    yield from ((e, where, cs.order) for e in _inputs(x))
                validation = _first(get_arg(cs.node, "validation_data"))
                if validation is not None:
                    yield from ((e, where, cs.order) for e in _inputs(validation))
        for cs in model.calls:  # model(x)
            func = cs.node.func
            first = _first_argument(cs.node)
            if isinstance(func, ast.Name) and func.id not in BUILTIN_NAMES and first is not None \
                    and _may_be_model(model, func) and (model.is_keras_model(func) or _keras_subclass_instance(model, func)):
                yield from ((e, f"fed to `{func.id}(...)`", cs.order) for e in _inputs(first))
        for name in ("from_tensor_slices", "from_tensors"):
            for cs in model.calls_by_name.get(name, ()):
                arg = _first_argument(cs.node)
                if model.qualname(cs.node.func) in DATASET_FEEDS and arg is not None:
                    first = _first(arg)
                    if first is not None:
                        yield first, f"turned into a dataset by `{name}`", cs.order
        for fn in _batch_generators(model):
            for y in fn.yields:
                value = y.value
                if value is None or isinstance(y, ast.YieldFrom):
                    continue
                first = _first(value) if isinstance(value, ast.Tuple) else value
                if first is not None:
                    yield first, f"yielded by the batch generator `{fn.name}()`", fn.order
            if fn.name == "__getitem__":
                for r in fn.returns:
                    first = _first(r) if isinstance(r, ast.Tuple) else r
                    if first is not None:
                        yield first, f"returned by `{fn.class_name}.__getitem__`", fn.order


def _first_argument(call: ast.Call) -> Optional[ast.expr]:
    """The call's first argument, as written (positional, else the first keyword's value)."""
    if call.args:
        first = call.args[0]
        return first.value if isinstance(first, ast.Starred) else first
    return call.keywords[0].value if call.keywords else None


def _tiny(model, source, floor: int) -> bool:
    """A known size under ``float64-min-bytes`` (64 MiB: test fixtures, toy
    examples, a 10000-image MNIST test split): halving it saves too little to
    matter (the precision audit judged 27 kB-63 MB findings of little value).
    Unknown sizes (a batch size from a parameter) still count."""
    info = estimate(model, source)
    return info is not None and info.nbytes is not None and info.nbytes < floor


def _size_known(model, source, fed) -> bool:
    info = estimate(model, source)
    return (info is not None and info.nbytes is not None) or (fed.kind == "array" and fed.nbytes is not None)


def _tiny_value(v, floor: int) -> bool:
    return v.kind == "array" and v.nbytes is not None and v.nbytes < floor


def _assumed(model, source, per_batch: bool = False) -> str:
    """`` (~376 MB: keras.datasets.mnist train images, 60000x28x28 uint8 -> float64 after / 255.0)``
    when the size is known; a generator's batch says that it is made every step."""
    v = value_of(model, source)
    if v.kind != "array" or v.nbytes is None:
        return ""
    if per_batch:
        return f" (~{describe_mb(v.nbytes)} per batch, made again every step: {v.describe()})"
    return f" (~{describe_mb(v.nbytes)}: {v.describe()})"


def _sized_by_parameters(model, source) -> bool:
    """A batch generator's buffer whose shape comes from the generator's
    parameters (``np.zeros((batch_size, 28, 28))``): its size is the caller's
    choice, not a fixed toy size."""
    for node in model.ancestors(source):
        fn = model.function_of.get(id(node))
        if fn is not None:
            return model.depends_on_params(fn, source)
    return False


def _first(value) -> Optional[ast.expr]:
    """Features of an ``(x, y)`` pair."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return value.elts[0] if value.elts and not isinstance(value.elts[0], ast.Starred) else None
    return value


def _inputs(value) -> list:
    """Model inputs: one array or a list of arrays (multi-input models)."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return [e for e in value.elts if not isinstance(e, ast.Starred)]
    return [value]


KERAS_MODEL_BASES = {"keras.Model", "keras.Sequential"}


def _keras_subclass_instance(model, func: ast.Name) -> bool:
    """``model = Autoencoder()`` where ``class Autoencoder(tf.keras.Model)`` is
    defined in this file (custom training loops call ``model(x)``)."""
    b = model.binding_of(func)
    if b is None or b.kind != "assign" or b.path or not isinstance(b.value, ast.Call):
        return False
    ctor = b.value.func
    cb = model.binding_of(ctor) if isinstance(ctor, ast.Name) else None
    if cb is None or cb.kind != "class" or not isinstance(cb.node, ast.ClassDef):
        return False
    return any((model.qualname(base) or "") in KERAS_MODEL_BASES for base in cb.node.bases)


def _may_be_model(model, func: ast.Name) -> bool:
    """Skip names that are plainly functions, classes or imports before the
    (costlier) Keras-model check."""
    b = model.binding_of(func)
    return b is None or b.kind not in ("def", "class", "import")


def _batch_generators(model):
    """Generator functions that feed a model: handed to Keras or tf.data in
    this file, or shaped like a Keras generator (yield (x, y) in a
    ``while True`` loop or in a TF/Keras file), and ``Sequence.__getitem__``."""
    fed: set[int] = set()
    for name in GENERATOR_FEEDS | {"from_generator"}:
        for cs in model.calls_by_name.get(name, ()):
            value = _first_argument(cs.node)
            if value is None:
                continue
            if isinstance(value, ast.Name):
                b = model.binding_of(value)
                if b is not None and b.kind == "assign" and isinstance(b.value, ast.Call):
                    value = b.value
            target = model.function_for(value) if name == "from_generator" else None
            if isinstance(value, ast.Call):
                inner = model.call_of.get(id(value))
                target = model.function_called(inner) if inner is not None else None
            if target is not None:
                fed.add(id(target))
    out = []
    for fn in model.functions:
        if fn.yields:
            pairs = [y for y in fn.yields if not isinstance(y, ast.YieldFrom) and isinstance(y.value, ast.Tuple)
                     and 2 <= len(y.value.elts) <= 3]
            forever = any(l.function is fn and l.kind == "while" and _is_true(l.node.test) for l in model.loops)
            if id(fn) in fed or (pairs and (forever or model.uses_tensorflow)):
                out.append(fn)
        elif fn.name == "__getitem__" and fn.class_name and _is_sequence_class(model, fn):
            out.append(fn)
    return out


def _is_true(test) -> bool:
    return isinstance(test, ast.Constant) and (test.value is True or (type(test.value) is int and test.value == 1))


def _is_sequence_class(model, fn) -> bool:
    scope = fn.parent_scope
    if scope.kind != "class" or not isinstance(scope.node, ast.ClassDef):
        return False
    for base in scope.node.bases:
        q = model.qualname(base) or ""
        if q.rsplit(".", 1)[-1] in SEQUENCE_BASES and (q.startswith("keras.") or "." not in q):
            return True
    return False


# -------------------------------------------------------------------- sources


def float64_source(model, expr, depth: int = 0) -> Optional[ast.expr]:
    """The expression that creates float64 NumPy data flowing into ``expr``:
    a float64-by-default constructor, ``astype(float)``, ``dtype=float``, or a
    true division of an integer array.  None when unknown or not float64."""
    if expr is None or depth > 10:
        return None
    if isinstance(expr, ast.Name):
        b = model.binding_of(expr)
        if b is None or b.kind not in ("assign", "annassign") or b.value is None:
            return None
        if b.path:  # `x, y = x / 255.0, y / 255.0`: follow the tuple element
            return float64_source(model, unpack_value(b.value, b.path), depth + 1)
        return float64_source(model, b.value, depth + 1)
    if isinstance(expr, ast.Subscript):
        return float64_source(model, expr.value, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in DTYPE_KEEPING:
        return float64_source(model, expr.func.value, depth + 1)
    if isinstance(expr, ast.Call):
        q = model.qualname(expr.func)
        first = _first_argument(expr)
        if q in NUMPY_FLOAT64_DEFAULT or q in TAKES_DTYPE:
            dtype = get_arg(expr, "dtype", 1 if q in TAKES_DTYPE and q != "numpy.full" else None)
            if q == "numpy.full":
                dtype = get_arg(expr, "dtype", 2)
            if dtype is not None:
                return expr if dtype_name(dtype) == "float64" else None
            if q in NUMPY_FLOAT64_DEFAULT:
                return expr
            return float64_source(model, first, depth + 1) if q in SHAPE_PRESERVING and first is not None else None
        if call_name(expr) == "astype" and isinstance(expr.func, ast.Attribute) and first is not None:
            return expr if dtype_name(first) == "float64" else None
        if q in SHAPE_PRESERVING and q.startswith("tensorflow.") and first is not None and get_arg(expr, "dtype") is None:
            return float64_source(model, first, depth + 1)
        return None
    if isinstance(expr, ast.BinOp):
        if isinstance(expr.op, (ast.Div, ast.Mult, ast.Add, ast.Sub)):
            left = _operand(model, expr.left)
            if left is not None and left.lib == "numpy" and left.dtype in INT_DTYPES:
                return expr if _makes_float64(expr) else None
            if left is not None and left.dtype in FLOAT_DTYPES and left.dtype != "float64":
                return None
            return float64_source(model, expr.left, depth + 1)
    return None


NUMPY_DTYPE_KEEPING = {"numpy.reshape", "numpy.squeeze", "numpy.expand_dims", "numpy.swapaxes", "numpy.transpose",
                       "numpy.moveaxis", "numpy.ascontiguousarray"}


def _operand(model, expr):
    """The left operand's dtype and library: the abstract-value layer first
    (names through one more name, ``np.array(x, np.float32)``), then
    ``_unsliced_estimate``."""
    v = value_of(model, expr)
    if v.kind == "array" and v.dtype is not None:
        return v
    return _unsliced_estimate(model, expr)


def _unsliced_estimate(model, expr):
    """Dtype of an array, looking through slices and reshapes (``x[:100]``,
    ``x.reshape(-1, 784)`` keep x's dtype; the shape is not needed here)."""
    while True:
        if isinstance(expr, ast.Subscript):
            expr = expr.value
        elif isinstance(expr, ast.Call) and _first_argument(expr) is not None \
                and model.qualname(expr.func) in NUMPY_DTYPE_KEEPING:
            expr = _first_argument(expr)  # np.reshape(x, ...) / np.squeeze(x) keep x's dtype
        elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in DTYPE_KEEPING:
            expr = expr.func.value
        else:
            return estimate(model, expr)


def _is_float(node) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is float


def _makes_float64(op: ast.BinOp) -> bool:
    """Integer array <op> right operand gives float64: true division, or a
    float literal operand."""
    if isinstance(op.op, ast.Div):
        return True
    right = op.right
    if isinstance(right, ast.BinOp):
        return any(_is_float(side) for side in (right.left, right.right))
    return _is_float(right)


def _fix(model, source, float32: str) -> Fix:
    """Make the source float32: ``dtype=``, ``astype``'s argument, a cast of the
    integer operand before the division, or ``.astype`` appended."""
    if isinstance(source, ast.BinOp):
        change = edits.replace(model, source, _cast_left(model, source, float32))
        description = "Cast the integer data to float32 before dividing"
    elif call_name(source) == "astype":
        change = edits.replace(model, _first_argument(source), float32)
        description = "Cast to float32 instead"
    elif model.qualname(source.func) in TAKES_DTYPE:
        change = _set_dtype(model, source, float32)
        description = "Create the array as float32"
    else:
        change = edits.replace(model, source, f"{model.text(source)}.astype({float32})")
        description = f"Append `.astype({float32})`"
    return Fix(UNSAFE, description, edits=edits.flatten([change]))


def _cast_left(model, op: ast.BinOp, float32: str) -> str:
    """The text of ``op`` with its left operand cast: ``x.astype(f32) / 255``,
    ``(a + b).astype(f32) / 255``; the rest of the expression as written."""
    whole = model.text(op)
    index = model.index
    start, left, right = model.span(op), model.span(op.left), model.span(op.right)
    base = index.offset(start.line, start.col)
    left_start = index.offset(left.line, left.col) - base
    left_end = index.offset(left.end_line, left.end_col) - base
    right_start = index.offset(right.line, right.col) - base
    between = whole[left_end:right_start]
    # the operand with its own parentheses: up to the last ")" before the operator
    close = between.rfind(")", 0, _operator_at(between))
    operand_end = left_end + close + 1 if left_start > 0 and close >= 0 else left_end
    operand = whole[:operand_end]
    if operand_end == left_end and not isinstance(op.left, ATOMS):
        operand = f"({operand})"
    return f"{operand}.astype({float32}){whole[operand_end:]}"


def _operator_at(between: str) -> int:
    """Where the binary operator sits in the text between two operands
    (after the left operand's closing parentheses and any comment)."""
    i = 0
    while i < len(between):
        c = between[i]
        if c == "#":
            nl = between.find("\n", i)
            i = len(between) if nl < 0 else nl + 1
        elif c in " \t\r\n\\)":
            i += 1
        else:
            return i
    return len(between)


def _set_dtype(model, call: ast.Call, float32: str):
    position = 2 if call_name(call) == "full" else 1
    if len(call.args) > position:
        return edits.replace(model, call.args[position], float32)
    return edits.set_keyword(model, call, "dtype", float32)
