"""Deciding from the raw text which rules can possibly match a file.

Parsing with libcst is the expensive step, so a file that no enabled rule can
match is never parsed.  Two cheap, sound tests per rule:

* ``Rule.tokens``: substrings, one of which must occur in the text;
* ``Rule.requires``: names of semantic-model facts the rule's findings depend
  on; each fact holds only when one of its evidence *words* occurs in the text
  as a whole identifier (``EVIDENCE`` below, derived from the model's own
  tables).  ``cache`` occurs in every Django project; a ``tf.data`` dataset
  needs TensorFlow/Keras or a dataset-only method name.  A requirement written
  ``"imported:<fact>"`` is also met by a project file the file imports that
  uses TensorFlow or Keras (a ``build_model()`` helper of another module,
  followed by KM204); the rule's second-stage condition then reads the
  imported files it calls into.

The evidence lists must stay a superset of what the predicates accept;
tests/test_prefilter.py checks every predicate against them on every corpus
file, and the equivalence test compares results with and without the prefilter.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from kmlint.engine import syntax_facts
from kmlint.legacy.semantics.model import DATASET_ONLY_METHODS, MODEL_EVIDENCE_METHODS

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

_EVIDENCE_WORDS = {kind: frozenset(words) for kind, words in EVIDENCE.items()}
_WORD = re.compile(r"\w+")
_last_words: tuple[Optional[str], frozenset] = (None, frozenset())


def enabled() -> bool:
    """KMLINT_NO_PREFILTER=1 parses every file (the equivalence test and the
    benchmark use it to prove the prefilter loses nothing and to measure it)."""
    return os.environ.get("KMLINT_NO_PREFILTER", "") in ("", "0")


def has_evidence(kind: str, text: str) -> bool:
    """One of ``kind``'s words occurs in ``text`` as a whole word (``\\b``
    on both sides).  The text's words are collected once and reused for the
    next kinds: six times cheaper than one regular expression per kind."""
    global _last_words
    if _last_words[0] is not text:
        _last_words = (text, frozenset(_WORD.findall(text)))
    return not _last_words[1].isdisjoint(_EVIDENCE_WORDS[kind])


IMPORTED = "imported:"

# Over-approximations of the import statements anywhere in a file (a match in a
# string only costs a look at one more file).
_FROM_IMPORT = re.compile(r"\bfrom\s+(\.*[\w.]*)\s+import\s+(\([^)]*\)|(?:[^\n;#\\]|\\\n)*)")
_IMPORT = re.compile(r"^[ \t]*import\s+((?:[^\n;#\\]|\\\n)+)", re.MULTILINE)
# file -> (mtime and size, whether it imports TensorFlow or Keras)
_imports_tensorflow: dict[str, tuple[tuple[int, int], bool]] = {}


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


def _per_file(cache: dict, file: Path, compute, default):
    """``compute(text of file)``, cached on the file's mtime and size;
    ``default`` when it cannot be read."""
    key = str(file)
    try:
        st = os.stat(key)
        stamp = (st.st_mtime_ns, st.st_size)
        cached = cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        value = compute(file.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return default
    if len(cache) > 4096:
        cache.clear()
    cache[key] = (stamp, value)
    return value


def _says_tensorflow(file: Path) -> bool:
    """Whether a project file has the words of a TensorFlow/Keras import."""
    return _per_file(_imports_tensorflow, file, lambda text: has_evidence("tensorflow", text), False)


def _imports_tensorflow_file(text: str, importer: Optional[Path]) -> bool:
    """Whether ``text`` (the file at ``importer``) imports a project file that
    uses TensorFlow or Keras."""
    return _any_imported(importer, imported_targets(text), _says_tensorflow)


_facts: dict[str, tuple[tuple[int, int], Optional["syntax_facts.SyntaxFacts"]]] = {}


def project_facts(file: Path) -> Optional["syntax_facts.SyntaxFacts"]:
    """The syntax facts of a project file; None when it cannot be read or parsed."""
    return _per_file(_facts, file, _collect_kept, None)


def _collect_kept(source: str) -> Optional["syntax_facts.SyntaxFacts"]:
    """Facts to keep in the cache: without the parse (``in_loops`` is then
    all calls, which only widens a condition)."""
    facts = syntax_facts.collect(source)
    if facts is not None:
        facts.forget_tree()
    return facts


def _imported_facts(predicate, importer: Optional[Path], targets: Iterable[str]) -> bool:
    """Whether a project file among ``targets`` (imports of ``importer``) has
    facts satisfying ``predicate``; a file CPython cannot parse counts as
    satisfying it (the semantic model may still read it)."""
    def check(file: Path) -> bool:
        facts = project_facts(file)
        return facts is None or predicate(facts)

    return _any_imported(importer, targets, check)


def _any_imported(importer: Optional[Path], targets: Iterable[str], check) -> bool:
    """Whether ``check`` holds for a project file that one of ``targets``
    (dotted names imported by the file at ``importer``) resolves to."""
    if importer is None or not importer.is_file():
        return False
    from kmlint.legacy.semantics.project import resolve

    for target in targets:
        found = resolve(importer, target)
        if found is not None and check(found[0]):
            return True
    return False


def may_match(rule, text: str, evidence_cache: dict[str, bool], importer: Optional[Path] = None) -> bool:
    if rule.tokens and not any(t in text for t in rule.tokens):
        return False
    for kind in rule.requires:
        if kind not in evidence_cache:
            if kind.startswith(IMPORTED):
                local = kind[len(IMPORTED):]
                # what a project file contributes (a model builder for KM204)
                # needs a TensorFlow/Keras import there; the second stage
                # looks closer, at the imports the file calls
                evidence_cache[kind] = has_evidence(local, text) or _imports_tensorflow_file(text, importer)
            else:
                evidence_cache[kind] = has_evidence(kind, text)
        if not evidence_cache[kind]:
            return False
    return True


@dataclass
class Screening:
    """What the prefilter learnt besides the active rules."""
    parsed: bool = False  # CPython parsed the file (no syntax error for KM901)


def active_rules(rules: Iterable, text: str, importer: Optional[Path] = None,
                 screening: Optional[Screening] = None, stage_one: bool = True) -> list:
    """The rules that can possibly report something on ``text`` (the file at
    ``importer``, for requirements that imported project files can meet).

    Stage one looks for words in the text.  When every rule still in the
    running can be ruled out by the file's syntax (``Rule.syntax_gated``),
    stage two parses it with CPython's parser and asks each rule
    (``Rule.may_match_syntax``); a single rule without such a condition means
    libcst parses the file anyway, so stage two would be wasted."""
    evidence: dict[str, bool] = {}
    active = [r for r in rules if may_match(r, text, evidence, importer)] if stage_one else list(rules)
    if not active or not all(r.syntax_gated() for r in active):
        return active
    facts = syntax_facts.collect(text)
    if facts is None:
        return active  # libcst reports or recovers the syntax error
    if screening is not None:
        screening.parsed = True
    facts.import_resolver = lambda predicate, targets: _imported_facts(predicate, importer, targets)
    return [r for r in active if r.may_match_syntax(facts)]
