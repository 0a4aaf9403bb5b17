"""The gate before the model: deciding from the raw text which rules can
possibly match a file.

A file that no enabled rule can match is only syntax-checked (CPython's
compile, for KM901); the others are parsed and get the semantic model, and
rules subscribe to what they inspect (``Rule.calls``, ``check_module``).  Two
cheap, sound tests per rule, read from the catalog (no rule code imported):

* ``Rule.tokens``: substrings, one of which must occur in the text;
* ``Rule.requires``: names of semantic-model facts the rule's findings depend
  on; each fact holds only when one of its evidence *words* occurs in the text
  as a whole identifier (``EVIDENCE`` in ``kmlint.semantics.evidence``,
  derived from the model's own tables).  ``cache`` occurs in every Django project; a ``tf.data`` dataset
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

from kmlint.semantics.evidence import (ALIAS_EVIDENCE, EVIDENCE, GENERIC_EVIDENCE, TENSORFLOW_WORDS,  # noqa: F401
                                       WORD_CHAR, has_evidence)

if TYPE_CHECKING:  # pragma: no cover
    from kmlint.engine.session import Session


def enabled() -> bool:
    """KMLINT_NO_PREFILTER=1 parses every file (the equivalence test and the
    benchmark use it to prove the prefilter loses nothing and to measure it)."""
    return os.environ.get("KMLINT_NO_PREFILTER", "") in ("", "0")


IMPORTED = "imported:"

# Over-approximations of the import statements anywhere in a file (a match in a
# string only costs a look at one more file).  Both patterns start with a
# literal word so the regex engine can skip to its occurrences (a leading
# ``\b`` or ``^`` makes it try every position: twenty times slower); what
# those anchors said is checked at each match instead (``_matches``).
_FROM_IMPORT = re.compile(r"from\s+(\.*[\w.]*)\s+import\s+(\([^)]*\)|[^\n;#\\]*(?:\\\n[^\n;#\\]*)*)")
_IMPORT = re.compile(r"import\s+([^\n;#\\]*(?:\\\n[^\n;#\\]*)*)")


def _matches(pattern: "re.Pattern[str]", text: str, line_start: bool) -> list:
    """``pattern.findall(text)`` as if it began with ``\\b`` (``line_start``
    false) or with ``^[ \\t]*`` in multi-line mode (``line_start`` true)."""
    out = []
    pos = 0
    search = pattern.search
    while True:
        m = search(text, pos)
        if m is None:
            return out
        start = m.start()
        if line_start:
            ok = not text[text.rfind("\n", 0, start) + 1:start].strip(" \t")
        else:
            ok = not start or not WORD_CHAR.match(text[start - 1])
        if ok:
            out.append(m.groups() if pattern.groups > 1 else m.group(1))
            pos = m.end()
        else:
            pos = start + 1


def imported_targets(text: str) -> set[str]:
    """Dotted names a file may import: modules and ``module.name``."""
    targets: set[str] = set()
    for module, names in _matches(_FROM_IMPORT, text, False):
        targets.add(module)
        for name in names.strip("()").replace("\\\n", " ").split(","):
            name = name.split(" as ")[0].strip()
            if name and name != "*":
                targets.add(module.rstrip(".") + "." + name if module.strip(".") else module + name)
    for names in _matches(_IMPORT, text, True):
        for name in names.replace("\\\n", " ").split(","):
            targets.add(name.split(" as ")[0].strip())
    return {t for t in targets if t}


def _imports_tensorflow_file(text: str, importer: Optional[Path], session: "Session") -> bool:
    """Whether ``text`` (the file at ``importer``) imports a project file that
    uses TensorFlow or Keras."""
    if importer is None or not importer.is_file():
        return False
    from kmlint.semantics.project import resolve

    if not importer.is_absolute():
        importer = Path(os.path.abspath(importer))  # each lookup below would join it to the cwd again

    itself = None
    for target in imported_targets(text):
        if itself is None:
            itself = session.project.resolved(importer)
        found = resolve(importer, target, session.project, itself)
        if found is not None and session.project.says_tensorflow(found[0]):
            return True
    return False


def may_match(rule, text: str, evidence_cache: dict[str, bool], importer: Optional[Path] = None,
              session: Optional["Session"] = None) -> bool:
    """Whether ``rule`` (a class or its catalog entry) can report anything on
    ``text``; ``evidence_cache`` keeps the evidence found for the next rules
    (by kind, the words' answers under ``"words"``, the tokens' under
    ``"tokens"``: rules share tokens, and each look scans the whole text)."""
    # cheapest first: a kind's evidence is found once per file and shared by
    # the rules; then the tokens (a scan of the text each); last the kinds a
    # project file may contribute (resolving the file's imports)
    deferred = None
    for kind in rule.requires:
        if kind.startswith(IMPORTED):
            deferred = (deferred or []) + [kind]
            continue
        found = evidence_cache.get(kind)
        if found is None:
            found = evidence_cache[kind] = has_evidence(kind, text, evidence_cache.setdefault("words", {}))
        if not found:
            return False
    if rule.tokens:
        tokens = evidence_cache.get("tokens")
        if tokens is None:
            tokens = evidence_cache["tokens"] = {}
        for t in rule.tokens:
            found = tokens.get(t)
            if found is None:
                found = tokens[t] = t in text
            if found:
                break
        else:
            return False
    for kind in deferred or ():
        found = evidence_cache.get(kind)
        if found is None:
            local = kind[len(IMPORTED):]
            # what a project file contributes (a model builder for KM204)
            # needs a TensorFlow/Keras import there
            if session is None:
                from kmlint.engine.session import Session

                session = Session()
            found = evidence_cache[kind] = (has_evidence(local, text, evidence_cache.setdefault("words", {}))
                                            or _imports_tensorflow_file(text, importer, session))
        if not found:
            return False
    return True
