"""KM203: ``model.predict`` per item or per small batch inside a Python loop,
directly or through a helper of this file called from the loop."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from kmlint import edits
from kmlint.semantics.names import argument_values
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics import project
from kmlint.semantics.model import names_in
from kmlint.semantics.values import value_of
from kmlint.semantics.blocks import in_test_function
from kmlint.semantics.devices import environment_setting
from kmlint.semantics.names import call_name, get_arg
from kmlint.semantics.sizes import int_value, iteration_bound, total_iterations

# `for i in range(0, n, step)` with a step this large is chunked inference of
# a whole data set (a handful of calls), not per-item prediction.
LARGE_CHUNK = 1024
# predict() arguments that predict_on_batch() does not take but can be dropped
# without changing the result
DROPPABLE = {"batch_size", "verbose"}
TRAINING_CALLS = {"fit", "fit_generator", "train_on_batch"}
WHOLE_TRAINING_CALLS = {"fit", "fit_generator"}
# an autoregressive decode loop of at most this many known steps, each call
# predicting on the whole data set, is not per-item prediction
DECODE_STEPS = 16
# a known loop count this small gets a message saying why it still matters
FEW_CALLS = 20
# Keras 3 backends on which `predict` in a loop was measured not to grow memory (issue 12: JAX and
# PyTorch, on a GPU and on the CPU; README "Keras backends"): there it costs time, not memory
NO_GROWTH_BACKENDS = {"jax": "JAX", "torch": "PyTorch"}


@register
class PredictInLoop(Rule):
    code = "KM203"
    name = "predict-in-loop"
    summary = "`model.predict()` called per item/small batch inside a loop (a new data adapter each call; memory grows)"
    fixable = "unsafe"
    confirmable = True
    tokens = ("predict",)
    requires = ("keras_model",)
    calls = frozenset({"predict"})

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        if not isinstance(call.node.func, ast.Attribute) or model.function_called(call) is not None:
            return
        data = get_arg(call.node, "x", 0)
        if data is None or not (model.is_keras_model(call.receiver) or _project_model(model, call.receiver, ctx.path)):
            return
        contexts = model.loop_contexts(call)
        if not contexts:
            self._check_passed_function(model, call, data, ctx)
            return
        for innermost, helpers in contexts:
            if not self._per_iteration(model, call, data, innermost, helpers, ctx.settings.tiny_loop_iterations):
                continue
            receiver = model.text(call.receiver)
            advice = ("collect the inputs and call `predict` once, or use `predict_on_batch(x)` / "
                      "`model(x, training=False)` inside loops")
            bound = total_iterations(model, innermost)
            if (bound is None or bound <= FEW_CALLS) and in_test_function(model, call.node):
                continue  # a unit test looping over its few cases
            if bound is not None and bound <= FEW_CALLS:
                # a short loop (a test's few cases, a 10-step forecast): say why it still matters
                advice = (f"only {bound} calls here, but each one also pays for a new data adapter and "
                          f"iterator, far slower than `model(x, training=False)` on one small input; {advice}")
            grows = _growth(model)
            if helpers:
                helper = model.function_called(helpers[0])
                message = (f"`{helper.name}()` calls `{receiver}.predict()` and is called once per loop iteration; "
                           f"every `predict` call builds a new data adapter{grows}; {advice}")
                ctx.report(helpers[0].node, message, self._fix(model, call, data))
            else:
                message = (f"`{receiver}.predict()` is called once per loop iteration; every call builds a new "
                           f"data adapter{grows}; {advice}")
                ctx.report(call.node, message, self._fix(model, call, data))

    def _check_passed_function(self, model, call, data, ctx) -> None:
        """``def policy(obs): return model.predict(obs[None])`` handed to
        ``run_episode(policy)``, which calls ``policy(obs)`` once per step of
        its loop: calls through a function-valued parameter (issue 16, class 4)."""
        fn = call.function
        if fn is None or fn.class_name is not None or not model.depends_on_params(fn, data):
            return
        tiny = ctx.settings.tiny_loop_iterations
        for site, through in _calls_through_parameters(model, fn):
            loop = site.loops[-1] if site.loops else None
            while loop is not None:
                if any(model.depends_on_loop(a, loop) for a in argument_values(site.node)) \
                        and not _few_iterations(model, loop, tiny) and not _trains_each_iteration(loop):
                    receiver = model.text(call.receiver)
                    ctx.report(call.node, f"`{fn.name}()` calls `{receiver}.predict()` and `{through.name}()` calls it "
                               f"(as `{model.text(site.node.func)}`) once per loop iteration; every `predict` call "
                               f"builds a new data adapter{_growth(model)}; call `predict_on_batch(x)` or "
                               "`model(x, training=False)` per step instead", self._fix(model, call, data))
                    return
                loop = loop.parent

    @staticmethod
    def _per_iteration(model, call, data, innermost, helpers, tiny: int) -> bool:
        """Does each iteration of some loop around the call (or around the
        helper call) predict on its own, loop-dependent input?"""
        if helpers:
            # the data must flow from the helpers' parameters down to predict()
            if not model.depends_on_params(call.function, data):
                return False
            for inner in helpers[1:]:
                if not any(model.depends_on_params(inner.function, a) for a in argument_values(inner.node)):
                    return False
            varying = list(argument_values(helpers[0].node))
        else:
            varying = [data]
        # a helper that draws a new random batch on every call (a replay buffer's sample)
        drawn = bool(helpers) and _drawn_per_call(model, call.function, data)
        loop = innermost
        while loop is not None:
            if (drawn or any(model.depends_on_loop(v, loop) or _filled_in(model, v, loop) for v in varying)) \
                    and not _few_iterations(model, loop, tiny) and not _trains_each_iteration(loop) \
                    and not (not helpers and _decodes(model, call, data, loop)):
                return True
            loop = loop.parent
        return False

    @staticmethod
    def _fix(model, call, data) -> Optional[Fix]:
        """``predict_on_batch(x)``: the same NumPy result as ``predict`` for
        in-memory batches, without the per-call adapter.  Not for generators
        or datasets, nor when predict() gets callbacks or steps."""
        node = call.node
        if any(a is not data for a in node.args):
            return None
        if any(k.value is not data and (k.arg is None or k.arg not in DROPPABLE) for k in node.keywords):
            return None
        if model.is_dataset(data) or _is_generator_call(model, data):
            return None
        dropped = [k.arg for k in node.keywords if k.value is not data]
        kept = [a for a in [*node.args, *node.keywords] if a is data or (isinstance(a, ast.keyword) and a.value is data)]
        changes = [edits.rename_attribute(model, node.func, "predict_on_batch"), *edits.keep_only_arguments(model, node, kept)]
        note = f"; drops {', '.join(dropped)}" if dropped else ""
        return Fix(UNSAFE, f"Use `predict_on_batch` (one batch, NumPy result{note})", edits=edits.flatten(changes))


KERAS_MODEL_BASES = {"keras.Model", "keras.Sequential"}


def _project_model(model, receiver, path: str) -> bool:
    """``model = VGG16(...)`` where ``VGG16`` is a class of another project
    file that subclasses ``keras.Model`` (``from network import VGG16``)."""
    if not isinstance(receiver, ast.Name) or not path:
        return False
    b = model.binding_of(receiver)
    if b is None or b.kind != "assign" or b.path or not isinstance(b.value, ast.Call):
        return False
    found = project.imported_class(model, Path(path), b.value.func, model.dependencies)
    if found is None:
        return False
    helper, cls, _ = found
    return any(helper.qualname(base) in KERAS_MODEL_BASES for base in cls.bases)


def _calls_through_parameters(model, fn):
    """(call site, function) pairs where ``fn`` is passed as an argument to a
    function of this file that calls that parameter (``show(policy)`` ...
    ``def show(policy): ... policy(obs)``)."""
    out = []
    for cs, keyword, passed in model.handed_to(fn):
        holder = cs.node
        target = model.function_called(cs)
        if target is None or target is fn:
            continue
        if keyword is None:
            if passed not in holder.args:
                continue
            position = holder.args.index(passed)
            params = [p for p in target.params if p not in ("self", "cls")] if target.class_name else target.params
            if any(isinstance(a, ast.Starred) for a in holder.args[:position + 1]) or position >= len(params):
                continue
            keyword = params[position]
        for site in target.calls:
            func = site.node.func
            if isinstance(func, ast.Name) and func.id == keyword:
                pb = model.binding_of(func)
                if pb is not None and pb.kind == "param" and pb.scope is target.scope:
                    out.append((site, target))
    return out


RANDOM_PREFIXES = ("numpy.random.", "random.", "tensorflow.random.")


def _drawn_per_call(model, fn, data) -> bool:
    """The helper's ``predict`` input is computed from a random draw made in
    the helper (``idx = np.random.randint(len(buffer), size=n)``), directly or
    through a function of this file it calls (``batch = sample(n)``): each
    call predicts on a new batch, whatever its arguments."""
    if fn is None:
        return False
    todo = list(names_in(data))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or len(seen) > 20:
            continue
        seen.add(name)
        for b in fn.scope.bindings.get(name, ()):
            if b.value is None:
                continue
            for node in ast.walk(b.value):
                if not isinstance(node, ast.Call):
                    continue
                if (model.qualname(node.func) or "").startswith(RANDOM_PREFIXES):
                    return True
                cs = model.call_of.get(id(node))
                helper = model.function_called(cs) if cs is not None else None
                if helper is not None and helper is not fn and any(
                        (c.qualname or "").startswith(RANDOM_PREFIXES) for c in helper.calls):
                    return True
            todo.extend(names_in(b.value))
    return False


BUFFER_CONSTRUCTORS = {"numpy.zeros", "numpy.empty", "numpy.ones", "numpy.full"}


def _filled_in(model, expr, loop) -> bool:
    """A batch buffer (``np.zeros``/``np.empty`` made before the loop) that
    the loop fills in place before predicting on it (``noise[i, :] =
    np.random.uniform(...)``, ``faces[i % bs] = img``): a new batch every
    iteration although the name is bound before the loop.  Data changed in
    place (a column shuffled for a permutation test) is not a buffer: each
    call still gets the whole data set."""
    names = {n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and _is_buffer(model, n)} \
        if isinstance(expr, (ast.Name, ast.Subscript, ast.Call)) else set()
    if not names:
        return False
    for st in model.target_stores:
        if loop not in st.loops or not isinstance(st.target, ast.Subscript):
            continue
        root = st.target.value
        while isinstance(root, ast.Subscript):
            root = root.value
        if isinstance(root, ast.Name) and root.id in names and st.scope is loop.scope:
            return True
    return False


def _is_buffer(model, name: ast.Name) -> bool:
    b = model.binding_of(name)
    return (b is not None and b.kind == "assign" and not b.path and isinstance(b.value, ast.Call)
            and model.qualname(b.value.func) in BUFFER_CONSTRUCTORS)


def _few_iterations(model, loop, tiny: int) -> bool:
    n = iteration_bound(model, loop)
    if n is not None and n <= tiny:
        return True
    it = loop.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
            and len(it.args) + len(it.keywords) == 3:
        step = int_value(model, it.args[2]) if len(it.args) == 3 else None
        return step is not None and step >= LARGE_CHUNK
    return False


def _decodes(model, call, data, loop) -> bool:
    """An autoregressive decode loop over a whole batch: what changes in
    ``predict``'s input from one step to the next is rebuilt from the previous
    predictions, not picked by the loop variable, so every call gets the whole
    data set (``probs = model.predict([x_test, tokens]); tokens = extend(tokens,
    probs)``).  The steps are a known handful (at most DECODE_STEPS) or one per
    position of the output (``range(Y.shape[1])``); not when the input is one
    example extended step by step (a forecast of one series)."""
    n = model.known_iterations(loop)
    if n is not None and n > DECODE_STEPS:
        return False
    if n is None and not (_over_positions(model, loop) or _whole_data_alongside(model, data, loop)):
        return False  # unknown steps (`while not done:`, `range(length)`): an agent's or a generator's loop
    if _single_example(model, data, call.loops):
        return False  # one sequence extended step by step: per-item prediction, whatever the step count
    varying = names_in(data) & loop.variant_names
    if not varying or varying & loop.targets:
        return False
    bound = [b for bs in loop.scope.bindings.values() for b in bs if loop in b.loops and b.name not in loop.targets]
    holder = call.stmt
    fed = {b.name for b in bound if b.stmt is holder}  # out = model.predict(...)
    changed = True
    while changed:
        changed = False
        for b in bound:
            if b.name not in fed and b.value is not None and names_in(b.value) & fed:
                fed.add(b.name)
                changed = True
    return varying <= fed


def _over_positions(model, loop) -> bool:
    """``for t in range(n)`` where ``n`` is a later dimension of an array
    (``max_len = Y.shape[1]``): one step per position of the output sequence,
    not per example."""
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and len(it.args) == 1):
        return False
    bound = it.args[0]
    if isinstance(bound, ast.Name):
        b = model.binding_of(bound)
        if b is None or b.kind != "assign" or b.path or len(b.scope.bindings.get(bound.id, ())) != 1:
            return False
        bound = b.value
    return (isinstance(bound, ast.Subscript) and isinstance(bound.value, ast.Attribute) and bound.value.attr == "shape"
            and (int_value(model, bound.slice) or 0) >= 1)


def _single_example(model, data, loops) -> bool:
    """A batch of one example: ``x[np.newaxis, ...]``, ``x[None]``,
    ``np.expand_dims(x, 0)``, ``x.reshape(1, ...)`` (a first dimension of 1)."""
    items = data.elts if isinstance(data, (ast.List, ast.Tuple)) else [data]
    for item in items:
        if isinstance(item, ast.Starred):
            return False
        v = value_of(model, item)
        if not (v.kind == "array" and v.shape and v.shape[0] == 1) and not _one_row(model, item, loops):
            return False
    return bool(items)


NEW_AXIS = ("numpy.newaxis", "tensorflow.newaxis")


def _one_row(model, expr, loops, depth: int = 0, seen: Optional[set] = None) -> bool:
    """Written as a batch of one, whatever the array's other dimensions: a new
    first axis (``x[np.newaxis, ...]``, ``x[None]``, ``np.expand_dims(x, 0)``,
    ``tf.expand_dims(x, 0)``), ``x.reshape(1, ...)``, a concatenation along a
    later axis of such a batch, or a name whose binding reaching the loop and
    every rebinding inside the loop are one."""
    if depth > 4:
        return False
    if isinstance(expr, ast.Name):
        b = model.binding_of(expr)
        if b is None or b.kind != "assign" or b.path or b.value is None:
            return False
        seen = set() if seen is None else seen
        if (id(b.scope), expr.id) in seen:
            return True  # `X = np.concatenate([X, step], axis=1)`: X's other bindings decide
        seen.add((id(b.scope), expr.id))
        bindings = [b] + [x for x in b.scope.bindings.get(expr.id, ())
                          if x is not b and any(lp in x.loops for lp in loops)]
        return all(x.kind == "assign" and not x.path and x.value is not None
                   and _one_row(model, x.value, loops, depth + 1, seen) for x in bindings)
    if isinstance(expr, ast.Subscript):
        first = expr.slice.elts[0] if isinstance(expr.slice, ast.Tuple) and expr.slice.elts else expr.slice
        return (isinstance(first, ast.Constant) and first.value is None) or model.qualname(first) in NEW_AXIS
    if not isinstance(expr, ast.Call):
        return False
    q = model.qualname(expr.func) or ""
    if q in ("numpy.expand_dims", "tensorflow.expand_dims"):
        return int_value(model, get_arg(expr, "axis", 1)) == 0
    if isinstance(expr.func, ast.Attribute) and expr.func.attr == "reshape" and expr.args or q == "tensorflow.reshape":
        shape = get_arg(expr, "shape", 1) if q == "tensorflow.reshape" else expr.args[0]
        first = shape.elts[0] if isinstance(shape, (ast.Tuple, ast.List)) and shape.elts else shape
        return int_value(model, first) == 1
    if q in ("numpy.concatenate", "tensorflow.concat"):
        parts = get_arg(expr, "values" if q.startswith("tensorflow.") else "arrays", 0)
        axis = int_value(model, get_arg(expr, "axis", 1))
        return (axis is not None and axis >= 1 and isinstance(parts, (ast.List, ast.Tuple)) and bool(parts.elts)
                and _one_row(model, parts.elts[0], loops, depth + 1, seen))
    return False
def _whole_data_alongside(model, data, loop) -> bool:
    """``model.predict([X, decoded])`` where ``X`` is made before the loop and
    is not one item: each step predicts on the whole data set (a batch of
    inputs decoded together, ``for t in range(max_len)`` over the output
    length), so the calls are as few as the output is long.  One sentence or
    sample (``tokenizer([text])``, ``x[np.newaxis]``) is per-item decoding."""
    parts = data.elts if isinstance(data, (ast.List, ast.Tuple)) else [data]
    fixed = [p for p in parts if not isinstance(p, ast.Starred) and not (names_in(p) & loop.variant_names)]
    return bool(fixed) and not any(_one_item(model, p) for p in fixed)


def _one_item(model, expr, depth: int = 0) -> bool:
    """Made from a one-element list (``tok([s])``, ``np.array([x])``), by adding
    a leading axis (``x[np.newaxis]``, ``x[None]``, ``expand_dims(x, 0)``), or
    known to hold one row."""
    if isinstance(expr, ast.Name) and depth < 3:
        b = model.binding_of(expr)
        if b is not None and b.kind == "assign" and not b.path and b.value is not None:
            return _one_item(model, b.value, depth + 1)
        if b is not None and b.kind == "param" and b.scope.function is not None:
            # a helper's parameter: one item when some call of the helper passes one
            return any(_one_item(model, v, depth + 1) for v in _passed(model, b.scope.function, expr.id))
        return False
    if isinstance(expr, ast.Call):
        first = expr.args[0] if expr.args else None
        if isinstance(first, (ast.List, ast.Tuple)) and len(first.elts) == 1:
            return True
        if call_name(expr) == "expand_dims":
            return True
        if isinstance(expr.func, ast.Attribute) and expr.func.attr in ("reshape", "astype", "copy"):
            if expr.func.attr == "reshape" and isinstance(first, ast.Constant) and first.value == 1:
                return True  # x.reshape(1, -1)
            return _one_item(model, expr.func.value, depth + 1)
    if isinstance(expr, ast.Subscript):
        index = expr.slice.elts[0] if isinstance(expr.slice, ast.Tuple) and expr.slice.elts else expr.slice
        if (isinstance(index, ast.Constant) and index.value is None) or \
                (isinstance(index, ast.Attribute) and index.attr == "newaxis"):
            return True
        if isinstance(index, ast.Slice) and _one_row_slice(index):
            return True  # x[i:i + 1]
    v = value_of(model, expr)
    return v.kind == "array" and bool(v.shape) and v.shape[0] == 1


def _one_row_slice(index: ast.Slice) -> bool:
    """``a:a + 1`` (also ``:1``): one row."""
    lower, upper = index.lower, index.upper
    if index.step is not None or upper is None:
        return False
    if lower is None:
        return isinstance(upper, ast.Constant) and upper.value == 1
    return (isinstance(upper, ast.BinOp) and isinstance(upper.op, ast.Add) and isinstance(upper.right, ast.Constant)
            and upper.right.value == 1 and ast.dump(upper.left) == ast.dump(lower))


def _passed(model, fn, name: str) -> list:
    """What the calls of ``fn`` in this file pass for its parameter ``name``."""
    if isinstance(fn.node, ast.Lambda):
        return []
    names = [a.arg for a in (*fn.node.args.posonlyargs, *fn.node.args.args)]
    index = names.index(name) if name in names else None
    if index is not None and fn.class_name is not None:
        index -= 1  # `self` is not passed at the call
    out = []
    for cs in model.callers(fn):
        value = next((k.value for k in cs.node.keywords if k.arg == name), None)
        if value is None and index is not None and 0 <= index < len(cs.node.args):
            value = cs.node.args[index]
        if value is not None and not isinstance(value, ast.Starred):
            out.append(value)
    return out


def _trains_each_iteration(loop) -> bool:
    """A k-fold / trial / epoch loop: every iteration trains, and predicting
    its held-out part once per iteration is part of that, not per-item use.
    ``train_on_batch`` trains one step: it makes an epoch loop only from an
    inner loop (a GAN's or an RL agent's step loop that also predicts every
    step is per-item prediction)."""
    return any(c.name in WHOLE_TRAINING_CALLS or (c.name in TRAINING_CALLS and c.loops and c.loops[-1] is not loop)
               for c in loop.calls)


def _taken(model, it) -> Optional[int]:
    """At most how many elements ``ds.take(n)`` yields: ``n`` an int, or a
    parameter whose default and every argument given for it in this file are
    ints (``def show(ds, num=1): for x in ds.take(num)``)."""
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "take"
            and len(it.args) == 1 and not it.keywords):
        return None
    n = it.args[0]
    value = int_value(model, n)
    if value is not None or not isinstance(n, ast.Name):
        return value
    b = model.binding_of(n)
    fn = b.scope.function if b is not None and b.kind == "param" else None
    if fn is None or not isinstance(fn.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    values = []
    default = _default_of(fn.node, n.id)
    if default is not None:
        values.append(int_value(model, default))
    positional = [a.arg for a in [*fn.node.args.posonlyargs, *fn.node.args.args]]
    if fn.class_name is not None and positional[:1] in (["self"], ["cls"]):
        positional = positional[1:]
    position = positional.index(n.id) if n.id in positional else None
    for caller in model.callers(fn):
        arg = get_arg(caller.node, n.id, position)
        if arg is None:
            if any(isinstance(a, ast.Starred) for a in caller.node.args) or any(k.arg is None for k in caller.node.keywords):
                return None
            continue
        values.append(int_value(model, arg))
    if not values or None in values:
        return None
    return max(values)  # type: ignore[type-var]


def _default_of(node, name: str) -> Optional[ast.expr]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    for a, d in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        if a.arg == name:
            return d
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        if a.arg == name:
            return d
    return None


def _is_generator_call(model, expr) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    cs = model.call_of.get(id(expr))
    fn = model.function_called(cs) if cs is not None else None
    return fn is not None and bool(fn.yields)


def _growth(model) -> str:
    """What the new data adapter per call costs, by the Keras backend the file selects."""
    backend = NO_GROWTH_BACKENDS.get((environment_setting(model, "KERAS_BACKEND") or "").strip().lower())
    if backend is None:
        return " and memory grows"
    return (f"; on the {backend} backend this file selects that costs time, not memory (measured: no growth "
            f"there; the leak is the TensorFlow backend's)")
