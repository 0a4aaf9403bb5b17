"""The gate before the model: deciding from the raw text which rules can
possibly match a file.

A file that no enabled rule can match is only syntax-checked (CPython's
compile, for KM901); the others are parsed and get the semantic model, and
rules subscribe to what they inspect (``Rule.calls``, ``check_module``).  Two
cheap, sound tests per rule, read from the catalog (no rule code imported):

* ``Rule.tokens``: substrings, one of which must occur in the text;
* ``Rule.requires``: names of semantic-model facts the rule's findings depend
  on; each fact holds only when one of its evidence *words* occurs in the text
  as a whole identifier (``EVIDENCE`` below, derived from the model's own
  tables).  ``cache`` occurs in every Django project; a ``tf.data`` dataset
  needs TensorFlow/Keras or a dataset-only method name.  A requirement written
  ``"imported:<fact>"`` is also met by a project file the file imports that
  uses TensorFlow or Keras (a ``build_model()`` helper of another module,
  followed by KM204).

The evidence lists must stay a superset of what the model's predicates
accept; tests/test_prefilter.py checks them on every corpus file and compares
results with and without the gate.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from kmlint.semantics.model import DATASET_ONLY_METHODS, MODEL_EVIDENCE_METHODS

if TYPE_CHECKING:  # pragma: no cover
    from kmlint.engine.session import Session

# the roots of every tensorflow.* / keras.* qualname (tf_keras and keras.src are folded into keras),
# and the conventional aliases that resolve to them when code uses them without
# importing them (model.UNBOUND_ALIASES)
TENSORFLOW_WORDS = ("tensorflow", "keras", "tf_keras", "tensorflow_datasets", "tf", "K", "tfds", "layers")

EVIDENCE: dict[str, tuple[str, ...]] = {
    # model.qualname() can only give tensorflow.* / keras.* (or model.is_imported("tensorflow")) ...
    "tensorflow": TENSORFLOW_WORDS,
    # ... and numpy.* only
    "numpy": ("numpy", "np"),
    # sizes.estimate(): arrays from numpy/tensorflow constructors and Keras/TFDS loaders
    "array": ("numpy", "np", *TENSORFLOW_WORDS),
    # model.is_dataset_chain(): a tf.data constructor or a dataset-only method
    "dataset": (*TENSORFLOW_WORDS, *sorted(DATASET_ONLY_METHODS)),
    # model.is_keras_model() and tensors.builds_keras_model(): a Keras constructor or
    # loader (also unresolved, in fragments), or a method only models have
    "keras_model": (*TENSORFLOW_WORDS, "Sequential", "load_model", "clone_model", *sorted(MODEL_EVIDENCE_METHODS)),
}

_EVIDENCE_WORDS = {kind: frozenset(words) for kind, words in EVIDENCE.items()}
_WORD = re.compile(r"\w+")


def enabled() -> bool:
    """KMLINT_NO_PREFILTER=1 parses every file (the equivalence test and the
    benchmark use it to prove the prefilter loses nothing and to measure it)."""
    return os.environ.get("KMLINT_NO_PREFILTER", "") in ("", "0")


def has_evidence(kind: str, text: str) -> bool:
    """One of ``kind``'s words occurs in ``text`` as a whole word (``\\b``
    on both sides).  The text's words are collected once and reused for the
    next kinds: six times cheaper than one regular expression per kind."""
    return not _words(text).isdisjoint(_EVIDENCE_WORDS[kind])


_last_words: list = [None, frozenset()]  # the words of the last text asked about (one entry)


def _words(text: str) -> frozenset:
    if _last_words[0] is not text:
        _last_words[:] = [text, frozenset(_WORD.findall(text))]
    return _last_words[1]


IMPORTED = "imported:"

# Over-approximations of the import statements anywhere in a file (a match in a
# string only costs a look at one more file).
_FROM_IMPORT = re.compile(r"\bfrom\s+(\.*[\w.]*)\s+import\s+(\([^)]*\)|(?:[^\n;#\\]|\\\n)*)")
_IMPORT = re.compile(r"^[ \t]*import\s+((?:[^\n;#\\]|\\\n)+)", re.MULTILINE)


def imported_targets(text: str) -> set[str]:
    """Dotted names a file may import: modules and ``module.name``."""
    targets: set[str] = set()
    for module, names in _FROM_IMPORT.findall(text):
        targets.add(module)
        for name in names.strip("()").replace("\\\n", " ").split(","):
            name = name.split(" as ")[0].strip()
            if name and name != "*":
                targets.add(module.rstrip(".") + "." + name if module.strip(".") else module + name)
    for names in _IMPORT.findall(text):
        for name in names.replace("\\\n", " ").split(","):
            targets.add(name.split(" as ")[0].strip())
    return {t for t in targets if t}


def _says_tensorflow(file: Path, session: "Session") -> bool:
    """Whether a project file has the words of a TensorFlow/Keras import."""
    return session.file_fact("says_tensorflow", file, lambda text: has_evidence("tensorflow", text), False)


def _imports_tensorflow_file(text: str, importer: Optional[Path], session: "Session") -> bool:
    """Whether ``text`` (the file at ``importer``) imports a project file that
    uses TensorFlow or Keras."""
    if importer is None or not importer.is_file():
        return False
    from kmlint.semantics.project import resolve

    for target in imported_targets(text):
        found = resolve(importer, target, session.project)
        if found is not None and _says_tensorflow(found[0], session):
            return True
    return False


def may_match(rule, text: str, evidence_cache: dict[str, bool], importer: Optional[Path] = None,
              session: Optional["Session"] = None) -> bool:
    """Whether ``rule`` (a class or its catalog entry) can report anything on
    ``text``; ``evidence_cache`` keeps the evidence found for the next rules."""
    if rule.tokens and not any(t in text for t in rule.tokens):
        return False
    for kind in rule.requires:
        if kind not in evidence_cache:
            if kind.startswith(IMPORTED):
                local = kind[len(IMPORTED):]
                # what a project file contributes (a model builder for KM204)
                # needs a TensorFlow/Keras import there
                if session is None:
                    from kmlint.engine.session import Session

                    session = Session()
                evidence_cache[kind] = has_evidence(local, text) or _imports_tensorflow_file(text, importer, session)
            else:
                evidence_cache[kind] = has_evidence(kind, text)
        if not evidence_cache[kind]:
            return False
    return True
