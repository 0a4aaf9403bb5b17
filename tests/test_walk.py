"""FastVisitor.walk visits exactly the nodes libcst's own traversal visits
(minus syntax trivia), in the same order, and the semantic model built with it
is identical to the one built with libcst's traversal."""

from __future__ import annotations

import dataclasses

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from kmlint.legacy.semantics import walk
from kmlint.legacy.semantics.model import build_model
from tests.helpers import corpus_files

SAMPLE = '''
import os, sys as system
from a.b import (c as d, e)
from . import rel
@decorator(arg=1)
async def f(a, /, b: int = 2, *args, c, d=3, **kw) -> "T":
    global g
    x = [i * 2 for i in range(10) if i % 2 if i > 1]
    y = {k: v for k, v in zip(a, b)}
    z = (lambda q, *r: q + 1)(x)
    async with ctx() as (m, n), other():
        await thing(m)
    async for item in stream:
        yield item
    return f"{x!r:>{width}} and {y=}"
class K(Base, metaclass=Meta):
    attr: int = 1
    def method(self):
        nonlocal_thing = self.attr[1:2, ::3]
        try:
            pass
        except (ValueError, TypeError) as exc:
            raise RuntimeError from exc
        else:
            del nonlocal_thing
        finally:
            assert True, "msg"
while not done and (count := count + 1) < 10:
    count += 1
else:
    print(*args, **kwargs)
match command:
    case [Point(x=0, y=0), *rest] if rest:
        pass
    case {"k": v, **others} | None:
        pass
with open(p) as fh: data = fh.read(); size = len(data)
value = a if b else -c ** ~d @ e
s = {1, 2, *more}; t = (1,); u = ()
'''


class Recorder(walk.FastVisitor):
    def __init__(self):
        super().__init__()
        self.seen: list = []

    def on_visit(self, node):
        self.seen.append(("visit", id(node)))
        return True

    def on_leave(self, node):
        self.seen.append(("leave", id(node)))


def _sources() -> list[str]:
    return [SAMPLE] + [p.read_text(encoding="utf-8") for p in corpus_files(notebooks=False)]


def _libcst_sequence(module: cst.Module) -> list:
    trivia = Recorder._traversal_plan()[1]
    rec = Recorder()
    module.visit(rec)
    by_id = {}

    class Index(cst.CSTVisitor):
        def on_visit(self, node):
            by_id[id(node)] = node
            return True

    module.visit(Index())
    return [(kind, i) for kind, i in rec.seen if type(by_id[i]) not in trivia]


def _same(a, b, memo) -> bool:
    """Structural equality; libcst nodes compare by identity (both models are
    built over the same tree); cycles (scope parents) are followed once."""
    if isinstance(a, cst.CSTNode) or isinstance(b, cst.CSTNode):
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, memo) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], memo) for k in a)
    if isinstance(a, (set, frozenset)):
        return a == b
    if dataclasses.is_dataclass(a) or hasattr(a, "__dict__"):
        if (id(a), id(b)) in memo:
            return True
        memo.add((id(a), id(b)))
        return _same(vars(a), vars(b), memo)
    return a == b


def _libcst_model(module, source):
    fast = walk.FastVisitor.walk
    walk.FastVisitor.walk = lambda self, node: node.visit(self)
    try:
        return build_model(module, source)
    finally:
        walk.FastVisitor.walk = fast


@pytest.mark.parametrize("index", range(len(_sources())))
def test_walk_matches_libcst_traversal_and_model(index):
    source = _sources()[index]
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        pytest.skip("deliberately broken example")
    rec = Recorder()
    rec.walk(module)
    assert rec.seen == _libcst_sequence(module)
    assert _same(vars(build_model(module, source)), vars(_libcst_model(module, source)), set())


def test_child_order_is_read_for_every_node_type():
    unknown = [t.__name__ for t in walk._all_node_types()
               if "_visit_and_replace_children" in vars(t) and walk.child_fields(t) is None]
    assert unknown == []


def test_visitors_with_attribute_hooks_or_trivia_hooks_still_see_everything():
    class Commas(walk.FastVisitor):
        def __init__(self):
            super().__init__()
            self.n = 0

        def visit_Comma(self, node):
            self.n += 1

    v = Commas()
    v.walk(cst.parse_module("f(a, b, c)\n"))
    assert v.n == 2

    class FuncAttr(walk.FastVisitor):
        def __init__(self):
            super().__init__()
            self.funcs = 0

        def visit_Call_func(self, node):
            self.funcs += 1

    v = FuncAttr()
    v.walk(cst.parse_module("f(g(1))\n"))
    assert v.funcs == 2


try:
    import hypothesmith
except ImportError:  # pragma: no cover
    hypothesmith = None


@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith not installed")
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_grammar() if hypothesmith else None)
def test_walk_matches_libcst_on_generated_programs(source):
    try:
        module = cst.parse_module(source)
    except Exception:
        return  # hypothesmith's grammar is wider than libcst's parser
    rec = Recorder()
    try:
        rec.walk(module)
        expected = _libcst_sequence(module)
        model, reference = build_model(module, source), _libcst_model(module, source)
    except RecursionError:
        return
    assert rec.seen == expected
    assert _same(vars(model), vars(reference), set())
