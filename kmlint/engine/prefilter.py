"""Deciding from the raw text which rules can possibly match a file.

Parsing with libcst is the expensive step, so a file that no enabled rule can
match is never parsed.  Two cheap, sound tests per rule:

* ``Rule.tokens``: substrings, one of which must occur in the text;
* ``Rule.requires``: names of semantic-model facts the rule's findings depend
  on; each fact holds only when one of its evidence *words* occurs in the text
  as a whole identifier (``EVIDENCE`` below, derived from the model's own
  tables).  ``cache`` occurs in every Django project; a ``tf.data`` dataset
  needs TensorFlow/Keras or a dataset-only method name.

The evidence lists must stay a superset of what the predicates accept;
tests/test_prefilter.py checks every predicate against them on every corpus
file, and the equivalence test compares results with and without the prefilter.
"""

from __future__ import annotations

import os
import re
from typing import Iterable

from kmlint.semantics.model import DATASET_ONLY_METHODS, MODEL_EVIDENCE_METHODS

# the roots of every tensorflow.* / keras.* qualname (tf_keras and keras.src are folded into keras)
TENSORFLOW_WORDS = ("tensorflow", "keras", "tf_keras", "tensorflow_datasets")

EVIDENCE: dict[str, tuple[str, ...]] = {
    # model.qualname() can only give tensorflow.* / keras.* (or model.is_imported("tensorflow")) ...
    "tensorflow": TENSORFLOW_WORDS,
    # ... and numpy.* only
    "numpy": ("numpy",),
    # sizes.estimate(): arrays from numpy/tensorflow constructors and Keras/TFDS loaders
    "array": ("numpy", *TENSORFLOW_WORDS),
    # model.is_dataset_chain(): a tf.data constructor or a dataset-only method
    "dataset": (*TENSORFLOW_WORDS, *sorted(DATASET_ONLY_METHODS)),
    # model.is_keras_model() and tensors.builds_keras_model(): a Keras constructor or
    # loader (also unresolved, in fragments), or a method only models have
    "keras_model": (*TENSORFLOW_WORDS, "Sequential", "load_model", "clone_model", *sorted(MODEL_EVIDENCE_METHODS)),
}

_EVIDENCE_RE = {kind: re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, words))) for kind, words in EVIDENCE.items()}


def enabled() -> bool:
    """KMLINT_NO_PREFILTER=1 parses every file (the equivalence test and the
    benchmark use it to prove the prefilter loses nothing and to measure it)."""
    return os.environ.get("KMLINT_NO_PREFILTER", "") in ("", "0")


def has_evidence(kind: str, text: str) -> bool:
    return _EVIDENCE_RE[kind].search(text) is not None


def may_match(rule, text: str, evidence_cache: dict[str, bool]) -> bool:
    if rule.tokens and not any(t in text for t in rule.tokens):
        return False
    for kind in rule.requires:
        if kind not in evidence_cache:
            evidence_cache[kind] = has_evidence(kind, text)
        if not evidence_cache[kind]:
            return False
    return True


def active_rules(rules: Iterable, text: str) -> list:
    """The rules that can possibly report something on ``text``."""
    evidence: dict[str, bool] = {}
    return [r for r in rules if may_match(r, text, evidence)]
