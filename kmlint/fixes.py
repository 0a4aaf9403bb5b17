"""Building blocks for fixes: node replacement by identity, statement
insertion, import insertion.  All are libcst transformations, so formatting and
comments are kept."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import libcst as cst

from kmlint.legacy.semantics.walk import FastVisitor


class _PathFinder(FastVisitor):
    """Collects the ids of the targets and of every node above them."""

    def __init__(self, targets: set[int]):
        super().__init__()
        self.targets = targets
        self.stack: list[int] = []
        self.on_paths: set[int] = set()
        self.found: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.stack.append(id(node))
        if id(node) in self.targets:
            self.found.add(id(node))
            self.on_paths.update(self.stack)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


class _ParentFinder(FastVisitor):
    """id(node) -> id(its parent) for a whole tree (None for the root)."""

    def __init__(self):
        super().__init__()
        self.stack: list[int] = []
        self.parent: dict[int, Optional[int]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.parent[id(node)] = self.stack[-1] if self.stack else None
        self.stack.append(id(node))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


# The parent map of the last module fixes were built on: every fix of one
# fixer pass targets the same module, and walking it once per fix made a
# file with n fixes cost n whole-tree walks (3,000 fixes: minutes).  The
# module is held so the ids stay valid.
_parents_of: tuple[Optional[cst.Module], dict[int, Optional[int]]] = (None, {})


def _paths_to(module: cst.Module, wanted: set[int]) -> tuple[set[int], set[int]]:
    """(ids of the targets and every node above them, the targets found)."""
    global _parents_of
    if _parents_of[0] is not module:
        finder = _ParentFinder()
        finder.walk(module)
        _parents_of = (module, finder.parent)
    parents = _parents_of[1]
    on_paths: set[int] = set()
    found: set[int] = set()
    for target in wanted:
        if target not in parents:
            continue
        found.add(target)
        node: Optional[int] = target
        while node is not None and node not in on_paths:
            on_paths.add(node)
            node = parents[node]
    return on_paths, found


class _OnPaths(cst.CSTTransformer):
    """A transformer that enters only the nodes on the paths to its targets.

    libcst rebuilds every node a transformer enters; entering only those paths
    makes a fix cost the depth of the tree, not its size, and keeps every other
    subtree (the same objects), so the engine can find the changed statements by
    identity.  When a target is not found by the read-only walk (a trivia
    node), the whole tree is entered as usual."""

    def __init__(self, module: cst.Module, targets):
        super().__init__()
        wanted = {id(t) for t in targets if t is not None}
        on_paths, found = _paths_to(module, wanted)
        self._paths = on_paths if found == wanted else None

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._paths is not None and id(node) not in self._paths:
            return False
        return super().on_visit(node)


class _Replace(_OnPaths):
    def __init__(self, module: cst.Module, old: cst.CSTNode, new: cst.CSTNode | cst.RemovalSentinel):
        super().__init__(module, [old])
        self.old, self.new = old, new

    def on_leave(self, original_node, updated_node):
        if original_node is self.old:
            return self.new
        return updated_node


def replace_node(module: cst.Module, old: cst.CSTNode, new) -> cst.Module:
    return module.visit(_Replace(module, old, new))


class _InsertAfter(_OnPaths):
    def __init__(self, module: cst.Module, anchor: cst.CSTNode, stmts: Sequence[cst.BaseStatement], before: bool = False):
        super().__init__(module, [anchor])
        self.anchor, self.stmts, self.before = anchor, list(stmts), before

    def on_leave(self, original_node, updated_node):
        if original_node is self.anchor:
            if self.before:
                return cst.FlattenSentinel([*self.stmts, updated_node])
            return cst.FlattenSentinel([updated_node, *self.stmts])
        return updated_node


def insert_statements(module: cst.Module, anchor: cst.CSTNode, stmts: Sequence[cst.BaseStatement], before: bool = False) -> cst.Module:
    """Insert statements after (or before) the statement ``anchor``."""
    return module.visit(_InsertAfter(module, anchor, stmts, before))


def has_import(module: cst.Module, name: str) -> bool:
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for a in small.names:
                        if a.asname is None and cst.Module([]).code_for_node(a.name) == name:
                            return True
    return False


def add_import(module: cst.Module, name: str) -> cst.Module:
    """``import name`` after the last top-level import (or at the top)."""
    if has_import(module, name):
        return module
    stmt = cst.parse_statement(f"import {name}\n")
    body = list(module.body)
    last = -1
    for i, s in enumerate(body):
        if isinstance(s, cst.SimpleStatementLine) and any(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body):
            last = i
        elif i == 0 and isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Expr) and isinstance(s.body[0].value, cst.SimpleString):
            last = 0  # after the docstring
    body.insert(last + 1, stmt)
    return module.with_changes(body=body)


def chain(*transforms: Callable[[cst.Module], cst.Module]) -> Callable[[cst.Module], cst.Module]:
    def run(module: cst.Module) -> cst.Module:
        for t in transforms:
            module = t(module)
        return module
    return run


class _MoveMethodCall(_OnPaths):
    def __init__(self, module: cst.Module, moved: cst.Call, target: cst.Call, drop: Optional[cst.CSTNode]):
        super().__init__(module, [moved, target, drop])
        self.moved, self.target, self.drop = moved, target, drop

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node is self.target:
            func = self.moved.func
            assert isinstance(func, cst.Attribute) and isinstance(updated_node.func, cst.Attribute)
            inserted = self.moved.with_changes(func=func.with_changes(value=updated_node.func.value), lpar=[], rpar=[])
            return updated_node.with_changes(func=updated_node.func.with_changes(value=inserted))
        if original_node is self.moved and self.drop is None:
            assert isinstance(updated_node.func, cst.Attribute)
            # keep the call's parentheses, if it had any of its own
            return updated_node.func.value.with_changes(lpar=original_node.lpar, rpar=original_node.rpar) \
                if original_node.lpar else updated_node.func.value
        return updated_node

    def leave_SimpleStatementLine(self, original_node, updated_node):
        if original_node is self.drop:
            return cst.RemovalSentinel.REMOVE
        return updated_node


def move_method_call(module: cst.Module, moved: cst.Call, target: cst.Call,
                     drop_statement: Optional[cst.CSTNode] = None) -> cst.Module:
    """Move the method call ``moved`` (``r.m(args)``) so that it applies just before
    the method call ``target``: ``x.t(..)`` becomes ``x.m(args).t(..)`` and where
    ``moved`` stood only its receiver ``r`` remains.  ``drop_statement`` (a line
    such as ``ds = ds.m(args)``) is removed instead of being left as ``ds = ds``."""
    return module.visit(_MoveMethodCall(module, moved, target, drop_statement))


def _separator(call: cst.Call) -> cst.Comma:
    """A comma laid out like the ones between the call's arguments (same line
    or one argument per line)."""
    args = call.args
    if len(args) >= 2 and isinstance(args[0].comma, cst.Comma):
        return args[0].comma
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=call.whitespace_before_args)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def set_keyword_arg(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``keyword=value``: the existing argument's value replaced,
    or a new keyword argument placed before the other keywords (after the
    positional ones), formatted like its neighbours."""
    args = list(call.args)
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == keyword:
            args[i] = a.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(value=value, keyword=cst.Name(keyword),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))
    if not args:
        return call.with_changes(args=[new])
    first_kw = next((i for i, a in enumerate(args) if a.keyword is not None or a.star), len(args))
    sep = _separator(call)
    if first_kw < len(args):
        args.insert(first_kw, new.with_changes(comma=sep))
    else:
        last = args[-1]
        args[-1] = last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


class _Rewrite(_OnPaths):
    def __init__(self, module: cst.Module, changes: dict[cst.CSTNode, Callable[[cst.CSTNode], object]]):
        super().__init__(module, changes)
        self.changes = {id(node): change for node, change in changes.items()}

    def on_leave(self, original_node, updated_node):
        change = self.changes.get(id(original_node))
        return change(updated_node) if change is not None else updated_node


def rewrite(module: cst.Module, changes: dict[cst.CSTNode, Callable[[cst.CSTNode], object]]) -> cst.Module:
    """Several node rewrites in ONE pass (a pass creates new nodes, so nodes
    found before it cannot be looked up after it).  Each callable receives the
    updated node and returns its replacement, a FlattenSentinel or a
    RemovalSentinel."""
    return module.visit(_Rewrite(module, changes))


def del_without(stmt: cst.SimpleStatementLine, name: str):
    """The ``del`` statement ``stmt`` without ``name`` among its targets
    (RemoveFromParent when it deletes nothing else)."""
    small = stmt.body[0]
    assert isinstance(small, cst.Del)
    target = small.target
    kept = [e for e in target.elements if not (isinstance(e.value, cst.Name) and e.value.value == name)] \
        if isinstance(target, (cst.Tuple, cst.List)) else []
    if not kept:
        return cst.RemoveFromParent()
    kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    new_target = kept[0].value if len(kept) == 1 and not target.lpar else target.with_changes(elements=kept)
    return stmt.with_changes(body=[small.with_changes(target=new_target)])


def insert_del_after(module: cst.Module, anchor: cst.CSTNode, names: Sequence[str]) -> cst.Module:
    """``del a, b`` right after the statement ``anchor`` (same indentation)."""
    stmt = cst.parse_statement(f"del {', '.join(names)}\n")
    return insert_statements(module, anchor, [stmt])


# ----------------------------------------------------------------- line hunks
# A fix is applied as line hunks: (start, end, new_lines) replaces the 0-based
# line range [start, end) of the current text.  Comparing hunks lets several
# fixes go into one pass without node identity (which libcst does not keep
# across transformations) and maps fixes back onto notebook cells.


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only (libcst's notion of a line;
    str.splitlines would also split on form feeds and other separators)."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def line_hunks(old: str, new: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """The minimal line replacements turning ``old`` into ``new``."""
    import difflib

    a, b = split_lines(old), split_lines(new)
    # trim the common ends first: most fixes touch a few lines of a long file
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    mid_a, mid_b = a[head:len(a) - tail], b[head:len(b) - tail]
    hunks = []
    matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            hunks.append((head + i1, head + i2, tuple(mid_b[j1:j2])))
    return hunks
