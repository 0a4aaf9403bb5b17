"""Building blocks for fixes: node replacement by identity, statement
insertion, import insertion.  All are libcst transformations, so formatting and
comments are kept."""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import libcst as cst


class _Replace(cst.CSTTransformer):
    def __init__(self, old: cst.CSTNode, new: cst.CSTNode | cst.RemovalSentinel):
        super().__init__()
        self.old, self.new = old, new

    def on_leave(self, original_node, updated_node):
        if original_node is self.old:
            return self.new
        return updated_node


def replace_node(module: cst.Module, old: cst.CSTNode, new) -> cst.Module:
    return module.visit(_Replace(old, new))


class _InsertAfter(cst.CSTTransformer):
    def __init__(self, anchor: cst.CSTNode, stmts: Sequence[cst.BaseStatement], before: bool = False):
        super().__init__()
        self.anchor, self.stmts, self.before = anchor, list(stmts), before

    def on_leave(self, original_node, updated_node):
        if original_node is self.anchor:
            if self.before:
                return cst.FlattenSentinel([*self.stmts, updated_node])
            return cst.FlattenSentinel([updated_node, *self.stmts])
        return updated_node


def insert_statements(module: cst.Module, anchor: cst.CSTNode, stmts: Sequence[cst.BaseStatement], before: bool = False) -> cst.Module:
    """Insert statements after (or before) the statement ``anchor``."""
    return module.visit(_InsertAfter(anchor, stmts, before))


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


class _MoveMethodCall(cst.CSTTransformer):
    def __init__(self, moved: cst.Call, target: cst.Call, drop: Optional[cst.CSTNode]):
        super().__init__()
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
    return module.visit(_MoveMethodCall(moved, target, drop_statement))
