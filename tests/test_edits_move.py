"""kmlint.edits.move_method_call: the text edits that move one method call of a
chain before another (the KM102/KM103/KM107/KM108 fixes).  The expected texts
are what kmlint's libcst transform (kmlint.fixes.move_method_call) made of the
same code: comments, line breaks and parentheses land where they did."""

from __future__ import annotations

import ast

import pytest

from kmlint import edits
from kmlint.syntax import LineIndex, parse


class _Model:
    def __init__(self, source: str):
        self.source = source
        self.tree = parse(source)
        self.index = LineIndex(source)


def _method_call(tree: ast.Module, method: str) -> ast.Call:
    [call] = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and n.func.attr == method]
    return call


@pytest.mark.parametrize("source, moved, target, drop_line, expected", [
    ('ds = tf.data.Dataset.range(3).repeat().cache()\n',
     'cache', 'repeat', None,
     'ds = tf.data.Dataset.range(3).cache().repeat()\n'),
    ('ds = (ds.map(f)\n      .cache()\n      .take(10))  # c\n',
     'take', 'cache', None,
     'ds = (ds.map(f)\n      .take(10)\n      .cache())  # c\n'),
    ('ds = (ds.map(f)  # one\n      .cache()  # two\n      .take(10))  # c\n',
     'take', 'cache', None,
     'ds = (ds.map(f)  # two\n      .take(10)  # one\n      .cache())  # c\n'),
    ('x = 1\nds = ds.repeat()\n# about cache\n\nds = ds.cache()  # expect\nprint(ds)\n',
     'cache', 'repeat', 5,
     'x = 1\nds = ds.cache().repeat()\nprint(ds)\n'),
    ('ds = ds.repeat()\nds = ds.cache()  # expect\nprint(ds)\n',
     'cache', 'repeat', 2,
     'ds = ds.cache().repeat()\nprint(ds)\n'),
    ('def f():\n    ds = ds0.repeat()\n    # c\n    ds = ds.cache()\n    return ds\n',
     'cache', 'repeat', 4,
     'def f():\n    ds = ds0.cache().repeat()\n    return ds\n'),
    ('ds = ds0.repeat()\nfor x in y:\n    pass\n    # inner\n# outer\n\nds = ds.cache()\nfit(ds)\n',
     'cache', 'repeat', 7,
     'ds = ds0.cache().repeat()\nfor x in y:\n    pass\n    # inner\nfit(ds)\n'),
    ('ds = ds0.repeat()\nif a:\n    pass\nelif b:\n    pass\nelse:\n    pass\n    # inner\n# outer\nds = ds.cache()\nfit(ds)\n',
     'cache', 'repeat', 10,
     'ds = ds0.cache().repeat()\nif a:\n    pass\nelif b:\n    pass\nelse:\n    pass\n    # inner\nfit(ds)\n'),
    ('ds = (ds0).repeat()\nds = (ds).cache()\n',
     'cache', 'repeat', None,
     'ds = (ds0).cache().repeat()\nds = (ds)\n'),
    ("full = tf.data.TFRecordDataset(['a']).map(parse).cache()\nsubset = full.take(2000).batch(64)  # x\n",
     'take', 'cache', None,
     "full = tf.data.TFRecordDataset(['a']).map(parse).take(2000).cache()\nsubset = full.batch(64)  # x\n"),
    ('ds = ds.repeat() \\\n   .cache()\n',
     'cache', 'repeat', None,
     'ds = ds \\\n   .cache().repeat()\n'),
    ('ds = (ds.repeat()).cache()\n',
     'cache', 'repeat', None,
     'ds = (ds.cache().repeat())\n'),
    ('ds = ( ds.repeat() ).cache( )\n',
     'cache', 'repeat', None,
     'ds = ( ds.cache( ).repeat() )\n'),
    ('ds = ds.repeat(); ds = ds.cache()\nf(ds)\n',
     'cache', 'repeat', None,
     'ds = ds.cache().repeat(); ds = ds\nf(ds)\n'),
    ('ds = ds.repeat()\nds = ds.cache()',
     'cache', 'repeat', 2,
     'ds = ds.cache().repeat()'),
    ('ds = ds.map(f, num_parallel_calls=3).shuffle(\n    1000,\n    seed=1,\n).cache()\n',
     'cache', 'shuffle', None,
     'ds = ds.map(f, num_parallel_calls=3).cache().shuffle(\n    1000,\n    seed=1,\n)\n'),
    ('ds = ds.repeat()\r\n# c\r\nds = ds.cache()  # é\r\nf(ds)\r\n',
     'cache', 'repeat', 3,
     'ds = ds.cache().repeat()\r\nf(ds)\r\n'),
    ("s = 'é'; ds = dé.repeat().cache()\n",
     'cache', 'repeat', None,
     "s = 'é'; ds = dé.cache().repeat()\n"),
    ('class A:\n    def f(self):\n        ds = x.repeat()\n        if a:\n            pass\n        # deep\n    # mid\n        ds = ds.cache()\n        return ds\n',
     'cache', 'repeat', 8,
     'class A:\n    def f(self):\n        ds = x.cache().repeat()\n        if a:\n            pass\n        return ds\n'),
    ('ds = x.repeat()\nif a: pass\n# c\nds = ds.cache()\nf(ds)\n',
     'cache', 'repeat', 4,
     'ds = x.cache().repeat()\nif a: pass\nf(ds)\n'),
    ('ds = x.repeat()\ntry:\n    pass\nexcept E:\n    pass\n    # in handler\n# c\nds = ds.cache()\nf(ds)\n',
     'cache', 'repeat', 8,
     'ds = x.cache().repeat()\ntry:\n    pass\nexcept E:\n    pass\n    # in handler\nf(ds)\n'),
    ('ds = x.repeat()\nwith a:\n    pass\n\n    \n# c\nds = ds.cache()\nf(ds)\n',
     'cache', 'repeat', 7,
     'ds = x.cache().repeat()\nwith a:\n    pass\n\n    \nf(ds)\n'),
    ('train = (\n    tf.data.Dataset.from_tensor_slices(x)\n    .repeat()\n    .cache()\n)\n',
     'cache', 'repeat', None,
     'train = (\n    tf.data.Dataset.from_tensor_slices(x)\n    .cache()\n    .repeat()\n)\n'),
])
def test_move_method_call(source, moved, target, drop_line, expected):
    m = _Model(source)
    drop = None
    if drop_line is not None:
        [drop] = [s for s in ast.walk(m.tree) if isinstance(s, ast.Assign) and s.lineno == drop_line]
    out = edits.apply_edits(source, edits.move_method_call(m, _method_call(m.tree, moved), _method_call(m.tree, target), drop))
    assert out == expected
    ast.parse(out)


def test_moving_a_call_is_two_edits_that_do_not_overlap():
    source = "ds = ds.repeat()\nds = ds.cache()  # expect\nprint(ds)\n"
    m = _Model(source)
    found = edits.move_method_call(m, _method_call(m.tree, "cache"), _method_call(m.tree, "repeat"), m.tree.body[1])
    assert [(e.line, e.column, e.end_line, e.end_column, e.content) for e in found] == [
        (1, 8, 1, 8, ".cache()"), (2, 1, 3, 1, "")]


def test_fixing_a_dropped_last_line_end_to_end():
    """The removed statement is the file's last line: its edit ends after the
    last line break, which the fixer applies (KM103's safe fix)."""
    from kmlint.config import Settings
    from kmlint.fixer import fix_source

    source = "import tensorflow as tf\ntrain = tf.data.Dataset.range(10).repeat()\n# cache it\ntrain = train.cache()\n"
    outcome = fix_source(source, "snippet.py", Settings(select=["KM103"]))
    assert outcome.error is None and not outcome.warnings
    assert outcome.text == "import tensorflow as tf\ntrain = tf.data.Dataset.range(10).cache().repeat()\n"


def test_a_step_moved_across_notebook_cells_is_fixed_cell_by_cell():
    """The chain starts in one cell and its cache() comes two cells later: the
    fix's two edits are two hunks, one per cell (as the libcst fix was)."""
    import json

    from kmlint.config import Settings
    from kmlint.fixer import fix_source
    from tests.helpers import notebook

    nb = notebook("import tensorflow as tf\ntrain = tf.data.Dataset.range(10).repeat()\n", "x = 1\n",
                  "# cache it\ntrain = train.cache()\n")
    outcome = fix_source(nb, "t.ipynb", Settings(select=["KM103"]))
    assert outcome.error is None and not outcome.warnings
    cells = [c["source"] for c in json.loads(outcome.text)["cells"]]
    assert cells == ["import tensorflow as tf\ntrain = tf.data.Dataset.range(10).cache().repeat()\n", "x = 1\n", ""]
