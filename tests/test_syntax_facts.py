"""The prefilter's second stage: facts from CPython's parser and the
necessary conditions rules state on them (``Rule.may_match_syntax``).

The engine-wide equivalence test (test_prefilter.py) compares whole results
with and without the prefilter; here every rule's condition is checked on its
own: wherever a rule reports something (prefilter off), its condition must
hold on that file's facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmlint.checks._syntax import MODEL_WORDS
from kmlint.config import Settings
from kmlint.engine import prefilter
from kmlint.engine.linter import lint_bytes
from kmlint.engine.notebooks import load_notebook
from kmlint.engine.syntax_facts import collect
from kmlint.registry import all_rules, get_rule
from kmlint.legacy.semantics.tensors import MODEL_CONSTRUCTORS
from tests.helpers import ROOT, corpus_files

CORPUS = corpus_files()


def _source(path: Path) -> str:
    text = path.read_text(encoding="utf-8-sig")
    return load_notebook(text).source if path.suffix == ".ipynb" else text


def test_facts_of_a_small_file():
    facts = collect(
        "import numpy as np\n"
        "import re\n"
        "from numpy import concatenate as cat\n"
        "from django.db import models\n"
        "from keras.models import Sequential\n"
        "from .nets import make\n"
        "import tensorflow as tf\n"
        "LIMIT = 3\n"
        "class Net(tf.keras.Model):\n"
        "    pass\n"
        "def f(x, net):\n"
        "    x.append(1); np.concatenate(a); cat(b); models.Model(); Sequential(); tf.keras.Model()\n"
        "    net.compile(); re.compile('x'); make(); unknown()\n"
        "    yield [i for i in x]\n"
    )
    assert facts is not None
    assert facts.calls_into["numpy"] == {"concatenate", "cat"}
    assert facts.calls_into["django"] == {"Model"}
    assert facts.calls_into["keras"] == {"Sequential"}
    assert facts.calls_into["tensorflow"] == {"Model"}
    assert facts.calls_from(("keras", "tensorflow"), {"Model"}) and not facts.calls_from(("keras",), {"Model"})
    assert facts.unimported_name_calls == {"unknown"}
    assert facts.called_import_targets >= {".nets", ".nets.make", "numpy", "keras.models", "keras.models.Sequential"}
    assert facts.receivers["compile"] == {"net", "re"}
    assert facts.module_imports == {"np", "re", "tf"} and facts.params == {"x", "net"}
    assert facts.classes == {"Net"} and facts.module_assignments
    assert facts.comprehensions and facts.generators and not facts.loops


def test_no_facts_without_a_parse():
    assert collect("def f(:\n") is None
    assert collect("x = 1\0") is None


def test_module_assignments_ignore_function_and_class_bodies():
    assert not collect("def f():\n    x = 1\nclass C:\n    y = 2\n").module_assignments
    assert collect("if True:\n    with open('f') as fh:\n        data = fh.read()\n").module_assignments
    assert collect("try:\n    pass\nexcept Exception:\n    z = 1\n").module_assignments


def test_model_words_cover_every_constructor():
    assert {q.rsplit(".", 1)[-1] for q in MODEL_CONSTRUCTORS} <= MODEL_WORDS


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_rules_report_only_where_their_syntax_condition_holds(path):
    facts = collect(_source(path))
    if facts is None:
        pytest.skip("CPython does not parse it: the prefilter's second stage never runs there")
    facts.import_resolver = lambda predicate, targets: True  # checked by the equivalence tests, not here
    result = lint_bytes(path.read_bytes(), str(path.relative_to(ROOT)), Settings(preview=True), prefilter=False)
    codes = {f.code for f in result.findings}
    violated = [c for c in sorted(codes) if (rule := get_rule(c)) is not None and not rule.may_match_syntax(facts)]
    assert violated == []


def test_every_gated_rule_is_exercised_by_the_corpus():
    """A condition nobody's findings ever meet would be untested."""
    reported: set[str] = set()
    for path in CORPUS:
        res = lint_bytes(path.read_bytes(), path.name, Settings(preview=True), prefilter=False)
        reported |= {f.code for f in res.findings}
    gated = {r.code for r in all_rules() if r.syntax_gated()}
    assert gated and gated <= reported


def test_second_stage_skips_what_the_words_let_through():
    # every word the first stage wants is here, but only in a docstring and an unused import
    source = (
        '"""Call model.fit(x) or Sequential() in a loop; cache() and shuffle() the dataset."""\n'
        "import keras\n"
        "import numpy\n"
        "VERSION = keras.__version__\n"
    )
    rules = [r for r in all_rules() if r.code not in ("KM900", "KM901")]
    first = [r for r in rules if prefilter.may_match(r, source, {})]
    assert first  # the words are there
    screening = prefilter.Screening()
    assert prefilter.active_rules(rules, source, None, screening) == []
    assert screening.parsed
    result = lint_bytes(source.encode(), "doc.py", Settings())
    assert result.skipped and result.findings == []


def test_a_module_is_never_a_model():
    """``re.compile()`` is not Keras' compile: an imported module never counts
    as a model (the second stage relies on it)."""
    source = (
        "import re\nimport numpy as np\nimport keras\n\n"
        "matcher = re\n"
        "data = np.random.rand(50000, 128)\n"
        "re.compile('x')\n"
        "matcher(data)\n"
    )
    res = lint_bytes(source.encode(), "regex.py", Settings(), prefilter=False)
    assert [f.code for f in res.findings] == []


def test_project_builder_must_come_from_a_keras_file(tmp_path, monkeypatch):
    """KM204 follows builders into project files that use Keras or
    TensorFlow; an ORM helper whose result has a ``compile()`` method is not one."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "queries.py").write_text("def build_query(q):\n    q.compile()\n    return q\n")
    (tmp_path / "nets.py").write_text("import keras\n\n\ndef build_query(q):\n    q.compile()\n    return q\n")
    loop = "import keras\nfrom {0} import build_query\n\nfor i in range(100):\n    q = build_query(i)\n    q.fit(i)\n"
    (tmp_path / "orm.py").write_text(loop.format("queries"))
    (tmp_path / "train.py").write_text(loop.format("nets"))
    monkeypatch.chdir(tmp_path)
    for name, expected in (("orm.py", []), ("train.py", ["KM204"])):
        data = (tmp_path / name).read_bytes()
        for on in (True, False):
            assert [f.code for f in lint_bytes(data, name, Settings(), prefilter=on).findings] == expected, (name, on)


def test_the_fast_walk_visits_every_node_ast_walk_does():
    """``_nodes`` skips operator and context leaves only: every other node of
    every corpus file is visited, the parent before its children."""
    import ast
    from collections import Counter

    from kmlint.engine.syntax_facts import _nodes

    leaves = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
    for path in CORPUS + [ROOT / "kmlint" / "engine" / "syntax_facts.py"]:
        try:
            tree = ast.parse(_source(path))
        except SyntaxError:
            continue
        expected = Counter(type(n) for n in ast.walk(tree) if not isinstance(n, leaves))
        seen, order = Counter(), {}
        for i, n in enumerate(_nodes(tree)):
            seen[type(n)] += 1
            order[id(n)] = i
        assert seen == expected, path
        for n in ast.walk(tree):
            for child in ast.iter_child_nodes(n):
                if not isinstance(child, leaves):
                    assert order[id(n)] < order[id(child)]


def test_the_loop_view_keeps_the_calls_that_may_run_in_a_loop():
    source = (
        "import numpy as np\n"
        "from keras import Sequential\n"
        "def leaf(x):\n    return np.concatenate([x, x])\n"
        "def middle(x):\n    return leaf(x)\n"
        "def never(x):\n    return np.stack([x])\n"
        "class Runner:\n"
        "    def one(self, x):\n        return x.predict(x)\n"
        "    def all(self, xs):\n        return [self.one(x) for x in xs]\n"
        "step = wrap(middle)\n"
        "for i in range(3):\n    step(i)\n"
        "while True:\n    Sequential()\n"
        "def outer():\n    for i in range(3):\n        def inner():\n            return np.vstack([i])\n"
        "never(1)\n"
    )
    facts = collect(source)
    loops = facts.in_loops
    assert {"leaf", "concatenate", "one", "predict", "step", "Sequential", "vstack"} <= loops.calls
    assert "stack" in facts.calls and "stack" not in loops.calls and "never" not in loops.calls
    assert loops.calls_into["numpy"] == {"concatenate", "vstack"}
    assert loops.calls_into["keras"] == {"Sequential"}
    assert loops.receivers["predict"] == {"x"} and loops.name_calls >= {"leaf", "step", "Sequential"}
    # the sets that are not about calls are the file's
    assert loops.identifiers is facts.identifiers and loops.loops


def test_without_loops_no_call_is_in_one():
    facts = collect("import numpy as np\ndef f(x):\n    return np.concatenate([x])\nf(1)\n")
    assert not facts.any_loop and facts.in_loops.calls == set() and facts.in_loops.calls_into == {}
    assert "concatenate" in facts.calls


def test_floor_divisions_are_expressions_not_text():
    assert collect("steps = n // batch\n").floor_divisions
    assert not collect("URL = 'https://keras.io'  # see http://x\nn //= 2\n").floor_divisions


@pytest.mark.parametrize("code, source", [
    # the `//` is in a URL, not a step count
    ("KM205", "import keras\nmodel = keras.Sequential()\nmodel.predict(x, steps=10)  # https://keras.io\n"),
    # GPU strings without a TensorFlow import (check_module returns early)
    ("KM501", "import keras\nDEVICE = '/gpu:0'\n"),
    ("KM405", "import session_lib\nfor i in range(3):\n    session_lib.run(i)\n"),
])
def test_conditions_rule_out_what_the_rule_never_reports(code, source):
    assert not get_rule(code).may_match_syntax(collect(source))
    assert [f.code for f in lint_bytes(source.encode(), "t.py", Settings(select=[code]), prefilter=False).findings] == []
