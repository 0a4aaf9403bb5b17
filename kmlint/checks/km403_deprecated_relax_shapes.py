"""KM403: tf.function(experimental_relax_shapes=...) -> reduce_retracing=."""

from __future__ import annotations

import libcst as cst

from kmlint.findings import SAFE, Fix
from kmlint.fixes import replace_node
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.names import get_arg
from kmlint.legacy.semantics.tensors import tf_function_calls


@register
class DeprecatedRelaxShapes(Rule):
    code = "KM403"
    name = "deprecated-relax-shapes"
    summary = "`experimental_relax_shapes=` is deprecated; use `reduce_retracing=`"
    fixable = "safe"
    tokens = ("experimental_relax_shapes",)
    requires = ("tensorflow",)

    @classmethod
    def may_match_syntax(cls, facts) -> bool:
        return "function" in facts.identifiers and "experimental_relax_shapes" in facts.identifiers

    def check_module(self, model, ctx) -> None:
        for call in tf_function_calls(model):
            self._check(call, ctx)

    def _check(self, call, ctx) -> None:
        old = get_arg(call.node, "experimental_relax_shapes")
        if old is None:
            return
        fix = None
        if get_arg(call.node, "reduce_retracing") is None:
            # with both keywords present a rename would duplicate the argument

            def transform(module: cst.Module) -> cst.Module:
                return replace_node(module, old.keyword, cst.Name("reduce_retracing"))

            fix = Fix(SAFE, "Rename to `reduce_retracing=`", transform)
        ctx.report(old, "`experimental_relax_shapes=` is deprecated (TF 2.9) and ignored by newer releases: "
                   "use `reduce_retracing=`", fix)
