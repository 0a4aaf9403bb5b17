"""Second stage of the prefilter: facts about a file from CPython's own parser.

The first stage (``prefilter.py``) looks for words in the raw text; in a
Keras code base every file has them (``keras``, ``model``, ``function``,
``append``), so nearly every file went on to the libcst parse.  CPython's
``ast`` parses about ten times faster than libcst and, unlike the text, tells
a call from a word in a docstring.  One walk over the ``ast`` collects the few
facts below, and each rule states a *necessary* condition on them
(``Rule.may_match_syntax``): a rule that only looks at calls named ``cache``
cannot report anything in a file without such a call.  A file where no rule's
condition holds is never parsed by libcst.

Every fact over-approximates what the semantic model (kmlint/semantics/model.py)
can see: the ``ast`` has every call libcst has (decorators, f-strings and
annotations included), and names are collected wherever they occur.  The
equivalence tests (tests/test_prefilter.py) lint every dossier, fixture and
trap with and without the prefilter and compare.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Optional


@dataclass
class SyntaxFacts:
    #: callee names (``x.fit(...)`` -> ``fit``, ``f(...)`` -> ``f``) plus the last
    #: component of every imported name (the model also indexes a call through
    #: an import alias under the imported name)
    calls: set[str] = field(default_factory=set)
    #: callees that are plain names: ``net(x)`` -> ``net``
    name_calls: set[str] = field(default_factory=set)
    #: every identifier: names, attributes, import parts and aliases, def/class
    #: names, keyword-argument names
    identifiers: set[str] = field(default_factory=set)
    #: names assigned (any target, any scope)
    stores: set[str] = field(default_factory=set)
    #: calls that ``SemanticModel.qualname`` can resolve to a library: through a
    #: name the file imports (``np.concatenate`` -> ``concatenate``, the real
    #: name for ``from numpy import concatenate as cat``) or a root spelled out
    #: in full (``numpy.append`` without an import)
    library_calls: set[str] = field(default_factory=set)
    #: the same by top-level package: ``{"numpy": {"concatenate"}, "keras": {"Sequential"}}``
    calls_into: dict[str, set[str]] = field(default_factory=dict)
    #: what the imports of called names import, as project.resolve() reads
    #: dotted names (``from pkg import build; build()`` ->
    #: ``pkg``, ``pkg.build``; ``import nets; nets.make()`` -> ``nets``)
    called_import_targets: set[str] = field(default_factory=set)
    #: plain-name callees that no import binds (``Sequential(...)`` in a fragment)
    unimported_name_calls: set[str] = field(default_factory=set)
    #: names bound by ``import x`` / ``import x as y`` (modules), by plain
    #: assignments (Name targets, walrus), and function parameters
    module_imports: set[str] = field(default_factory=set)
    assigned: set[str] = field(default_factory=set)
    params: set[str] = field(default_factory=set)
    #: method -> the plain names it is called on (``net.compile()`` -> ``{"compile": {"net"}}``)
    receivers: dict[str, set[str]] = field(default_factory=dict)
    #: names of the classes the file defines
    classes: set[str] = field(default_factory=set)
    #: a string or bytes literal that says "gpu" (any case) or CUDA_VISIBLE_DEVICES
    gpu_strings: bool = False
    loops: bool = False  # a for/while statement
    comprehensions: bool = False
    generators: bool = False  # a yield anywhere
    floor_divisions: bool = False  # an ``a // b`` expression (not ``//=``)
    #: an assignment at module level (outside def and class bodies)
    module_assignments: bool = False
    #: (predicate, dotted import targets) -> whether a project file behind one
    #: of the targets has facts satisfying the predicate (set by the
    #: prefilter; True when unknown); see ``imported_facts``
    import_resolver: Callable[[Callable[["SyntaxFacts"], bool], list[str]], bool] = \
        field(default=lambda predicate, targets: True, repr=False, compare=False)
    #: top-level packages the file imports (``import tensorflow as tf`` -> ``tensorflow``)
    imported_packages: set[str] = field(default_factory=set)
    #: (Sites, imports) kept by collect() until ``in_loops`` is first asked:
    #: most files are decided before any rule needs it
    _loop_source: Optional[tuple] = field(default=None, repr=False, compare=False)
    _loop_view: Optional["SyntaxFacts"] = field(default=None, repr=False, compare=False)

    def imported_facts(self, predicate: Callable[["SyntaxFacts"], bool]) -> bool:
        """Whether a project file behind ``called_import_targets`` has facts
        satisfying ``predicate`` (True when unknown)."""
        return self.import_resolver(predicate, sorted(self.called_import_targets))

    @property
    def in_loops(self) -> "SyntaxFacts":
        """The same facts, with the call facts (``_CALL_FIELDS``) narrowed to
        the calls that ``SemanticModel.loop_contexts`` can place in a loop:
        inside a for/while/comprehension (lexically, across nested defs), or inside a
        function of the file whose name such a call calls (``helper()``,
        ``self.helper()``, ``f = tf.function(helper); f()``), transitively.
        Rules that report only at calls inside loops ask this.  The facts
        themselves when unknown (hand-made facts, ``forget_tree``)."""
        if self._loop_view is None:
            if self._loop_source is None:
                return self
            sites, imports = self._loop_source
            self._loop_source = None
            self._loop_view = _loop_view(self, sites, imports) if sites is not None else _view(self)
        return self._loop_view

    def forget_tree(self) -> None:
        """Drop the parse kept for ``in_loops`` (facts kept in a cache)."""
        self._loop_source = None

    @property
    def any_loop(self) -> bool:
        return self.loops or self.comprehensions

    def calls_from(self, packages: Iterable[str], names: Iterable[str]) -> bool:
        """A call that qualname() may resolve to ``<package>...<name>``."""
        return any(not self.calls_into.get(p, _EMPTY).isdisjoint(names) for p in packages)


_EMPTY: frozenset[str] = frozenset()
# roots that qualname() resolves without an import (names.canonical() spells them out)
LIBRARY_ROOTS = frozenset({"numpy", "tensorflow", "keras", "tf_keras", "tensorflow_datasets"})
PARSE_FLAGS = ast.PyCF_ONLY_AST | getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_ASSIGNS = (ast.Assign, ast.AnnAssign, ast.AugAssign)


def collect(source: str) -> Optional[SyntaxFacts]:
    """The facts of ``source``, or None when CPython cannot parse it (the
    libcst path then decides: syntax errors, recovery, other grammars)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes: not ours to report here
            # the flags of linter._fast_syntax_error: a file parsed here has no syntax error there
            tree = compile(source, "<kmlint>", "exec", PARSE_FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None
    facts = SyntaxFacts()
    calls, ids, stores = facts.calls, facts.identifiers, facts.stores
    sites = _Sites()
    call_nodes, loop_nodes, def_nodes, assign_nodes = sites.calls, sites.loops, sites.defs, sites.assigns
    Name, Attribute, Call, alias, keyword = ast.Name, ast.Attribute, ast.Call, ast.alias, ast.keyword
    Store, Constant = ast.Store, ast.Constant
    imported: dict[str, set[str]] = {}  # local name -> imported names it stands for
    import_targets: dict[str, set[str]] = {}  # local name -> dotted targets
    tops: dict[str, set[str]] = {}  # local name -> top-level packages it comes from
    from_import: dict[int, str] = {}  # alias -> its ImportFrom's module (ast.walk visits that first)
    try:
        for node in _nodes(tree):
            kind = type(node)
            if kind is Name:
                ids.add(node.id)
                if type(node.ctx) is Store:
                    stores.add(node.id)
                    facts.assigned.add(node.id)
            elif kind is Attribute:
                ids.add(node.attr)
            elif kind is Call:
                call_nodes.append(node)  # read after the walk (_note_calls), also for in_loops
            elif kind is keyword:
                if node.arg:
                    ids.add(node.arg)
            elif kind is alias:
                parts = node.name.split(".")
                ids.update(parts)
                calls.add(parts[-1])
                module = from_import.get(id(node))
                if module is not None:
                    local, top = node.asname or parts[-1], module.split(".")[0]
                else:
                    local, top = node.asname or parts[0], parts[0]
                    facts.module_imports.add(local)
                imported.setdefault(local, set()).add(parts[-1])
                tops.setdefault(local, set()).add(top)
                facts.imported_packages.add(top)
                if module is None:
                    import_targets.setdefault(local, set()).add(node.name)
                else:
                    full = module.rstrip(".") + "." + node.name if module.strip(".") else module + node.name
                    import_targets.setdefault(local, set()).update((module, full))
                if node.asname:
                    ids.add(node.asname)
                    stores.add(node.asname)
            elif kind is ast.ImportFrom:
                for a in node.names:
                    from_import[id(a)] = "." * node.level + (node.module or "")
            elif kind is Constant:
                if not facts.gpu_strings and type(node.value) in (str, bytes):
                    text = node.value if type(node.value) is str else node.value.decode("latin-1")
                    facts.gpu_strings = "gpu" in text.lower() or "CUDA_VISIBLE_DEVICES" in text
            elif kind in _LOOPS:
                facts.loops = True
                loop_nodes.append(node)
            elif kind in _COMPREHENSIONS:
                facts.comprehensions = True
                loop_nodes.append(node)
            elif kind is ast.Assign or kind is ast.AnnAssign:
                assign_nodes.append(node)
            elif kind is ast.Yield or kind is ast.YieldFrom:
                facts.generators = True
            elif kind is ast.BinOp:
                if type(node.op) is ast.FloorDiv:
                    facts.floor_divisions = True
            elif kind in _SCOPES and kind is not ast.Lambda:
                ids.add(node.name)
                if kind is ast.ClassDef:
                    facts.classes.add(node.name)
                else:
                    def_nodes.append(node)
            elif kind is ast.NamedExpr:
                stores.add(node.target.id)
                facts.assigned.add(node.target.id)
            elif kind is ast.arg:
                facts.params.add(node.arg)
    except RecursionError:
        return None
    facts.module_assignments = _module_assignments(tree.body)
    imports = (imported, import_targets, tops)
    _resolve_calls(facts, _note_calls(facts, call_nodes), imports)
    facts._loop_source = (sites if facts.any_loop else None, imports)
    return facts


def _note_calls(facts: SyntaxFacts, nodes: list[ast.Call]) -> list[tuple[str, str]]:
    """Add the call facts of ``nodes`` that need no imports (callee names,
    plain-name callees, receivers); return the (root name, method) of the
    attribute calls for ``_resolve_calls``."""
    calls, name_calls, receivers = facts.calls, facts.name_calls, facts.receivers
    Name, Attribute = ast.Name, ast.Attribute
    rooted: list[tuple[str, str]] = []
    for node in nodes:
        func = node.func
        if type(func) is Attribute:
            calls.add(func.attr)
            root = func.value
            if type(root) is Name:
                receivers.setdefault(func.attr, set()).add(root.id)
            while type(root) is Attribute:
                root = root.value
            if type(root) is Name:
                rooted.append((root.id, func.attr))
        elif type(func) is Name:
            calls.add(func.id)
            name_calls.add(func.id)
    return rooted


def _resolve_calls(facts: SyntaxFacts, rooted: list[tuple[str, str]], imports) -> None:
    """The call facts that need the file's imports: ``rooted`` holds the
    (root name, method) of attribute calls, ``facts.name_calls`` the plain ones."""
    imported, import_targets, tops = imports
    into = facts.calls_into
    for local in {root for root, _ in rooted} | facts.name_calls:
        facts.called_import_targets.update(import_targets.get(local, ()))
    for root, method in rooted:
        for top in tops.get(root, ()):
            into.setdefault(top, set()).add(method)
        if root in LIBRARY_ROOTS:
            into.setdefault(root, set()).add(method)
    for name in facts.name_calls:
        if name in imported:
            for top in tops[name]:
                into.setdefault(top, set()).update(imported[name] | {name})
        else:
            facts.unimported_name_calls.add(name)
    for names in into.values():
        facts.library_calls.update(names)


# the facts that in_loops narrows to the calls that may run in a loop
_CALL_FIELDS = ("calls", "name_calls", "library_calls", "calls_into", "called_import_targets",
                "unimported_name_calls", "receivers")


def _view(facts: SyntaxFacts) -> SyntaxFacts:
    """``facts`` without call facts (sharing the other sets)."""
    return replace(facts, **{name: type(getattr(facts, name))() for name in _CALL_FIELDS},
                   _loop_source=None, _loop_view=None)


@dataclass
class _Sites:
    """Nodes the walk noted for ``in_loops``, each list in walk order."""
    calls: list = field(default_factory=list)
    loops: list = field(default_factory=list)  # for/while statements and comprehensions
    defs: list = field(default_factory=list)
    assigns: list = field(default_factory=list)


def _close(open_loops: list, open_defs: list, at: tuple[int, int]) -> None:
    """Forget the spans that end at or before ``at`` (spans nest, so they are
    the innermost ones)."""
    while open_loops and open_loops[-1] <= at:
        open_loops.pop()
    while open_defs and open_defs[-1][0] <= at:
        open_defs.pop()


def _start(node) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _loop_view(facts: SyntaxFacts, noted: _Sites, imports) -> SyntaxFacts:
    """``facts`` with the call facts of only the calls that may run in a loop
    (see ``SyntaxFacts.in_loops``).  Over-approximates loop_contexts: a whole
    loop statement counts (its iterable and else too), nesting depth is not
    limited, and functions are matched by name alone.  Containment comes from
    source positions (a node that starts inside another's span is inside it:
    spans nest), so no second walk is needed; decorators start before their
    def's span, which is right (they run in the enclosing scope)."""
    imported = imports[0]
    aliases: dict[str, set[str]] = {}  # f -> g for `f = g` / `f = tf.function(g)` (function_called follows them)
    for node in noted.assigns:
        value = node.value
        named = [value] if type(value) is ast.Name else (
            list(value.args) + [k.value for k in value.keywords] if type(value) is ast.Call else [])
        for t in (node.targets if type(node) is ast.Assign else [node.target]):
            if type(t) is ast.Name:
                aliases.setdefault(t.id, set()).update(n.id for n in named if type(n) is ast.Name)
    # (call, lexically in a loop, enclosing def names), by one sweep in source order
    spans = sorted([(_start(n), (n.end_lineno, n.end_col_offset), 0, n) for n in noted.loops]
                   + [(_start(n), (n.end_lineno, n.end_col_offset), 1, n) for n in noted.defs], key=lambda s: s[0])
    sites: list[tuple[ast.Call, bool, tuple[str, ...]]] = []
    open_loops: list[tuple[int, int]] = []  # ends of the loop spans around the current position
    open_defs: list[tuple[tuple[int, int], str]] = []
    i = 0
    for call in sorted(noted.calls, key=_start):
        at = _start(call)
        while i < len(spans) and spans[i][0] <= at:
            start, end, is_def, node = spans[i]
            i += 1
            _close(open_loops, open_defs, start)
            if is_def:
                open_defs.append((end, node.name))
            else:
                open_loops.append(end)
        _close(open_loops, open_defs, at)
        sites.append((call, bool(open_loops), tuple(name for _, name in open_defs)))
    # a function runs in a loop when a call in a loop calls its name (through aliases)
    looping: set[str] = set()
    chosen: list[ast.Call] = []
    pending = sites
    while pending:
        rest = []
        grew = False
        for site in pending:
            call, in_loop, defs = site
            if not (in_loop or (looping and not looping.isdisjoint(defs))):
                rest.append(site)
                continue
            chosen.append(call)
            func = call.func
            callee = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
            todo = [callee] if callee else []
            while todo:
                name = todo.pop()
                if name not in looping:
                    looping.add(name)
                    grew = True
                    todo.extend(aliases.get(name, ()))
        pending = rest if grew else []
    view = _view(facts)
    rooted = _note_calls(view, chosen)
    for name in view.name_calls:
        view.calls.update(imported.get(name, ()))  # the model indexes it under the imported name too
    _resolve_calls(view, rooted, imports)
    return view


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "n", "s", "id", "arg", "attr", "name", "asname",
                          "module", "level", "is_async", "conversion", "simple", "lineno"})


def _nodes(tree: ast.AST):
    """Every node, each before its children (ast.walk is three times slower:
    it visits every field, literals and contexts included)."""
    AST, child_fields = ast.AST, _CHILD_FIELDS
    stack = [tree]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        node = pop()
        yield node
        kind = type(node)
        names = child_fields.get(kind)
        if names is None:
            names = child_fields[kind] = tuple(f for f in kind._fields if f not in _LEAF_FIELDS)
        for name in names:
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                extend(v for v in value if isinstance(v, AST))
            elif isinstance(value, AST):
                push(value)


def _module_assignments(body: list[ast.stmt]) -> bool:
    """An assignment statement in module scope: at top level or inside
    if/for/while/with/try/match blocks, never inside a def or class."""
    stack = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, _ASSIGNS):
            return True
        if isinstance(stmt, _SCOPES):
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(stmt, name, None)
            if children:
                stack.extend(children)
    return False
