"""KM106: `from_tensor_slices` on a large in-memory float array."""

from __future__ import annotations

import ast

from kmlint.registry import Rule, register
from kmlint.semantics.names import get_arg
from kmlint.semantics.sizes import FLOAT_DTYPES, describe_mb, estimate


def components(value: ast.expr) -> list[ast.expr]:
    """The arrays given to ``from_tensor_slices``: ``x``, ``(x, y)``, ``{"a": x}``."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return [e for e in value.elts if not isinstance(e, ast.Starred)]
    if isinstance(value, ast.Dict):
        return [v for k, v in zip(value.keys, value.values) if k is not None]
    return [value]


@register
class FromTensorSlicesLargeArray(Rule):
    code = "KM106"
    name = "from-tensor-slices-large-array"
    summary = "`from_tensor_slices` on a large in-memory float array copies it; peak memory is several times the array"
    confirmable = True
    tokens = ("from_tensor_slices",)
    calls = frozenset({"from_tensor_slices"})

    def check_call(self, call, ctx) -> None:
        q = ctx.model.qualname(call.node.func)
        if q is None or not q.endswith("Dataset.from_tensor_slices"):
            return
        arg = get_arg(call.node, "tensors", 0)
        if arg is None:
            return
        worst = None
        for part in components(arg):
            info = estimate(ctx.model, part)
            if info is None or info.dtype not in FLOAT_DTYPES or info.nbytes is None:
                continue
            if info.nbytes >= ctx.settings.from_tensor_slices_bytes and (worst is None or info.nbytes > worst[1].nbytes):
                worst = (part, info)
        if worst is None:
            return
        part, info = worst
        what = ctx.model.text(part)
        if info.whole_dataset:
            hint = "; or keep the uint8 images and scale them in `.map`"
        elif info.dtype == "float64":
            hint = "; float32 would at least halve it"
        else:
            hint = ""
        ctx.report(call.node,
                   f"`from_tensor_slices` gets `{what}`, a {describe_mb(info.nbytes)} {info.dtype} array: TensorFlow "
                   f"copies it into a constant, so the peak is several times the array; load it lazily "
                   f"(`from_generator`, index-based loading, or files){hint}")
