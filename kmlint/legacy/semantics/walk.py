"""A read-only traversal of libcst trees, about 15x cheaper than ``node.visit``.

libcst's ``node.visit(visitor)`` rebuilds and re-validates every node of the
tree even for a read-only ``CSTVisitor``, and enters every whitespace, comma
and parenthesis node; on real code that costs as much as the parse itself.
``FastVisitor.walk`` calls the same hooks (``on_visit``/``on_leave``, hence
``visit_<Type>``/``leave_<Type>``) on the same nodes in the same order, lexical
order as read from each node class's own ``_visit_and_replace_children``, but
only reads the tree, and skips syntax trivia (whitespace, comments,
punctuation, operators) unless the visitor defines a hook for that type.
Node classes whose child order cannot be read, and visitors with per-attribute
hooks (``visit_Call_func``), fall back to libcst's own traversal.
"""

from __future__ import annotations

import inspect
import re
from typing import Optional

import libcst as cst

_VISIT_CALL = re.compile(r"\bvisit_(?:required|optional|sentinel|sequence|iterable|body_sequence|body_iterable)\(")
_VISITED_FIELD = re.compile(_VISIT_CALL.pattern + r'\s*self,\s*"(\w+)"')
_ATTRIBUTE_HOOK = re.compile(r"^(?:visit|leave)_[A-Z]\w*_[a-z]\w*$")

# nodes that hold only whitespace, comments or punctuation (their type is all a
# parent's reader needs: ``isinstance(node.operator, cst.Add)``)
TRIVIA_BASES: tuple[type, ...] = (
    cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
    cst.Comma, cst.Dot, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.Asynchronous, cst.ImportStar,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
    cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.ParamStar, cst.ParamSlash,
    cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp,
)

_CHILD_FIELDS: dict[type, Optional[tuple[str, ...]]] = {}


def child_fields(node_type: type) -> Optional[tuple[str, ...]]:
    """Names of the fields libcst visits, in its order; None when unknown."""
    try:
        return _CHILD_FIELDS[node_type]
    except KeyError:
        pass
    fields: Optional[tuple[str, ...]]
    try:
        source = inspect.getsource(node_type._visit_and_replace_children)
        names = _VISITED_FIELD.findall(source)
        # every visit call must have been understood, else the order is unknown
        fields = tuple(dict.fromkeys(names)) if len(names) == len(_VISIT_CALL.findall(source)) else None
    except (OSError, TypeError):  # no source shipped
        fields = None
    _CHILD_FIELDS[node_type] = fields
    return fields


def _all_node_types() -> set[type]:
    out: set[type] = set()
    todo = [cst.CSTNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in out:
                out.add(sub)
                todo.append(sub)
    return out


def subclasses_of(*bases: type) -> frozenset:
    """Every libcst node class deriving from ``bases``, for ``type(node) in ...``
    tests (``isinstance`` against libcst's abstract classes is slow)."""
    return frozenset(t for t in _all_node_types() if issubclass(t, bases))


class FastVisitor(cst.CSTVisitor):
    """A CSTVisitor whose ``walk(node)`` replaces ``node.visit(self)``."""

    _plan: Optional[tuple[frozenset, frozenset, bool]] = None  # per subclass: nodes, trivia, libcst-only

    @classmethod
    def _traversal_plan(cls) -> tuple[frozenset, frozenset, bool]:
        plan = cls.__dict__.get("_plan")
        if plan is None:
            nodes = _all_node_types()
            # CSTVisitor itself defines a no-op stub for every hook; count only real ones
            hooks = {n for n in dir(cls) if n.startswith(("visit_", "leave_"))
                     and getattr(cls, n) is not getattr(cst.CSTVisitor, n, None)}
            trivia = frozenset(t for t in nodes if issubclass(t, TRIVIA_BASES)
                               and f"visit_{t.__name__}" not in hooks and f"leave_{t.__name__}" not in hooks)
            libcst_only = any(_ATTRIBUTE_HOOK.match(h) for h in hooks)
            plan = (frozenset(nodes), trivia, libcst_only)
            cls._plan = plan
        return plan

    _hooks: Optional[tuple[dict, dict]] = None  # per subclass: node type -> visit_/leave_ function
    _visit_hooks: dict = {}
    _leave_hooks: dict = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        # CSTVisitor.on_visit, with the per-type method lookup cached
        kind = type(node)
        try:
            func = self._visit_hooks[kind]
        except KeyError:
            func = self._dispatch()[0].setdefault(kind, getattr(type(self), f"visit_{kind.__name__}", None))
        return func is None or func(self, node) is not False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        kind = type(original_node)
        try:
            func = self._leave_hooks[kind]
        except KeyError:
            func = self._dispatch()[1].setdefault(kind, getattr(type(self), f"leave_{kind.__name__}", None))
        if func is not None:
            func(self, original_node)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # each subclass its own node type -> hook caches (its hooks may differ)
        cls._hooks = ({}, {})
        cls._visit_hooks, cls._leave_hooks = cls._hooks

    @classmethod
    def _dispatch(cls) -> tuple[dict, dict]:
        hooks = cls.__dict__.get("_hooks")
        if hooks is None:
            hooks = cls._hooks = ({}, {})
            cls._visit_hooks, cls._leave_hooks = hooks
        return hooks

    def walk(self, node: cst.CSTNode) -> None:
        nodes, trivia, libcst_only = self._traversal_plan()
        if libcst_only:
            node.visit(self)
        else:
            self._walk(node, nodes, trivia)

    def _walk(self, node: cst.CSTNode, nodes: frozenset, trivia: frozenset) -> None:
        fields = _CHILD_FIELDS.get(type(node)) or child_fields(type(node))
        if fields is None:
            node.visit(self)
            return
        if self.on_visit(node):
            for name in fields:
                value = getattr(node, name)
                if type(value) in nodes:
                    if type(value) not in trivia:
                        self._walk(value, nodes, trivia)
                elif type(value) in (tuple, list):
                    for child in value:
                        if type(child) not in trivia:
                            self._walk(child, nodes, trivia)
        self.on_leave(node)
