"""The prefilter (skip parsing when no enabled rule's token occurs) must never
change a result: every dossier file and every fixture is linted with and
without it and the findings compared.  The trees are walked at test time, so
dossiers and fixtures added later are covered automatically."""

from __future__ import annotations

import pytest

from kmlint.config import Settings
from kmlint.engine.linter import lint_bytes
from tests.helpers import FIXTURES, ROOT, RULES_DIR


def _corpus() -> list:
    files = sorted(RULES_DIR.glob("*/*.py"))
    if FIXTURES.is_dir():
        files += sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".py", ".pyi", ".ipynb") and p.is_file())
    return files


CORPUS = _corpus()


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
