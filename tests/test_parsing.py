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


# ------------------------------------------------ kmlint.syntax: CPython's parser


@pytest.mark.parametrize("source,error_line", [
    ("x = 1\n", None),
    ("def f():\n    pass\n\nreturn 1\n", None),  # a compile error, not a parse error: no KM901
    ("for x in y:\n    pass\nbreak\n", None),
    ("await f()\n", None),  # top-level await: valid in a notebook cell
    ("x = (\n", 1),
    ("a = 1\ndef f(:\n    pass\n", 2),
    ("x = 1\0\n", 1),  # null byte
    ("x = " + "(" * 300 + ")" * 300 + "\n", 1),  # nesting too deep for the parser
])
def test_syntax_error_agrees_with_parse(source, error_line):
    from kmlint.syntax import parse, syntax_error

    error = syntax_error(source)
    try:
        parse(source)
        parsed = None
    except SyntaxError as e:
        parsed = e
    except (RecursionError, MemoryError):
        parsed = SyntaxError("too deeply nested")
    assert (error is None) == (parsed is None) == (error_line is None), (error, parsed)
    if error is not None and error.lineno is not None:
        assert error.lineno == error_line


def test_the_linted_code_s_compiler_warnings_are_not_printed_nor_errors(tmp_path):
    # `1(2)` and `"\d"` make CPython warn (SyntaxWarning): about the user's code,
    # not kmlint's, and under `python -W error` they must not become KM901 or a crash
    import subprocess
    import sys

    from tests.helpers import cli_env

    f = tmp_path / "w.py"
    f.write_text('import tensorflow as tf\npattern = "\\d+"\nx = 1(2)\nif x is 1:\n    pass\n'
                 'model.fit_generator(gen)\n')
    plain = tmp_path / "plain.py"  # nothing for a rule: only its syntax is checked (bytecode compiler)
    plain.write_text('x = 1(2)\ny = "\\d"\nif y is 1:\n    pass\n')
    for flags in ([], ["-W", "error"]):
        res = subprocess.run([sys.executable, *flags, "-m", "kmlint", "check", "--no-cache", str(f), str(plain)],
                             capture_output=True, text=True, env=cli_env())
        assert "Warning" not in res.stderr, (flags, res.stderr)
        assert "KM901" not in res.stdout and "KM201" in res.stdout, (flags, res.stdout)
