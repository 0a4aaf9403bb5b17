"""KM204: a new Keras model per loop iteration without clear_session()."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Optional

from kmlint import edits
from kmlint.semantics.names import is_argument_of
from kmlint.semantics.blocks import call_parent, in_test_function
from kmlint.findings import UNSAFE, Fix
from kmlint.semantics.sizes import total_iterations
from kmlint.registry import Rule, register
from kmlint.semantics import project
from kmlint.semantics.model import CallSite, Loop, SemanticModel
from kmlint.semantics.tensors import builds_keras_model, is_clear_session

KEEPING_METHODS = {"append", "insert", "add", "extend", "setdefault", "update"}


def clear_session_call(model: SemanticModel) -> Optional[str]:
    """Source text calling ``clear_session`` with the file's own Keras/TF alias."""
    for local, target in sorted(model.imports.items()):
        if target == "keras.backend.clear_session" or target == "keras.utils.clear_session":
            return f"{local}()"
    for local, target in sorted(model.imports.items()):
        if target in ("keras.backend", "keras.utils"):
            return f"{local}.clear_session()"
    for local, target in sorted(model.imports.items()):
        if target == "keras":
            return f"{local}.backend.clear_session()"
    for local, target in sorted(model.imports.items()):
        if target == "tensorflow":
            return f"{local}.keras.backend.clear_session()"
    return None


def _project_builder(model: SemanticModel, path: str, call: CallSite) -> Optional[str]:
    """``build_model`` imported from another file of the project and returning a
    Keras model there (``from models import build_model``)."""
    if not call.loops or not isinstance(call.node.func, (ast.Name, ast.Attribute)):
        return None
    file = Path(path)
    if not file.is_file():
        return None
    # a file that imports neither Keras nor TensorFlow builds no Keras model
    # (an ORM's `query.compile()` is not Keras' compile): one without their
    # words is not even parsed
    found = project.called_function(model, file, call, model.dependencies, tensorflow_only=True)
    if found is None:
        return None
    helper, fn, helper_file = found
    if not helper.uses_tensorflow:
        return None
    if any(helper.is_keras_model(r) for r in fn.returns):
        return f"{fn.name}() of {helper_file.name}"
    return None


TRAINING_CALLS = {"fit", "fit_generator", "train_on_batch"}


def _trains(model: SemanticModel, loop: Loop, chain: list, built: CallSite) -> bool:
    """Whether each iteration also trains a model: a fit-like call in the loop,
    or in the per-trial helpers the loop calls on the way to the builder."""
    if any(c.name in TRAINING_CALLS for c in loop.calls):
        return True
    for c in [*chain, built]:
        fn = model.function_called(c) if c is not built else built.function
        if fn is not None and any(x.name in TRAINING_CALLS for x in fn.calls):
            return True
    return False


def _kept_by_call(model: SemanticModel, node: ast.expr) -> bool:
    """``models.append(node)``, ``ensemble.add(node)``: stored in a container."""
    holder = call_parent(model, node)
    return is_argument_of(node, holder) and isinstance(holder.func, ast.Attribute) \
        and holder.func.attr in KEEPING_METHODS


def _model_kept(model: SemanticModel, site: CallSite, built: CallSite, loop: Loop) -> bool:
    """The model is deliberately kept or composed, not replaced: it is appended
    to / stored in a container or attribute (an ensemble, a layer's sub-models),
    or called right away as a block of a bigger model (``Block(...)(x)``)."""
    node = site.node
    if site.node is not built.node and not model.is_keras_model(node):
        return False  # a per-trial helper returning a score: its model is not kept
    if _kept_by_call(model, node):
        return True
    if any(cs.node.func is node for cs in loop.calls):
        return True
    stmt = site.stmt
    if not (isinstance(stmt, ast.Assign) and stmt.value is node):
        return False
    targets = stmt.targets
    if any(not isinstance(t, ast.Name) for t in targets):
        return True  # self.head = Sequential(...), heads[i] = Sequential(...)
    names = {t.id for t in targets}
    for name in names:
        for use in model.uses.get(name, ()):
            if use.kind != "load" or loop not in use.loops:
                continue
            if _kept_by_call(model, use.node):
                return True
    for st in model.target_stores:
        if isinstance(st.value, ast.Name) and st.value.id in names and loop in st.loops:
            return True
    return False


def _cleared_per_trial(model: SemanticModel, loop: Loop, clears: list) -> bool:
    """The loop sits in a per-trial function (an objective handed to an
    optimizer, or a function called from a loop) that calls
    ``clear_session()`` after the loop, before it returns: the models of one
    trial's folds are freed when the trial ends, so they do not pile up from
    trial to trial (``def objective(...): for fold in ...: build(); fit()``
    then ``clear_session(); return score``)."""
    fn = loop.function
    if fn is None or not any(c.function is fn and not c.loops and c.order > loop.end_order for c in clears):
        return False
    if any(c.loops for c in model.callers(fn)):
        return True
    return bool(model.handed_to(fn))  # handed to an optimizer as its objective
# a known loop count this small gets a message saying why it still matters
FEW_ITERATIONS = 10


def _cleared_after(clears, loop) -> bool:
    """The function holding ``loop`` calls ``clear_session()`` itself, after
    the loop and outside any loop (once per call of the function: a per-trial
    function that clears before it returns)."""
    fn = loop.function
    return fn is not None and any(c.function is fn and not c.loops and c.order > loop.end_order for c in clears)


@register
class ModelInLoopNoClearSession(Rule):
    code = "KM204"
    name = "model-in-loop-no-clear-session"
    summary = "A new Keras model is built on every loop iteration without `keras.backend.clear_session()`"
    # unsafe, and only for loops that build models without training them: where each iteration
    # trains, clear_session() was measured not to stop the growth (issue 12), so no fix is offered
    fixable = "sometimes"
    confirmable = True
    # a Keras constructor here, or a builder imported from a project file that builds one there
    requires = ("imported:keras_model",)

    def check_module(self, model, ctx) -> None:
        clears = [cs for name in ("clear_session", "reset_default_graph") for cs in model.calls_by_name.get(name, ())
                  if is_clear_session(model, cs)]
        reported: set[int] = set()
        for cs in model.calls:
            if not cs.loops and cs.function is None:
                continue  # module level, outside any loop
            contexts = model.loop_contexts(cs)  # cheaper than deciding what the call builds
            if not contexts:
                continue
            built = builds_keras_model(model, cs) or _project_builder(model, ctx.path, cs)
            if built is None:
                continue
            for loop, chain in contexts:
                if id(loop) in reported or loop.kind == "comp":
                    continue  # comprehensions build collections of models on purpose
                n = model.known_iterations(loop)
                if n is not None and n <= ctx.settings.tiny_loop_iterations:
                    continue
                site = next((c for c in chain if loop in c.loops), cs)
                around = set(site.loops)
                if any(model.executes_in(c, lp) for c in clears for lp in around):
                    continue
                trial_bound = total_iterations(model, loop)
                if (trial_bound is None or trial_bound <= FEW_ITERATIONS) and _cleared_per_trial(model, loop, clears):
                    continue  # a trial's few folds, freed when the trial ends
                if _model_kept(model, site, cs, loop):
                    continue
                reported.add(id(loop))
                short = built.replace("keras.", "", 1) if built.startswith("keras.") else built
                if site is not cs:
                    what = f"`{site.name}()` builds a new Keras model (`{short}`)"
                elif "()" in short:
                    what = f"`{short.replace('()', '()`', 1)} builds a new Keras model"
                else:
                    what = f"`{short}(...)` builds a new Keras model"
                bound = total_iterations(model, loop)
                if (bound is None or bound <= FEW_ITERATIONS) and in_test_function(model, site.node):
                    continue  # a unit test looping over its few cases
                if bound is not None and bound <= ctx.settings.tiny_loop_iterations and _cleared_after(clears, loop):
                    continue  # a trial function: its few models (bootstrap splits) are cleared before it returns
                few = ""
                if bound is not None and bound <= FEW_ITERATIONS:
                    # a 4- or 5-fold loop of small models: say why it still matters
                    few = (f" (only {bound} iterations here, but all {bound} models stay in memory at the end, "
                           "which counts once the models are large)")
                if _trains(model, loop, chain, cs):
                    # measured on TF 2.21 CPU (issue 12, numbers in the dossier's README): ~5 MiB per trial,
                    # ~4 MiB with clear_session(); one model reset per trial or a process per trial: ~0
                    ctx.report(site.node, f"{what} and trains it on every iteration of this loop{few}: each new "
                               "model's traced train function stays registered with TensorFlow, so memory grows with "
                               "every iteration, and `keras.backend.clear_session()` does not stop the growth "
                               "(measured: it merely slows it), so no fix is offered; build and compile one model "
                               "before the loop and reset it per trial (`model.set_weights(initial_weights)` and the "
                               "optimizer's variables, on a dataset built once), or run each trial in its own process "
                               "(`ProcessPoolExecutor(max_tasks_per_child=1)` with the `spawn` context)")
                    continue
                ctx.report(site.node, f"{what} on every iteration of this loop and nothing calls "
                           "`keras.backend.clear_session()` in it: Keras keeps each model's layers and graph state, so "
                           f"memory grows with every iteration{few}; call `clear_session()` at the top of the loop body",
                           self._fix(model, loop))

    @staticmethod
    def _fix(model: SemanticModel, loop: Loop) -> Optional[Fix]:
        text = clear_session_call(model)
        node = loop.node
        if text is None or not isinstance(node, (ast.For, ast.AsyncFor, ast.While)) or not node.body:
            return None
        first = node.body[0]
        span = model.span(first)
        if model.index.line_text(span.line)[:span.col].strip():
            return None  # `for x in xs: body` on one line: no block to insert into
        return Fix(UNSAFE, f"Call `{text}` at the top of the loop body",
                   edits=edits.flatten([edits.insert_before(model, first, text)]))
