"""Small helpers shared by rules ported to engine v2 (``ast`` nodes from the
semantic model): things ``ast`` spells differently from libcst."""

from __future__ import annotations

import ast
from typing import Iterable, Iterator, Optional


def flat_edits(items: Iterable) -> list:
    """Edits from builders that return one edit, a list of them, or None."""
    out = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            out.extend(e for e in item if e is not None)
        else:
            out.append(item)
    return out


def attribute_name_node(func: ast.Attribute) -> ast.Name:
    """A located stand-in for the attribute name of ``a.b`` (``ast`` has no
    node for it): the name always ends the Attribute node."""
    name = ast.Name(id=func.attr, ctx=ast.Load())
    name.lineno = name.end_lineno = func.end_lineno
    name.end_col_offset = func.end_col_offset
    name.col_offset = func.end_col_offset - len(func.attr.encode("utf-8"))
    return name


def call_parent(model, node: ast.AST) -> Optional[ast.AST]:
    """The parent of an expression, with a call argument's parent being the
    Call itself (``f(x)``, ``f(k=x)``, ``f(*x)``), like the legacy model's
    ``parent_of``."""
    parent = model.parent(node)
    if isinstance(parent, ast.keyword) or (isinstance(parent, ast.Starred) and isinstance(model.parent(parent), ast.Call)):
        parent = model.parent(parent)
    return parent


def is_argument_of(node: ast.AST, call: ast.AST) -> bool:
    """Whether ``node`` is passed to ``call`` (positionally, by keyword or starred)."""
    if not isinstance(call, ast.Call):
        return False
    return any(a is node or (isinstance(a, ast.Starred) and a.value is node) for a in call.args) \
        or any(k.value is node for k in call.keywords)


def argument_values(call: ast.Call) -> Iterator[ast.expr]:
    """Every argument expression of a call in source order: positional ones
    (the starred expression for ``*a``) and keyword values (``**kw`` too)."""
    for a in call.args:
        yield a.value if isinstance(a, ast.Starred) else a
    for k in call.keywords:
        yield k.value


def is_string(node: Optional[ast.AST]) -> bool:
    """A string or bytes literal (implicit concatenation included)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))


def int_value(model, node: Optional[ast.AST], depth: int = 0) -> Optional[int]:
    """An int literal, a name bound once to one, or arithmetic of those."""
    from kmlint.semantics.names import literal_value

    if node is None or depth > 8:
        return None
    try:
        v = literal_value(node)
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    except ValueError:
        pass
    if isinstance(node, ast.Name):
        b = model.binding_of(node)
        if b is not None and b.kind in ("assign", "annassign") and b.value is not None and not b.path:
            return int_value(model, b.value, depth + 1)
        return None
    if isinstance(node, ast.BinOp):
        a, c = int_value(model, node.left, depth + 1), int_value(model, node.right, depth + 1)
        if a is None or c is None:
            return None
        op = node.op
        if isinstance(op, ast.Mult):
            return a * c
        if isinstance(op, ast.Add):
            return a + c
        if isinstance(op, ast.Sub):
            return a - c
        if isinstance(op, ast.FloorDiv) and c:
            return a // c
        if isinstance(op, ast.Pow) and 0 <= c < 64:
            return a ** c
    return None


def remove_arguments(model, call: ast.Call, removed) -> list:
    """Edits dropping several arguments (positional expressions or
    ``ast.keyword``s) of one call without overlapping: each run of adjacent
    removed arguments goes with the separator before it when it ends the
    argument list (a trailing comma and the line break before ``)`` stay, as
    libcst kept them), else with the separator after it."""
    from kmlint import edits

    items = sorted([*call.args, *call.keywords], key=lambda a: (a.lineno, a.col_offset))
    gone = [any(a is r for r in removed) for a in items]
    ix = model.index
    out = []
    i = 0
    while i < len(items):
        if not gone[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(items) and gone[j + 1]:
            j += 1
        first, last = ix.span(items[i]), ix.span(items[j])
        if j + 1 < len(items):
            nxt = ix.span(items[j + 1])
            out.append(edits.edit(model, first.line, first.col, nxt.line, nxt.col, ""))
        elif i > 0:
            prev = ix.span(items[i - 1])
            out.append(edits.edit(model, prev.end_line, prev.end_col, last.end_line, last.end_col, ""))
        else:  # every argument goes
            out.extend(edits.keep_only_arguments(model, call, []))
        i = j + 1
    return out
