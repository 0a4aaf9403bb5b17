"""kmlint parses without libcst's per-node validation (engine/parsing.py):
the trees must be the very same, and validation must be back afterwards."""

from __future__ import annotations

import libcst as cst
import pytest

from kmlint.engine.parsing import parse_module
from tests.helpers import ROOT, corpus_files


@pytest.mark.parametrize("path", corpus_files(notebooks=False), ids=lambda p: str(p.relative_to(ROOT)))
def test_same_tree_as_libcst(path):
    source = path.read_text(encoding="utf-8-sig")
    try:
        expected = cst.parse_module(source)
    except cst.ParserSyntaxError:
        with pytest.raises(cst.ParserSyntaxError):
            parse_module(source)
        return
    ours = parse_module(source)
    assert ours.deep_equals(expected)
    assert ours.code == source


def test_validation_is_back_after_a_parse_and_after_a_failed_one():
    parse_module("x = 1\n")
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def f(:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")  # hand-built nodes are still checked


def test_syntax_of_a_newer_python_is_linted_without_a_false_km901():
    """Issue 15: CPython 3.11 rejects 3.12's `type` statements and PEP 695
    generics; libcst reads them, so the file is valid Python: no KM901, and
    the rest of the file is analysed (on 3.12+ CPython parses it outright)."""
    from kmlint.config import Settings
    from kmlint.engine.linter import lint_text

    newer = ("import keras\ntype Vec = list[float]\n\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n\n"
             "model.fit_generator(gen)\n")
    assert [(f.code, f.line) for f in lint_text(newer, "n.py", Settings()).findings] == [("KM201", 7)]
    broken = "import keras\ntype Vec = \nmodel.fit_generator(gen)\n"
    assert [(f.code, f.line) for f in lint_text(broken, "b.py", Settings()).findings] == [("KM901", 2), ("KM201", 3)]
