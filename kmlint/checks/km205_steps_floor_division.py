"""KM205: ``steps=n // batch_size`` for predict/evaluate (and fit's
``validation_steps``) silently drops the last partial batch."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint import edits
from kmlint.findings import SAFE, UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.names import get_arg, literal_value
from kmlint.semantics.datasets import is_endless_repeat
from kmlint.semantics.sizes import int_value

# method -> the keyword arguments that count evaluation steps (never steps_per_epoch)
STEP_KEYWORDS = {
    "predict": ("steps",),
    "evaluate": ("steps",),
    "predict_generator": ("steps",),
    "evaluate_generator": ("steps",),
    "fit": ("validation_steps",),
    "fit_generator": ("validation_steps",),
}
STEP_KEYWORD_NAMES = {k for ks in STEP_KEYWORDS.values() for k in ks}
# step keyword -> the data it counts batches of (keyword, position per method)
DATA_ARGUMENTS = {
    "steps": (("x", 0), ("generator", 0)),
    "validation_steps": (("validation_data", None),),
}
VALIDATION_DATA_POSITION = {"fit": 7, "fit_generator": 5}
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While)


@register
class StepsFloorDivision(Rule):
    code = "KM205"
    name = "steps-floor-division"
    summary = "`steps=n // batch_size` in predict/evaluate drops the last partial batch"
    fixable = "sometimes"
    tokens = ("//",)
    requires = ("keras_model",)
    calls = frozenset(STEP_KEYWORDS)

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        if not isinstance(call.node.func, ast.Attribute) or model.function_called(call) is not None:
            return
        if not call.name.endswith("_generator") and not model.is_keras_model(call.receiver):
            return  # generic names need evidence that this is a Keras model
        for keyword in STEP_KEYWORDS[call.name]:
            value = get_arg(call.node, keyword)
            if value is None:
                continue
            division, via = self._floor_division(model, value)
            if division is None or _divides_exactly(model, division) or _drops_remainder(model, call):
                continue
            if _repeated_before_batching(model, _data_argument(call, keyword)):
                continue  # endless data batched across pass boundaries: there is no partial batch
            if _divided_again(model, division):
                continue  # `n // bs // 4`: a deliberate fraction of the batches each time
            if _infinite_generator(model, _data_argument(call, keyword)):
                continue  # it wraps around: no partial batch is dropped, `ceil` would count one twice
            self._report(ctx, call, keyword, value, division, via)

    @staticmethod
    def _floor_division(model, expr) -> tuple[Optional[ast.BinOp], Optional[ast.Name]]:
        """``a // b`` itself, or through a name bound once to it."""
        if _is_floor_division(expr):
            return expr, None
        if isinstance(expr, ast.Name):
            b = model.binding_of(expr)
            if b is not None and b.kind in ("assign", "annassign") and not b.path and _is_floor_division(b.value):
                return b.value, expr
        return None, None

    def _report(self, ctx, call, keyword, value, division, via) -> None:
        model = ctx.model
        num, den = _operands(model, division)
        replacement = f"math.ceil({num} / {den})"
        changes = [edits.replace(model, division, replacement), edits.add_import(model, "math")]

        # Through a shared name, the fix also changes every other use of it.
        applicability = SAFE
        if via is not None and not _only_step_uses(model, via):
            applicability = UNSAFE
        where = f" (`{via.id} = {model.text(division)}`)" if via is not None else ""
        ctx.report(
            value,
            f"`{keyword}={model.text(value)}`{where} floors the number of batches: the last partial batch is never "
            f"{'predicted' if call.name.startswith('predict') else 'evaluated'}; use `{replacement}`",
            Fix(applicability, f"Use `{replacement}`", edits=edits.flatten(changes)),
        )


def _operands(model, division: ast.BinOp) -> tuple[str, str]:
    """The source text on each side of ``//``, with the operands' own
    parentheses (``(a + b) // c``: ast spans leave them out)."""
    whole = model.text(division)
    left, right = model.span(division.left), model.span(division.right)
    start = model.span(division)
    index = model.index
    left_end = index.offset(left.end_line, left.end_col) - index.offset(start.line, start.col)
    right_start = index.offset(right.line, right.col) - index.offset(start.line, start.col)
    between = whole[left_end:right_start]
    op = between.find("//")
    if op < 0:  # cannot happen for a parsed `a // b`; keep the bare operands
        return model.text(division.left), model.text(division.right)
    return whole[:left_end + op].rstrip(" \t\\\r\n"), whole[left_end + op + 2:].lstrip(" \t\\\r\n")


def _data_argument(call, keyword: str) -> Optional[ast.expr]:
    """The data whose batches a step keyword counts."""
    for name, position in DATA_ARGUMENTS[keyword]:
        value = get_arg(call.node, name, position)
        if value is not None:
            return value
    if keyword == "validation_steps":
        return get_arg(call.node, "validation_data", VALIDATION_DATA_POSITION.get(call.name))
    return None


def _infinite_generator(model, expr, depth: int = 0) -> bool:
    """A call of a generator function of this file that yields forever and
    never a partial batch: each ``yield`` sits right in a ``while True:``
    loop (random or wrapping indices), not in a pass over the data (``for
    start in range(0, n, bs)``, whose last batch is smaller).  Keras draws
    ``steps`` batches from it, so the floor drops nothing and ``ceil`` would
    count a batch twice."""
    if isinstance(expr, ast.Name) and depth < 4:
        b = model.binding_of(expr)
        if b is not None and b.kind in ("assign", "annassign") and not b.path and b.value is not None:
            return _infinite_generator(model, b.value, depth + 1)
        return False
    if not isinstance(expr, ast.Call):
        return False
    cs = model.call_of.get(id(expr))
    fn = model.function_called(cs) if cs is not None else None
    if fn is None or not fn.yields:
        return False
    for y in fn.yields:
        loops = []
        for a in model.ancestors(y):
            if a is fn.node:
                break
            if isinstance(a, LOOP_NODES):
                loops.append(a)
        if not loops:
            return False
        if isinstance(loops[0], ast.While) and _always_true(loops[0].test):
            continue
        # `while True: for i in range(len(x) // bs): yield x[i * bs:(i + 1) * bs]`:
        # each pass yields only the full batches (a floor count), then wraps
        if len(loops) >= 2 and _full_batches_only(model, loops[0]) and any(
                isinstance(lp, ast.While) and _always_true(lp.test) for lp in loops[1:]):
            continue
        return False
    return True


def _full_batches_only(model, loop) -> bool:
    """``for i in range(n // size)``, also through a name bound once to such a
    floor division: the loop yields whole batches only."""
    if not isinstance(loop, (ast.For, ast.AsyncFor)):
        return False
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and len(it.args) == 1 and not it.keywords):
        return False
    count = it.args[0]
    if isinstance(count, ast.Name):
        b = model.binding_of(count)
        count = b.value if b is not None and b.kind in ("assign", "annassign") and not b.path else None
    return _is_floor_division(count)


def _always_true(test) -> bool:
    return isinstance(test, ast.Constant) and (test.value is True or (type(test.value) is int and test.value != 0))


def _divided_again(model, division: ast.BinOp) -> bool:
    """The numerator is already a number of batches (``n // bs // 4``,
    ``steps // 4`` with ``steps = n // bs``): a chosen fraction, not a count."""
    left = division.left
    if isinstance(left, ast.Name):
        b = model.binding_of(left)
        left = b.value if b is not None and b.kind in ("assign", "annassign") and not b.path else None
    return _is_floor_division(left)


def _is_floor_division(expr) -> bool:
    return isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.FloorDiv)


def _divides_exactly(model, division: ast.BinOp) -> bool:
    """Both sides known and the division leaves no remainder: nothing is dropped."""
    num, den = int_value(model, division.left), int_value(model, division.right)
    return num is not None and den not in (None, 0) and num % den == 0


def _drops_remainder(model, call) -> bool:
    """The data is batched with ``drop_remainder=True``: flooring is then right."""
    values = [a for a in call.node.args if not isinstance(a, ast.Starred)]
    values += [k.value for k in call.node.keywords if k.arg in ("x", "validation_data")]
    for value in values:
        for step in model.chain(value).steps:
            if step.method == "batch":
                flag = get_arg(step.call, "drop_remainder", 1)
                try:
                    if flag is not None and literal_value(flag) is True:
                        return True
                except ValueError:
                    return True  # unknown: do not flag
    return False


def _repeated_before_batching(model, data) -> bool:
    """``ds.repeat().batch(bs)``: the data repeats endlessly before it is
    batched, so every batch is full (batches run across the end of a pass)
    and there is no last partial batch to drop; ``ceil`` would only evaluate
    wrapped-around examples twice.  ``ds.batch(bs).repeat()`` still ends
    every pass with a partial batch."""
    if data is None:
        return False
    steps = model.chain(data).steps
    repeats = [i for i, step in enumerate(steps) if step.method == "repeat" and is_endless_repeat(step)]
    batches = [i for i, step in enumerate(steps) if step.method in ("batch", "padded_batch")]
    return bool(repeats and batches) and min(repeats) < min(batches)


def _only_step_uses(model, name: ast.Name) -> bool:
    binding = model.binding_of(name)
    for use in model.uses.get(name.id, ()):
        if use.kind != "load" or model.lookup(use.name, use.scope, use.order) is not binding:
            continue
        parent = model.parent(use.node)
        if not (isinstance(parent, ast.keyword) and parent.arg in STEP_KEYWORD_NAMES):
            return False
    return True
