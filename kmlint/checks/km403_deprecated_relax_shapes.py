"""KM403: tf.function(experimental_relax_shapes=...) -> reduce_retracing=."""

from __future__ import annotations

from kmlint.edits import edit
from kmlint.findings import SAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.tensors import tf_function_calls


@register
class DeprecatedRelaxShapes(Rule):
    code = "KM403"
    name = "deprecated-relax-shapes"
    summary = "`experimental_relax_shapes=` is deprecated; use `reduce_retracing=`"
    fixable = "safe"
    tokens = ("experimental_relax_shapes",)
    requires = ("tensorflow",)

    def check_module(self, model, ctx) -> None:
        for call in tf_function_calls(model):
            self._check(model, call, ctx)

    def _check(self, model, call, ctx) -> None:
        old = next((k for k in call.node.keywords if k.arg == "experimental_relax_shapes"), None)
        if old is None:
            return
        fix = None
        if not any(k.arg == "reduce_retracing" for k in call.node.keywords):
            # with both keywords present a rename would duplicate the argument
            at = model.span(old)  # an ast.keyword starts at its name
            rename = edit(model, at.line, at.col, at.line, at.col + len(old.arg), "reduce_retracing")
            fix = Fix(SAFE, "Rename to `reduce_retracing=`", edits=[rename])
        ctx.report(old, "`experimental_relax_shapes=` is deprecated (TF 2.9) and ignored by newer releases: "
                   "use `reduce_retracing=`", fix)
