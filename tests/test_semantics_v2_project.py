"""Engine v2 semantics helpers written for the KM3xx-KM5xx ports: project scope
(kmlint/semantics/project.py: one ProjectIndex holds a run's caches, nothing
is imported from the engine) and statement blocks (kmlint/semantics/blocks.py)."""

from __future__ import annotations

import ast
import os
import textwrap

from kmlint.semantics import blocks, project
from kmlint.semantics.model import build_model
from kmlint.syntax import parse


def _model(text: str):
    text = textwrap.dedent(text)
    return build_model(parse(text), text)


def _tree(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "__init__.py").write_text("")
    (tmp_path / "utils" / "gpu.py").write_text("import tensorflow as tf\n\n\ndef setup_gpu():\n    pass\n")
    (tmp_path / "app").mkdir()
    main = tmp_path / "app" / "train.py"
    main.write_text("from utils.gpu import setup_gpu\nimport numpy as np\n\nsetup_gpu()\n")
    return main


def test_resolve_and_load_through_one_index(tmp_path):
    main = _tree(tmp_path)
    index = project.ProjectIndex()
    assert index.project_root(main) == tmp_path
    assert project.resolve(main, "utils.gpu.setup_gpu", index) == (tmp_path / "utils" / "gpu.py", ["setup_gpu"])
    assert project.resolve(main, "numpy.linalg", index) is None
    helper = project.load(tmp_path / "utils" / "gpu.py", index)
    assert helper is not None and [f.name for f in helper.functions] == ["setup_gpu"]
    assert project.load(tmp_path / "utils" / "gpu.py", index) is helper  # unchanged file: the same model


def test_a_changed_helper_is_rebuilt_and_a_broken_one_is_none(tmp_path):
    main = _tree(tmp_path)
    index = project.ProjectIndex()
    gpu = tmp_path / "utils" / "gpu.py"
    first = index.load(gpu)
    gpu.write_text("def setup_gpu(:\n")
    st = os.stat(gpu)
    os.utime(gpu, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert index.load(gpu) is None
    gpu.write_text("def other():\n    pass\n")
    os.utime(gpu, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    again = index.load(gpu)
    assert again is not None and again is not first and [f.name for f in again.functions] == ["other"]
    assert main.exists()


def test_forget_and_expiry_notice_a_new_project_root(tmp_path):
    (tmp_path / "pkg").mkdir()
    f = tmp_path / "pkg" / "a.py"
    f.write_text("x = 1\n")
    now = [0.0]
    index = project.ProjectIndex(clock=lambda: now[0])
    before = index.project_root(f)
    (tmp_path / "pkg" / "setup.cfg").write_text("")
    assert index.project_root(f) == before  # remembered
    now[0] += project.REMEMBER_SECONDS + 1
    assert index.project_root(f) == tmp_path / "pkg"  # expired
    (tmp_path / "pkg" / "setup.cfg").unlink()
    index.forget()
    assert index.project_root(f) == before


def test_called_function_records_the_helper_as_a_dependency(tmp_path):
    main = _tree(tmp_path)
    text = main.read_text()
    model = build_model(parse(text), text)
    deps: set[str] = set()
    call = next(c for c in model.calls if c.name == "setup_gpu")
    found = project.called_function(model, main, call, deps, index=project.ProjectIndex())
    assert found is not None and found[1].name == "setup_gpu"
    assert str((tmp_path / "utils" / "gpu.py").resolve()) in deps
    assert str((tmp_path / "utils" / "gpu.py").resolve()) in model.dependencies


def test_a_helper_without_tensorflow_words_is_not_parsed_when_only_tensorflow_counts(tmp_path, monkeypatch):
    """KM204 asks for builders in TensorFlow files only: a helper whose text
    cannot use TensorFlow is ruled out from its words, without a parse, but
    stays a dependency (adding an import there changes the answer)."""
    main = _tree(tmp_path)
    gpu = tmp_path / "utils" / "gpu.py"
    gpu.write_text("import os\n\n\ndef setup_gpu():\n    pass\n")
    text = main.read_text()
    model = build_model(parse(text), text)
    call = next(c for c in model.calls if c.name == "setup_gpu")
    index = project.ProjectIndex()
    built = []
    monkeypatch.setattr(project, "_build", lambda path: built.append(path))
    deps: set[str] = set()
    assert project.called_function(model, main, call, deps, tensorflow_only=True, index=index) is None
    assert built == [] and str(gpu.resolve()) in deps
    assert not index.says_tensorflow(gpu)
    project.called_function(model, main, call, deps, index=index)  # without the screen: parsed
    assert built == [str(gpu.resolve())]
    # the answer follows the file (mtime and size)
    gpu.write_text("import tensorflow as tf\n\n\ndef setup_gpu():\n    pass\n")
    assert index.says_tensorflow(gpu)


def test_module_lookup_by_directory_listing_matches_the_file_system(tmp_path):
    # lookups consult a memo of directory listings before any stat: it must agree
    # with the file system on what is a module
    main = _tree(tmp_path)
    (tmp_path / "utils" / "Layers.py").write_text("def block():\n    pass\n")  # case differs from the import
    (tmp_path / "utils" / "fake.py").mkdir()  # a directory named like a module
    (tmp_path / "nsp").mkdir()  # no __init__.py: not a package kmlint resolves into
    (tmp_path / "nsp" / "mod.py").write_text("def f():\n    pass\n")
    (tmp_path / "pkg2").mkdir()
    (tmp_path / "pkg2" / "__init__.py").write_text("def g():\n    pass\n")
    now = [0.0]
    index = project.ProjectIndex(clock=lambda: now[0])
    assert project.resolve(main, "utils.Layers.block", index) == (tmp_path / "utils" / "Layers.py", ["block"])
    # Python's imports match case; a directory named fake.py is no module: both are attributes of the package
    assert project.resolve(main, "utils.layers.block", index) == (tmp_path / "utils" / "__init__.py", ["layers", "block"])
    assert project.resolve(main, "utils.fake.thing", index) == (tmp_path / "utils" / "__init__.py", ["fake", "thing"])
    assert project.resolve(main, "pkg2.g", index) == (tmp_path / "pkg2" / "__init__.py", ["g"])
    assert project.resolve(main, "nsp.mod.f", index) == (tmp_path / "nsp" / "mod.py", ["f"])
    # a relative import of a name the package's __init__.py defines (no file of that name)
    (tmp_path / "pkg2" / "user.py").write_text("from . import g\ng()\n")
    assert project.resolve(tmp_path / "pkg2" / "user.py", ".g", index) == (tmp_path / "pkg2" / "__init__.py", ["g"])
    assert project.resolve(main, "utils.extra.h", index) == (tmp_path / "utils" / "__init__.py", ["extra", "h"])
    (tmp_path / "utils" / "extra.py").write_text("def h():\n    pass\n")
    assert project.resolve(main, "utils.extra.h", index) == (tmp_path / "utils" / "__init__.py", ["extra", "h"])  # remembered
    now[0] += project.REMEMBER_SECONDS + 1
    assert project.resolve(main, "utils.extra.h", index) == (tmp_path / "utils" / "extra.py", ["h"])
    (tmp_path / "utils" / "more.py").write_text("def m():\n    pass\n")
    index.forget()
    assert project.resolve(main, "utils.more.m", index) == (tmp_path / "utils" / "more.py", ["m"])


def test_the_default_index_is_one_object():
    assert project.default_index() is project.default_index()


def test_blocks_tell_an_if_body_from_its_else():
    m = _model("""
        if a:
            x = 1
            for i in y:
                f(i)
        else:
            x = 2
        """)
    top = m.tree.body[0]
    body, orelse = top.body[0], top.orelse[0]
    assert blocks.block_of(m, body).key != blocks.block_of(m, orelse).key
    assert blocks.block_of(m, top).owner is m.tree
    call_stmt = top.body[1].body[0]
    assert blocks.parent_statement(m, call_stmt) is top.body[1]
    assert blocks.top_statement(m, call_stmt) is top
    assert blocks.statement_in_block(m, call_stmt, blocks.block_of(m, body)) is top.body[1]
    assert blocks.statement_in_block(m, call_stmt, blocks.block_of(m, orelse)) is None
    assert list(blocks.enclosing_statements(m, call_stmt)) == [call_stmt, top.body[1], top]


def test_call_parent_skips_keyword_and_star_wrappers():
    m = _model("f(a, k=b, *c)\n")
    call = m.tree.body[0].value
    a, starred = call.args
    b = call.keywords[0].value
    assert blocks.call_parent(m, a) is call
    assert blocks.call_parent(m, b) is call
    assert blocks.call_parent(m, starred.value) is call
    assert isinstance(blocks.call_parent(m, call.func), ast.Call)


def test_statement_line_groups_semicolon_statements_and_skips_one_line_suites():
    m = _model("""
        a = 1; b = 2
        c = 3
        if a: d = 4; e = 5
        """)
    a, b, c, top_if = m.tree.body
    assert blocks.statement_line(m, b) == [a, b]
    assert blocks.statement_line(m, c) == [c]
    assert blocks.statement_line(m, top_if.body[0]) is None  # libcst's statement was the `if`
