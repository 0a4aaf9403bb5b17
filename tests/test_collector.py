"""The cyclic garbage collector is paused while one file is linted and
collects once after it (engine/runner.py): it must come back on, even when
the lint raises, and a file's tree must not outlive the file."""

from __future__ import annotations

import gc

import pytest

from kmlint.config import ConfigResolver
from kmlint.engine import runner
from kmlint.engine.runner import collector_paused


def test_collector_comes_back_on_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_large_files_keep_the_collector_on():
    with collector_paused(False):
        assert gc.isenabled()


def test_a_serial_run_leaves_the_collector_as_it_was_and_keeps_no_model(tmp_path, monkeypatch):
    """Serial run over enough files to freeze the imports: the freeze is undone,
    the collector is on, and no file's SemanticModel (kept alive by its
    scope/binding cycles) outlives the run."""
    from kmlint.semantics.model import SemanticModel

    for i in range(runner.MIN_FILES_FOR_POOL + 2):
        (tmp_path / f"f{i}.py").write_text(f"# collector test {i}\nimport keras\nfor i in range(100):\n    m = keras.Sequential()\n")
    monkeypatch.chdir(tmp_path)
    frozen_before = gc.get_freeze_count()
    result = runner.run([str(tmp_path)], ConfigResolver(), use_cache=False, jobs=1)
    assert {f.code for f in result.findings} == {"KM204"}
    assert gc.get_freeze_count() == frozen_before
    assert gc.isenabled()
    # other tests' project caches may hold models of their own files: look for these files only
    assert not [o for o in gc.get_objects()
                if isinstance(o, SemanticModel) and "# collector test" in (getattr(o, "source", "") or "")]
