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
