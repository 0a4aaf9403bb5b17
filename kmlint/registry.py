"""The rule base class and the registry of all rules.

A rule is one small class in one module under ``kmlint/checks``.  It reads the
file's semantic model (``kmlint.semantics.model``, built once per file from
CPython's ``ast``) and states only what it subscribes to; the engine dispatches
without re-walking the tree:

* ``calls``: names of called functions/methods (the last dotted part, e.g.
  ``"fit_generator"``); ``check_call`` gets each matching call site.
* ``check_module``: called once per file with the semantic model, for rules that
  need a whole-file view (statement order, bindings, suppressions).
* ``tokens``: raw substrings, one of which must occur in the file text for the
  rule to possibly match (rules with an empty ``tokens`` always run).
* ``requires``: semantic facts every finding of the rule depends on
  (``"dataset"``, ``"keras_model"``, ``"tensorflow"``, ``"numpy"``, ``"array"``;
  see ``kmlint.engine.prefilter.EVIDENCE``), each of which needs one of its
  evidence words in the text.

``tokens`` and ``requires`` are the one gate before the model: they are read
from the catalog (kmlint/catalog.py) without importing rule code, and a file
that no enabled rule passes is only syntax-checked.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, ClassVar, Iterable, Optional

if TYPE_CHECKING:  # pragma: no cover
    from kmlint.engine.context import RuleContext
    from kmlint.semantics.model import CallSite, SemanticModel


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line for `kmlint rules`
    fixable: ClassVar[Optional[str]] = None  # "safe", "unsafe", "sometimes" or None
    confirmable: ClassVar[bool] = False  # has a runtime scenario
    preview: ClassVar[bool] = False  # only enabled with --preview
    severity: ClassVar[str] = "warning"
    tokens: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    calls: ClassVar[frozenset[str]] = frozenset()

    def check_call(self, call: "CallSite", ctx: "RuleContext") -> None:  # pragma: no cover
        pass

    def check_module(self, model: "SemanticModel", ctx: "RuleContext") -> None:  # pragma: no cover
        pass

    @classmethod
    def wants_module(cls) -> bool:
        return cls.check_module is not Rule.check_module


class RuleMeta:
    """What is known of a rule without importing its module (kmlint/catalog.py)."""

    __slots__ = ("code", "name", "summary", "fixable", "confirmable", "preview", "severity",
                 "tokens", "requires", "calls", "module")

    def __init__(self, code: str, name: str, summary: str, fixable: Optional[str] = None, confirmable: bool = False,
                 preview: bool = False, severity: str = "warning", tokens: tuple = (),
                 requires: tuple = (), calls: tuple = (), module: str = ""):
        self.code, self.name, self.summary, self.fixable = code, name, summary, fixable
        self.confirmable, self.preview, self.severity = confirmable, preview, severity
        self.tokens, self.requires, self.calls = tuple(tokens), tuple(requires), frozenset(calls)
        self.module = module

    def __repr__(self) -> str:
        return f"RuleMeta({self.code} {self.name})"


_REGISTRY: dict[str, type[Rule]] = {}
_CATALOG: Optional[dict[str, RuleMeta]] = None


def catalog() -> dict[str, RuleMeta]:
    """Every rule's metadata by code, without importing rule modules."""
    global _CATALOG
    if _CATALOG is None:
        from kmlint.catalog import RULES

        _CATALOG = {m.code: m for m in RULES}
    return _CATALOG


def all_meta() -> list[RuleMeta]:
    cat = catalog()
    return [cat[c] for c in sorted(cat)]


def rule_meta(code_or_name: str) -> Optional[RuleMeta]:
    cat = catalog()
    key = code_or_name.strip()
    if key.upper() in cat:
        return cat[key.upper()]
    for m in cat.values():
        if m.name == key:
            return m
    return None


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry (codes and names must be unique)."""
    if cls.code in _REGISTRY:
        raise RuntimeError(f"duplicate rule code {cls.code}")
    if any(r.name == cls.name for r in _REGISTRY.values()):
        raise RuntimeError(f"duplicate rule name {cls.name}")
    _REGISTRY[cls.code] = cls
    return cls


_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    import kmlint.checks as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")
    _loaded = True


def all_rules() -> list[type[Rule]]:
    _load_all()
    return [_REGISTRY[c] for c in sorted(_REGISTRY)]


def get_rule(code_or_name: str) -> Optional[type[Rule]]:
    """The rule class; imports only that rule's module when the catalog knows it."""
    meta = rule_meta(code_or_name)
    if meta is not None and meta.module:
        if meta.code not in _REGISTRY:
            importlib.import_module(f"kmlint.checks.{meta.module}")
        if meta.code in _REGISTRY:
            return _REGISTRY[meta.code]
    _load_all()
    key = code_or_name.strip()
    if key.upper() in _REGISTRY:
        return _REGISTRY[key.upper()]
    for r in _REGISTRY.values():
        if r.name == key:
            return r
    return None


class SelectorError(ValueError):
    pass


def expand_selector(selector: str) -> set[str]:
    """Codes matched by a selector: a full code, a code prefix (``KM2``), a rule
    name, or ``ALL``.  Raises SelectorError for selectors matching nothing."""
    _load_all()
    s = selector.strip()
    if s.upper() == "ALL":
        return set(_REGISTRY)
    rule = get_rule(s)
    if rule is not None:
        return {rule.code}
    up = s.upper()
    if up.startswith("KM") and up[2:].isdigit():
        matched = {c for c in _REGISTRY if c.startswith(up)}
        if matched:
            return matched
    raise SelectorError(f"unknown rule selector {selector!r}")


def resolve_selection(
    select: Optional[Iterable[str]],
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
    preview: bool = False,
) -> set[str]:
    """Ruff-like selection: start from ``select`` (default: every stable rule),
    add ``extend_select``, remove ``ignore``.  Preview rules are only on with
    ``preview`` unless selected by their exact code or name."""
    cat = catalog()
    explicit: set[str] = set()
    if select is None:
        chosen = {c for c, r in cat.items() if preview or not r.preview}
    else:
        chosen = set()
        for s in select:
            codes = expand_selector(s)
            if len(codes) == 1:
                explicit |= codes
            chosen |= codes
    for s in extend_select:
        codes = expand_selector(s)
        if len(codes) == 1:
            explicit |= codes
        chosen |= codes
    for s in ignore:
        chosen -= expand_selector(s)
    if not preview:
        chosen = {c for c in chosen if not cat[c].preview or c in explicit}
    return chosen
