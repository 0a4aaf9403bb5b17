"""The engine v2 fix builders (kmlint/edits.py): text edits located by ast spans."""

from __future__ import annotations

import ast

import pytest

from kmlint import edits
from kmlint.syntax import LineIndex, parse


class _Model:
    """What the builders read from a model: the tree and the line index."""

    def __init__(self, source: str):
        self.source = source
        self.tree = parse(source)
        self.index = LineIndex(source)


def _apply(source: str, make) -> str:
    m = _Model(source)
    result = make(m, m.tree.body)
    if isinstance(result, list):
        out = [e for e in result if e is not None]
    else:
        out = [result] if result is not None else []
    fixed = edits.apply_edits(source, out)
    ast.parse(fixed)  # a builder never produces code that does not parse
    return fixed


def _call(stmt) -> ast.Call:
    return stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else stmt


@pytest.mark.parametrize("source, expected", [
    ("f(a)\n", "f(a, k=1)\n"),
    ("f()\n", "f(k=1)\n"),
    ("f(a, b=2)\n", "f(a, k=1, b=2)\n"),
    ("f(a, *rest)\n", "f(a, k=1, *rest)\n"),
    ("f(a, k=0)\n", "f(a, k=1)\n"),
    ("f(a, )\n", "f(a, k=1, )\n"),
    ("f(\n    a,\n    b,\n)\n", "f(\n    a,\n    b,\n    k=1,\n)\n"),
    ("f(\n    a\n)\n", "f(\n    a,\n    k=1\n)\n"),
])
def test_set_keyword_adds_or_replaces_like_the_neighbours(source, expected):
    assert _apply(source, lambda m, b: edits.set_keyword(m, _call(b[0]), "k", "1")) == expected


@pytest.mark.parametrize("source, index, expected", [
    ("f(a, b)\n", 1, "f(a)\n"),
    ("f(a, b)\n", 0, "f(b)\n"),
    ("f(a)\n", 0, "f()\n"),
    ("f(a,)\n", 0, "f()\n"),
])
def test_remove_argument_takes_its_separator(source, index, expected):
    def make(m, b):
        call = _call(b[0])
        items = sorted([*call.args, *call.keywords], key=lambda a: a.col_offset)
        return edits.remove_argument(m, call, items[index])
    assert _apply(source, make) == expected


def test_rename_and_keep_only_arguments():
    src = "y = model.predict(x, batch_size=8, verbose=0)\n"

    def make(m, b):
        call = b[0].value
        return [edits.rename_call(m, call, "predict_on_batch"), *edits.keep_only_arguments(m, call, [call.args[0]])]
    assert _apply(src, make) == "y = model.predict_on_batch(x)\n"


def test_columns_are_code_points_on_non_ascii_lines():
    src = 's = "é"; y = f(a)\n'
    assert _apply(src, lambda m, b: edits.set_keyword(m, b[1].value, "k", "1")) == 's = "é"; y = f(a, k=1)\n'
    e = edits.replace(_Model(src), _Model(src).tree.body[1].value, "z")
    assert (e.line, e.column, e.end_line, e.end_column) == (1, 14, 1, 18)


def test_insert_after_and_before_keep_indentation():
    src = "for i in r:\n    x = big()\n    use(x)\n"
    out = _apply(src, lambda m, b: edits.insert_after(m, b[0].body[1], "del x"))
    assert out == "for i in r:\n    x = big()\n    use(x)\n    del x\n"
    out = _apply(src, lambda m, b: edits.insert_before(m, b[0].body[0], "a = 1\nb = 2"))
    assert out == "for i in r:\n    a = 1\n    b = 2\n    x = big()\n    use(x)\n"


def test_insert_after_the_last_line_without_a_newline_and_with_crlf():
    assert _apply("x = 1", lambda m, b: edits.insert_after(m, b[0], "del x")) == "x = 1\ndel x"
    assert _apply("x = 1\r\ny = 2\r\n", lambda m, b: edits.insert_after(m, b[0], "del x")) == "x = 1\r\ndel x\r\ny = 2\r\n"


def test_insert_before_a_decorated_function_goes_above_its_decorators():
    src = "@dec\ndef f():\n    pass\n"
    assert _apply(src, lambda m, b: edits.insert_before(m, b[0], "import x")) == "import x\n@dec\ndef f():\n    pass\n"


@pytest.mark.parametrize("source, expected", [
    ("import os\nx = 1\n", "import os\nimport math\nx = 1\n"),
    ('"""doc"""\nx = 1\n', '"""doc"""\nimport math\nx = 1\n'),
    ("x = 1\n", "import math\nx = 1\n"),
    ("import math\nx = 1\n", "import math\nx = 1\n"),
    ("from a import b\nimport os\n\nx = 1\n", "from a import b\nimport os\nimport math\n\nx = 1\n"),
])
def test_add_import_after_the_last_top_level_import(source, expected):
    assert _apply(source, lambda m, b: edits.add_import(m, "math")) == expected


def test_remove_statement_and_apply_several_edits():
    src = "a = 1\nb = 2\nc = 3\n"
    out = _apply(src, lambda m, b: [edits.remove_statement(m, b[1]), edits.replace(m, b[2].value, "4")])
    assert out == "a = 1\nc = 4\n"
