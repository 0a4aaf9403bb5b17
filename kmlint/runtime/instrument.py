"""Instrumenting the user's own file with libcst so the flagged region can be measured.

Regions (one per runtime-confirmable rule, see ``specs.py``):

* ``loop``: the loop that repeats the flagged code (the innermost loop around
  it, or the loop around a call of the function that contains it).  A probe
  ``tick()`` opens every iteration (sample, stop after the iteration cap) and
  ``loop_exit()`` follows the loop.  Comprehensions get the tick in their
  element expression.
* ``statement``: the flagged statement between ``region_start()`` and
  ``region_end()`` (peak of that statement).
* ``drain``: the ``tf.data`` pipeline up to the flagged call is iterated once
  by ``drain()`` just before the flagged statement, then the program stops.
* ``checkpoint``: memory held when the heavy work after the flagged array
  starts (the first later top-level statement that trains, predicts or loops).

Lines are used as anchors so that the same region can be found again in the
fixed variant of the file (the rule's autofix applied), see ``map_line``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Optional, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

PROBE = "__kmlint_probe__"
HEAVY_CALLS = {"fit", "predict", "evaluate", "train_on_batch", "fit_generator", "predict_generator",
               "evaluate_generator", "predict_on_batch", "run"}
LOOPS = (cst.For, cst.While)
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


class NotInstrumentable(Exception):
    """The region cannot be located or instrumented; the scenario runs instead."""


@dataclass
class Region:
    mode: str  # loop | statement | drain | checkpoint
    anchor_line: int  # loop header, statement or heavy statement line
    description: str
    call_line: int = 0  # drain / data: where the flagged call starts
    call_column: int = 0
    method: str = ""
    held_name: str = ""  # checkpoint: the module-level name bound by the flagged statement


def _probe_call(name: str, *args: cst.BaseExpression) -> cst.Call:
    return cst.Call(cst.Attribute(cst.Name(PROBE), cst.Name(name)), [cst.Arg(a) for a in args])


def _probe_stmt(name: str, *args: cst.BaseExpression) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(_probe_call(name, *args))])


class _Located:
    def __init__(self, code: str) -> None:
        try:
            self.wrapper = MetadataWrapper(cst.parse_module(code))
        except cst.ParserSyntaxError as e:
            raise NotInstrumentable(f"cannot parse the file: {e.message}") from None
        self.module = self.wrapper.module
        self.positions = self.wrapper.resolve(PositionProvider)
        self.parents = self.wrapper.resolve(ParentNodeProvider)

    def start(self, node: cst.CSTNode) -> tuple[int, int]:
        p = self.positions[node].start
        return p.line, p.column + 1

    def contains(self, node: cst.CSTNode, line: int, column: int) -> bool:
        r = self.positions[node]
        return (r.start.line, r.start.column + 1) <= (line, column) <= (r.end.line, r.end.column + 1)

    def nodes(self, kinds) -> list[cst.CSTNode]:
        return [n for n in self.positions if isinstance(n, kinds)]

    def ancestors(self, node: cst.CSTNode):
        while node in self.parents:
            node = self.parents[node]
            yield node

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            return node
        for a in self.ancestors(node):
            if isinstance(a, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return a
        raise NotInstrumentable("no statement around the flagged code")


def _innermost(loc: _Located, kinds, line: int, column: int) -> Optional[cst.CSTNode]:
    found = [n for n in loc.nodes(kinds) if loc.contains(n, line, column)]
    if not found:
        return None
    return max(found, key=lambda n: loc.start(n))


def _function_around(loc: _Located, node: cst.CSTNode) -> Optional[cst.FunctionDef]:
    for a in loc.ancestors(node):
        if isinstance(a, cst.FunctionDef):
            return a
        if isinstance(a, LOOPS + COMPREHENSIONS):
            return None
    return None


def _loop_around(loc: _Located, node: cst.CSTNode, depth: int = 0) -> Optional[cst.CSTNode]:
    """The innermost loop that executes ``node`` repeatedly: a loop around it in
    its own function, else a loop around a call of that function (same file)."""
    for a in loc.ancestors(node):
        if isinstance(a, LOOPS + COMPREHENSIONS):
            if isinstance(a, cst.For) and loc.contains(a.iter, *loc.start(node)):
                continue  # the iterable is evaluated once
            return a
        if isinstance(a, (cst.FunctionDef, cst.Lambda)):
            break
    func = node if isinstance(node, cst.FunctionDef) else _function_around(loc, node)
    if func is None or depth > 3:
        return None
    for call in loc.nodes(cst.Call):
        f = call.func
        called = f.value if isinstance(f, cst.Name) else f.attr.value if isinstance(f, cst.Attribute) else None
        if called == func.name.value and not any(a is func for a in loc.ancestors(call)):
            loop = _loop_around(loc, call, depth + 1)
            if loop is not None:
                return loop
    return None


def find_region(code: str, mode: str, line: int, column: int, method: str = "") -> Region:
    """Locate the region to measure for a finding at (line, column) of ``code``."""
    loc = _Located(code)
    target = _innermost(loc, (cst.Call, cst.SimpleStatementLine, cst.BaseCompoundStatement,
                              cst.Assign, cst.Name, cst.Attribute), line, column)
    if target is None:
        raise NotInstrumentable(f"nothing at line {line}")
    if mode == "loop":
        loop = _loop_around(loc, target)
        if loop is None:
            raise NotInstrumentable("no loop around the flagged code in this file")
        header = loc.start(loop)[0]
        return Region("loop", header, f"the loop at line {header}")
    stmt = loc.statement_of(target)
    if mode in ("statement", "drain"):
        if mode == "drain":
            call = _flagged_call(loc, line, column, method)
            stmt = loc.statement_of(call)
            if not isinstance(stmt, cst.SimpleStatementLine):
                raise NotInstrumentable("the flagged pipeline is not in a simple statement")
            at = loc.start(call)
            return Region("drain", loc.start(stmt)[0], f"the pipeline at line {at[0]} (one pass)",
                          at[0], at[1], method)
        if not isinstance(stmt, cst.SimpleStatementLine):
            raise NotInstrumentable("the flagged code is not a simple statement")
        at = loc.start(stmt)[0]
        return Region("statement", at, f"the statement at line {at}", line, column, method)
    if mode == "checkpoint":
        heavy = _heavy_after(loc, stmt)
        at = loc.start(heavy)[0]
        return Region("checkpoint", at, f"memory held when line {at} starts", held_name=_bound_name(stmt))
    raise ValueError(mode)


def _bound_name(stmt: cst.CSTNode) -> str:
    """``x`` of ``x = ...`` / ``x: T = ...`` (the flagged statement), else ""."""
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        small = stmt.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            return small.targets[0].target.value
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            return small.target.value
    return ""


def _flagged_call(loc: _Located, line: int, column: int, method: str) -> cst.Call:
    calls = [c for c in loc.nodes(cst.Call) if loc.contains(c, line, column)
             and isinstance(c.func, cst.Attribute) and c.func.attr.value == method]
    if not calls:
        raise NotInstrumentable(f"no .{method}() call at line {line}")
    # the chain's calls share a start; the flagged one is the smallest that starts at the finding
    exact = [c for c in calls if loc.start(c) == (line, column)] or calls
    return min(exact, key=lambda c: (loc.positions[c].end.line, loc.positions[c].end.column))


def _heavy_after(loc: _Located, stmt: cst.CSTNode) -> cst.CSTNode:
    top = stmt
    for a in loc.ancestors(stmt):
        if isinstance(a, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            top = a
    body = list(loc.module.body)
    if top not in body:
        raise NotInstrumentable("the flagged array is not bound at module level")
    for later in body[body.index(top) + 1:]:
        if isinstance(later, LOOPS):
            return later
        for call in _calls_in(later):
            f = call.func
            if isinstance(f, cst.Attribute) and f.attr.value in HEAVY_CALLS:
                return later
    raise NotInstrumentable("no training, prediction or loop after the flagged array")


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    out: list[cst.Call] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Call):
            out.append(n)
        if isinstance(n, (cst.FunctionDef, cst.ClassDef)):
            continue
        stack.extend(n.children)
    return out


# ----------------------------------------------------------------- applying probes


def instrument(code: str, region: Region, reference: bool = False, record_data: bool = False) -> str:
    """The code with probes around ``region`` (found again by its anchor line).

    ``reference`` (drain only): drain the pipeline *without* the flagged call.
    ``record_data`` (statement only): record the byte size of the flagged
    call's first argument, the intrinsic reference of KM106."""
    loc = _Located(code)
    if region.mode == "loop":
        loops = [n for n in loc.nodes(LOOPS + COMPREHENSIONS) if loc.start(n)[0] == region.anchor_line]
        if not loops:
            raise NotInstrumentable(f"no loop at line {region.anchor_line}")
        loop = min(loops, key=lambda n: loc.start(n)[1])
        return _instrument_loop(loc, loop)
    stmts = [n for n in loc.nodes((cst.SimpleStatementLine, cst.BaseCompoundStatement))
             if loc.start(n)[0] == region.anchor_line]
    if not stmts:
        raise NotInstrumentable(f"no statement at line {region.anchor_line}")
    stmt = stmts[0]
    if region.mode == "statement":
        new_stmt = stmt
        if record_data:
            call = _innermost(loc, cst.Call, region.call_line, region.call_column)
            if call is None or not call.args:
                raise NotInstrumentable("no call with an argument at the finding")
            wrapped = call.with_changes(args=[call.args[0].with_changes(value=_probe_call("data", call.args[0].value)),
                                              *call.args[1:]])
            new_stmt = stmt.deep_replace(call, wrapped)
        return _surround(loc, stmt, [_probe_stmt("region_start")], [new_stmt], [_probe_stmt("region_end")])
    if region.mode == "drain":
        call = _flagged_call(loc, region.call_line, region.call_column, region.method)
        expr = call.func.value if reference else call
        drain = _probe_stmt("drain", cst.Lambda(cst.Parameters(), expr))
        return _surround(loc, stmt, [drain], [stmt], [])
    if region.mode == "checkpoint":
        # the held object (None once the fixed variant deleted it) tells a tensor from an array
        held = (cst.parse_expression(f"globals().get({region.held_name!r})") if region.held_name
                else cst.Name("None"))
        return _surround(loc, stmt, [_probe_stmt("checkpoint", held)], [stmt], [])
    raise ValueError(region.mode)


def _surround(loc: _Located, stmt: cst.CSTNode, before: list, replacement: list, after: list) -> str:
    new = [*before, *replacement, *after]
    return _replace_in_body(loc, stmt, new).code


def _replace_in_body(loc: _Located, stmt: cst.CSTNode, new: Sequence[cst.CSTNode]) -> cst.Module:
    parent = loc.parents.get(stmt)
    if parent is None or not hasattr(parent, "body"):
        raise NotInstrumentable("cannot insert statements there")
    body = list(parent.body)
    if stmt not in body:
        raise NotInstrumentable("cannot insert statements there")
    i = body.index(stmt)
    body[i:i + 1] = list(new)
    if isinstance(parent, cst.Module):
        return parent.with_changes(body=body)
    return loc.module.deep_replace(parent, parent.with_changes(body=body))


def _instrument_loop(loc: _Located, loop: cst.CSTNode) -> str:
    tick = _probe_call("tick")
    if isinstance(loop, COMPREHENSIONS):
        field = "value" if isinstance(loop, cst.DictComp) else "elt"
        element = getattr(loop, field)
        ticked = cst.Subscript(cst.Tuple([cst.Element(tick), cst.Element(element)]),
                               [cst.SubscriptElement(cst.Index(cst.Integer("1")))])
        new_loop = loop.with_changes(**{field: ticked})
        stmt = loc.statement_of(loop)
        new_stmt = stmt.deep_replace(loop, new_loop)
        return _replace_in_body(loc, stmt, [new_stmt, _probe_stmt("loop_exit")]).code
    body = loop.body
    if isinstance(body, cst.IndentedBlock):
        new_body = body.with_changes(body=[_probe_stmt("tick"), *body.body])
    else:  # for x in y: f(x)
        new_body = body.with_changes(body=[cst.Expr(tick), *body.body])
    new_loop = loop.with_changes(body=new_body)
    return _replace_in_body(loc, loop, [new_loop, _probe_stmt("loop_exit")]).code


# ----------------------------------------------------------------- fixed variants


def map_line(old: str, new: str, line: int) -> int:
    """Where line ``line`` of ``old`` went in ``new`` (a fix inserts or rewrites a few lines)."""
    a, b = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i1 <= line - 1 < i2:
            if tag == "equal":
                return j1 + (line - 1 - i1) + 1
            if tag == "replace":
                return j1 + min(line - 1 - i1, max(j2 - j1 - 1, 0)) + 1
            return j1 + 1  # deleted: the next surviving line
    return line




# ----------------------------------------------------------------- whole programs, briefly


class _CapLoops(cst.CSTTransformer):
    def __init__(self, cap: int) -> None:
        self.cap = cap

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        capped = cst.parse_expression(f"__import__('itertools').islice(_, {self.cap})")
        assert isinstance(capped, cst.Call)
        return updated.with_changes(iter=capped.with_changes(args=[cst.Arg(updated.iter), capped.args[1]]))


def cap_loops(code: str, cap: int) -> str:
    """The program with every ``for`` loop cut to its first ``cap`` iterations
    (runs a dossier example end to end in seconds; ``while`` loops are kept)."""
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as e:
        raise NotInstrumentable(f"cannot parse the file: {e.message}") from None
    return module.visit(_CapLoops(cap)).code
