"""Positions from statement-local code generation equal libcst's
whole-module PositionProvider; fix edits computed from the changed statements
turn the source into exactly what the fix's transform produces; path-only
transforms produce the same code as full ones."""

from __future__ import annotations

import libcst as cst
import pytest

from kmlint import fixes
from kmlint.config import Settings
from kmlint.engine.linter import lint_text
from kmlint.engine.positions import StatementPositions, resolve_positions
from kmlint.fixes import split_lines
from kmlint.legacy.semantics.walk import FastVisitor
from tests.helpers import corpus_files

SAMPLE = '''"""doc"""
import os  # c


@decorator
# between
@other(
    1)
def f(a):
    x = [i for i in a]; y = 2
    if x:
        return (
            x)
    # trailing comment in the block
\f
class K:
    pass
a = 1; b = f(2)


class Outer(Base):
    """doc"""

    @staticmethod
    async def method(self, x,
                     y=[1,
   2]):
        s = """multi
line""" + g(x)
        def inner():
            return h(
                y)  # comment
        # footer comment of method
    # footer comment of class

    class Nested: x = k(1)
'''


def _parseable() -> list[tuple[str, str]]:
    out = [("sample", SAMPLE), ("crlf", SAMPLE.replace("\n", "\r\n"))]
    for p in corpus_files(notebooks=False):
        text = p.read_text(encoding="utf-8")
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        out.append((p.name, text))
    return out


CASES = _parseable()


class _All(FastVisitor):
    def __init__(self):
        super().__init__()
        self.nodes = []

    def on_visit(self, node):
        self.nodes.append(node)
        return True


@pytest.mark.parametrize("name,source", CASES, ids=[c[0] for c in CASES])
def test_statement_positions_equal_whole_module_positions(name, source):
    module = cst.parse_module(source)
    collector = _All()
    collector.walk(module)
    nodes = [n for n in collector.nodes if n is not module]
    expected = resolve_positions(module)
    got = StatementPositions(module, source).locate(nodes)
    assert {id(n): got[n] for n in nodes} == {id(n): expected[n] for n in nodes}


def _apply(source: str, edits) -> str:
    lines = split_lines(source)
    for edit in sorted(edits, key=lambda e: e.line, reverse=True):
        lines[edit.line - 1:edit.end_line - 1] = split_lines(edit.content)
    return "".join(lines)


@pytest.mark.parametrize("name,source", CASES, ids=[c[0] for c in CASES])
def test_fix_edits_reproduce_the_transform(name, source, monkeypatch):
    res = lint_text(source, name, Settings(preview=True), keep_tree=True, prefilter=False)
    for f in res.findings:
        if f.fix is None or f.fix.transform is None:
            continue
        expected = f.fix.transform(res.module).code
        assert f.fix.edits
        assert _apply(source, f.fix.edits) == expected, (f.code, f.line)
        # the same code as a transform that enters every node
        with monkeypatch.context() as m:
            m.setattr(fixes._OnPaths, "on_visit", cst.CSTTransformer.on_visit)
            assert f.fix.transform(res.module).code == expected


def test_fixes_keep_untouched_statements():
    module = cst.parse_module("a = f(1)\nb = g(2)\nc = h(3)\n")
    call = module.body[1].body[0].value
    new = fixes.replace_node(module, call, cst.parse_expression("k(4)"))
    assert new.code == "a = f(1)\nb = k(4)\nc = h(3)\n"
    assert new.body[0] is module.body[0] and new.body[2] is module.body[2]


@pytest.mark.parametrize("source", [
    "a = f(1)\nb = g(2)\n# a comment without a newline",  # found by fuzzing: the hunk joined two lines
    "a = f(1)\nb = g(2)",
    "class A:\n    def f(self):\n        return g(2)\n    x = 1",
])
def test_edits_in_files_without_a_trailing_newline(source):
    module = cst.parse_module(source)

    class Calls(FastVisitor):
        found: list = []

        def visit_Call(self, node):
            self.found.append(node)

    finder = Calls()
    finder.found = []
    finder.walk(module)
    for call in finder.found:
        new = fixes.replace_node(module, call, cst.parse_expression("k(0)"))
        assert _apply(source, StatementPositions(module, source).edits(new)) == new.code
