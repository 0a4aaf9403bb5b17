"""Necessary conditions, on a file's ``SyntaxFacts``, shared by several
rules' ``may_match_syntax`` (second prefilter stage).  Each one mirrors a
semantic-model predicate and must hold wherever that predicate can."""

from __future__ import annotations

from kmlint.engine.syntax_facts import SyntaxFacts
from kmlint.legacy.semantics.model import MODEL_EVIDENCE_METHODS
from kmlint.legacy.semantics.tensors import MODEL_CONSTRUCTORS

KERAS_PACKAGES = ("keras", "tensorflow", "tf_keras")
# the last names of MODEL_CONSTRUCTORS; "applications" for keras.applications networks
MODEL_WORDS = frozenset({q.rsplit(".", 1)[-1] for q in MODEL_CONSTRUCTORS} | {"applications"})
# bare names builds_keras_model()/is_keras_model() accept unresolved (fragments)
BARE_CONSTRUCTORS = frozenset({"Sequential", "load_model", "clone_model"})


def constructs_keras_model(facts: SyntaxFacts) -> bool:
    """``tensors.builds_keras_model`` can hold for some call: a Keras
    constructor or loader through a Keras/TensorFlow import (or spelled out),
    a keras.applications network, a bare constructor name, or a class of the
    file subclassing keras.Model/Sequential."""
    if facts.calls_from(KERAS_PACKAGES, MODEL_WORDS):
        return True
    if "applications" in facts.identifiers and any(facts.calls_into.get(p) for p in KERAS_PACKAGES):
        return True
    if not facts.unimported_name_calls.isdisjoint(BARE_CONSTRUCTORS):
        return True
    return not facts.name_calls.isdisjoint(facts.classes) and not facts.identifiers.isdisjoint(("Model", "Sequential"))


def model_evidence_names(facts: SyntaxFacts) -> set[str]:
    """Names a model-only method is called on (``net.compile()``), except
    modules (``re.compile()``: is_keras_model never accepts a name bound by
    ``import``) that are not also assigned or parameters somewhere."""
    modules = facts.module_imports - facts.assigned - facts.params
    return set().union(*(facts.receivers.get(m, ()) for m in MODEL_EVIDENCE_METHODS)) - modules


def may_name_keras_model(facts: SyntaxFacts, name: str) -> bool:
    """``SemanticModel.is_keras_model`` can accept the plain name ``name``: it
    says "model" (a parameter or fragment), a model-only method is called on
    it, or it is assigned in a file where its value can be a model (a
    constructor call, a name with model evidence, a local builder returning
    one of those or a "model" name)."""
    if "model" in name.lower():
        return True
    evidence = model_evidence_names(facts)
    if name in evidence:
        return True
    return name in facts.stores and (bool(evidence) or constructs_keras_model(facts)
                                     or any("model" in i.lower() for i in facts.identifiers))


def may_call_keras_model(facts: SyntaxFacts, builtins: frozenset[str]) -> bool:
    """A call whose callee ``is_keras_model`` can accept: ``model(x)``,
    ``self.model(x)``."""
    if not facts.calls.isdisjoint(("model", "keras_model")):
        return True
    return any(name not in builtins and may_name_keras_model(facts, name) for name in facts.name_calls)


def may_build_keras_model_in_helper(facts: SyntaxFacts) -> bool:
    """A project file whose function can return what ``is_keras_model``
    accepts, for KM204's builders: it imports Keras or TensorFlow
    (``_project_builder`` requires it) and builds a model, calls a model-only
    method on a name, or names something "model" (a returned parameter,
    ``self.model``)."""
    if facts.imported_packages.isdisjoint(KERAS_PACKAGES + ("tensorflow_datasets",)):
        return False
    return (constructs_keras_model(facts) or bool(model_evidence_names(facts))
            or any("model" in i.lower() for i in facts.identifiers))
