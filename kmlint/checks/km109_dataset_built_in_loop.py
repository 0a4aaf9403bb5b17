"""KM109: a tf.data pipeline constructed inside a training or inference loop."""

from __future__ import annotations

from typing import Optional

import ast

from kmlint.registry import Rule, register
from kmlint.semantics.datasets import parent_statement
from kmlint.semantics.model import CallSite, Loop, SemanticModel, names_in

# constructors that take data (range/zip/sampling only combine datasets or count)
BUILDERS = {
    "tensorflow.data.Dataset.from_tensor_slices", "tensorflow.data.Dataset.from_tensors",
    "tensorflow.data.Dataset.from_generator", "tensorflow.data.Dataset.list_files", "tensorflow.data.Dataset.load",
    "tensorflow.data.TFRecordDataset", "tensorflow.data.TextLineDataset", "tensorflow.data.FixedLengthRecordDataset",
    "tensorflow.data.experimental.make_csv_dataset", "tensorflow.data.experimental.CsvDataset",
    "keras.utils.image_dataset_from_directory", "keras.preprocessing.image_dataset_from_directory",
    "keras.utils.text_dataset_from_directory", "keras.preprocessing.text_dataset_from_directory",
    "keras.utils.audio_dataset_from_directory", "keras.utils.timeseries_dataset_from_array",
    "keras.preprocessing.timeseries_dataset_from_array", "tensorflow_datasets.load",
}
TRAINING = {"fit", "fit_generator", "train_on_batch", "apply_gradients", "gradient", "minimize", "train_step"}
INFERENCE = {"predict", "evaluate", "predict_on_batch", "test_on_batch", "predict_step", "test_step",
             "predict_generator", "evaluate_generator"}


def _work_of_calls(model: SemanticModel, calls, depth: int = 0) -> set[str]:
    found: set[str] = set()
    for cs in calls:
        if cs.name in TRAINING:
            found.add("train")
        elif cs.name in INFERENCE:
            found.add("infer")
        elif isinstance(cs.node.func, ast.Name) and model.is_keras_model(cs.node.func):
            found.add("infer")
        elif depth < 2:
            fn = model.function_called(cs)
            if fn is not None:
                found |= _work_of_calls(model, fn.calls, depth + 1)
    return found


def loop_work(model: SemanticModel, loop: Loop) -> set[str]:
    """What a loop does with models: "train", "infer", and "iterate" when it
    iterates a dataset in a nested loop."""
    work = _work_of_calls(model, loop.calls)
    for inner in model.loops:
        parent = inner.parent
        while parent is not None and parent is not loop:
            parent = parent.parent
        if parent is loop and inner.iter is not None and model.is_dataset(inner.iter):
            work.add("iterate")
    return work


def built_once(model: SemanticModel, stmt: Optional[ast.stmt], loop: Loop) -> bool:
    """Construction guarded by ``if ds is None:`` (lazily built once)."""
    while stmt is not None and stmt is not loop.node:
        if isinstance(stmt, ast.If) and "None" in model.text(stmt.test):
            return True
        stmt = parent_statement(model, stmt)
    return False


def _depends(site: CallSite, loop: Loop) -> bool:
    """Does what is built at ``site`` (the whole statement's value) change with the loop?"""
    expr: ast.AST = site.node
    stmt = site.stmt
    if isinstance(stmt, (ast.Assign, ast.Expr)):
        expr = stmt.value
    return bool(names_in(expr) & loop.variant_names)


@register
class DatasetBuiltInLoop(Rule):
    code = "KM109"
    name = "dataset-built-in-loop"
    summary = "tf.data pipeline built inside a training or inference loop: new buffers and traced functions every iteration"
    confirmable = True
    tokens = ("Dataset", "dataset", "tfds")
    requires = ("tensorflow",)
    calls = frozenset(q.rsplit(".", 1)[-1] for q in BUILDERS)

    def check_call(self, call, ctx) -> None:
        model = ctx.model
        q = model.qualname(call.node.func)
        if q not in BUILDERS:
            return
        for loop, helpers in model.loop_contexts(call):
            if loop.kind == "comp":
                continue
            iterations = model.literal_iterations(loop)
            if iterations is not None and iterations <= ctx.settings.tiny_loop_iterations:
                continue
            site = helpers[0] if helpers else call
            if built_once(model, call.stmt, loop) or (helpers and built_once(model, site.stmt, loop)):
                continue
            work = loop_work(model, loop)
            if not work:
                continue
            per_item = _depends(site, loop)
            if per_item and ("train" in work or "infer" not in work):
                continue  # new data each iteration for training (k-fold, chunks, sweeps): needed
            ctor = q.rsplit(".", 1)[-1]
            if helpers:
                names = " -> ".join(f"`{h.name}()`" for h in helpers)
                where = f"{names}, called in a loop, builds a `{ctor}` pipeline"
            else:
                where = f"`{ctor}` builds a new pipeline"
            if per_item:
                advice = "build one dataset over all items before the loop and run inference once"
            else:
                advice = "the pipeline is the same every time: build it once before the loop"
            kind = "an inference" if work == {"infer"} else "a training"
            ctx.report(site.node,
                       f"{where} on every iteration of {kind} loop: each build allocates new buffers and traces "
                       f"new functions that accumulate; {advice}")
            return
