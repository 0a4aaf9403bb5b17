"""KM406: a TF1 Session that is neither a context manager nor closed."""

from __future__ import annotations

import libcst as cst

from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, SemanticModel
from kmlint.semantics.names import dotted_name
from kmlint.semantics.tensors import session_class


def _released(model: SemanticModel, target: str, call: CallSite) -> bool:
    """``target.close()``, ``with target:``, or the session handed on (returned,
    passed to a call such as ``set_session(sess)``) so its owner closes it.
    A plain name is followed through its binding; ``self.sess`` by attribute."""
    head, _, attr = target.partition(".")
    binding = None
    if not attr:
        binding = next((b for b in call.scope.bindings.get(head, ()) if b.value is call.node), None)
        if binding is None:
            return True  # cannot tell: do not flag
    for use in model.uses.get(head, ()):
        if use.kind != "load":
            continue
        if binding is not None and model.lookup(head, use.scope, use.order) is not binding:
            continue
        node = use.node
        if attr:
            parent = model.parent_of.get(id(node))
            if not (isinstance(parent, cst.Attribute) and dotted_name(parent) == target):
                continue
            node = parent
        if id(node) in model.with_items:
            return True
        parent = model.parent_of.get(id(node))
        if isinstance(parent, cst.Attribute) and parent.attr.value == "close":
            return True
        if isinstance(parent, cst.Call) and parent.func is not node:
            return True
        if isinstance(use.stmt, cst.SimpleStatementLine) and any(
                isinstance(s, cst.Return) and s.value is node for s in use.stmt.body):
            return True
    return False


@register
class SessionNotClosed(Rule):
    code = "KM406"
    name = "session-not-closed"
    summary = "A `tf.compat.v1.Session()` that is never closed keeps its graph and device memory"
    tokens = ("Session",)
    calls = frozenset({"Session"})

    def check_call(self, call: CallSite, ctx) -> None:
        model = ctx.model
        node = call.node
        if session_class(model, node) != "Session" or id(node) in model.with_items:
            return
        parent = model.parent_of.get(id(node))
        if isinstance(parent, cst.Call):
            return  # handed to another call (set_session(tf.Session()), closing(...)) that owns it
        stmt = call.stmt
        if isinstance(parent, cst.Attribute):
            pass  # tf.Session().run(x): used once and never closed
        elif isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign) and stmt.body[0].value is node:
            targets = [dotted_name(t.target) for t in stmt.body[0].targets]
            if any(t is None or _released(model, t, call) for t in targets):
                return
        elif not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr) and stmt.body[0].value is node):
            return
        ctx.report(node, "this `Session` is never closed: it keeps its graph's resources and device memory until the "
                   "process exits; use `with tf.compat.v1.Session() as sess:` or call `sess.close()`")
