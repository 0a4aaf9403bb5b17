"""The abstract-value layer (issue 16): what is known of an expression's value.

``value_of(model, expr)`` answers, for an expression at its point in the
program, a :class:`Value`: its kind (array, tuple of values, module, int,
dataset, layer), and for arrays the shape (dims may be unknown), dtype,
element count, bytes and origin ("keras.datasets.cifar10 train images",
"decoded image files", "tfds cats_vs_dogs split train[:80%]"), plus the steps
that changed it ("/ 255 -> float64").  :data:`UNKNOWN` is a first-class answer:
nothing is guessed.

Values are propagated through

* assignments, tuple unpacking (``(x_train, y_train), (x_test, y_test) =
  load_data()``, a loader result bound to a name and unpacked later) and
  augmented assignments (``x /= 255``);
* "one more name": ``mnist = tf.keras.datasets.mnist`` then
  ``mnist.load_data()``, ``import tensorflow.compat.v1 as tf``;
* arithmetic with NumPy's promotion rules (``uint8 / 255`` and
  ``(x - 127.5) / 127.5`` make float64; Python scalars are weak, so a float32
  array stays float32: ``kmlint/knowledge/numpy_dtypes.json``);
* NumPy/TensorFlow/Keras constructors and transforms: the constructors of
  ``numpy_dtypes.json`` (shape arguments, dtype= given or the documented
  default), ``np.array(list)``, ``np.array(x, np.float32)``, reshape (one
  ``-1`` inferred, ``x.shape[0]`` understood), astype, ``tf.cast``,
  concatenate/vstack/stack/``tf.stack``, expand_dims, ``[..., np.newaxis]``,
  slicing, ``len(x)``, ``x.shape[i]``, ``to_categorical``;
* function returns, with the call site's arguments bound to the parameters
  (a helper returning ``load_data()`` arrays, ``normalize(x_train, x_test)``
  returning a tuple, ``np.zeros((len(seqs), n))`` inside a helper), and
  parameters whose every caller in the file passes the same kind of value;
* across notebook cells (the model joins cells already);
* ``tf.data``: ``from_tensor_slices`` (element = one row, count = first dim),
  ``map`` with a function whose return value is known (resize to (h, w), a
  ``TextVectorization`` in ``multi_hot``/``tf_idf`` mode: width = max_tokens),
  ``batch``, ``take``/``skip``, ``tfds.load`` splits (with split lists
  unpacked), ``image_dataset_from_directory`` and ``list_files`` + decode
  pipelines (per-element size from the resize; count unbounded).

Knowledge comes from the tables of :mod:`kmlint.knowledge` (each entry cites
its source), not from literals here.  Results are memoised per model in
``model._memo``; no tree walk beyond the model's own records.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field, replace
from typing import Optional

from kmlint import knowledge
from kmlint.semantics.names import canonical, get_arg, keras_synonym, literal_value

# --------------------------------------------------------------------------- the value


@dataclass(frozen=True)
class Value:
    """What is known of one value.  Fields that are unknown are None."""

    kind: str = "unknown"  # unknown | array | tuple | module | int | dataset | layer | list
    shape: Optional[tuple[Optional[int], ...]] = None  # None: rank unknown
    dtype: Optional[str] = None
    lib: Optional[str] = None  # numpy | tensorflow | python
    origin: str = ""  # where the data comes from, in words
    steps: tuple[str, ...] = ()  # transformations that changed the dtype or size, in words
    unbounded: bool = False  # grows with something the file does not bound (files, a directory)
    whole_dataset: bool = False  # a whole data set (split) of a known loader
    items: tuple["Value", ...] = ()  # tuple / list kinds: the elements
    qualname: Optional[str] = None  # module kind: canonical dotted name; layer kind: the class
    number: Optional[int] = None  # int kind
    element: Optional["Value"] = None  # dataset kind: one element; list kind: every item
    count: Optional[int] = None  # dataset kind: number of elements (None unknown)
    batch: Optional[int] = None  # dataset kind: examples per element after batch(n) (None: not batched / unknown)
    options: tuple[tuple[str, object], ...] = field(default=(), compare=False)  # layer kind: config
    # the expression that gave the array its current dtype (a constructor, a division, astype)
    made_at: Optional[ast.AST] = field(default=None, compare=False)
    source_dtype: Optional[str] = None  # the dtype before the first dtype-changing step

    # ---------------------------------------------------------------- facts
    @property
    def known(self) -> bool:
        return self.kind != "unknown"

    @property
    def is_array(self) -> bool:
        return self.kind == "array"

    @property
    def size(self) -> Optional[int]:
        """Number of elements of an array (None when a dimension is unknown)."""
        if self.kind != "array" or self.shape is None or any(d is None for d in self.shape):
            return None
        return math.prod(self.shape)  # type: ignore[arg-type]

    @property
    def itemsize(self) -> Optional[int]:
        return knowledge.itemsize(self.dtype) if self.dtype else None

    @property
    def nbytes(self) -> Optional[int]:
        """Bytes of an array, of a tuple of arrays, or of a whole dataset whose
        count and element size are known."""
        if self.kind == "array":
            n, s = self.size, self.itemsize
            return n * s if n is not None and s is not None else None
        if self.kind in ("tuple", "dict"):
            parts = [v.nbytes for v in self.items]
            return sum(parts) if parts and None not in parts else None  # type: ignore[arg-type]
        if self.kind == "dataset":
            per = self.element.nbytes if self.element is not None else None
            if per is not None and self.count is not None:
                return per * self.count
            return dict(self.options).get("decoded_bytes")  # type: ignore[return-value]
        return None

    @property
    def example_bytes(self) -> Optional[int]:
        """Dataset kind: bytes of one example (an element divided by its batch size)."""
        per = self.element_bytes
        if per is None:
            return None
        return per // self.batch if self.batch else per

    @property
    def element_bytes(self) -> Optional[int]:
        """Dataset kind: bytes of one element."""
        return self.element.nbytes if self.kind == "dataset" and self.element is not None else None

    def describe(self) -> str:
        """What was assumed, for messages: ``cifar10 train images, 50000x32x32x3
        uint8 -> float64 after / 255``."""
        parts = []
        if self.origin:
            parts.append(self.origin)
        if self.kind == "array" and self.shape is not None:
            dims = "x".join("?" if d is None else str(d) for d in self.shape) or "scalar"
            parts.append(f"{dims} {(self.source_dtype if self.steps else None) or self.dtype or '?'}")
        elif self.kind == "tuple" and self.items and not self.origin:
            inner = [i.describe() for i in self.items if i.known]
            return "(" + "; ".join(inner) + ")" if inner else ""
        elif self.kind == "dataset":
            if self.count is not None:
                parts.append(f"{self.count} elements")
            if self.element is not None and self.element.nbytes is not None:
                parts.append(f"{_mb(self.element.nbytes)} each")
        text = ", ".join(parts)
        if self.steps:
            text += " -> " + ", ".join(self.steps)
        return text

    # ---------------------------------------------------------------- derived values
    def with_dtype(self, dtype: Optional[str], step: Optional[str] = None, at: Optional[ast.AST] = None) -> "Value":
        if dtype == self.dtype:
            return self
        steps = self.steps + ((step,) if step else ())
        source = self.source_dtype if self.steps and self.source_dtype else self.dtype
        return replace(self, dtype=dtype, steps=steps, made_at=at, source_dtype=source)

    def with_shape(self, shape: Optional[tuple[Optional[int], ...]], step: Optional[str] = None) -> "Value":
        steps = self.steps + ((step,) if step else ())
        return replace(self, shape=shape, steps=steps)

    def item(self, index: int) -> "Value":
        if self.kind in ("tuple", "list") and self.items and -len(self.items) <= index < len(self.items):
            return self.items[index]
        if self.kind == "list" and self.element is not None:
            return self.element
        return UNKNOWN

    def at_path(self, path: tuple[int, ...]) -> "Value":
        v = self
        for i in path:
            v = v.item(i)
        return v


UNKNOWN = Value()
# evaluations under a call site's parameter bindings per file (see value_of)
ENV_BUDGET = 50_000


def _mb(n: int) -> str:
    if n >= 10**9:
        return f"{n / 10**9:.1f} GB"
    if n >= 10**6:
        return f"{n / 10**6:.0f} MB"
    if n >= 10**3:
        return f"{n / 10**3:.0f} kB"
    return f"{n} B"


def describe_mb(n: int) -> str:
    """Decimal megabytes, as RULES.md counts (10000x10000 float32 = 400 MB)."""
    return _mb(n)


def array(shape, dtype, lib="numpy", origin="", **kw) -> Value:
    return Value("array", tuple(shape) if shape is not None else None, dtype, lib, origin, **kw)


def mapping(keys, values, origin: str = "", **kw) -> Value:
    """A dict of known string keys (``{"image": x}``, a tfds example, tfds splits)."""
    return Value("dict", items=tuple(values), options=(("keys", tuple(keys)),), origin=origin, **kw)


def dict_item(v: Value, key: str) -> Value:
    keys = dict(v.options).get("keys") if v.kind == "dict" else None
    if not keys or key not in keys:  # type: ignore[operator]
        return UNKNOWN
    return v.items[keys.index(key)]  # type: ignore[union-attr]


def module(qualname: str) -> Value:
    return Value("module", qualname=qualname)


def integer(n: Optional[int]) -> Value:
    return Value("int", number=n) if n is not None else UNKNOWN


# --------------------------------------------------------------------------- dtypes

_FLOATS = ("float16", "bfloat16", "float32", "float64")
_INTS = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64")
FLOAT_DTYPES = frozenset(_FLOATS)
INT_DTYPES = frozenset(_INTS)
_SHORT = {"f2": "float16", "f4": "float32", "f8": "float64", "i1": "int8", "i2": "int16", "i4": "int32",
          "i8": "int64", "u1": "uint8", "u2": "uint16", "<f4": "float32", "<f8": "float64", "float": "float64",
          "double": "float64", "single": "float32", "half": "float16", "int": "int64", "float_": "float64",
          "str": "string", "object": "object", "string": "string"}


def dtype_name(node: Optional[ast.expr]) -> Optional[str]:
    """``np.float32``, ``tf.float32``, ``"float32"``, ``float``, ``'f4'`` -> canonical name."""
    if node is None:
        return None
    name = None
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    else:
        try:
            v = literal_value(node)
        except ValueError:
            return None
        name = v if isinstance(v, str) else None
    if name is None:
        return None
    name = _SHORT.get(name, name)
    return name if (name in FLOAT_DTYPES or name in INT_DTYPES or name in ("string", "object", "complex64",
                                                                          "complex128")) else None


def _kind(dtype: Optional[str]) -> Optional[str]:
    if dtype in FLOAT_DTYPES:
        return "float"
    if dtype in INT_DTYPES:
        return "int"
    return None


def promote(a: Optional[str], b: Optional[str]) -> Optional[str]:
    """NumPy's promotion of two array dtypes (float wins, then the wider)."""
    if a is None or b is None:
        return None
    if a == b:
        return a
    ka, kb = _kind(a), _kind(b)
    if ka == "float" and kb == "int":
        return "float64" if a == "float16" and b not in ("bool", "int8", "uint8") else a
    if kb == "float" and ka == "int":
        return promote(b, a)
    if ka == kb == "float":
        return max(a, b, key=lambda d: knowledge.itemsize(d) or 0)
    if ka == kb == "int":
        return max(a, b, key=lambda d: knowledge.itemsize(d) or 0)
    return None


def _scalar_kind(node: ast.expr) -> Optional[str]:
    """A Python scalar operand: "int" / "float" (weak in NumPy and TF, NEP 50)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and type(node.value) is not bool:
        return "float" if type(node.value) is float else "int"
    return None


def binop_dtype(left: Value, op: ast.operator, right_scalar: Optional[str], right: Value) -> Optional[str]:
    """The dtype of ``array <op> other`` by the rules in numpy_dtypes.json."""
    d = left.dtype
    if d is None:
        return None
    if left.lib == "tensorflow":
        # TF does not promote: the tensor's dtype, except true division of integers
        if isinstance(op, ast.Div) and d in INT_DTYPES:
            return "float64" if d in ("int32", "int64") else "float32"
        return d
    if right_scalar is not None:
        if d in INT_DTYPES:
            if isinstance(op, ast.Div) or right_scalar == "float":
                return "float64"
            return d
        return d  # float arrays keep their dtype with Python scalars
    if right.kind == "array" and right.dtype is not None:
        if isinstance(op, ast.Div) and d in INT_DTYPES and right.dtype in INT_DTYPES:
            return "float64"
        return promote(d, right.dtype)
    if isinstance(op, ast.Div) and d in INT_DTYPES:
        return "float64"  # divided by something: at least float64 for integer arrays
    return None if d in INT_DTYPES else d


_OP_TEXT = {ast.Div: "/", ast.Mult: "*", ast.Add: "+", ast.Sub: "-", ast.FloorDiv: "//", ast.Pow: "**"}


# --------------------------------------------------------------------------- names


def _norm(q: Optional[str]) -> Optional[str]:
    """Canonical spelling: ``tensorflow.compat.v1.X`` is ``tensorflow.X``, Keras paths are ``keras.X``."""
    if q is None:
        return None
    for prefix in ("tensorflow.compat.v1.", "tensorflow.compat.v2."):
        if q.startswith(prefix):
            q = "tensorflow." + q[len(prefix):]
            break
    if q in ("tensorflow.compat.v1", "tensorflow.compat.v2"):
        q = "tensorflow"
    return keras_synonym(canonical(q))


_CONVENTIONAL = {"np": "numpy", "tf": "tensorflow", "tfds": "tensorflow_datasets", "keras": "keras",
                 "numpy": "numpy", "tensorflow": "tensorflow"}


def func_qualname(model, func: Optional[ast.expr], env=None) -> Optional[str]:
    """The canonical dotted name of a callee, also through one more name
    (``mnist = tf.keras.datasets.mnist``; ``mnist.load_data``)."""
    if func is None:
        return None
    v = value_of(model, func, env) if isinstance(func, (ast.Name, ast.Attribute)) else UNKNOWN
    if v.kind == "module":
        return v.qualname
    return None


# --------------------------------------------------------------------------- entry points


def value_of(model, expr: Optional[ast.AST], env: Optional[dict] = None, depth: int = 0) -> Value:
    """What is known of ``expr``'s value (UNKNOWN when nothing is).  ``env``
    maps parameters of a helper being followed from a call site to the
    argument values there."""
    if expr is None or depth > 24:
        return UNKNOWN
    if env:
        # values under a call site's bindings are not memoised: a per-file budget
        # keeps pathological helper nests linear
        spent = model._memo.get("values_env_steps", 0) + 1
        model._memo["values_env_steps"] = spent
        if spent > ENV_BUDGET:
            return UNKNOWN
        return _value(model, expr, env, depth)
    memo = model._memo.setdefault("values", {})
    key = id(expr)
    hit = memo.get(key)
    if hit is not None:
        return hit
    memo[key] = UNKNOWN  # cycles answer unknown
    v = _value(model, expr, None, depth)
    memo[key] = v
    return v


def int_of(model, expr: Optional[ast.AST], env=None, depth: int = 0) -> Optional[int]:
    """An integer known statically: literals, names, arithmetic, ``len(x)``,
    ``x.shape[0]`` of known arrays."""
    v = value_of(model, expr, env, depth)
    return v.number if v.kind == "int" else None


def shape_arg(model, expr: Optional[ast.expr], env=None, depth: int = 0) -> Optional[tuple[Optional[int], ...]]:
    """A shape argument: ``(n, 28, 28)``, ``[-1, 784]``, ``n``, ``x.shape``."""
    if expr is None:
        return None
    if isinstance(expr, (ast.Tuple, ast.List)):
        out = []
        for e in expr.elts:
            if isinstance(e, ast.Starred):
                inner = value_of(model, e.value, env, depth + 1)
                if inner.kind == "tuple" and all(i.kind == "int" for i in inner.items):
                    out.extend(i.number for i in inner.items)
                    continue
                return None
            out.append(int_of(model, e, env, depth + 1))
        return tuple(out)
    v = value_of(model, expr, env, depth + 1)
    if v.kind == "int":
        return (v.number,)
    if v.kind == "tuple" and all(i.kind in ("int", "unknown") for i in v.items):
        return tuple(i.number for i in v.items)
    if isinstance(expr, ast.IfExp):
        shapes = [shape_arg(model, expr.body, env, depth + 1), shape_arg(model, expr.orelse, env, depth + 1)]
        if any(s is None or None in s for s in shapes):
            return None
        return max(shapes, key=math.prod)  # an upper bound
    return None


# --------------------------------------------------------------------------- the evaluator


def _value(model, expr: ast.AST, env, depth: int) -> Value:
    t = type(expr)
    if t is ast.Constant:
        value = expr.value  # type: ignore[attr-defined]
        if type(value) is int:
            return integer(value)
        if type(value) is float:
            return Value("float")
        if isinstance(value, str):
            return Value("str", origin=value)
        return UNKNOWN
    if t is ast.Name:
        return _name(model, expr, env, depth)  # type: ignore[arg-type]
    if t is ast.Attribute:
        return _attribute(model, expr, env, depth)  # type: ignore[arg-type]
    if t is ast.Call:
        return _call(model, expr, env, depth)  # type: ignore[arg-type]
    if t is ast.BinOp:
        return _binop(model, expr, env, depth)  # type: ignore[arg-type]
    if t is ast.UnaryOp:
        inner = value_of(model, expr.operand, env, depth + 1)  # type: ignore[attr-defined]
        if inner.kind == "int" and isinstance(expr.op, ast.USub):  # type: ignore[attr-defined]
            return integer(-inner.number)  # type: ignore[operator]
        return inner if inner.kind == "array" else UNKNOWN
    if t is ast.Subscript:
        return _subscript(model, expr, env, depth)  # type: ignore[arg-type]
    if t is ast.Tuple:
        return Value("tuple", items=tuple(value_of(model, e, env, depth + 1) for e in expr.elts))  # type: ignore[attr-defined]
    if t is ast.List:
        return _list_literal(model, expr, env, depth)  # type: ignore[arg-type]
    if t is ast.Dict:
        keys = [k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None
                for k in expr.keys]  # type: ignore[attr-defined]
        if None in keys:
            return UNKNOWN
        return mapping(keys, [value_of(model, v, env, depth + 1) for v in expr.values])  # type: ignore[attr-defined]
    if t is ast.IfExp:
        a = value_of(model, expr.body, env, depth + 1)  # type: ignore[attr-defined]
        b = value_of(model, expr.orelse, env, depth + 1)  # type: ignore[attr-defined]
        return join(a, b)
    if t is ast.NamedExpr:
        return value_of(model, expr.value, env, depth + 1)  # type: ignore[attr-defined]
    return UNKNOWN


def join(a: Value, b: Value) -> Value:
    """The value known on both paths (same kind and dtype; dims that differ become unknown)."""
    if a == b:
        return a
    if a.kind != b.kind or a.kind != "array" or a.dtype != b.dtype:
        if a.kind == b.kind == "int":
            return UNKNOWN
        return UNKNOWN
    shape = None
    if a.shape is not None and b.shape is not None and len(a.shape) == len(b.shape):
        shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
    return replace(a, shape=shape, origin=a.origin if a.origin == b.origin else "")


# ---------------------------------------------------------------- names


def _name(model, expr: ast.Name, env, depth: int) -> Value:
    if env:
        b = model.binding_of(expr)
        key = (id(b.scope), expr.id) if b is not None and b.kind == "param" else None
        if key is not None and key in env:
            return env[key]
    b = model.binding_of(expr)
    if b is None:
        # a fragment without imports: conventional aliases name their modules
        q = _CONVENTIONAL.get(expr.id)
        return module(q) if q else UNKNOWN
    return binding_value(model, b, env, depth)


def binding_value(model, b, env=None, depth: int = 0) -> Value:
    """The value a binding gives its name."""
    kind = b.kind
    if kind == "import":
        return module(_norm(b.imported)) if b.imported and not b.imported.startswith(".") else UNKNOWN
    if kind in ("assign", "annassign", "walrus") and b.value is not None:
        if isinstance(b.value, ast.List) and not b.value.elts and not b.path:
            return _appended_list(model, b, env, depth)
        v = value_of(model, b.value, env if b.scope is not model.module_scope else None, depth + 1)
        if b.path:
            inner = v.at_path(b.path)
            if inner.known:
                return inner
            # `a, b = x / 255.0, y / 255.0`: the element of the literal tuple
            element = _unpack_literal(b.value, b.path)
            return value_of(model, element, env, depth + 1) if element is not None else UNKNOWN
        return v
    if kind == "augassign" and isinstance(b.stmt, ast.AugAssign):
        before = model.lookup(b.name, b.scope, b.order)
        if before is None or before is b:
            return UNKNOWN
        left = binding_value(model, before, env, depth + 1)
        return _arith(model, left, b.stmt.op, b.stmt.value, env, depth)
    if kind == "param":
        if env and (id(b.scope), b.name) in env:
            return env[(id(b.scope), b.name)]
        return _param_value(model, b, depth)
    return UNKNOWN


def _appended_list(model, b, env, depth: int) -> Value:
    """``xs = []`` filled by ``xs.append(v)``: a list whose items are ``v``
    (joined over the appends); its length is known when every append runs in
    loops of known iteration counts."""
    items: Optional[Value] = None
    total = 0
    for cs in model.calls_by_name.get("append", ()):
        r = cs.receiver
        if not isinstance(r, ast.Name) or r.id != b.name or model.binding_of(r) is not b or len(cs.node.args) != 1:
            continue
        v = value_of(model, cs.node.args[0], env, depth + 1)
        items = v if items is None else join(items, v)
        n: Optional[int] = 1
        for loop in cs.loops:
            k = model.known_iterations(loop)
            n = n * k if n is not None and k is not None else None
        total = total + n if total is not None and n is not None else None
    if items is None:
        return Value("list", items=())
    return Value("list", element=items, count=total if total else None)


def _unpack_literal(value, path):
    for i in path:
        if isinstance(value, (ast.Tuple, ast.List)) and 0 <= i < len(value.elts) \
                and not isinstance(value.elts[i], ast.Starred):
            value = value.elts[i]
        else:
            return None
    return value


def param_default(fn, name: str) -> Optional[ast.expr]:
    """The default value expression of a parameter, if any."""
    node = fn.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return None
    a = node.args
    positional = a.posonlyargs + a.args
    for p, d in zip(positional[len(positional) - len(a.defaults):], a.defaults):
        if p.arg == name:
            return d
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        if p.arg == name:
            return d
    return None


def _param_value(model, b, depth: int) -> Value:
    """A parameter: the value every caller in the file passes (when they agree)."""
    fn = b.scope.function if hasattr(b.scope, "function") else None
    if fn is None or depth > 12:
        return UNKNOWN
    callers = model.callers(fn)
    if not callers or len(callers) > 8:
        return UNKNOWN
    out: Optional[Value] = None
    for cs in callers:
        arg = model._argument_for(cs, fn, b.name)
        if arg is None:
            arg = param_default(fn, b.name)
        if arg is None:
            return UNKNOWN
        v = value_of(model, arg, None, depth + 1)
        out = v if out is None else join(out, v)
        if not out.known:
            return UNKNOWN
    return out or UNKNOWN


def _attribute(model, expr: ast.Attribute, env, depth: int) -> Value:
    base = value_of(model, expr.value, env, depth + 1)
    attr = expr.attr
    if base.kind == "module" and base.qualname:
        return module(_norm(base.qualname + "." + attr))
    if base.kind == "array":
        if attr == "shape" and base.shape is not None:
            return Value("tuple", items=tuple(integer(d) if d is not None else UNKNOWN for d in base.shape))
        if attr == "size":
            return integer(base.size)
        if attr == "T" and base.shape is not None:
            return replace(base, shape=tuple(reversed(base.shape)))
        if attr == "ndim" and base.shape is not None:
            return integer(len(base.shape))
    if base.kind == "info" and attr == "splits":
        return Value("splits", qualname=base.qualname, origin=base.origin)
    if base.kind == "split" and attr == "num_examples" and base.qualname:
        # info.splits["train"].num_examples: the catalog's count
        return integer(knowledge.tfds_split_examples(base.qualname, base.origin))
    return UNKNOWN


# ---------------------------------------------------------------- subscripts


def _subscript(model, expr: ast.Subscript, env, depth: int) -> Value:
    base = value_of(model, expr.value, env, depth + 1)
    index = expr.slice
    if base.kind == "splits":
        key = value_of(model, index, env, depth + 1)
        return Value("split", qualname=base.qualname, origin=key.origin) if key.kind == "str" else UNKNOWN
    if base.kind == "dict":
        key = value_of(model, index, env, depth + 1)
        return dict_item(base, key.origin) if key.kind == "str" else UNKNOWN
    if base.kind in ("tuple", "list"):
        i = int_of(model, index, env, depth + 1)
        if i is not None:
            return base.item(i)
        if isinstance(index, ast.Slice) and base.kind == "list":
            return replace(base, items=())
        return UNKNOWN
    if base.kind != "array" or base.shape is None:
        if base.kind == "array":
            return base  # rank unknown: dtype kept
        return UNKNOWN
    parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
    shape = list(base.shape)
    out: list[Optional[int]] = []
    pos = 0
    n_real = sum(1 for p in parts if not _is_newaxis(model, p) and not _is_ellipsis(p))
    for p in parts:
        if _is_ellipsis(p):
            keep = len(shape) - pos - (n_real - sum(1 for q in parts[:parts.index(p)]
                                                     if not _is_newaxis(model, q) and not _is_ellipsis(q)))
            keep = max(keep, 0)
            out.extend(shape[pos:pos + keep])
            pos += keep
        elif _is_newaxis(model, p):
            out.append(1)
        elif isinstance(p, ast.Slice):
            if pos >= len(shape):
                return replace(base, shape=None)
            out.append(_slice_len(model, shape[pos], p, env, depth))
            pos += 1
        else:
            iv = value_of(model, p, env, depth + 1)
            if iv.kind == "int":
                pos += 1  # an integer index drops the dimension
            elif iv.kind == "array":
                # fancy indexing: the index's length replaces the dimension
                n = iv.shape[0] if iv.shape else None
                out.append(n)
                pos += 1
            else:
                return replace(base, shape=None)  # dtype kept, shape unknown
    out.extend(shape[pos:])
    new_shape = tuple(out)
    step = None
    if base.shape and new_shape and base.shape[0] != new_shape[0] and len(base.shape) == len(new_shape):
        step = f"sliced to {new_shape[0] if new_shape[0] is not None else '?'} rows"
    return base.with_shape(new_shape, step)


def _is_newaxis(model, node) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    return isinstance(node, ast.Attribute) and node.attr == "newaxis"


def _is_ellipsis(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _slice_len(model, n: Optional[int], sl: ast.Slice, env, depth) -> Optional[int]:
    if sl.step is not None:
        step = int_of(model, sl.step, env, depth + 1)
        if step is None or step == 0:
            return None
    else:
        step = 1
    lower = int_of(model, sl.lower, env, depth + 1) if sl.lower is not None else None
    upper = int_of(model, sl.upper, env, depth + 1) if sl.upper is not None else None
    if (sl.lower is not None and lower is None) or (sl.upper is not None and upper is None):
        return None
    if n is None:
        if lower is None and upper is not None and upper >= 0 and step == 1:
            return upper  # x[:1000]: at most 1000 rows; with n unknown, take it
        return None
    return len(range(n)[slice(lower, upper, step)])


# ---------------------------------------------------------------- literals


def _list_literal(model, expr: ast.List, env, depth: int) -> Value:
    items = tuple(value_of(model, e, env, depth + 1) for e in expr.elts if not isinstance(e, ast.Starred))
    return Value("list", items=items)


def _nested_list_array(model, node: ast.expr, env, depth) -> Optional[Value]:
    """``np.array([[1.0, 2.0], [3.0, 4.0]])``: shape from the nesting, float64 for floats."""
    shape: list[int] = []
    level = [node]
    kinds: set[str] = set()
    while level and all(isinstance(n, (ast.List, ast.Tuple)) for n in level):
        lengths = {len(n.elts) for n in level}  # type: ignore[attr-defined]
        if len(lengths) != 1:
            return None
        shape.append(lengths.pop())
        level = [e for n in level for e in n.elts]  # type: ignore[attr-defined]
        if len(level) > 10000:
            return None
    for n in level:
        k = _scalar_kind(n)
        if k is None:
            v = value_of(model, n, env, depth + 1)
            if v.kind == "int":
                k = "int"
            elif v.kind == "float":
                k = "float"
            else:
                return None
        kinds.add(k)
    dtype = "float64" if "float" in kinds else "int64"
    return array(shape, dtype, "numpy", "a Python list", made_at=node)


# ---------------------------------------------------------------- arithmetic


def _binop(model, expr: ast.BinOp, env, depth: int) -> Value:
    left = value_of(model, expr.left, env, depth + 1)
    right = value_of(model, expr.right, env, depth + 1)
    op = expr.op
    if left.kind == "int" and right.kind == "int":
        a, b = left.number, right.number
        try:
            if isinstance(op, ast.Add):
                return integer(a + b)
            if isinstance(op, ast.Sub):
                return integer(a - b)
            if isinstance(op, ast.Mult):
                return integer(a * b)
            if isinstance(op, ast.FloorDiv) and b:
                return integer(a // b)
            if isinstance(op, ast.Pow) and 0 <= b < 64:
                return integer(a ** b)
            if isinstance(op, ast.Mod) and b:
                return integer(a % b)
        except TypeError:
            return UNKNOWN
        return UNKNOWN
    if left.kind == "array":
        out = _arith(model, left, op, expr.right, env, depth, right)
    elif right.kind == "array":
        # 1.0 - x, 255 / x: the array's dtype promoted with the scalar on its left
        out = _arith(model, right, op, expr.left, env, depth, left)
    else:
        return UNKNOWN
    base = left if left.kind == "array" else right
    if out.kind == "array" and out.dtype != base.dtype:
        out = replace(out, made_at=expr)
    return out


def _arith(model, left: Value, op: ast.operator, other: ast.expr, env, depth: int,
           other_value: Optional[Value] = None) -> Value:
    if left.kind != "array":
        return UNKNOWN
    if other_value is None:
        other_value = value_of(model, other, env, depth + 1)
    scalar = _scalar_kind(other)
    if scalar is None and other_value.kind == "int":
        scalar = "int"
    elif scalar is None and other_value.kind == "float":
        scalar = "float"
    dtype = binop_dtype(left, op, scalar, other_value)
    shape = left.shape
    if other_value.kind == "array" and other_value.shape is not None and left.shape is not None:
        shape = _broadcast(left.shape, other_value.shape)
    elif other_value.kind not in ("array", "int", "float") and scalar is None:
        shape = left.shape if other_value.kind == "unknown" else None
    step = None
    if dtype != left.dtype:
        sym = _OP_TEXT.get(type(op), "op")
        operand = model.text(other) if len(model.text(other)) <= 12 else "..."
        step = f"{dtype} after {sym} {operand}"
    v = left.with_dtype(dtype, step) if dtype is not None else replace(left, dtype=None)
    return replace(v, shape=shape)


def _broadcast(a, b):
    if len(a) < len(b):
        a, b = b, a
    b = (1,) * (len(a) - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        else:
            out.append(None if x is None or y is None else max(x, y))
    return tuple(out)


# ---------------------------------------------------------------- calls

# how each constructor takes its shape: "shape" (first positional / shape=), "dims"
# (positional dims: np.random.rand(3, 4)), "size" (size=, at the given position)
_SHAPE_STYLE = {
    "numpy.zeros": ("shape", 0), "numpy.ones": ("shape", 0), "numpy.empty": ("shape", 0), "numpy.full": ("shape", 0),
    "numpy.random.rand": ("dims", 0), "numpy.random.randn": ("dims", 0),
    "numpy.random.random": ("size", 0), "numpy.random.random_sample": ("size", 0),
    "numpy.random.uniform": ("size", 2), "numpy.random.normal": ("size", 2), "numpy.random.randint": ("size", 2),
    "numpy.random.standard_normal": ("size", 0),
    "tensorflow.zeros": ("shape", 0), "tensorflow.ones": ("shape", 0), "tensorflow.fill": ("dims", -1),
    "tensorflow.random.normal": ("shape", 0), "tensorflow.random.uniform": ("shape", 0),
    "tensorflow.random.truncated_normal": ("shape", 0), "tensorflow.random.stateless_normal": ("shape", 0),
    "tensorflow.random.stateless_uniform": ("shape", 0),
    "keras.random.normal": ("shape", 0), "keras.random.uniform": ("shape", 0),
    "keras.ops.zeros": ("shape", 0), "keras.ops.ones": ("shape", 0),
}
# the position of dtype= for constructors that take it positionally
_DTYPE_POSITION = {"numpy.zeros": 1, "numpy.ones": 1, "numpy.empty": 1, "numpy.full": 2, "numpy.array": 1,
                   "numpy.asarray": 1, "numpy.eye": 2, "numpy.arange": None, "tensorflow.zeros": 1,
                   "tensorflow.ones": 1, "tensorflow.constant": 1, "tensorflow.convert_to_tensor": 1,
                   "tensorflow.cast": 1, "tensorflow.Variable": None}
_KEEP_VALUE = {"numpy.asarray", "numpy.array", "numpy.copy", "numpy.ascontiguousarray", "numpy.asanyarray",
               "tensorflow.convert_to_tensor", "tensorflow.constant", "tensorflow.identity", "tensorflow.Variable",
               "numpy.squeeze", "numpy.transpose", "tensorflow.transpose", "tensorflow.squeeze",
               "numpy.random.permutation", "numpy.flip", "numpy.fliplr", "tensorflow.image.convert_image_dtype",
               # image ops that keep the shape and dtype of their input
               "tensorflow.image.flip_left_right", "tensorflow.image.flip_up_down",
               "tensorflow.image.random_flip_left_right", "tensorflow.image.random_flip_up_down",
               "tensorflow.image.random_brightness", "tensorflow.image.random_contrast",
               "tensorflow.image.random_saturation", "tensorflow.image.random_hue",
               "tensorflow.image.adjust_brightness", "tensorflow.image.adjust_contrast",
               "tensorflow.image.adjust_saturation", "tensorflow.image.adjust_hue",
               "tensorflow.image.adjust_gamma", "tensorflow.clip_by_value", "tensorflow.ensure_shape",
               "tensorflow.stop_gradient", "tensorflow.math.abs", "tensorflow.abs"}
_TF_RESULT = {"tensorflow.convert_to_tensor", "tensorflow.constant", "tensorflow.identity", "tensorflow.Variable",
              "tensorflow.transpose", "tensorflow.squeeze"} | {q for q in _KEEP_VALUE if q.startswith("tensorflow.")}
# array methods keeping the dtype (shape handled where it changes)
_SAME_DTYPE_METHODS = {"copy", "squeeze", "transpose", "flatten", "ravel", "swapaxes", "numpy"}
_DECODERS = {"tensorflow.io.decode_jpeg", "tensorflow.image.decode_jpeg", "tensorflow.io.decode_png",
             "tensorflow.image.decode_png", "tensorflow.io.decode_image", "tensorflow.image.decode_image",
             "tensorflow.io.decode_bmp", "tensorflow.io.decode_gif"}
_RESIZES = {"tensorflow.image.resize", "tensorflow.image.resize_images", "tensorflow.image.resize_with_pad",
            "tensorflow.image.resize_with_crop_or_pad", "keras.ops.image.resize"}
_DIRECTORY = {"keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory"}
_TEXT_DIRECTORY = {"keras.utils.text_dataset_from_directory", "keras.preprocessing.text_dataset_from_directory"}
_VECTORIZERS = {"keras.layers.TextVectorization", "keras.layers.experimental.preprocessing.TextVectorization"}
TFDS_LOAD = "tensorflow_datasets.load"


def _args(call: ast.Call) -> list[ast.expr]:
    return [a.value if isinstance(a, ast.Starred) else a for a in call.args]


def _dtype_arg(call: ast.Call, q: str) -> Optional[ast.expr]:
    pos = _DTYPE_POSITION.get(q)
    return get_arg(call, "dtype", pos) if pos is not None else get_arg(call, "dtype")


def _call(model, call: ast.Call, env, depth: int) -> Value:
    func = call.func
    q = func_qualname(model, func, env) if isinstance(func, (ast.Name, ast.Attribute)) else None
    if q is not None:
        v = _api_call(model, call, q, env, depth)
        if v is not None:
            return v
    if isinstance(func, ast.Attribute):
        receiver = value_of(model, func.value, env, depth + 1)
        if receiver.known:
            v = _method_call(model, call, func.attr, receiver, env, depth)
            if v is not None:
                return v
        if func.attr == "load_data" and q is None:
            return UNKNOWN
    if isinstance(func, ast.Name) and func.id == "len" and call.args:
        inner = value_of(model, call.args[0], env, depth + 1)
        if inner.kind == "array" and inner.shape:
            return integer(inner.shape[0])
        if inner.kind in ("list", "tuple") and inner.items:
            return integer(len(inner.items))
        return UNKNOWN
    if isinstance(func, ast.Name) and func.id == "int" and call.args:
        inner = value_of(model, call.args[0], env, depth + 1)
        return inner if inner.kind == "int" else UNKNOWN
    if isinstance(func, ast.Name) and func.id == "float" and model.binding_of(func) is None:
        return Value("float")  # a Python float (weak in NumPy's promotion)
    layer = value_of(model, func, env, depth + 1) if isinstance(func, ast.Name) else UNKNOWN
    if layer.kind == "layer":
        return _layer_call(model, layer, call, env, depth)
    return _helper_call(model, call, env, depth)


def _helper_call(model, call: ast.Call, env, depth: int) -> Value:
    """A function defined in the file: its last return value, the call's
    arguments bound to its parameters."""
    cs = model.call_of.get(id(call))
    if cs is None or depth > 16:
        return UNKNOWN
    fn = model.function_called(cs)
    if fn is None or not fn.returns or fn.yields or cs.function is fn or isinstance(fn.node, ast.Lambda):
        return UNKNOWN
    new_env: dict = {}
    for p in fn.params:
        arg = model._argument_for(cs, fn, p)
        if arg is None:
            arg = param_default(fn, p)
        if arg is None:
            continue
        new_env[(id(fn.scope), p)] = value_of(model, arg, env, depth + 1)
    new_env = {k: v for k, v in new_env.items() if v.known} or {("", ""): UNKNOWN}
    return value_of(model, fn.returns[-1], new_env, depth + 2)


def _shape_from(model, call: ast.Call, q: str, env, depth) -> Optional[tuple]:
    style, pos = _SHAPE_STYLE[q]
    if style == "dims":
        if pos == -1:
            return shape_arg(model, get_arg(call, "dims", 0), env, depth)
        return tuple(int_of(model, a, env, depth + 1) for a in _args(call))
    if style == "size":
        arg = get_arg(call, "size", pos)
    else:
        arg = get_arg(call, "shape", pos)
    return shape_arg(model, arg, env, depth) if arg is not None else None


def _short(q: str) -> str:
    head, _, rest = q.partition(".")
    return {"numpy": "np", "tensorflow": "tf"}.get(head, head) + ("." + rest if rest else "")


def _api_call(model, call: ast.Call, q: str, env, depth: int) -> Optional[Value]:
    args = _args(call)
    # keras.datasets.<name>.load_data()
    if q.startswith("keras.datasets.") and q.endswith(".load_data"):
        return _keras_loader(q.split(".")[2])
    if q in _SHAPE_STYLE:
        lib = "numpy" if q.startswith("numpy.") else "tensorflow"
        default = knowledge.default_dtype(q)
        if default is None and lib == "tensorflow":
            default = "float32"
        given = _dtype_arg(call, q) if q in _DTYPE_POSITION else get_arg(call, "dtype")
        dtype = dtype_name(given) if given is not None else default
        if dtype == "fill_value":
            fill = get_arg(call, "fill_value", 1)
            k = _scalar_kind(fill) if fill is not None else None
            if k is None and fill is not None:
                fv = value_of(model, fill, env, depth + 1)
                k = {"float": "float", "int": "int"}.get(fv.kind)
            dtype = {"float": "float64", "int": "int64"}.get(k) if k else None
        if dtype not in FLOAT_DTYPES and dtype not in INT_DTYPES:
            dtype = None if given is not None or dtype in ("fill_value", "like") else dtype
        shape = _shape_from(model, call, q, env, depth)
        origin = f"`{_short(q)}(...)`" + ("" if given is not None else f" (default dtype {dtype})")
        return array(shape, dtype, lib, origin, made_at=call)
    if q in ("numpy.zeros_like", "numpy.ones_like", "numpy.empty_like", "numpy.full_like"):
        proto = value_of(model, args[0], env, depth + 1) if args else UNKNOWN
        given = get_arg(call, "dtype", 1 if q != "numpy.full_like" else 2)
        if proto.kind != "array":
            return array(None, dtype_name(given), "numpy", f"`{_short(q)}(...)`") if given is not None else UNKNOWN
        return proto.with_dtype(dtype_name(given)) if given is not None else proto
    if q in ("numpy.array", "numpy.asarray", "tensorflow.constant", "tensorflow.convert_to_tensor") and args:
        given = _dtype_arg(call, q)
        inner = value_of(model, args[0], env, depth + 1)
        lib = "numpy" if q.startswith("numpy.") else "tensorflow"
        if inner.kind != "array":
            nested = _nested_list_array(model, args[0], env, depth)
            if nested is not None:
                inner = nested if lib == "numpy" else replace(nested, dtype="float32" if nested.dtype == "float64" else "int32")
            elif inner.kind == "list" and inner.items and all(i.kind == "array" for i in inner.items):
                inner = _stacked(list(inner.items), 0, "stacked list")
            elif inner.kind == "list" and inner.element is not None and inner.element.kind == "array":
                inner = _stacked_unknown(inner.element, inner.count)
            else:
                return array(None, dtype_name(given), lib, "") if given is not None and dtype_name(given) else UNKNOWN
        if inner.kind != "array":
            return UNKNOWN
        inner = replace(inner, lib=lib)
        if given is not None:
            d = dtype_name(given)
            return inner.with_dtype(d, f"{d} by `{_short(q)}(..., {model.text(given)})`", call) if d else replace(inner, dtype=None)
        return inner
    if q in _KEEP_VALUE and args:
        inner = value_of(model, args[0], env, depth + 1)
        if inner.kind != "array":
            return UNKNOWN
        if q in _TF_RESULT:
            inner = replace(inner, lib="tensorflow")
        if q in ("numpy.transpose", "tensorflow.transpose") and inner.shape is not None and len(args) == 1:
            inner = replace(inner, shape=tuple(reversed(inner.shape)))
        if q in ("numpy.squeeze", "tensorflow.squeeze") and inner.shape is not None and len(args) == 1:
            inner = replace(inner, shape=tuple(d for d in inner.shape if d != 1))
        if q == "tensorflow.image.convert_image_dtype":
            d = dtype_name(get_arg(call, "dtype", 1))
            return inner.with_dtype(d, f"{d} by convert_image_dtype") if d else inner
        given = get_arg(call, "dtype")
        if given is not None:
            d = dtype_name(given)
            inner = inner.with_dtype(d, f"{d}") if d else replace(inner, dtype=None)
        return inner
    if q == "tensorflow.cast" and len(args) >= 1:
        inner = value_of(model, args[0], env, depth + 1)
        d = dtype_name(get_arg(call, "dtype", 1))
        if inner.kind != "array":
            return array(None, d, "tensorflow", "") if d else UNKNOWN
        return replace(inner.with_dtype(d, f"cast to {d}", call), lib="tensorflow")
    if q in ("numpy.reshape", "tensorflow.reshape") and len(args) >= 2:
        inner = value_of(model, args[0], env, depth + 1)
        shape_node = get_arg(call, "newshape", 1) or get_arg(call, "shape", 1)
        return _reshaped(model, inner, shape_node, env, depth)
    if q in ("numpy.expand_dims", "tensorflow.expand_dims") and args:
        inner = value_of(model, args[0], env, depth + 1)
        axis = int_of(model, get_arg(call, "axis", 1), env, depth + 1)
        return _expand(inner, axis)
    if q in ("numpy.concatenate", "numpy.vstack", "numpy.hstack", "numpy.stack", "tensorflow.stack",
             "tensorflow.concat", "numpy.row_stack", "numpy.array_split") and args:
        return _joined(model, call, q, args, env, depth)
    if q in ("keras.utils.to_categorical", "keras.utils.np_utils.to_categorical") and args:
        inner = value_of(model, args[0], env, depth + 1)
        n = int_of(model, get_arg(call, "num_classes", 1), env, depth + 1)
        rows = inner.shape[0] if inner.kind == "array" and inner.shape else None
        out = knowledge.api("keras.utils.to_categorical")
        dtype = out["output"]["dtype"] if out else None
        return array((rows, n), dtype, "numpy", inner.origin + (" one-hot" if inner.origin else ""))
    if q.startswith("numpy.") and dtype_name(ast.Name(id=q[6:])) == q[6:] and len(args) == 1:
        # a NumPy scalar (np.float32(255)): strongly typed in promotion (NEP 50)
        return array((), q[6:], "numpy", f"`{_short(q)}(...)` scalar")
    if q in _DECODERS:
        channels = int_of(model, get_arg(call, "channels", 1), env, depth + 1)
        return array((None, None, channels or None), "uint8", "tensorflow", "decoded image files", unbounded=True)
    if q in _RESIZES and args:
        inner = value_of(model, args[0], env, depth + 1)
        if q in ("tensorflow.image.resize_with_pad", "tensorflow.image.resize_with_crop_or_pad"):
            hw = (int_of(model, get_arg(call, "target_height", 1), env, depth + 1),
                  int_of(model, get_arg(call, "target_width", 2), env, depth + 1))
        else:
            hw = shape_arg(model, get_arg(call, "size", 1), env, depth)
        if hw is None or len(hw) != 2:
            hw = (None, None)
        lead = inner.shape[:-3] if inner.kind == "array" and inner.shape is not None and len(inner.shape) >= 3 else ()
        channels = inner.shape[-1] if inner.kind == "array" and inner.shape else None
        dtype = "float32" if q != "tensorflow.image.resize_with_crop_or_pad" else inner.dtype
        return array(tuple(lead) + tuple(hw) + (channels,), dtype, "tensorflow",
                     inner.origin or "resized images", unbounded=inner.unbounded)
    if q in _VECTORIZERS:
        return _vectorizer(model, call, env, depth)
    if q == TFDS_LOAD:
        return _tfds_load(model, call, env, depth)
    if q.startswith("tensorflow.data.Dataset.") or q in _DIRECTORY or q in _TEXT_DIRECTORY:
        return _dataset_constructor(model, call, q, args, env, depth)
    return None


def _keras_loader(name: str) -> Optional[Value]:
    entry = knowledge.keras_dataset(name)
    if entry is None:
        return None

    def one(key: str, what: str) -> Value:
        spec = entry[key]
        if spec.get("dtype") == "object":
            return array(spec.get("shape"), None, "numpy", f"keras.datasets.{name} {what}", whole_dataset=True)
        return array(spec.get("shape"), spec.get("dtype"), "numpy", f"keras.datasets.{name} {what}",
                     whole_dataset=True)

    rank_x = len(entry["x_train"].get("shape") or ())
    xw = "images" if rank_x >= 3 else "features" if not entry.get("ragged") else "sequences"
    return Value("tuple", items=(
        Value("tuple", items=(one("x_train", f"train {xw}"), one("y_train", "train labels"))),
        Value("tuple", items=(one("x_test", f"test {xw}"), one("y_test", "test labels"))),
    ), origin=f"keras.datasets.{name}.load_data()")


def _reshaped(model, inner: Value, shape_node, env, depth) -> Value:
    if inner.kind != "array":
        return UNKNOWN
    shape = shape_arg(model, shape_node, env, depth)
    total = inner.size
    if shape is None:
        return replace(inner, shape=None)
    if None in shape:
        return replace(inner, shape=tuple(None if d is None or d == -1 else d for d in shape))
    if shape.count(-1) == 1:
        known = math.prod(d for d in shape if d != -1)
        if total is not None and known and total % known == 0:
            shape = tuple(total // known if d == -1 else d for d in shape)
        else:
            shape = tuple(None if d == -1 else d for d in shape)
    if total is not None and None not in shape and math.prod(shape) != total:  # type: ignore[arg-type]
        return replace(inner, shape=None)
    return replace(inner, shape=shape)


def _expand(inner: Value, axis: Optional[int]) -> Value:
    if inner.kind != "array":
        return UNKNOWN
    if inner.shape is None or axis is None:
        return replace(inner, shape=None)
    shape = list(inner.shape)
    a = axis if axis >= 0 else len(shape) + 1 + axis
    if not 0 <= a <= len(shape):
        return replace(inner, shape=None)
    shape.insert(a, 1)
    return replace(inner, shape=tuple(shape))


def _stacked(parts: list[Value], axis: int, what: str) -> Value:
    first = parts[0]
    dtype = first.dtype
    for p in parts[1:]:
        dtype = promote(dtype, p.dtype)
    if any(p.shape is None for p in parts) or len({p.shape for p in parts}) != 1:
        return array(None, dtype, first.lib, first.origin)
    shape = list(first.shape)  # type: ignore[arg-type]
    shape.insert(axis, len(parts))
    return replace(first, shape=tuple(shape), dtype=dtype)


def _stacked_unknown(element: Value, count: Optional[int] = None) -> Value:
    """A list whose items are arrays of a known shape (its length may be unknown)."""
    shape = (count,) + element.shape if element.shape is not None else None
    return replace(element, shape=shape)


def _joined(model, call, q, args, env, depth) -> Value:
    seq = value_of(model, args[0], env, depth + 1)
    if seq.kind not in ("list", "tuple"):
        return UNKNOWN
    stack = q in ("numpy.stack", "tensorflow.stack")
    if seq.kind == "list" and not seq.items and seq.element is not None and seq.element.kind == "array":
        el = seq.element
        if stack and el.shape is not None:
            return replace(el, shape=(seq.count,) + el.shape, lib="tensorflow" if q.startswith("tensorflow") else el.lib)
        if el.shape is not None and len(el.shape) >= 1 and seq.count is not None and el.shape[0] is not None \
                and (int_of(model, get_arg(call, "axis", 1), env, depth + 1) or 0) == 0:
            return replace(el, shape=(seq.count * el.shape[0],) + el.shape[1:])  # concatenate of the appended pieces
        return replace(el, shape=None)
    parts = list(seq.items)
    if not parts or any(p.kind != "array" for p in parts):
        return UNKNOWN
    axis_node = get_arg(call, "axis", 1)
    axis = int_of(model, axis_node, env, depth + 1) if axis_node is not None else 0
    if stack:
        v = _stacked(parts, axis or 0, "stack")
        return replace(v, lib="tensorflow") if q.startswith("tensorflow") else v
    if q == "numpy.hstack":
        axis = 1 if parts[0].shape is not None and len(parts[0].shape) > 1 else 0
    dtype = parts[0].dtype
    for p in parts[1:]:
        dtype = promote(dtype, p.dtype)
    shapes = [p.shape for p in parts]
    if axis is None or any(s is None for s in shapes) or len({len(s) for s in shapes}) != 1:  # type: ignore[arg-type]
        return array(None, dtype, parts[0].lib, parts[0].origin, whole_dataset=any(p.whole_dataset for p in parts))
    out = []
    for i in range(len(shapes[0])):  # type: ignore[arg-type]
        dims = [s[i] for s in shapes]  # type: ignore[index]
        if i == axis:
            out.append(sum(dims) if None not in dims else None)  # type: ignore[arg-type]
        else:
            out.append(dims[0] if len(set(dims)) == 1 else None)
    origin = parts[0].origin if len({p.origin for p in parts}) == 1 else " + ".join(p.origin for p in parts if p.origin)
    return array(out, dtype, parts[0].lib, origin, whole_dataset=any(p.whole_dataset for p in parts),
                 steps=parts[0].steps)


def _method_call(model, call: ast.Call, method: str, receiver: Value, env, depth) -> Optional[Value]:
    args = _args(call)
    if receiver.kind == "array":
        if method == "astype" and args:
            d = dtype_name(args[0])
            if d is None:
                return replace(receiver, dtype=None)
            return receiver.with_dtype(d, f"astype({model.text(args[0])})", call)
        if method == "reshape" and args:
            if len(args) == 1:
                return _reshaped(model, receiver, args[0], env, depth)
            return _reshaped(model, receiver, ast.Tuple(elts=list(args), ctx=ast.Load()), env, depth)
        if method in ("flatten", "ravel"):
            return replace(receiver, shape=(receiver.size,) if receiver.size is not None else (None,))
        if method == "squeeze" and not args and receiver.shape is not None:
            return replace(receiver, shape=tuple(d for d in receiver.shape if d != 1))
        if method in _SAME_DTYPE_METHODS or method == "transpose":
            if method == "transpose" and receiver.shape is not None and not args:
                return replace(receiver, shape=tuple(reversed(receiver.shape)))
            if method == "numpy":
                return replace(receiver, lib="numpy")
            return receiver if method in ("copy", "numpy") else replace(receiver, shape=None)
        if method in ("mean", "std", "var", "sum", "max", "min") and not args and not call.keywords:
            return UNKNOWN
        return None
    if receiver.kind == "dataset":
        return _dataset_method(model, call, method, receiver, args, env, depth)
    if receiver.kind == "list" and method == "copy":
        return receiver
    return None


# ---------------------------------------------------------------- layers


def _vectorizer(model, call, env, depth) -> Value:
    mode_node = get_arg(call, "output_mode")
    try:
        mode = literal_value(mode_node) if mode_node is not None else "int"
    except ValueError:
        mode = None
    tokens = int_of(model, get_arg(call, "max_tokens", 0), env, depth + 1)
    return Value("layer", qualname="keras.layers.TextVectorization",
                 options=(("output_mode", mode), ("max_tokens", tokens)))


def _layer_call(model, layer: Value, call: ast.Call, env, depth) -> Value:
    opts = dict(layer.options)
    if layer.qualname == "keras.layers.TextVectorization":
        mode = opts.get("output_mode")
        entry = knowledge.api("keras.layers.TextVectorization") or {}
        spec = entry.get("output_by_mode", {}).get(mode) if isinstance(mode, str) else None
        if spec is None:
            return UNKNOWN
        inner = value_of(model, call.args[0], env, depth + 1) if call.args else UNKNOWN
        if mode == "int":
            return array(None, spec["dtype"], "tensorflow", "vectorized text")
        width = opts.get("max_tokens")
        lead = inner.shape if inner.kind == "array" and inner.shape is not None else (None,)
        return array(tuple(lead) + (width,), spec["dtype"], "tensorflow",
                     f"TextVectorization {mode} ({width or '?'} wide)", unbounded=inner.unbounded)
    return UNKNOWN


# ---------------------------------------------------------------- tf.data


def dataset(element: Value, count: Optional[int], origin: str, unbounded: bool = False,
            whole: bool = False, batch: Optional[int] = None) -> Value:
    return Value("dataset", element=element, count=count, origin=origin, unbounded=unbounded,
                 whole_dataset=whole, batch=batch)


def _row(v: Value) -> Value:
    """One slice of ``from_tensor_slices``: the first dimension removed."""
    if v.kind == "array":
        return replace(v, shape=v.shape[1:] if v.shape else None)
    if v.kind == "tuple":
        return Value("tuple", items=tuple(_row(i) for i in v.items))
    if v.kind == "dict":
        return replace(v, items=tuple(_row(i) for i in v.items))
    return UNKNOWN


def _first_dim(v: Value) -> Optional[int]:
    if v.kind == "array":
        return v.shape[0] if v.shape else None
    if v.kind in ("tuple", "dict"):
        for i in v.items:
            n = _first_dim(i)
            if n is not None:
                return n
    if v.kind == "list" and v.items:
        return len(v.items)
    return None


def _dataset_constructor(model, call, q, args, env, depth) -> Optional[Value]:
    if q == "tensorflow.data.Dataset.from_tensor_slices" and args:
        data = value_of(model, args[0], env, depth + 1)
        if data.kind == "list" and data.items and all(i.kind == "str" for i in data.items):
            return dataset(array((), "string", "tensorflow", "file paths"), len(data.items), "file paths")
        return dataset(_row(data), _first_dim(data), data.origin or _origin_of(data),
                       whole=data.whole_dataset or any(i.whole_dataset for i in data.items))
    if q == "tensorflow.data.Dataset.list_files":
        return dataset(array((), "string", "tensorflow", "file paths"), None, "files matched by `list_files`",
                       unbounded=True)
    if q in _DIRECTORY:
        spec = knowledge.api("keras.utils.image_dataset_from_directory") or {}
        defaults = spec.get("defaults", {})
        size = shape_arg(model, get_arg(call, "image_size"), env, depth) or tuple(defaults.get("image_size", ()))
        batch_node = get_arg(call, "batch_size")
        batch = int_of(model, batch_node, env, depth + 1) if batch_node is not None else defaults.get("batch_size")
        if batch_node is not None and isinstance(batch_node, ast.Constant) and batch_node.value is None:
            batch = 1
        mode_node = get_arg(call, "color_mode")
        try:
            mode = literal_value(mode_node) if mode_node is not None else defaults.get("color_mode")
        except ValueError:
            mode = None
        channels = spec.get("channels_by_color_mode", {}).get(mode) if isinstance(mode, str) else None
        images = array((batch, *size, channels) if size and len(size) == 2 else None, "float32", "tensorflow",
                       "decoded image files")
        return replace(dataset(images, None, "images decoded from a directory", unbounded=True), batch=batch)
    if q in _TEXT_DIRECTORY:
        batch_node = get_arg(call, "batch_size")
        batch = int_of(model, batch_node, env, depth + 1) if batch_node is not None else 32
        return dataset(Value("tuple", items=(array((batch,), "string", "tensorflow", "text files"),
                                             array((batch,), "int32", "tensorflow", "labels"))),
                       None, "text files of a directory", unbounded=True, batch=batch)
    return None


def _origin_of(v: Value) -> str:
    if v.kind == "tuple":
        return " + ".join(i.origin for i in v.items if i.origin)
    return v.origin


def _dataset_method(model, call, method, ds: Value, args, env, depth) -> Optional[Value]:
    el, count = ds.element, ds.count
    if method in ("cache", "prefetch", "shuffle", "repeat", "with_options", "filter", "ignore_errors",
                  "apply", "interleave_placeholder"):
        if method == "repeat":
            return replace(ds, count=None)
        if method == "filter":
            return replace(ds, count=count)  # an upper bound
        return ds
    if method == "take":
        n = int_of(model, get_arg(call, "count", 0), env, depth + 1)
        if n is None:
            return replace(ds, count=None, unbounded=False, options=())
        return replace(ds, count=min(count, n) if count is not None and n >= 0 else (n if n >= 0 else count),
                       unbounded=False if n >= 0 else ds.unbounded, options=() if n >= 0 else ds.options)
    if method == "skip":
        n = int_of(model, get_arg(call, "count", 0), env, depth + 1)
        return replace(ds, count=max(count - n, 0) if count is not None and n is not None else count, options=())
    if method in ("batch", "padded_batch"):
        n = int_of(model, get_arg(call, "batch_size", 0), env, depth + 1)
        return replace(ds, element=_batched(el, n), count=-(-count // n) if count is not None and n else None,
                       batch=n)
    if method == "unbatch":
        return replace(ds, element=_row(el) if el is not None else None, count=None, batch=None)
    if method == "map":
        fn_node = get_arg(call, "map_func", 0)
        out = _mapped(model, fn_node, el, env, depth)
        # the element changed: a known decoded size of the source no longer holds
        return replace(ds, element=out, options=())
    return replace(ds, element=UNKNOWN, options=())


def _batched(el: Optional[Value], n: Optional[int]) -> Value:
    if el is None:
        return UNKNOWN
    if el.kind == "array":
        return replace(el, shape=(n,) + el.shape if el.shape is not None else None)
    if el.kind == "tuple":
        return Value("tuple", items=tuple(_batched(i, n) for i in el.items))
    if el.kind == "dict":
        return replace(el, items=tuple(_batched(i, n) for i in el.items))
    return UNKNOWN


def _mapped(model, fn_node, element: Optional[Value], env, depth) -> Value:
    """The element after ``map(fn)``: the value ``fn`` returns with its
    parameters bound to the element (tuple elements spread over parameters)."""
    if fn_node is None:
        return UNKNOWN
    fn = model.function_for(fn_node)
    if fn is None:
        # a layer applied directly: ds.map(vectorizer)
        layer = value_of(model, fn_node, env, depth + 1)
        return UNKNOWN if layer.kind != "layer" else UNKNOWN
    if isinstance(fn.node, ast.Lambda):
        body = fn.node.body
    else:
        if not fn.returns or fn.yields:
            return UNKNOWN
        body = fn.returns[-1]
    params = [p for p in fn.params if p != "self"]
    new_env: dict = {}
    if element is not None and element.kind != "unknown":
        if len(params) == 1:
            new_env[(id(fn.scope), params[0])] = element
        elif element.kind == "tuple" and len(element.items) == len(params):
            for p, v in zip(params, element.items):
                new_env[(id(fn.scope), p)] = v
    if not new_env:
        new_env = {("", ""): UNKNOWN}
    return value_of(model, body, new_env, depth + 2)


def _tfds_load(model, call, env, depth) -> Value:
    name_node = get_arg(call, "name", 0)
    split_node = get_arg(call, "split", 1)
    try:
        name = literal_value(name_node) if name_node is not None else None
    except ValueError:
        return UNKNOWN
    if not isinstance(name, str):
        return UNKNOWN
    entry = knowledge.tfds_dataset(name)
    if entry is None:
        return UNKNOWN
    supervised = _true(get_arg(call, "as_supervised"))
    with_info = _true(get_arg(call, "with_info"))
    base = name.split(":", 1)[0]
    per_example = knowledge.tfds_example_bytes(name)
    feats = entry.get("features", {})

    def element() -> Value:
        def feat(key):
            spec = feats.get(key) or {}
            shape = spec.get("shape")
            return array(tuple(shape) if shape is not None else None, spec.get("dtype"), "tensorflow",
                         f"tfds {base} {key}s")
        if supervised and "image" in feats:
            img = feat("image")
            if img.nbytes is None and per_example is not None:
                img = replace(img, origin=f"tfds {base} images (~{_mb(per_example)} each decoded)")
            return Value("tuple", items=(img, feat("label")))
        if supervised:
            return UNKNOWN
        return mapping(list(feats), [feat(k) for k in feats], origin=f"tfds {base} examples")

    def one(split: Optional[str]) -> Value:
        count = knowledge.tfds_split_examples(name, split) if split else None
        origin = f"tfds {base} split {split}" if split else f"tfds {base} (every split)"
        el = element()
        v = dataset(el, count, origin, whole=True)
        if per_example is not None and count is not None:
            v = replace(v, options=(("decoded_bytes", per_example * count),))
        return v

    try:
        split = literal_value(split_node) if split_node is not None else None
    except ValueError:
        return UNKNOWN
    if isinstance(split, (list, tuple)):
        if not all(isinstance(s, str) for s in split):
            return UNKNOWN
        out = Value("tuple", items=tuple(one(s) for s in split))
    elif isinstance(split, str):
        out = one(split)
    elif split is None:
        splits = list(entry.get("splits", {}))
        out = mapping(splits, [one(k) for k in splits], origin=f"tfds {base} (every split)")
    else:
        return UNKNOWN
    if with_info:
        return Value("tuple", items=(out, Value("info", origin=f"tfds {base} info", qualname=name)))
    return out


def _true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def decoded_bytes(v: Value) -> Optional[int]:
    """Decoded size of a known data set split (tfds), when the tables give it."""
    return dict(v.options).get("decoded_bytes") if v.options else None  # type: ignore[return-value]


# --------------------------------------------------------------------------- for rules


def array_value(model, expr: Optional[ast.AST]) -> Value:
    """``value_of`` for an expression a rule expects to be an array (UNKNOWN otherwise)."""
    v = value_of(model, expr)
    return v if v.kind == "array" else UNKNOWN
