import json

from kmlint.engine.notebooks import load_notebook
from tests.helpers import codes, lint
from tests.helpers import notebook as nb


def test_magics_become_statements_without_moving_code():
    src = load_notebook(nb("%matplotlib inline\n!pip install foo\nx = 1\n%time y = 2\nfiles = !ls\n")).source
    lines = src.splitlines()
    assert lines[0] == "pass" and lines[1] == "pass"
    assert lines[2] == "x = 1"
    assert lines[3] == "pass; y = 2"  # %time runs the statement in the kernel: it stays, at its columns
    assert lines[4] == "files = None"


def test_findings_map_to_cells_counting_markdown():
    text = nb(("markdown", "# Title"), "import numpy as np\n", ("markdown", "text"), "x = 1\nmodel.fit_generator(g)\n")
    f = [f for f in lint(text, "n.ipynb") if f.code == "KM201"][0]
    assert (f.cell, f.line, f.column) == (3, 2, 7)


def test_names_are_shared_across_cells():
    text = nb("from tensorflow.keras.preprocessing.image import ImageDataGenerator as IDG\n", "gen = IDG()\n")
    f = [f for f in lint(text, "n.ipynb") if f.code == "KM206"]
    assert [(x.cell, x.line) for x in f] == [(1, 1)]


def test_cell_magic_cell_is_not_analysed():
    assert [f for f in lint(nb("%%bash\nmodel.fit_generator(g)\n"), "n.ipynb")] == []


def test_broken_cell_is_reported_and_others_still_analysed():
    text = nb("def broken(:\n    pass\n", "model.fit_generator(g)\n")
    found = sorted((f.code, f.cell, f.line) for f in lint(text, "n.ipynb"))
    assert found == [("KM201", 1, 1), ("KM901", 0, 1)]


def test_broken_json_is_a_parse_error_with_location():
    found = lint('{"cells": [\n  {"cell_type": "code",,}\n]}', "n.ipynb")
    assert [(f.code, f.line) for f in found] == [("KM901", 2)]
    assert "not valid JSON" in found[0].message


def test_not_a_notebook_structure():
    found = lint('{"hello": 1}', "n.ipynb")
    assert [f.code for f in found] == ["KM901"]


def test_non_python_kernel_is_skipped():
    assert lint(nb("model.fit_generator(g)\n", language="R"), "n.ipynb") == []


def test_source_as_string_or_list():
    a = nb("model.fit_generator(g)\n")
    data = json.loads(a)
    data["cells"][0]["source"] = ["model.fit_generator(", "g)\n"]
    assert codes(json.dumps(data), "n.ipynb") == [(1, "KM201")]
