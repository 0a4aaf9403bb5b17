"""KM501: a script that targets GPUs and never enables memory growth."""

from __future__ import annotations

from typing import Optional

import ast

from kmlint.edits import insert_after
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.devices import (
    growth_evidence, gpu_targeting, hides_all_gpus, initialises_runtime, project_helpers_enable_growth,
    project_tensorflow, runs_as_script, uses_tensorflow,
)
from kmlint.semantics.model import SemanticModel
from kmlint.semantics.tensors import tf_alias


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
    # every GPU marker spells "gpu"/"GPU" (device strings, list_physical_devices('GPU'),
    # is_gpu_available, multi_gpu_model), CUDA_VISIBLE_DEVICES or MirroredStrategy.  No
    # `requires` and no syntax gate: a snippet may use `tf.` without importing it, a
    # script may get TensorFlow from the project modules it imports, and a notebook's
    # `%env CUDA_VISIBLE_DEVICES=0` is only a comment once the magic is neutralised.
    tokens = ("CUDA_VISIBLE_DEVICES", "gpu", "GPU", "MirroredStrategy")

    def check_module(self, model, ctx) -> None:
        if growth_evidence(model):
            return
        targeting = [e for e in gpu_targeting(model) if runs_as_script(model, e.function)]
        if not targeting:
            return
        # GPUs hidden (CUDA_VISIBLE_DEVICES "-1"/""): a CPU-only script, unless the
        # hiding only comes after module-level code already targeted GPUs
        first = min(targeting, key=lambda e: e.position)
        if hides_all_gpus(model, before=first.position if first.function is None else None):
            return
        local_tf = uses_tensorflow(model) or (model.is_imported("keras") and any(
            isinstance(e.node, ast.Call) and (model.qualname(e.node.func) or "").endswith("multi_gpu_model")
            for e in targeting))
        # TensorFlow only through the project modules this script imports (issue 16, class 9)
        if not local_tf and not project_tensorflow(model, ctx.path):
            return
        if project_helpers_enable_growth(model, ctx.path):
            return
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
