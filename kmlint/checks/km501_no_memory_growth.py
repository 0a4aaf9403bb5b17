"""KM501: a script that targets GPUs and never enables memory growth."""

from __future__ import annotations

from typing import Optional

import ast

from kmlint.edits import insert_after
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.devices import (
    growth_evidence, gpu_targeting, hides_all_gpus, initialises_runtime, project_helpers_enable_growth,
)
from kmlint.semantics.model import SemanticModel
from kmlint.semantics.tensors import tf_alias


def _runs_as_script(model: SemanticModel, fn) -> bool:
    """Module-level code, or a function that module-level code calls."""
    return fn is None or any(model.module_entry(c) is not None for c in model.callers(fn))


def _is_import(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.Import, ast.ImportFrom))


def growth_anchor(model: SemanticModel, alias: str) -> Optional[ast.stmt]:
    """The top-level statement after which the growth loop goes: after the
    imports (and after the statement binding the TF alias), before the first
    statement that initialises the runtime."""
    body = model.tree.body
    first_init = min((cs.top_index for cs in model.calls if cs.function is None and initialises_runtime(model, cs)),
                     default=len(body))
    tf_binding = next((b for b in model.module_scope.bindings.get(alias, ()) if b.kind == "import"), None)
    if tf_binding is None or tf_binding.top_index < 0 or tf_binding.top_index >= first_init:
        return None
    last = max([i for i, s in enumerate(body[:first_init]) if _is_import(s)] + [tf_binding.top_index])
    # the loop goes on the lines after the anchor: not after `import tensorflow as tf; x = tf.ones(1)`
    # (one libcst statement line, which the libcst engine never took as the anchor)
    end = body[last].end_lineno
    if any(s.lineno <= end for s in body[first_init:first_init + 1]):
        return None
    return body[last]


@register
class NoMemoryGrowth(Rule):
    code = "KM501"
    name = "no-memory-growth"
    summary = "A script that targets GPUs never enables memory growth, so TensorFlow reserves nearly all GPU memory"
    fixable = "unsafe"
    engine = "ast"
    tokens = ("CUDA_VISIBLE_DEVICES", "gpu", "GPU", "MirroredStrategy")
    requires = ("tensorflow",)

    @classmethod
    def may_match_syntax(cls, facts) -> bool:
        # devices.gpu_targeting(): a string naming GPUs or CUDA_VISIBLE_DEVICES, or MirroredStrategy
        # and check_module needs a TensorFlow import (model.is_imported)
        return "tensorflow" in facts.imported_packages and (facts.gpu_strings or "MirroredStrategy" in facts.calls)

    def check_module(self, model, ctx) -> None:
        if not model.is_imported("tensorflow") or growth_evidence(model) or hides_all_gpus(model):
            return
        targeting = [e for e in gpu_targeting(model) if _runs_as_script(model, e.function)]
        if not targeting:
            return
        if project_helpers_enable_growth(model, ctx.path):
            return
        first = min(targeting, key=lambda e: e.position)
        ctx.report(first.node, "this script targets GPUs but never enables memory growth (or a memory limit): "
                   "TensorFlow reserves nearly all GPU memory at start-up; call "
                   "`tf.config.experimental.set_memory_growth(gpu, True)` for each GPU before any tensor work",
                   self._fix(model))

    @staticmethod
    def _fix(model: SemanticModel) -> Optional[Fix]:
        alias = tf_alias(model)
        if alias is None:
            return None
        anchor = growth_anchor(model, alias)
        if anchor is None:
            return None
        bound = set(model.module_scope.bindings)
        var = next(n for n in ("gpu", "gpu_device", "_gpu") if n not in bound)
        code = (f"for {var} in {alias}.config.list_physical_devices(\"GPU\"):\n"
                f"    {alias}.config.experimental.set_memory_growth({var}, True)\n")
        loop = insert_after(model, anchor, code)
        loop.content = model.index.line_ending() + loop.content  # a blank line before the loop
        return Fix(UNSAFE, "Enable memory growth for every GPU after the imports", edits=[loop])
