"""The language server's pieces that run in-process: translations from kmlint
to LSP, and the command's behaviour without pygls."""

from __future__ import annotations

import json
import subprocess
import sys

from lsprotocol import types
from pygls.workspace import PositionCodec

from kmlint.docs import readme_sections
from kmlint.findings import Edit
from kmlint.lsp.convert import TextIndex, edits_between, noqa_edit, text_edit
from tests.helpers import cli_env, lint
from tests.lsp_support import apply_edits

UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)


def index(text: str) -> TextIndex:
    return TextIndex(text, UTF16)


def suppressed(text: str, line: int, code: str = "KM201"):
    edit = noqa_edit(index(text), line, code)
    return None if edit is None else apply_edits(text, [edit])


def test_noqa_appends_or_extends():
    assert suppressed("model.fit_generator(g)   \n", 1) == "model.fit_generator(g)  # noqa: KM201\n"
    assert suppressed("a = 1\r\nmodel.fit_generator(g)\r\n", 2) == "a = 1\r\nmodel.fit_generator(g)  # noqa: KM201\r\n"
    assert suppressed("f(g)  # noqa:KM206 (legacy)\n", 1) == "f(g)  # noqa: KM206, KM201 (legacy)\n"
    assert suppressed("f(g)  # kmlint: ignore[KM206]\n", 1) == "f(g)  # kmlint: ignore[KM206, KM201]\n"
    # an unfinished buffer: lines before the problem still take the comment
    assert suppressed("model.fit_generator(g)\nx = (\n", 1) == "model.fit_generator(g)  # noqa: KM201\nx = (\n"


def test_noqa_is_not_offered_twice_and_avoids_strings_and_continuations():
    assert suppressed("f(g)  # noqa\n", 1) is None  # a blanket noqa already covers it
    assert suppressed("f(g)  # noqa: KM201\n", 1) is None
    # where the line cannot take a comment, the statement's last line does
    assert suppressed('x = f(g, """\ndoc\n""")\n', 1) == 'x = f(g, """\ndoc\n""")  # noqa: KM201\n'
    assert suppressed("x = f(g) + \\\n    1\n", 1) == "x = f(g) + \\\n    1  # noqa: KM201\n"
    assert suppressed("x = f(g) + \\\n    1  # noqa: KM206\n", 1) == "x = f(g) + \\\n    1  # noqa: KM206, KM201\n"
    assert suppressed("preds = model.predict_generator(\n    g,\n)\n", 1) == \
        "preds = model.predict_generator(  # noqa: KM201\n    g,\n)\n"


def test_positions_count_utf16_and_clamp_at_the_end():
    idx = index("a = '\U0001F600'\nb\n")
    assert idx.position(1, 8) == types.Position(0, 8)  # the emoji is two UTF-16 units
    assert idx.position(9, 1) == types.Position(2, 0)  # past the end: the end
    assert idx.end() == types.Position(2, 0)


def test_positions_in_utf8_when_the_client_asks_for_it():
    idx = TextIndex("s = 'é'; f(g)\n", PositionCodec(types.PositionEncodingKind.Utf8))
    assert idx.position(1, 10) == types.Position(0, 10)  # é is two bytes


def test_server_command_without_pygls_says_what_to_install():
    blocked = "import sys; sys.modules['pygls'] = None; from kmlint.cli import main; main(['server'])"
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, env=cli_env(), timeout=120)
    assert result.returncode == 2
    assert "pip install 'kmlint[lsp]'" in result.stderr and "Traceback" not in result.stderr


def test_edit_to_the_end_of_a_cell_without_final_newline():
    cell = "gen = g()\nmodel.fit_generator(gen)"
    edit = text_edit(index(cell), Edit("model.fit(gen)\n", 2, 1, 3, 1, cell=0))
    assert apply_edits(cell, [edit]) == "gen = g()\nmodel.fit(gen)"


def test_edits_between_texts_touch_only_the_changed_lines():
    old, new = "a\nb\nc\nd\ne\n", "a\nB\nc\nd\nE\n"
    edits = edits_between(index(old), new)
    assert [(e.range.start.line, e.range.end.line, e.new_text) for e in edits] == [(1, 2, "B\n"), (4, 5, "E\n")]
    for old, new in [("a\r\nb", "a\r\nc"), ("a\n", "a\nb\n"), ("", "x\n"), ("x\n", ""), ("a\x0cb\nc\n", "a\x0cb\nC\n"),
                     ("a", "a\nb"), ("a\nb", "a")]:
        assert apply_edits(old, edits_between(index(old), new)) == new
    assert edits_between(index("same\n"), "same\n") == []


def test_notebook_fix_edits_name_their_cell():
    nb = {"metadata": {}, "cells": [
        {"cell_type": "code", "source": "import keras\n"},
        {"cell_type": "markdown", "source": "text"},
        {"cell_type": "code", "source": "model.fit_generator(g)"},
        {"cell_type": "code", "source": "x = 1\n"},
    ]}
    (finding,) = lint(json.dumps(nb), "nb.ipynb")
    (edit,) = finding.fix.edits
    # the exact span of `fit_generator` on line 1 of cell 3 (index 2), not the module's line 2
    assert (edit.cell, edit.line, edit.column, edit.end_line, edit.end_column) == (2, 1, 7, 1, 20)


def test_readme_sections_skip_headings_inside_code():
    text = "# x (KM1)\n\n## What it does\nFlags.\n```python\n## not a heading\n```\n## Why is this bad?\nSlow.\n"
    assert readme_sections(text) == {"What it does": "Flags.\n```python\n## not a heading\n```", "Why is this bad?": "Slow."}


def test_the_added_comment_silences_the_finding():
    for text in ["model.fit_generator(g, '''\nnotes\n''')\n", "x = model.fit_generator(g) + \\\n    1\n",
                 "preds = model.predict_generator(\n    g,\n)\n", "model.fit_generator(g)  # kmlint: ignore[KM206]\n"]:
        (finding,) = lint(text, select=["KM201"])
        quiet = suppressed(text, finding.line, finding.code)
        assert quiet != text and lint(quiet, select=["KM201"]) == [], quiet
