"""KM203: ``model.predict`` per item or per small batch inside a Python loop,
directly or through a helper of this file called from the loop."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint import edits
from kmlint.semantics.names import argument_values
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.blocks import in_test_function
from kmlint.semantics.model import names_in
from kmlint.semantics.names import call_name, get_arg
from kmlint.semantics.values import value_of
from kmlint.semantics.sizes import int_value, iteration_bound, total_iterations

# `for i in range(0, n, step)` with a step this large is chunked inference of
# a whole data set (a handful of calls), not per-item prediction.
LARGE_CHUNK = 1024
# predict() arguments that predict_on_batch() does not take but can be dropped
# without changing the result
DROPPABLE = {"batch_size", "verbose"}
TRAINING_CALLS = {"fit", "fit_generator", "train_on_batch"}
# an autoregressive decode loop of at most this many known steps, each call
# predicting on the whole data set, is not per-item prediction
DECODE_STEPS = 16
# a known loop count this small gets a message saying why it still matters
FEW_CALLS = 20


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
        if data is None or not model.is_keras_model(call.receiver):
            return
        for innermost, helpers in model.loop_contexts(call):
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
            if helpers:
                helper = model.function_called(helpers[0])
                message = (f"`{helper.name}()` calls `{receiver}.predict()` and is called once per loop iteration; "
                           f"every `predict` call builds a new data adapter and memory grows; {advice}")
                ctx.report(helpers[0].node, message, self._fix(model, call, data))
            else:
                message = (f"`{receiver}.predict()` is called once per loop iteration; every call builds a new "
                           f"data adapter and memory grows; {advice}")
                ctx.report(call.node, message, self._fix(model, call, data))

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
        loop = innermost
        while loop is not None:
            if any(model.depends_on_loop(v, loop) for v in varying) and not _few_iterations(model, loop, tiny) \
                    and not _trains_each_iteration(loop) and not (not helpers and _decodes(model, call, data, loop)):
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
    """A short autoregressive decode loop (a known handful of steps): what
    changes in ``predict``'s input from one step to the next is rebuilt from
    the previous predictions, not picked by the loop variable, so every call
    gets the whole data set (``probs = model.predict([x_test, tokens]);
    tokens = extend(tokens, probs)``)."""
    n = iteration_bound(model, loop)
    if n is not None and n > DECODE_STEPS:
        return False
    varying = names_in(data) & loop.variant_names
    if not varying or varying & loop.targets:
        return False
    if n is None and not _whole_data_alongside(model, data, loop):
        return False  # an unknown number of steps: only a decode over the whole data set is bounded by it
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
    its held-out part once per iteration is part of that, not per-item use."""
    return any(c.name in TRAINING_CALLS for c in loop.calls)


def _is_generator_call(model, expr) -> bool:
    if not isinstance(expr, ast.Call):
        return False
    cs = model.call_of.get(id(expr))
    fn = model.function_called(cs) if cs is not None else None
    return fn is not None and bool(fn.yields)
