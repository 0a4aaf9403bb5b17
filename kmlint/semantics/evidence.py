"""Evidence words: what a file's text must contain for a semantic-model fact
to hold in it.

Each fact the gate before the model asks about (``Rule.requires`` in the
catalog) holds only when one of its evidence *words* occurs in the text as a
whole identifier; the lists are derived from the model's own tables and must
stay a superset of what its predicates accept (tests/test_prefilter.py checks
that on every corpus file).  The prefilter (``kmlint.engine.prefilter``) reads
them before a file is parsed; project scope (``kmlint.semantics.project``)
reads them before a helper file is parsed.
"""

from __future__ import annotations

import re
from typing import Optional

from kmlint.semantics.model import (DATASET_ONLY_METHODS, GENERIC_MODEL_METHODS, KERAS_COMPILE_KEYWORDS,
                                    MODEL_EVIDENCE_METHODS)

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
    "keras_model": (*TENSORFLOW_WORDS, "Sequential", "load_model", "clone_model",
                    *sorted(MODEL_EVIDENCE_METHODS - GENERIC_MODEL_METHODS)),
}
# ... and these, in a text without the word ``import`` (a fragment) or with
# one of the words of the second tuple (what the model also asks, see
# GENERIC_MODEL_METHODS)
GENERIC_EVIDENCE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "keras_model": (tuple(sorted(GENERIC_MODEL_METHODS)), tuple(sorted(KERAS_COMPILE_KEYWORDS))),
}
_EVIDENCE_WORDS = {kind: frozenset(words) for kind, words in EVIDENCE.items()}
# ... and, for code that uses them without importing them, the conventional
# aliases the model resolves to those modules (model.UNBOUND_ALIASES), as
# attribute accesses that start a dotted name (``tf.data``, not ``self.tf.x``
# nor ``inp.shape``): a substring search, cheap where they do not occur
_TF_ALIASES = ("tf.", "K.", "tfds.", "layers.")
ALIAS_EVIDENCE: dict[str, tuple[str, ...]] = {
    "tensorflow": _TF_ALIASES,
    "numpy": ("np.",),
    "array": ("np.", *_TF_ALIASES),
    "dataset": _TF_ALIASES,
    "keras_model": _TF_ALIASES,
}


def has_evidence(kind: str, text: str, seen: Optional[dict] = None) -> bool:
    """One of ``kind``'s words occurs in ``text`` as a whole word (a maximal
    run of ``\\w`` characters, as ``re.findall(r"\\w+")`` would give it).  A
    substring search per word (C speed) finds the candidates; only those are
    checked for word boundaries: ten times cheaper than collecting the
    text's words.  ``seen`` remembers each word's answer for the next kinds
    of the same text (the TensorFlow words are in every kind)."""
    if seen is None:
        seen = {}
    for word in _EVIDENCE_WORDS[kind]:
        if _word(word, text, seen):
            return True
    for prefix in ALIAS_EVIDENCE.get(kind, ()):
        key = "." + prefix
        found = seen.get(key)
        if found is None:
            found = seen[key] = prefix in text and _starts_name(prefix, text)
        if found:
            return True
    generic = GENERIC_EVIDENCE.get(kind)
    if generic is not None and any(_word(word, text, seen) for word in generic[0]):
        if not _word("import", text, seen):
            return True
        return any(_word(word, text, seen) for word in generic[1])
    return False


def _word(word: str, text: str, seen: dict) -> bool:
    found = seen.get(word)
    if found is None:
        found = seen[word] = word in text and _whole_word(word, text)
    return found


WORD_CHAR = re.compile(r"\w")


def _whole_word(word: str, text: str) -> bool:
    n = len(word)
    i = text.find(word)
    while i >= 0:
        before = text[i - 1] if i else ""
        after = text[i + n:i + n + 1]
        if not (before and WORD_CHAR.match(before)) and not (after and WORD_CHAR.match(after)):
            return True
        i = text.find(word, i + 1)
    return False


def _starts_name(prefix: str, text: str) -> bool:
    """``prefix`` (``tf.``) occurs where a dotted name starts: not after a
    word character or a dot."""
    i = text.find(prefix)
    while i >= 0:
        before = text[i - 1] if i else ""
        if not before or not (before == "." or WORD_CHAR.match(before)):
            return True
        i = text.find(prefix, i + 1)
    return False
