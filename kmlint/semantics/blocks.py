"""Statements and the blocks that hold them, read from the model's parent links.

In libcst a statement sits in an ``IndentedBlock`` (or the ``Module``); in
CPython's ``ast`` it sits in one of the list fields of its owner (``body``,
``orelse``, ``finalbody`` of a compound statement, an ``except`` handler, a
``case``, or the module).  A *block* here is that (owner, field) pair: an
``if`` body and its ``else`` are different blocks, as they were in libcst.

Only ``model.parent`` and ``model.tree`` are used, so these helpers work for
any v2 model.
"""

from __future__ import annotations

import ast
from typing import NamedTuple, Optional

_FIELDS = ("body", "orelse", "finalbody")


class Block(NamedTuple):
    owner: ast.AST  # the Module, compound statement, ExceptHandler or match_case
    field: str  # body | orelse | finalbody
    statements: list  # the owner's list of statements (not a copy)

    @property
    def key(self) -> tuple[int, str]:
        return (id(self.owner), self.field)


def _parent(model, node: ast.AST) -> Optional[ast.AST]:
    p = model.parent(node)
    if p is None and isinstance(node, ast.stmt) and node is not model.tree:
        # a top-level statement: its owner is the module
        if any(s is node for s in model.tree.body):
            return model.tree
    return p


def parent_statement(model, stmt: Optional[ast.AST]) -> Optional[ast.stmt]:
    """The compound statement around a statement (None at module level)."""
    if stmt is None:
        return None
    p = _parent(model, stmt)
    while p is not None and not isinstance(p, ast.stmt):
        p = _parent(model, p)
    return p


def block_of(model, stmt: Optional[ast.AST]) -> Optional[Block]:
    """The block that holds a statement directly."""
    if not isinstance(stmt, ast.stmt):
        return None
    owner = _parent(model, stmt)
    if owner is None:
        return None
    for field in _FIELDS:
        stmts = getattr(owner, field, None)
        if isinstance(stmts, list) and any(s is stmt for s in stmts):
            return Block(owner, field, stmts)
    return None


def top_statement(model, stmt: Optional[ast.AST]) -> Optional[ast.AST]:
    """The module-level statement holding ``stmt`` (itself at module level)."""
    while stmt is not None:
        up = parent_statement(model, stmt)
        if up is None:
            return stmt
        stmt = up
    return stmt


def statement_in_block(model, stmt: Optional[ast.AST], block: Block, limit: int = 64) -> Optional[ast.stmt]:
    """The ancestor of ``stmt`` (or itself) that sits directly in ``block``."""
    node = stmt
    for _ in range(limit):
        if node is None:
            return None
        b = block_of(model, node)
        if b is not None and b.key == block.key:
            return node
        node = parent_statement(model, node)
    return None


def enclosing_statements(model, stmt: Optional[ast.AST], limit: int = 32):
    """``stmt`` and the compound statements around it, innermost first."""
    for _ in range(limit):
        if stmt is None:
            return
        yield stmt
        stmt = parent_statement(model, stmt)


def call_parent(model, node: ast.AST) -> Optional[ast.AST]:
    """The parent of an expression as libcst's ``parent_of`` table gave it: the
    ``Call`` for an argument (positional, keyword, ``*a`` or ``**kw``), else
    the direct parent."""
    p = model.parent(node)
    if isinstance(p, ast.keyword):
        return model.parent(p)
    if isinstance(p, ast.Starred):
        up = model.parent(p)
        if isinstance(up, ast.Call):
            return up
    return p



def statement_line(model, stmt: Optional[ast.AST]) -> Optional[list]:
    """The statements that share ``stmt``'s line(s) in its block (``a = 1; b =
    2``), in order: what libcst held as one statement line.  None when they sit
    in a one-line suite (``if c: f()``), where libcst's statement was the
    compound statement around them."""
    block = block_of(model, stmt)
    if block is None:
        return None
    line = [s for s in block.statements if s.lineno <= stmt.end_lineno and stmt.lineno <= s.end_lineno]
    first = line[0]
    if model.index.line_text(first.lineno).encode("utf-8")[:first.col_offset].strip():
        return None  # after `if ...:` (or `else:`) on the same line
    return line


TEST_FRAMEWORKS = ("pytest", "unittest")


def in_test_function(model, node: ast.AST) -> bool:
    """``node`` is inside a unit test: a method of a class derived from a
    ``*TestCase`` (unittest, absltest, ``tf.test``, Keras' ``testing``) or
    named ``Test*``/``*Test``, or a ``test_*`` function of a module that
    imports a test framework.  Its arrays and loops are fixtures sized by the
    test's cases, not data.  A plain ``def test(model, data)`` evaluation
    helper of a training script is not a test."""
    framework = None
    for anc in model.ancestors(node):
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef)) and anc.name.startswith("test_"):
            if framework is None:
                framework = any(model.is_imported(m) for m in TEST_FRAMEWORKS)
            if framework:
                return True
        if isinstance(anc, ast.ClassDef):
            if anc.name.startswith("Test") or anc.name.endswith(("Test", "Tests")):
                return True
            if any(ast.unparse(base).endswith("TestCase") for base in anc.bases):
                return True
    return False
