"""The prefilter (skip parsing when no enabled rule can match) must never
change a result: every dossier file, every fixture and every prefilter trap is
linted with and without it and the findings compared.  The trees are walked at
test time, so dossiers and fixtures added later are covered automatically.

The evidence words behind ``Rule.requires`` are also checked directly: while
the corpus is linted, every semantic predicate that holds must find its
evidence words in the file."""

from __future__ import annotations

import sys

import pytest

from kmlint.config import Settings
from kmlint.engine import prefilter
from kmlint.engine.linter import lint_bytes
from kmlint.registry import all_rules
from kmlint.semantics import sizes, tensors
from kmlint.semantics.model import SemanticModel
from tests.helpers import ROOT, corpus_files, expectations


CORPUS = corpus_files()


def _results(path, settings, prefilter):
    res = lint_bytes(path.read_bytes(), str(path.relative_to(ROOT)), settings, prefilter=prefilter)
    return [f.to_json() for f in res.findings], res.skipped


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("preview", [False, True], ids=["stable", "preview"])
def test_prefilter_loses_nothing(path, preview):
    settings = Settings(preview=preview)
    with_prefilter, _ = _results(path, settings, True)
    without, skipped = _results(path, settings, False)
    assert not skipped
    assert with_prefilter == without


def test_corpus_is_not_empty():
    assert any(p.name == "bad.py" for p in CORPUS)


def test_prefilter_skips_files_without_tokens_but_keeps_syntax_errors():
    settings = Settings()
    clean = lint_bytes(b"import os\nprint(os.getcwd())\n", "clean.py", settings)
    assert clean.skipped and clean.findings == []
    assert not lint_bytes(b"import os\nprint(os.getcwd())\n", "clean.py", settings, prefilter=False).skipped
    broken = lint_bytes(b"import os\nprint(os.getcwd(\n", "broken.py", settings)
    assert [f.code for f in broken.findings] == ["KM901"]


def test_environment_switch_disables_the_prefilter(monkeypatch):
    monkeypatch.setenv("KMLINT_NO_PREFILTER", "1")
    assert not lint_bytes(b"x = 1\n", "clean.py", Settings()).skipped
    monkeypatch.setenv("KMLINT_NO_PREFILTER", "0")
    assert lint_bytes(b"x = 1\n", "clean.py", Settings()).skipped


def test_prefilter_traps_are_flagged_with_the_prefilter_on():
    traps = [p for p in CORPUS if p.parent.name == "prefilter_traps"]
    assert traps
    for path in traps:
        expected = expectations(path.read_text(encoding="utf-8"))
        res = lint_bytes(path.read_bytes(), path.name, Settings())
        assert {(f.line, f.code) for f in res.findings} == expected, path.name


def test_every_requirement_names_known_evidence():
    for rule in all_rules():
        kinds = {k[len(prefilter.IMPORTED):] if k.startswith(prefilter.IMPORTED) else k for k in rule.requires}
        assert kinds <= set(prefilter.EVIDENCE), rule.code


def test_evidence_in_an_imported_project_file_counts(tmp_path, monkeypatch):
    """KM204 follows model builders into other project files: a builder with
    any name, in a file that never says "model", still gets the file linted."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "nets.py").write_text("import keras\n\n\ndef make_net():\n    return keras.Sequential()\n")
    (tmp_path / "plain.py").write_text("def make_net():\n    return object()\n")
    loop = "from {0} import make_net\n\nfor fold in range(10):\n    net = make_net()\n    net.fit(x, y)\n"
    (tmp_path / "train.py").write_text(loop.format("nets"))
    (tmp_path / "other.py").write_text(loop.format("plain"))
    monkeypatch.chdir(tmp_path)
    with_helper = lint_bytes((tmp_path / "train.py").read_bytes(), "train.py", Settings())
    assert [f.code for f in with_helper.findings] == ["KM204"]
    assert lint_bytes((tmp_path / "other.py").read_bytes(), "other.py", Settings()).skipped


def _evidence_checks():
    """(owner, attribute, kind of evidence its truthy results need)."""
    def qualname_kind(q):
        if q and q.startswith(("tensorflow.", "keras.")):
            return "tensorflow"
        if q and q.startswith("numpy."):
            return "numpy"
        return None

    return [
        (SemanticModel, "qualname", qualname_kind),
        (SemanticModel, "is_imported", lambda r: "tensorflow" if r else None),
        # project scope skips parsing a helper file without these words (KM204's builders)
        (SemanticModel, "uses_tensorflow", lambda r: "tensorflow" if r else None),
        (SemanticModel, "is_dataset_chain", lambda r: "dataset" if r else None),
        (SemanticModel, "is_keras_model", lambda r: "keras_model" if r else None),
        (tensors, "builds_keras_model", lambda r: "keras_model" if r else None),
        (sizes, "estimate", lambda r: "array" if r is not None else None),
        (sizes, "loader_info", lambda r: "array" if r is not None else None),
    ]


def test_predicates_only_hold_where_their_evidence_words_occur(monkeypatch):
    violations = []

    def checked(original, kind_of):
        def wrapper(*args, **kwargs):
            result = original(*args, **kwargs)
            kind = kind_of(result)
            model = args[0] if isinstance(args[0], SemanticModel) else args[0]
            source = getattr(model, "source", "")
            if kind is not None and not prefilter.has_evidence(kind, source):
                violations.append((original.__name__, kind, result))
            return result
        return wrapper

    for owner, name, kind_of in _evidence_checks():
        original = getattr(owner, name)
        if isinstance(original, property):
            monkeypatch.setattr(owner, name, property(checked(original.fget, kind_of)))
            continue
        wrapper = checked(original, kind_of)
        monkeypatch.setattr(owner, name, wrapper)
        for module in list(sys.modules.values()):  # names imported with `from ... import`
            if getattr(module, "__name__", "").startswith("kmlint.") and getattr(module, name, None) is original:
                monkeypatch.setattr(module, name, wrapper)
    settings = Settings(preview=True)
    for path in CORPUS:
        lint_bytes(path.read_bytes(), path.name, settings, prefilter=False)
    assert violations == []


# A query builder's `compile` (SQLAlchemy, Django, `re`) is no Keras model:
# in a file that imports something and no TensorFlow, `x.compile(...)` counts
# as evidence only with one of Keras' own compile keywords.
SQL_LIKE = b"""import sqlalchemy as sa

def render(statements, dialect):
    out = []
    for stmt in statements:
        out.append(stmt.compile(dialect=dialect))
    return out[: len(out) // 2]
"""


def test_a_query_builders_compile_does_not_make_a_keras_file():
    settings = Settings()
    assert not prefilter.has_evidence("keras_model", SQL_LIKE.decode())
    res = lint_bytes(SQL_LIKE, "queries.py", settings)
    assert res.skipped and res.findings == []
    # the same text as a fragment (no import at all) or with Keras' keywords is a model again
    fragment = SQL_LIKE.replace(b"import sqlalchemy as sa\n", b"")
    assert prefilter.has_evidence("keras_model", fragment.decode())
    keras_like = SQL_LIKE.replace(b"compile(dialect=dialect)", b"compile(optimizer='adam', loss='mse')")
    assert prefilter.has_evidence("keras_model", keras_like.decode())
    assert not lint_bytes(keras_like, "train.py", settings).skipped


def test_the_model_reads_compile_as_the_prefilter_does():
    from kmlint.semantics.model import build_model
    from kmlint.syntax import parse

    def receiver_is_model(source: bytes) -> bool:
        text = source.decode()
        model = build_model(parse(text), text)
        call = model.calls_by_name["compile"][0]
        return model.is_keras_model(call.receiver)

    assert not receiver_is_model(SQL_LIKE)
    assert receiver_is_model(SQL_LIKE.replace(b"import sqlalchemy as sa\n", b""))
    assert receiver_is_model(SQL_LIKE.replace(b"compile(dialect=dialect)", b"compile(loss='mse')"))
    assert receiver_is_model(SQL_LIKE.replace(b"import sqlalchemy as sa", b"import tensorflow as tf"))
