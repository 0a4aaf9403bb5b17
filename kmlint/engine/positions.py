"""Positions and fix edits, computed only where there are findings, and only
for the statements that hold them.

libcst nodes carry no positions; PositionProvider derives them by generating
the code of the whole module (about 3x a bare parse), and a fix's edit was the
diff of two whole generated modules.  Here the unit is a *statement*: one in
the body of the module, of a class or of a function (so a finding in one
method of a big class costs that method).  The unit is generated inside a copy
of its enclosing class/def headers with every other statement left out, which
gives exact columns; CPython's parser (about 10x cheaper than libcst) gives the
line of every such statement, which fixes the lines.  Whatever does not fit
(a node outside any statement, a source CPython rejects) falls back to the
whole-module provider and a whole-module diff.
"""

from __future__ import annotations

import ast
from dataclasses import fields
from typing import Iterable, Optional

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from kmlint.findings import Edit
from kmlint.fixes import line_hunks
from kmlint.legacy.semantics.walk import FastVisitor

_NESTING = (cst.ClassDef, cst.FunctionDef)


def resolve_positions(module: cst.Module):
    # unsafe_skip_copy keeps node identity, so the nodes rules reported are keys
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.resolve(PositionProvider)


def line_edits(old_text: str, new_text: str, first_line: int) -> list[Edit]:
    """Whole-line replacements, one per changed hunk, for text starting at ``first_line``."""
    return [Edit("".join(lines), first_line + start, 1, first_line + end, 1)
            for start, end, lines in line_hunks(old_text, new_text)]


def _body(owner: cst.CSTNode) -> Optional[tuple]:
    """The statements of a module, or of a class/def with an indented body."""
    if isinstance(owner, cst.Module):
        return tuple(owner.body)
    if isinstance(owner, _NESTING) and isinstance(owner.body, cst.IndentedBlock):
        return tuple(owner.body.body)
    return None


def _with_body(owner: cst.CSTNode, stmts) -> cst.CSTNode:
    if isinstance(owner, cst.Module):
        return owner.with_changes(header=(), body=tuple(stmts), footer=())
    return owner.with_changes(body=owner.body.with_changes(body=tuple(stmts)))


def _pruned(owners: list, stmts: list) -> cst.Module:
    """The module reduced to ``stmts`` inside copies of the headers of their
    enclosing classes/defs (``owners``: the module, then each of those)."""
    node_list = list(stmts)
    for owner in reversed(owners):
        node_list = [_with_body(owner, node_list)]
    module = node_list[0]
    # Generated text ends with a newline unless these statements end the file
    # and the file has none: a hunk must never join two lines.
    return module.with_changes(has_trailing_newline=module.has_trailing_newline or not _ends_file(owners, stmts))


def _ends_file(owners: list, stmts: list) -> bool:
    inner = [*owners[1:], stmts[-1]]
    for owner, last in zip(owners, inner):
        body = _body(owner)
        if not body or body[-1] is not last or (owner.footer if isinstance(owner, cst.Module) else owner.body.footer):
            return False
    return True


class _UnitFinder(FastVisitor):
    """For each wanted node: the chain of indexed statements around it (the
    last one is its unit)."""

    def __init__(self, wanted: set[int], index: dict[int, int]):
        super().__init__()
        self.wanted, self.index = wanted, index
        self.stack: list[cst.CSTNode] = []
        self.found: dict[int, tuple] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.index:
            self.stack.append(node)
        if id(node) in self.wanted and self.stack:
            self.found[id(node)] = tuple(self.stack)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.stack and self.stack[-1] is original_node:
            self.stack.pop()


class StatementPositions:
    """Positions and edits for one module and its source."""

    def __init__(self, module: cst.Module, source: str):
        self.module = module
        self.source = source
        self._index: Optional[dict[int, int]] = None
        self._indexed = False
        self._units: dict[int, tuple[int, object]] = {}

    # ---------------------------------------------------------------- lines
    def index(self) -> Optional[dict[int, int]]:
        """id(statement) -> line of its first token, for the statements of the
        module's, classes' and functions' bodies (None when CPython disagrees)."""
        if not self._indexed:
            self._indexed = True
            try:
                tree = compile(self.source, "<kmlint>", "exec",
                               ast.PyCF_ONLY_AST | getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0), dont_inherit=True)
                index: dict[int, int] = {}
                if _match(self.module.body, tree.body, index):
                    self._index = index
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass
        return self._index

    def _unit(self, chain: tuple) -> tuple[int, object]:
        """(line offset, positions) of the last statement of ``chain``, generated
        inside its enclosing headers only."""
        stmt = chain[-1]
        if id(stmt) not in self._units:
            pruned = _pruned([self.module, *chain[:-1]], [stmt])
            rel = MetadataWrapper(pruned, unsafe_skip_copy=True).resolve(PositionProvider)
            self._units[id(stmt)] = (self.index()[id(stmt)] - rel[stmt].start.line, rel)
        return self._units[id(stmt)]

    # ---------------------------------------------------------------- positions
    def locate(self, nodes: Iterable[cst.CSTNode]) -> dict:
        """{node: CodeRange} for ``nodes``."""
        wanted = {id(n): n for n in nodes if n is not None}
        out: dict = {}
        index = self.index()
        if index is not None and wanted:
            finder = _UnitFinder(set(wanted), index)
            finder.walk(self.module)
            for key, chain in finder.found.items():
                offset, rel = self._unit(chain)
                r = rel.get(wanted[key])
                if r is not None:
                    out[wanted.pop(key)] = CodeRange(CodePosition(r.start.line + offset, r.start.column),
                                                     CodePosition(r.end.line + offset, r.end.column))
        if wanted:  # outside every statement (or hidden in trivia): the slow, sure way
            everything = resolve_positions(self.module)
            out.update({n: everything[n] for n in wanted.values() if n in everything})
        return out

    # ---------------------------------------------------------------- edits
    def edits(self, new: cst.Module) -> list[Edit]:
        """The edits turning this module into ``new``.  Fix helpers rebuild only
        the path to what they change, so unchanged statements are the same
        objects and the changed ones are found by identity."""
        found = self._changed(new) if self.index() is not None else None
        if found is None:
            return line_edits(self.module.code, new.code, 1)
        chain, new_owners, old_stmts, new_stmts = found
        old_pruned = _pruned([self.module, *chain], old_stmts)
        new_pruned = _pruned(new_owners, new_stmts).with_changes(has_trailing_newline=old_pruned.has_trailing_newline)
        rel = MetadataWrapper(old_pruned, unsafe_skip_copy=True).resolve(PositionProvider)
        first = old_stmts[0]
        offset = self.index()[id(first)] - rel[first].start.line
        return line_edits(old_pruned.code, new_pruned.code, 1 + offset)

    def _changed(self, new: cst.Module):
        """(old ancestors, new owners, old statements, new statements) of the
        smallest statement span that differs, with at least one unchanged
        neighbour kept on both sides when the span is empty on one side."""
        if not (_same(self.module.header, new.header) and _same(self.module.footer, new.footer)):
            return None
        old_owner, new_owner = self.module, new
        chain: list = []
        new_owners: list = [new]
        while True:
            old_b, new_b = _body(old_owner), _body(new_owner)
            if old_b is None or new_b is None:
                return None
            i = 0
            while i < min(len(old_b), len(new_b)) and old_b[i] is new_b[i]:
                i += 1
            j = 0
            while j < min(len(old_b), len(new_b)) - i and old_b[-1 - j] is new_b[-1 - j]:
                j += 1
            old_span, new_span = old_b[i:len(old_b) - j], new_b[i:len(new_b) - j]
            if len(old_span) == 1 and len(new_span) == 1 and _same_header(old_span[0], new_span[0]):
                old_owner, new_owner = old_span[0], new_span[0]
                chain.append(old_owner)
                new_owners.append(new_owner)
                continue
            if not old_span:  # a pure insertion: anchor it to a neighbour
                if i < len(old_b):
                    old_span, new_span = (old_b[i],), new_span + (old_b[i],)
                elif i > 0:
                    old_span, new_span = (old_b[i - 1],), (old_b[i - 1],) + new_span
                else:
                    return None
            if not new_span or not old_span:
                return None  # a body emptied entirely
            return tuple(chain), new_owners, list(old_span), list(new_span)


def _same(a, b) -> bool:
    """The same node, or sequences of the same nodes (libcst rebuilds the
    tuples of a node it enters, not their untouched elements)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(x is y for x, y in zip(a, b))
    return a is b


def _same_header(old: cst.CSTNode, new: cst.CSTNode) -> bool:
    """Both are the same kind of class/def and differ only inside their body."""
    if type(old) is not type(new) or not isinstance(old, _NESTING) or _body(old) is None or _body(new) is None:
        return False
    if not all(_same(getattr(old, f.name), getattr(new, f.name)) for f in fields(old) if f.name != "body"):
        return False
    ob, nb = old.body, new.body
    return all(_same(getattr(ob, f.name), getattr(nb, f.name)) for f in fields(ob) if f.name != "body")


def _match(stmts, ast_stmts, index: dict[int, int]) -> bool:
    """Pair libcst statements with CPython's (``a = 1; b = 2`` is one libcst
    line and two CPython statements), recursing into class and def bodies."""
    k = 0
    for stmt in stmts:
        if k >= len(ast_stmts):
            return False
        node = ast_stmts[k]
        index[id(stmt)] = node.lineno
        if isinstance(stmt, cst.SimpleStatementLine):
            k += len(stmt.body)
            continue
        k += 1
        body = _body(stmt)
        if body is not None:
            if not isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                return False
            if not _match(body, node.body, index):
                return False
    return k == len(ast_stmts)
