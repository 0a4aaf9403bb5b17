"""KM205: ``steps=n // batch_size`` for predict/evaluate (and fit's
``validation_steps``) silently drops the last partial batch."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import SAFE, UNSAFE, Fix
from kmlint.fixes import add_import, replace_node
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.names import get_arg, literal_value
from kmlint.legacy.semantics.sizes import _int_value

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


@register
class StepsFloorDivision(Rule):
    code = "KM205"
    name = "steps-floor-division"
    summary = "`steps=n // batch_size` in predict/evaluate drops the last partial batch"
    fixable = "sometimes"
    tokens = ("//",)
    requires = ("keras_model",)
    calls = frozenset(STEP_KEYWORDS)

    @classmethod
    def may_match_syntax(cls, facts) -> bool:
        # a step keyword whose value is an `a // b` expression (or a name bound to one)
        return (super().may_match_syntax(facts) and facts.floor_divisions
                and not facts.identifiers.isdisjoint(STEP_KEYWORD_NAMES))

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        if not isinstance(call.node.func, cst.Attribute) or model.function_called(call) is not None:
            return
        if not call.name.endswith("_generator") and not model.is_keras_model(call.receiver):
            return  # generic names need evidence that this is a Keras model
        for keyword in STEP_KEYWORDS[call.name]:
            arg = get_arg(call.node, keyword)
            if arg is None:
                continue
            division, via = self._floor_division(model, arg.value)
            if division is None or _divides_exactly(model, division) or _drops_remainder(model, call):
                continue
            self._report(ctx, call, keyword, arg.value, division, via)

    @staticmethod
    def _floor_division(model, expr) -> tuple[Optional[cst.BinaryOperation], Optional[cst.Name]]:
        """``a // b`` itself, or through a name bound once to it."""
        if _is_floor_division(expr):
            return expr, None
        if isinstance(expr, cst.Name):
            b = model.binding_of(expr)
            if b is not None and b.kind in ("assign", "annassign") and not b.path and _is_floor_division(b.value):
                return b.value, expr
        return None, None

    def _report(self, ctx, call, keyword, value, division, via) -> None:
        model = ctx.model
        code = cst.Module([]).code_for_node
        num, den = code(division.left), code(division.right)
        replacement = cst.parse_expression(f"math.ceil({num} / {den})")
        replacement = replacement.with_changes(lpar=division.lpar, rpar=division.rpar)

        def transform(module: cst.Module) -> cst.Module:
            return add_import(replace_node(module, division, replacement), "math")

        # Through a shared name, the fix also changes every other use of it.
        applicability = SAFE
        if via is not None and not _only_step_uses(model, via):
            applicability = UNSAFE
        where = f" (`{via.value} = {code(division)}`)" if via is not None else ""
        ctx.report(
            value,
            f"`{keyword}={code(value)}`{where} floors the number of batches: the last partial batch is never "
            f"{'predicted' if call.name.startswith('predict') else 'evaluated'}; use `math.ceil({num} / {den})`",
            Fix(applicability, f"Use `math.ceil({num} / {den})`", transform),
        )


def _is_floor_division(expr) -> bool:
    return isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.FloorDivide)


def _divides_exactly(model, division: cst.BinaryOperation) -> bool:
    """Both sides known and the division leaves no remainder: nothing is dropped."""
    num, den = _int_value(model, division.left), _int_value(model, division.right)
    return num is not None and den not in (None, 0) and num % den == 0


def _drops_remainder(model, call) -> bool:
    """The data is batched with ``drop_remainder=True``: flooring is then right."""
    for a in call.node.args:
        if a.keyword is not None and a.keyword.value not in ("x", "validation_data"):
            continue
        for step in model.chain(a.value).steps:
            if step.method == "batch":
                flag = get_arg(step.call, "drop_remainder", 1)
                try:
                    if flag is not None and literal_value(flag.value) is True:
                        return True
                except ValueError:
                    return True  # unknown: do not flag
    return False


def _only_step_uses(model, name: cst.Name) -> bool:
    binding = model.binding_of(name)
    for use in model.uses.get(name.value, ()):
        if use.kind != "load" or model.lookup(use.name, use.scope, use.order) is not binding:
            continue
        parent = use.parents[0] if use.parents else None
        if not (isinstance(parent, cst.Arg) and parent.keyword is not None and parent.keyword.value in STEP_KEYWORD_NAMES):
            return False
    return True
