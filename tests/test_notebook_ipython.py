"""kmlint reads notebook cells the way IPython does: IPython's own input
transformer (TransformerManager) is the oracle.  For each construct: our
transformed cell compiles iff IPython's does, the cell keeps its line count,
and every line IPython leaves alone keeps its text and columns."""

from __future__ import annotations

import ast
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmlint.engine.notebooks import PYTHON_CELL_MAGICS, load_notebook, transform_cell, transform_lines
from tests.helpers import lint
from tests.helpers import notebook as nb

inputtransformer2 = pytest.importorskip("IPython.core.inputtransformer2")


def _compiles(code: str) -> bool:
    try:
        compile(code, "<cell>", "exec", dont_inherit=True)
        return True
    except SyntaxError:
        return False


_SHELL = None


def _kernel_transform(cell: str) -> str:
    """What the kernel runs: InteractiveShell.transform_cell (the transformers,
    then automagic on a cell of one line), in a fresh shell (no names bound)."""
    global _SHELL
    if _SHELL is None:
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        _SHELL = InteractiveShell(config=config)
    return _SHELL.transform_cell(cell)


def ipython_compiles(cell: str, kernel: bool = False) -> bool:
    """IPython's verdict: its transformation of the cell compiles; a cell magic
    that runs its body in the kernel (%%time ...) transforms and compiles the
    body at run time, so that is part of the verdict.  ``kernel``: the shell's
    transformation (with automagic) instead of TransformerManager's alone."""
    try:
        out = _kernel_transform(cell) if kernel else inputtransformer2.TransformerManager().transform_cell(cell)
    except Exception:  # its tokenizer gives up (e.g. an inconsistent dedent)
        return False
    if not _compiles(out):
        return False
    body = ast.parse(out).body
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Call):
        call = body[0].value
        if isinstance(call.func, ast.Attribute) and call.func.attr == "run_cell_magic" \
                and call.args[0].value in PYTHON_CELL_MAGICS:
            return ipython_compiles(call.args[2].value, kernel)
    return True


# (cell, indices of the lines IPython rewrites or removes)
CASES = {
    "colab-if-pip": ("IN_COLAB = True\nif IN_COLAB:\n    %pip install -q tensorflow\nimport os\n", {2}),
    "only-magic-in-else": ("try:\n    import google.colab\nexcept ImportError:\n    !pip install x\nelse:\n    %load_ext tb\n", {3, 5}),
    "line-magics": ("%matplotlib inline\n%load_ext autoreload\n%autoreload 2\nx = 1\n", {0, 1, 2}),
    "shell-continuation": ("!pip install a \\\n    b \\\n    c\nimport os\nprint(os.name)\n", {0, 1, 2}),
    "shell-continuation-in-block": ("if True:\n    !apt-get install \\\n        -y foo\n    y = 2\n", {1, 2}),
    "double-bang": ("!!ls\nx = 1\n", {0}),
    "system-assign": ("files = !ls -la\nn = len(files)\n", {0}),
    "system-assign-continued": ("out = !echo a \\\n   b\nprint(out)\n", {0, 1}),
    "system-assign-tuple-target": ("a, b = !echo 1; echo 2\n", {0}),
    "magic-assign": ("t = %timeit -o sum(range(10))\nprint(t)\n", {0}),
    "magic-assign-subscript": ("d['k'] = %env HOME\n", {0}),
    "cell-magic-bash": ("%%bash\nfor f in *; do echo $f; done\nif [ -z x ]; then\n", {0, 1, 2}),
    "cell-magic-writefile": ("%%writefile train.py\nimport sys\ndef broken(:\n", {0, 1, 2}),
    "cell-magic-html": ("%%html\n<b>x</b>\n", {0, 1}),
    "cell-magic-capture": ("%%capture\n!pip install x\nimport numpy as np\n", {0, 1}),
    "cell-magic-time": ("%%time\nx = sum(range(10))\nprint(x)\n", {0}),
    "cell-magic-time-broken-body": ("%%time\nx = f(\n", {0}),
    "cell-magic-timeit-setup": ("%%timeit -n 2 x = 1\ny = x + 1\n", {0}),
    "cell-magic-after-blank-lines": ("\n\n%%bash\nls\n", {2, 3}),
    "indented-cell-magic": ("  %%bash\n  ls -l\n", {0, 1}),
    "help-end": ("import os\nos.path?\nos.path.join??\n", {1, 2}),
    "help-start": ("?os\n??os.path\n", {0, 1}),
    "help-magic": ("%timeit?\n", {0}),
    "help-in-block": ("for i in range(2):\n    len?\n", {1}),
    "help-not-a-name": ("x = f(a)?\n", set()),
    "question-in-string-and-comment": ("s = 'what?'\nt = 1  # why?\n", set()),
    "autocall-quote": (",print a b\n", {0}),
    "autocall-quote2": (";print a b\n", {0}),
    "autocall-paren": ("/print 1 2\n", {0}),
    "autocall-paren-broken": ("/print 1 +\n", set()),
    "time-statement": ("%time y = sum(range(3))\nprint(y)\n", {0}),
    "timeit-options-statement": ("%timeit -n 10 -r 2 sum(range(3))\n", {0}),
    "time-compound-statement": ("%time for i in range(3): pass\n", {0}),
    "magic-inside-function": ("def f():\n    %time g()\n    return 1\n", {1}),
    "magic-alone-in-function": ("def setup():\n    !pip install x\n", {1}),
    "modulo-on-continuation-line": ("a = (10\n     % 3)\nb = 10 \\\n    % 3\n", set()),
    "magic-text-in-strings": ('s = """\n%not a magic\n!not shell\n"""\nt = "x = !ls"\n', set()),
    "not-at-logical-line-start": ("if True: !ls\n", set()),
    "bang-not-equal": ("x = 1\ny = x != 2\n", set()),
    "magic-in-parentheses": ("x = (\n%ls\n)\n", set()),
    "indented-cell": ("  x = 1\n  if x:\n      y = 2\n", set()),
    "indented-cell-with-magic": ("    !ls\n    x = 1\n", {0}),
    "classic-prompt": (">>> x = 1\n>>> print(x)\n", set()),
    "ipython-prompt": ("In [3]: x = 1\n   ...: y = x\n", set()),
    "unterminated-triple-quote-after-magic": ("%ls\ns = '''\nopen\n", {0}),
    "unterminated-quote-in-shell": ("!echo it's\nx = 1\n", {0}),
    "bad-dedent": ("if x:\n        a = 1\n    !ls\n", {2}),
    "plain-python": ("import tensorflow as tf\nmodel = tf.keras.Sequential()\n", set()),
    "broken-python": ("def f(:\n    pass\n", set()),
    "crlf-line-ends": ("%matplotlib inline\r\nx = 1\r\n", {0}),
    # a string continued with a backslash and never closed is one error token for
    # tokenize, and the logical line goes on: IPython then sees `obj?` ending it
    "continued-unclosed-string-then-help": ("u = '\\\n    %pip install a\nobj?\n", {0, 1, 2}),
    "continued-unclosed-string-then-magic": ("u = '\\\nobj?\n%notmagic\n", set()),
}

# automagic: the kernel (not TransformerManager) runs a one-line cell `pip install x` as `%pip install x`
AUTOMAGIC = {
    "automagic-pip": ("pip install -q tensorflow\n", {0}),
    "automagic-ls-path": ("ls ./data/train/\n", {0}),
    "automagic-after-blank-lines": ("\n\ncd ~/data\n", {2}),
    "automagic-indented": ("  pip install x\n", {0}),
    "automagic-not-on-two-lines": ("# setup\npip install x\n", set()),
    "automagic-not-with-a-trailing-blank-line": ("pip install x\n\n", set()),
    "automagic-not-an-assignment": ("history = model.fit(x)\n", set()),
    "automagic-not-a-magic": ("pipx install x\n", set()),
}

CLEANUP = {"automagic-indented", "indented-cell", "indented-cell-with-magic", "classic-prompt", "ipython-prompt", "indented-cell-magic"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cell_compiles_iff_ipythons_transformation_does(name):
    cell, _ = CASES[name]
    ours = transform_cell(cell)
    assert _compiles(ours) == ipython_compiles(cell), (cell, ours)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(AUTOMAGIC))
def test_cell_compiles_iff_the_kernels_transformation_does(name):
    cell, _ = CASES.get(name) or AUTOMAGIC[name]
    ours = transform_cell(cell)
    assert _compiles(ours) == ipython_compiles(cell, kernel=True), (cell, ours)


@pytest.mark.parametrize("name", sorted(CASES) + sorted(AUTOMAGIC))
def test_cell_keeps_its_lines_and_columns(name):
    cell, rewritten = CASES.get(name) or AUTOMAGIC[name]
    original = [line.rstrip("\r") for line in cell.split("\n")[:-1]]
    new, shifts = transform_lines(original)
    assert len(new) == len(original)
    for k, (old, line) in enumerate(zip(original, new)):
        if k in rewritten:
            assert line != old
            # a same-shape statement at the line's indentation (or a blank continuation)
            assert line == "" or line.lstrip().startswith(("pass", "None")) or line.endswith("None"), line
            continue
        assert line == old[shifts[k]:], (k, old, line)
        if name not in CLEANUP:
            assert shifts[k] == 0


def test_a_kept_timed_statement_stays_at_its_columns():
    new, _ = transform_lines(["%timeit -n 10 model.fit(x)", "for i in y:", "    %time f(i)"])
    assert new[0].index("model.fit(x)") == "%timeit -n 10 model.fit(x)".index("model.fit(x)")
    assert new[2] == "    pass; f(i)"
    assert _compiles("\n".join(new) + "\n")


# ----------------------------------------------------------------- end to end


def test_colab_idiom_keeps_the_block_and_the_findings_after_it():
    text = nb("IN_COLAB = False\nif IN_COLAB:\n    %pip install -q tensorflow\nmodel.fit_generator(g)\n")
    found = [(f.code, f.cell, f.line, f.column) for f in lint(text, "n.ipynb")]
    assert ("KM201", 0, 4, 7) in found
    assert not [f for f in found if f[0] == "KM901"]


def test_shell_continuation_keeps_the_next_lines():
    text = nb("!pip install tensorflow \\\n    keras\nif True:\n    model.fit_generator(g)\n")
    found = [(f.code, f.cell, f.line, f.column) for f in lint(text, "n.ipynb")]
    assert found == [("KM201", 0, 4, 11)]


def test_findings_in_python_cell_magic_bodies_and_timed_statements():
    text = nb("%%time\nmodel.fit_generator(g)\n", "%%capture\n!pip install x\nmodel.predict_generator(g)\n",
              "%time model.evaluate_generator(g)\n")
    found = sorted((f.code, f.cell, f.line, f.column) for f in lint(text, "n.ipynb"))
    assert found == [("KM201", 0, 2, 7), ("KM201", 1, 3, 7), ("KM201", 2, 1, 13)]


def test_dedented_cell_findings_keep_the_cells_columns():
    text = nb("  import os\n  model.fit_generator(g)\n")
    found = [(f.code, f.cell, f.line, f.column, f.end_column) for f in lint(text, "n.ipynb")]
    assert found == [("KM201", 0, 2, 9, 22)]


def test_a_cell_ipython_rejects_is_km901_at_the_cells_position():
    text = nb("x = 1\n", "if True:\n    y = (\n")
    found = [(f.code, f.cell, f.line) for f in lint(text, "n.ipynb")]
    assert found and all(code == "KM901" and cell == 1 for code, cell, _ in found)


def test_module_line_table_counts_every_cell_line():
    text = nb("!pip install a \\\n  b\nx = 1\n", ("markdown", "m"), "%%bash\nls\n", "y = 2\n")
    src = load_notebook(text)
    assert src.line_map == [(0, 1), (0, 2), (0, 3), (2, 1), (2, 2), (3, 1)]
    assert src.source.splitlines() == ["pass", "", "x = 1", "pass", "", "y = 2"]
    assert json.loads(text)["cells"][0]["source"].count("\n") == 3


# ----------------------------------------------------------------- random cells

FRAGMENTS = [
    "x = 1", "if x:", "    %pip install a", "    !ls \\", "        -l", "!echo it's", "y = !ls", "z = %env",
    "obj?", "obj.a??", "%%bash", "%%time", "def f():", "    return 1", "  x = 2", "s = '''", "%notmagic", "'''",
    "a = (1", "  % 2)", ",f a b", "/f 1 2", ";f x", "?x", "print('?')", "for i in y:", "    %time f(i)",
    "%timeit -n 3 g()", "# c?", "t = 1 \\", "   + 2", "x = [", "]", "", ">>> q = 1", "In [2]: w = 3",
    "pip install x", "ls", "else:", "    pass", "\tz = 1", "x = f(a?)", "!!pwd", "%%capture", "u = '\\", "v'",
]


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=7), st.booleans())
def test_random_cells_agree_with_the_kernel(parts, final_newline):
    cell = "\n".join(parts) + ("\n" if final_newline else "")
    ours = transform_cell(cell)
    lines = cell.split("\n")
    if lines[-1] == "":
        lines.pop()
    assert ours.count("\n") == len(lines)
    assert _compiles(ours) == ipython_compiles(cell, kernel=True), (cell, ours)
