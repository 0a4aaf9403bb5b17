"""KM406: a TF1 Session that is neither a context manager nor closed."""

from __future__ import annotations

import ast

from kmlint.registry import Rule, register
from kmlint.semantics.blocks import call_parent, statement_line
from kmlint.semantics.model import CallSite, SemanticModel
from kmlint.semantics.tensors import session_class


def _released(model: SemanticModel, name: str, call: CallSite) -> bool:
    """``sess.close()``, ``with sess:``, or the session handed on (returned,
    passed to a call such as ``set_session(sess)``) so its owner closes it.
    Every later use of the name in the scope counts (sessions are often bound
    in several branches and used once after them)."""
    binding = next((b for b in call.scope.bindings.get(name, ()) if b.value is call.node), None)
    if binding is None:
        return True  # cannot tell: do not flag
    return _released_after(model, binding)


def _handed_on(model: SemanticModel, call: ast.Call, arg: ast.expr, depth: int) -> bool:
    """The session passed to a call: another owner may close it, unless the
    callee is a function of this file whose parameter only uses it
    (``def sample(sess, z): return sess.run(out, {z_in: z})``)."""
    cs = model.call_of.get(id(call))
    fn = model.function_called(cs) if cs is not None else None
    if fn is None or depth >= 3:
        return True
    param = _parameter_of(fn, call, arg)
    if param is None:
        return True
    binding = next((b for b in fn.scope.bindings.get(param, ()) if b.kind == "param"), None)
    if binding is None:
        return True
    return _released_after(model, binding, depth + 1)


def _parameter_of(fn, call: ast.Call, arg: ast.expr):
    """The parameter of ``fn`` that ``arg`` (an argument of ``call``) binds."""
    params = list(fn.params)
    if fn.class_name is not None and params and params[0] in ("self", "cls"):
        params = params[1:]
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            return None
        if a is arg:
            return params[i] if i < len(params) else None
    for k in call.keywords:
        if k.value is arg:
            return k.arg if k.arg in fn.params else None
    return None


def _released_after(model: SemanticModel, binding, depth: int = 0) -> bool:
    name = binding.name
    for use in model.uses.get(name, ()):
        if use.kind != "load" or use.order <= binding.order:
            continue
        seen = model.lookup(name, use.scope, use.order)
        if seen is None or seen.scope is not binding.scope:
            continue
        node = use.node
        if id(node) in model.with_items:
            return True
        parent = call_parent(model, node)
        if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "close":
            return True
        if isinstance(parent, ast.Call) and parent.func is not node and _handed_on(model, parent, node, depth):
            return True
        if isinstance(use.stmt, ast.Return) and use.stmt.value is node and statement_line(model, use.stmt) is not None:
            return True  # (a return in a one-line suite was not looked at by the libcst engine)
    return False


@register
class SessionNotClosed(Rule):
    code = "KM406"
    name = "session-not-closed"
    summary = "A `tf.compat.v1.Session()` that is never closed keeps its graph and device memory"
    tokens = ("Session",)
    requires = ("tensorflow",)
    calls = frozenset({"Session"})

    def check_call(self, call: CallSite, ctx) -> None:
        model = ctx.model
        node = call.node
        if session_class(model, node) != "Session" or id(node) in model.with_items:
            return
        parent = call_parent(model, node)
        if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr == "as_default":
            # `with Session().as_default():` / `return Session().as_default()`:
            # leaving the default scope does not close the session, and no name
            # is left to close it with (audit: tensorflow's own saved_model code)
            ctx.report(node, "`Session().as_default()` only installs the session as the default; leaving that scope "
                       "does not close it and no name is left to call `close()` on; bind it with "
                       "`with tf.compat.v1.Session() as sess:` (also the default session inside the block)")
            return
        stmt = call.stmt
        # Only sessions kept in a local or module-level name: a session stored on an
        # object (a cache, a singleton) is its owner's business, and one used in
        # passing (`tf.Session().run(x)`, a bare call) is closed by its finaliser
        # as soon as the statement ends.
        # (the assignment first on its statement line, not in a one-line suite:
        # the statements the libcst engine looked at)
        line = statement_line(model, stmt)
        if not (isinstance(stmt, ast.Assign) and stmt.value is node and line is not None and line[0] is stmt):
            return
        targets = stmt.targets
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            return
        if _released(model, targets[0].id, call):
            return
        until = ("the kernel restarts (a notebook's kernel outlives the cells that use the session, and every "
                 "re-run of this cell opens another one)" if model.is_notebook else "the process exits")
        ctx.report(node, "this `Session` is never closed: it keeps its graph's resources and device memory until "
                   f"{until}; use `with tf.compat.v1.Session() as sess:` or call `sess.close()`")
