"""TensorFlow value knowledge on top of the semantic model: which callables are
``tf.function``s (and how they were declared), which expressions are tensors,
which are plain Python scalars, and which calls create TensorFlow ops.

Everything here reads the records of one ``SemanticModel`` (no tree walk) and
memoises per model in ``model._memo``.  Nodes are CPython ``ast`` nodes (engine v2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import ast

from kmlint.semantics.model import MODEL_CONSTRUCTORS, CallSite, FunctionInfo, Loop, SemanticModel, names_in, unpack_value
from kmlint.semantics.names import argument_values, get_arg, literal_value

# --------------------------------------------------------------------------- tf ops

# tf.<namespace> sub-modules whose functions do not create tensors or ops
NON_OP_NAMESPACES = {
    "config", "data", "io", "summary", "saved_model", "train", "keras", "compat", "distribute", "debugging",
    "test", "sysconfig", "version", "autograph", "experimental", "lite", "estimator", "feature_column",
    "errors", "dtypes", "types", "nest", "tpu", "profiler", "logging", "gfile", "app", "flags", "python_io",
    "tools", "core", "python", "mlir", "queue", "raw_ops_info", "graph_util", "__internal__",
}
# top-level tf functions (and functions of op namespaces) that create no tensor
NON_OP_FUNCTIONS = {
    "function", "device", "name_scope", "control_dependencies", "init_scope", "as_dtype", "get_static_value",
    "is_tensor", "executing_eagerly", "get_logger", "set_seed", "register_tensor_conversion_function",
    "no_gradient", "custom_gradient", "recompute_grad", "get_default_graph", "reset_default_graph",
    "set_random_seed", "enable_eager_execution", "disable_eager_execution", "disable_v2_behavior",
    "get_collection", "add_to_collection", "trainable_variables", "global_variables", "variable_scope",
    "get_variable_scope", "numpy_function",
}
# capitalised tf names that nonetheless create tensors / variables
TENSOR_CLASSES = {"Variable", "SparseTensor", "RaggedTensor"}


def tf_op_name(qualname: Optional[str]) -> Optional[str]:
    """The op name when ``qualname`` is a TensorFlow function that creates a
    tensor / graph op (``tensorflow.reduce_mean``, ``tensorflow.nn.relu``)."""
    if not qualname or not qualname.startswith("tensorflow."):
        return None
    parts = qualname.split(".")[1:]
    if not parts or parts[0] in NON_OP_NAMESPACES or parts[0].startswith("_"):
        return None
    last = parts[-1]
    if last in NON_OP_FUNCTIONS or last.startswith("_"):
        return None
    if last[:1].isupper() and last not in TENSOR_CLASSES and not (len(parts) >= 2 and parts[-2] in TENSOR_CLASSES):
        return None
    return ".".join(parts)


def is_tf_function_qualname(q: Optional[str]) -> bool:
    return bool(q) and (q == "tensorflow.function" or (q.startswith("tensorflow.") and q.endswith(".function")))


def tf_alias(model: SemanticModel) -> Optional[str]:
    """The local name the file uses for the ``tensorflow`` module, if any."""
    for local, target in model.imports.items():
        if target == "tensorflow":
            return local
    return None


# --------------------------------------------------------------------------- tf.function

@dataclass(eq=False)
class TfFunction:
    """A ``tf.function`` declaration: ``@tf.function[(...)]`` on a def, or a
    ``tf.function(f, ...)`` call."""

    # the decorator expression (``tf.function`` or ``tf.function(...)``, after
    # the ``@``; ``decorator`` is set) or the tf.function(...) Call
    declaration: ast.expr
    options: Optional[ast.Call]  # the call holding the keyword options, None for a bare decorator
    function: Optional[FunctionInfo]  # the wrapped Python function when it is defined in this file
    wrapped: Optional[ast.expr] = None  # tf.function(<wrapped>)
    decorator: bool = False  # declared with ``@``

    def option(self, name: str) -> Optional[ast.expr]:
        """The value expression of a keyword option."""
        return get_arg(self.options, name) if self.options is not None else None

    @property
    def has_input_signature(self) -> bool:
        a = self.option("input_signature")
        if a is None and self.options is not None and self.function is None and self.wrapped is not None:
            a = get_arg(self.options, "input_signature", 1)
        return a is not None and not (isinstance(a, ast.Constant) and a.value is None)

    @property
    def reduces_retracing(self) -> bool:
        for key in ("reduce_retracing", "experimental_relax_shapes"):
            a = self.option(key)
            if a is not None and not (isinstance(a, ast.Constant) and (a.value is False or a.value is None)):
                return True
        return False


def _decorator_tf_function(model: SemanticModel, fn: FunctionInfo) -> Optional[TfFunction]:
    node = fn.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for d in node.decorator_list:
        expr = d
        call = expr if isinstance(expr, ast.Call) else None
        if call is not None:
            expr = call.func
        if is_tf_function_qualname(model.qualname(expr)):
            return TfFunction(d, call, fn, decorator=True)
    return None


def decorated_tf_function(model: SemanticModel, fn: FunctionInfo) -> Optional[TfFunction]:
    memo = model._memo.setdefault("tf_decorated", {})
    if id(fn) not in memo:
        memo[id(fn)] = _decorator_tf_function(model, fn)
    return memo[id(fn)]


def tf_function_call(model: SemanticModel, expr: Optional[ast.expr]) -> Optional[TfFunction]:
    """``tf.function(f, ...)`` or ``tf.function(...)(f)`` as an expression."""
    if not isinstance(expr, ast.Call):
        return None
    if is_tf_function_qualname(model.qualname(expr.func)):
        first = get_arg(expr, "func", 0)
        if first is None:
            return None  # tf.function(jit_compile=True) alone is a decorator factory
        return TfFunction(expr, expr, _local_function(model, first), first)
    if isinstance(expr.func, ast.Call) and is_tf_function_qualname(model.qualname(expr.func.func)) and (expr.args or expr.keywords):
        first = argument_values(expr)[0]
        return TfFunction(expr.func, expr.func, _local_function(model, first), first)
    return None


def tf_function_calls(model: SemanticModel) -> list[CallSite]:
    """Every call of ``tf.function`` itself, whatever the import alias."""
    memo = model._memo.get("tf_function_calls")
    if memo is None:
        # every spelling of tf.function calls something named `function` (an
        # aliased import is indexed under its real name too)
        memo = [cs for cs in model.calls_by_name.get("function", ()) if is_tf_function_qualname(model.qualname(cs.node.func))]
        memo.sort(key=lambda cs: cs.order)
        model._memo["tf_function_calls"] = memo
    return memo


def _local_function(model: SemanticModel, expr: ast.expr) -> Optional[FunctionInfo]:
    if isinstance(expr, ast.Lambda):
        return model.function_of.get(id(expr))
    b = model.binding_of(expr) if isinstance(expr, ast.Name) else None
    if b is not None and b.kind == "def":
        return b.function
    return None


def callee_tf_function(model: SemanticModel, call: CallSite) -> Optional[TfFunction]:
    """The ``tf.function`` a call site calls, when the file shows it."""
    func = call.node.func
    fn = model.function_called(call)
    if fn is not None:
        dec = decorated_tf_function(model, fn)
        if dec is not None:
            return dec
    if isinstance(func, ast.Name):
        b = model.lookup(func.id, call.scope, call.order)
        if b is not None and b.kind in ("assign", "annassign") and not b.path:
            return tf_function_call(model, b.value)
        return None
    method = _method_of_instance(model, func)
    if method is not None:
        return decorated_tf_function(model, method)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
        # self.step = tf.function(self._step) in __init__
        for st in model.target_stores:
            t = st.target
            if (isinstance(t, ast.Attribute) and t.attr == func.attr and isinstance(t.value, ast.Name)
                    and t.value.id == "self"):
                found = tf_function_call(model, st.value)
                if found is not None:
                    return found
    return None


def _method_of_instance(model: SemanticModel, func: ast.expr) -> Optional[FunctionInfo]:
    """``trainer.step`` where ``trainer = Trainer(...)`` and ``Trainer`` is a class of this file."""
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    b = model.binding_of(func.value)
    if b is None or b.kind != "assign" or b.path or not isinstance(b.value, ast.Call) or not isinstance(b.value.func, ast.Name):
        return None
    cls = model.lookup(b.value.func.id, b.scope, b.order)
    if cls is None or cls.kind != "class":
        return None
    for f in model.functions:
        if f.class_name == cls.name and f.name == func.attr and f.parent_scope.node is cls.node:
            return f
    return None


def inside_tf_function(model: SemanticModel, fn: Optional[FunctionInfo]) -> bool:
    """Whether code of ``fn`` (or a function nested in it) is traced by a tf.function."""
    seen = 0
    while fn is not None and seen < 8:
        if decorated_tf_function(model, fn) is not None or _wrapped_somewhere(model, fn):
            return True
        parent = fn.parent_scope
        fn = parent.function if parent is not None else None
        seen += 1
    return False


def _wrapped_somewhere(model: SemanticModel, fn: FunctionInfo) -> bool:
    memo = model._memo.get("tf_wrapped")
    if memo is None:
        memo = set()
        for cs in tf_function_calls(model):
            tf = tf_function_call(model, cs.node)
            if tf is not None and tf.function is not None:
                memo.add(id(tf.function))
        model._memo["tf_wrapped"] = memo
    return id(fn) in memo


# --------------------------------------------------------------------------- Python scalars

def _is_number_literal(expr: ast.expr) -> bool:
    try:
        v = literal_value(expr)
    except ValueError:
        return False
    return isinstance(v, (int, float)) and not isinstance(v, bool)


PYTHON_SCALAR_BUILTINS = {"float", "int", "len", "round", "abs", "min", "max", "sum"}


def is_python_scalar(model: SemanticModel, expr: Optional[ast.expr], depth: int = 0) -> bool:
    """A plain Python ``int``/``float`` (not a tensor, not a numpy value)."""
    if expr is None or depth > 8:
        return False
    if _is_number_literal(expr):
        return True
    if isinstance(expr, ast.UnaryOp):
        return is_python_scalar(model, expr.operand, depth + 1)
    if isinstance(expr, ast.BinOp):
        return is_python_scalar(model, expr.left, depth + 1) and is_python_scalar(model, expr.right, depth + 1)
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Name) and expr.func.id in PYTHON_SCALAR_BUILTINS and model.binding_of(expr.func) is None:
            return all(is_python_scalar(model, a, depth + 1) or expr.func.id in ("len", "float", "int")
                       for a in argument_values(expr))
        q = model.qualname(expr.func)
        return bool(q) and q.startswith("math.")
    if isinstance(expr, ast.Name):
        return _name_is_python_scalar(model, expr, depth)
    return False


def _name_is_python_scalar(model: SemanticModel, name: ast.Name, depth: int) -> bool:
    b = model.binding_of(name)
    if b is None:
        return False
    if b.kind == "for":
        return python_int_loop_target(b.value, b.path)
    if b.kind in ("assign", "annassign") and not b.path:
        return is_python_scalar(model, b.value, depth + 1)
    if b.kind == "augassign":
        # counter += 1: a Python scalar when every plain assignment of it is one
        others = [x for x in b.scope.bindings.get(name.id, ()) if x.kind in ("assign", "annassign")]
        return bool(others) and all(not x.path and is_python_scalar(model, x.value, depth + 1) for x in others)
    return False


def python_int_loop_target(iterable: Optional[ast.expr], path: tuple[int, ...]) -> bool:
    """Whether the for-target at ``path`` of ``for ... in iterable`` is a Python
    int: the counter of ``range`` or of Python's ``enumerate``, or the numbers
    of a literal list (``Dataset.enumerate()`` and ``tf.range`` give tensors)."""
    if not isinstance(iterable, ast.Call):
        if isinstance(iterable, (ast.List, ast.Tuple)) and not path:
            return bool(iterable.elts) and all(_is_number_literal(e) for e in iterable.elts)
        return False
    func = iterable.func
    if not isinstance(func, ast.Name):
        return False
    if func.id == "range":
        return not path
    if func.id == "enumerate":
        return path[:1] == (0,) and len(path) == 1
    if func.id == "zip" and path:
        i = path[0]
        positional = [a.value if isinstance(a, ast.Starred) else a for a in iterable.args]
        if 0 <= i < len(positional):
            return python_int_loop_target(positional[i], path[1:])
    return False


def varies_in(model: SemanticModel, expr: ast.expr, loop: Loop) -> bool:
    return bool(names_in(expr) & loop.variant_names)


# --------------------------------------------------------------------------- tensors

LOSS_METRIC_PREFIXES = ("keras.losses.", "keras.metrics.")
NOT_TENSOR_METHODS = {"numpy", "item", "tolist", "predict", "predict_on_batch", "train_on_batch", "test_on_batch",
                      "evaluate", "fit", "get_weights", "count_params"}
NOT_TENSOR_BUILTINS = {"float", "int", "bool", "str", "len", "round", "list", "dict", "tuple"}


@dataclass
class TensorValue:
    what: str  # human description: "a loss tensor", "`metric.result()`", ...
    scalar: bool  # known to be a 0-d tensor (so float(x) works)


def tensor_value(model: SemanticModel, expr: Optional[ast.expr], depth: int = 0) -> Optional[TensorValue]:
    """Evidence that ``expr`` evaluates to a TensorFlow tensor (or a structure of
    tensors); None when it is not, or when the analysis cannot tell."""
    if expr is None or depth > 6:
        return None
    if isinstance(expr, ast.Name):
        b = model.binding_of(expr)
        if b is None or b.value is None:
            return None
        if b.kind in ("assign", "annassign", "walrus") and not b.path:
            return tensor_value(model, b.value, depth + 1)
        if b.kind == "assign" and b.path:
            # `loss, acc = tf.reduce_mean(ls), tf.reduce_mean(accs)`: the element itself
            element = unpack_value(b.value, b.path)
            if element is not None:
                return tensor_value(model, element, depth + 1)
        if b.kind == "assign" and b.path and isinstance(b.value, ast.Call):
            whole = tensor_value(model, b.value, depth + 1)
            if whole is not None:
                return TensorValue(whole.what, False)
        return None
    if isinstance(expr, ast.Subscript):
        base = tensor_value(model, expr.value, depth + 1)
        return TensorValue(base.what, False) if base is not None else None
    if isinstance(expr, ast.BinOp):
        left = tensor_value(model, expr.left, depth + 1)
        right = tensor_value(model, expr.right, depth + 1)
        found = left or right
        if found is None:
            return None
        other = right if found is left else left
        other_node = expr.right if found is left else expr.left
        scalar = found.scalar and (other is not None and other.scalar or is_python_scalar(model, other_node))
        return TensorValue(found.what, scalar)
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if isinstance(func, ast.Name) and func.id in NOT_TENSOR_BUILTINS and model.binding_of(func) is None:
        return None
    if isinstance(func, ast.Attribute):
        method = func.attr
        if method in NOT_TENSOR_METHODS:
            return None
        if method == "result" and _is_metric(model, func.value):
            return TensorValue(f"`{model.text(func.value)}.result()`", True)
        if method == "gradient" and _is_gradient_tape(model, func.value):
            return TensorValue("gradients from `tape.gradient`", False)
    q = model.qualname(func)
    op = tf_op_name(q)
    if op is not None:
        reduced = op.startswith(("reduce_", "math.reduce_")) and get_arg(expr, "axis", 1) is None
        return TensorValue(f"`tf.{op}(...)`", reduced)
    if q and q.startswith("keras.ops."):
        return TensorValue(f"`keras.ops.{q[len('keras.ops.'):]}(...)`", False)
    if q and q.startswith(LOSS_METRIC_PREFIXES) and q.rsplit(".", 1)[-1][:1].islower():
        return TensorValue(f"`{q.rsplit('.', 1)[-1]}(...)`", False)
    # calling a Keras loss/metric object, a model, a tf.function or a local helper
    if isinstance(func, ast.Name):
        b = model.binding_of(func)
        if b is not None and b.kind in ("assign", "annassign") and not b.path and isinstance(b.value, ast.Call):
            cq = model.qualname(b.value.func)
            if cq and cq.startswith(LOSS_METRIC_PREFIXES) and cq.rsplit(".", 1)[-1][:1].isupper():
                kind = "loss" if cq.startswith("keras.losses.") else "metric"
                return TensorValue(f"a {kind} tensor from `{func.id}(...)`", kind == "loss" and get_arg(b.value, "reduction") is None)
    if model.is_keras_model(func) and not isinstance(func, ast.Call):
        return TensorValue(f"the outputs of `{model.text(func)}(...)`", False)
    cs = model.call_of.get(id(expr))
    if cs is not None:
        tf = callee_tf_function(model, cs)
        if tf is not None:
            scalar = False
            if tf.function is not None and tf.function.returns:
                rets = [tensor_value(model, r, depth + 1) for r in tf.function.returns]
                scalar = all(r is not None and r.scalar for r in rets)
            return TensorValue(f"the result of the tf.function `{model.text(func)}`", scalar)
        fn = model.function_called(cs)
        if fn is not None and fn.returns and not fn.yields:
            rets = [tensor_value(model, r, depth + 1) for r in fn.returns]
            if all(r is not None for r in rets):
                return TensorValue(f"the result of `{model.text(func)}()` ({rets[0].what})", all(r.scalar for r in rets))
    return None


def _is_metric(model: SemanticModel, expr: ast.expr) -> bool:
    target = expr
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        for st in model.target_stores:
            t = st.target
            if isinstance(t, ast.Attribute) and t.attr == expr.attr and isinstance(st.value, ast.Call):
                q = model.qualname(st.value.func)
                if q and q.startswith("keras.metrics."):
                    return True
        return False
    b = model.binding_of(target) if isinstance(target, ast.Name) else None
    if b is not None and b.kind in ("assign", "annassign") and isinstance(b.value, ast.Call):
        q = model.qualname(b.value.func)
        return bool(q) and q.startswith("keras.metrics.")
    return False


def _is_gradient_tape(model: SemanticModel, expr: ast.expr) -> bool:
    b = model.binding_of(expr) if isinstance(expr, ast.Name) else None
    if b is None or b.kind not in ("with", "assign") or not isinstance(b.value, ast.Call):
        return False
    return model.qualname(b.value.func) == "tensorflow.GradientTape"


# --------------------------------------------------------------------------- training loops

STEP_METHODS = {"apply_gradients", "minimize", "train_on_batch", "test_on_batch", "predict_on_batch", "fit", "evaluate",
                "train_step", "test_step", "gradient"}


def is_training_loop(model: SemanticModel, loop: Loop) -> bool:
    """A loop over training (or evaluation) steps or epochs: per iteration it
    runs an optimizer step, a gradient computation, a Keras train/fit/evaluate
    call, a tf.function or a Keras model, directly or through local helpers.
    Iterating over a dataset alone (converting it to arrays) is not a step."""
    memo = model._memo.setdefault("training_loop", {})
    if id(loop) in memo:
        return memo[id(loop)]
    found = False
    for cs in _calls_executed_in(model, loop):
        if (cs.name in STEP_METHODS or callee_tf_function(model, cs) is not None
                or (not isinstance(cs.node.func, ast.Call) and model.is_keras_model(cs.node.func))):
            found = True
            break
    memo[id(loop)] = found
    return found


def _calls_executed_in(model: SemanticModel, loop: Loop, depth: int = 2) -> list[CallSite]:
    out = list(loop.calls)
    frontier = list(loop.calls)
    for _ in range(depth):
        nxt = []
        for cs in frontier:
            fn = model.function_called(cs)
            if fn is not None:
                nxt.extend(fn.calls)
        out.extend(nxt)
        frontier = nxt
    return out


# --------------------------------------------------------------------------- Keras models

def builds_keras_model(model: SemanticModel, call: CallSite) -> Optional[str]:
    """The constructor's name when ``call`` creates a new Keras model: a Keras
    constructor or loader, a ``keras.applications`` network, or a class of this
    file that subclasses ``keras.Model``."""
    q = model.qualname(call.node.func)
    if q is not None and (q in MODEL_CONSTRUCTORS or (q.startswith("keras.applications.") and q.rsplit(".", 1)[-1][:1].isupper())):
        return q  # keras.applications.ResNet50, not keras.applications.imagenet_utils.correct_pad
    if q is not None and "." not in q and q in ("Sequential", "load_model", "clone_model"):
        return q
    if isinstance(call.node.func, ast.Name):
        b = model.lookup(call.node.func.id, call.scope, call.order)
        if b is not None and b.kind == "class" and isinstance(b.node, ast.ClassDef):
            for base in b.node.bases:
                bq = model.qualname(base)
                if bq in ("keras.Model", "keras.Sequential"):
                    return b.name
    return None


def is_clear_session(model: SemanticModel, call: CallSite) -> bool:
    """``keras.backend.clear_session()`` in any spelling, or TF1's
    ``reset_default_graph()``."""
    q = model.qualname(call.node.func)
    if q is None:
        return False
    last = q.rsplit(".", 1)[-1]
    if last not in ("clear_session", "reset_default_graph"):
        return False
    return "." not in q or q.startswith(("keras.", "tensorflow."))


# --------------------------------------------------------------------------- TF1 graphs and sessions

SESSION_CLASSES = {"Session", "InteractiveSession", "MonitoredTrainingSession", "MonitoredSession",
                   "SingularMonitoredSession"}
TF1_GRAPH_BUILDERS = {"train.Saver", "summary.scalar", "summary.histogram", "summary.image", "summary.audio",
                      "summary.text", "summary.merge_all", "summary.merge", "train.import_meta_graph"}
# methods that add ops to the graph when called on TF1 variables/optimizers
TF1_OP_METHODS = {"assign", "assign_add", "assign_sub", "minimize", "apply_gradients", "compute_gradients"}


def tf1_name(qualname: Optional[str]) -> Optional[str]:
    """``tensorflow.compat.v1.X`` -> ``tensorflow.X`` (TF1 spellings folded)."""
    if not qualname:
        return None
    for prefix in ("tensorflow.compat.v1.", "tensorflow.compat.v2."):
        if qualname.startswith(prefix):
            return "tensorflow." + qualname[len(prefix):]
    return qualname


def session_class(model: SemanticModel, call: ast.Call) -> Optional[str]:
    q = tf1_name(model.qualname(call.func))
    if q and q.startswith("tensorflow.") and q.rsplit(".", 1)[-1] in SESSION_CLASSES:
        return q.rsplit(".", 1)[-1]
    return None


def is_session(model: SemanticModel, expr: Optional[ast.expr]) -> bool:
    """A TF1 session: bound from a Session constructor, or (parameters and
    fragments) a name such as ``sess`` in a TensorFlow file."""
    if isinstance(expr, ast.Call):
        return session_class(model, expr) is not None
    if not isinstance(expr, ast.Name):
        return False
    b = model.binding_of(expr)
    if b is not None and b.kind in ("assign", "with") and not b.path and isinstance(b.value, ast.Call):
        return session_class(model, b.value) is not None
    return (b is None or b.kind == "param") and expr.id in ("sess", "session") and model.uses_tensorflow


def creates_graph_op(model: SemanticModel, call: ast.Call) -> Optional[str]:
    """A description of the TF1 graph op a call adds, or None."""
    q = tf1_name(model.qualname(call.func))
    if q and q.startswith("tensorflow."):
        rest = q[len("tensorflow."):]
        if rest in TF1_GRAPH_BUILDERS or tf_op_name(q) is not None:
            return f"`tf.{rest}()`"
        return None
    if isinstance(call.func, ast.Attribute) and call.func.attr in TF1_OP_METHODS:
        if q is None or not q.startswith(("numpy.", "pandas.")):
            return f"`.{call.func.attr}()`"
    return None
