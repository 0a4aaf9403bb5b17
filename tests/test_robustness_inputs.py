"""Issue 14, section 1: one odd input must not sink the whole run.

Each test reproduces a reported failure (a traceback, a blocked run, a lost
report, a stale or thrown-away cache) and checks the run now lints every other
file and reports the odd one."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmlint.cli import main
from kmlint.config import ConfigResolver
from kmlint.engine import runner
from kmlint.engine.cache import CACHE_DIR_NAME
from tests.helpers import run_cli
from tests.robust_support import BAD, bad_file, give_away, open_tmp, run_unprivileged  # noqa: F401

CAFE = os.fsdecode(b"caf\xe9.py")  # not valid UTF-8: carried with surrogateescape


@pytest.fixture
def odd_names(tmp_path, monkeypatch):
    (tmp_path / CAFE).write_text(BAD)
    (tmp_path / "ok.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "gitlab", "junit"])
@pytest.mark.parametrize("cache", [True, False])
def test_a_file_name_that_is_not_utf8_is_linted_and_printed_escaped(odd_names, fmt, cache):
    args = ["check", "--output-format", fmt, "."] + ([] if cache else ["--no-cache"])
    for _ in range(2 if cache else 1):  # the second run is served from the cache
        r = run_cli(*args, cwd=odd_names)
        assert r.returncode == 1, r.stderr
        assert "Traceback" not in r.stderr
        if fmt == "sarif":
            uris = {res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for res in json.loads(r.stdout)["runs"][0]["results"]}
            assert uris == {"caf%E9.py", "ok.py"}
        else:
            assert "caf\\xe9.py" in r.stdout.replace("\\\\", "\\")  # JSON escapes the backslash
            assert "ok.py" in r.stdout
            assert "\ufffd" not in r.stdout


def test_a_non_utf8_name_in_the_baseline_round_trips(odd_names):
    r = run_cli("check", "--no-cache", "--write-baseline", "baseline.json", ".", cwd=odd_names)
    assert r.returncode == 0, r.stderr
    assert "wrote 2 findings" in r.stderr
    r = run_cli("check", "--no-cache", "--baseline", "baseline.json", ".", cwd=odd_names)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "All checks passed! (2 files checked)" in r.stdout


def test_fix_and_diff_on_a_non_utf8_name(odd_names):
    r = run_cli("check", "--no-cache", "--diff", ".", cwd=odd_names)
    assert r.returncode == 1 and "--- a/caf\\xe9.py" in r.stdout
    r = run_cli("check", "--no-cache", "--fix", ".", cwd=odd_names)
    assert r.returncode == 0, r.stderr
    assert "fit(gen)" in (odd_names / CAFE).read_text()


def test_an_unsearchable_subdirectory_is_reported_and_the_rest_linted(open_tmp):
    """As a normal user, a chmod 000 directory made the venv check raise
    PermissionError mid-walk: "All checks passed! (0 files checked)"."""
    bad_file(open_tmp / "a" / "x.py")
    bad_file(open_tmp / "locked" / "w.py")
    bad_file(open_tmp / "z" / "y.py")
    give_away(open_tmp)
    os.chmod(open_tmp / "locked", 0)
    r = run_unprivileged("check", "--no-cache", ".", cwd=open_tmp)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "locked: cannot read directory: Permission denied" in r.stderr
    assert "a/x.py:3:7: KM201" in r.stdout and "z/y.py:3:7: KM201" in r.stdout
    assert "2 files checked" in r.stdout
    assert "Traceback" not in r.stderr


def test_a_pyproject_with_invalid_utf8_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.kmlint]\nselect = ["KM2\xff"]\n')
    bad_file(tmp_path / "a.py")
    r = run_cli("check", ".", cwd=tmp_path)
    assert r.returncode == 2
    assert "pyproject.toml: invalid TOML: not valid UTF-8" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("entry", [
    [], "text", 7, {"content": None}, {"content": "x", "dependencies": []},
    "SAME_CONTENT_BAD_FINDING", "SAME_CONTENT_DEEP",
])
def test_a_cache_entry_of_the_wrong_shape_is_a_miss(tmp_path, monkeypatch, entry):
    monkeypatch.chdir(tmp_path)
    bad_file(tmp_path / "a.py")
    first = run_cli("check", "--output-format", "json", ".", cwd=tmp_path)
    entries = list((tmp_path / CACHE_DIR_NAME).rglob("*.json"))
    assert len(entries) == 1
    good = json.loads(entries[0].read_text())
    if entry == "SAME_CONTENT_BAD_FINDING":  # valid entry, a finding's line is a string
        good["result"]["findings"][0]["line"] = "three"
        text = json.dumps(good)
    elif entry == "SAME_CONTENT_DEEP":
        text = "[" * 100_000 + "]" * 100_000
    else:
        text = json.dumps(entry)
    entries[0].write_text(text)
    again = run_cli("check", "--output-format", "json", ".", cwd=tmp_path)
    assert again.returncode == 1, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)


def test_a_notebook_with_non_string_source_items_is_a_km901(tmp_path):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": ["x = 1\n", 5]}], "metadata": {}}
    (tmp_path / "n.ipynb").write_text(json.dumps(nb))
    (tmp_path / "meta.ipynb").write_text(json.dumps({"cells": [], "metadata": []}))
    bad_file(tmp_path / "a.py")
    r = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "n.ipynb:1:1: KM901 [parse-error] cell 1: source list item 1 is a number, not a string" in r.stdout
    assert "KM000" not in r.stdout and "a.py:3:7: KM201" in r.stdout


def test_a_deeply_nested_notebook_is_a_km901(tmp_path):
    (tmp_path / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    r = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "deep.ipynb:1:1: KM901 [parse-error] notebook JSON is nested too deeply to read" in r.stdout


def test_a_file_replaced_by_a_fifo_after_discovery_does_not_block(tmp_path, monkeypatch):
    """Discovery saw a regular file; by the time it is read it is a FIFO with no
    writer: ``open`` would wait forever."""
    bad_file(tmp_path / "a.py")
    bad_file(tmp_path / "b.py")
    monkeypatch.chdir(tmp_path)
    discover = runner.discover

    def swap(*args, **kwargs):
        for p in discover(*args, **kwargs):
            if p.name == "a.py":
                p.unlink()
                os.mkfifo(p)
            yield p

    monkeypatch.setattr(runner, "discover", swap)
    out: dict = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", runner.run(["."], ConfigResolver(), jobs=1)),
                              daemon=True)
    worker.start()
    worker.join(60)
    if worker.is_alive():  # unblock the reader so the test process can end
        fd = os.open(tmp_path / "a.py", os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("the run blocked on a FIFO")
    res = out["r"]
    assert [(p.path, p.message) for p in res.problems] == [
        ("a.py", "not a regular file any more (a pipe, socket or device); skipped")]
    assert [f.path for f in res.findings] == ["b.py"]


def test_a_fifo_named_explicitly_is_reported_not_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    bad_file(tmp_path / "b.py")
    r = run_cli("check", "--no-cache", "pipe.py", "b.py", cwd=tmp_path)
    assert r.returncode == 2
    assert "pipe.py: not a regular file" in r.stderr and "b.py:3:7: KM201" in r.stdout


def test_an_internal_failure_exits_2_and_the_other_files_are_reported(tmp_path, monkeypatch):
    """A crash in one file's lint is that file's KM000; a crash outside any
    file (here: in the report writer) is exit 2, never 1 ("findings")."""
    bad_file(tmp_path / "a.py")
    bad_file(tmp_path / "boom.py")
    monkeypatch.chdir(tmp_path)
    original = runner.lint_bytes

    def crash_on_boom(data, path, settings, **kw):
        if path == "boom.py":
            raise KeyError("simulated engine bug")
        return original(data, path, settings, **kw)

    monkeypatch.setattr(runner, "lint_bytes", crash_on_boom)
    r = CliRunner().invoke(main, ["check", "--no-cache", "."])
    assert r.exit_code == 2
    assert "a.py:3:7: KM201" in r.output
    assert "boom.py:1:1: KM000" in r.output

    from kmlint import output

    def broken_writer(findings, info):
        raise RuntimeError("simulated writer bug")

    monkeypatch.setitem(output.FORMATS, "json", broken_writer)
    r = CliRunner().invoke(main, ["check", "--no-cache", "--output-format", "json", "a.py"])
    assert r.exit_code == 2
    assert "internal error" in r.output


def test_creating_a_missing_project_module_invalidates_the_cache(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "train.py").write_text('import os\nos.environ["CUDA_VISIBLE_DEVICES"] = "0"\nimport tensorflow as tf\n'
                                       "from gpu_utils import setup_gpu\nsetup_gpu()\n")
    first = run_cli("check", "train.py", cwd=tmp_path)
    assert "KM501" in first.stdout
    assert "KM501" in run_cli("check", "train.py", cwd=tmp_path).stdout  # cached
    (tmp_path / "gpu_utils.py").write_text(
        "import tensorflow as tf\ndef setup_gpu():\n    for gpu in tf.config.list_physical_devices('GPU'):\n"
        "        tf.config.experimental.set_memory_growth(gpu, True)\n")
    cached = run_cli("check", "train.py", cwd=tmp_path)
    fresh = run_cli("check", "--no-cache", "train.py", cwd=tmp_path)
    assert "KM501" not in fresh.stdout
    assert cached.stdout == fresh.stdout


def test_creating_a_missing_package_invalidates_the_cache(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "train.py").write_text('import os\nos.environ["CUDA_VISIBLE_DEVICES"] = "0"\nimport tensorflow as tf\n'
                                       "from utils.gpu import setup_gpu\nsetup_gpu()\n")
    assert "KM501" in run_cli("check", "train.py", cwd=tmp_path).stdout
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "gpu.py").write_text(
        "import tensorflow as tf\ndef setup_gpu():\n    for gpu in tf.config.list_physical_devices('GPU'):\n"
        "        tf.config.experimental.set_memory_growth(gpu, True)\n")
    assert "KM501" not in run_cli("check", "train.py", cwd=tmp_path).stdout


def test_switching_the_output_format_keeps_the_cache(tmp_path, monkeypatch):
    """text then json then text: a file whose findings carry no fix is never
    linted again; one whose fixes lacked located edits is linted once for json
    (which stores the edits), and then text is served from that entry."""
    monkeypatch.chdir(tmp_path)
    for i in range(3):
        (tmp_path / f"nofix{i}.py").write_text("import tensorflow as tf\nx = tf.zeros((10,), dtype=tf.float64)\n")
    bad_file(tmp_path / "fixable.py")
    lints: list[str] = []
    original = runner.lint_bytes

    def counting(data, path, settings, **kw):
        lints.append(path)
        return original(data, path, settings, **kw)

    monkeypatch.setattr(runner, "lint_bytes", counting)
    monkeypatch.setenv("KMLINT_NO_FORK_GUARD", "1")  # count in this process
    invoke = CliRunner().invoke
    text1 = invoke(main, ["check", "-j", "1", "--output-format", "text", "."])
    assert sorted(lints) == ["fixable.py", "nofix0.py", "nofix1.py", "nofix2.py"]
    lints.clear()
    js = invoke(main, ["check", "-j", "1", "--output-format", "json", "."])
    assert lints == [] or lints == ["fixable.py"]
    fixed = [f for f in json.loads(js.output) if f["fix"]]
    assert fixed and all(f["fix"]["edits"] for f in fixed)
    lints.clear()
    text2 = invoke(main, ["check", "-j", "1", "--output-format", "text", "."])
    assert lints == []
    assert text1.output == text2.output


def test_files_over_the_size_budget_are_reported_not_parsed(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nmax-file-size = "1 kB"\n')
    (tmp_path / "big.py").write_text("x = 1\n" * 1000)
    bad_file(tmp_path / "a.py")
    r = run_cli("check", ".", cwd=tmp_path)
    assert r.returncode == 1
    assert "big.py:1:1: KM901 [parse-error] file too large to analyse: 5.9 kB is over the max-file-size budget" in r.stdout
    assert "a.py:3:7: KM201" in r.stdout
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nmax-file-size = "1 MB"\n')
    assert "big.py" not in run_cli("check", ".", cwd=tmp_path).stdout


def _notebook(code: str, output_bytes: int) -> str:
    """A notebook of one code cell whose output embeds ``output_bytes`` of image data."""
    output = {"output_type": "display_data", "metadata": {},
              "data": {"image/png": "A" * output_bytes, "text/plain": ["<Figure>"]}}
    cell = {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": code, "outputs": [output]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_a_notebook_is_measured_by_its_code_not_its_outputs(tmp_path):
    """Real notebooks are megabytes of embedded plots around a few kB of code
    (20 of 615 public notebooks of the audit corpus): the budget applies to the
    code cells, so such a notebook is linted, and one whose code is over the
    budget is still reported, saying that it is the code that is too large."""
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nmax-file-size = "4 kB"\n')
    (tmp_path / "plots.ipynb").write_text(_notebook("model.fit_generator(gen)\n", 20_000))
    (tmp_path / "code.ipynb").write_text(_notebook("x = 1\n" * 1000, 10))
    out = run_cli("check", ".", cwd=tmp_path).stdout
    assert "plots.ipynb:cell 1:line 1:col 7: KM201" in out, out
    assert "plots.ipynb:1:1: KM901" not in out
    assert "file too large to analyse: its code cells hold 5.9 kB, which is over the max-file-size budget" in out
    # a notebook over the raw limit (budget x NOTEBOOK_RAW_FACTOR) is not even read
    (tmp_path / "plots.ipynb").write_text(_notebook("model.fit_generator(gen)\n", 4096 * 40))
    out = run_cli("check", ".", cwd=tmp_path).stdout
    assert "plots.ipynb:1:1: KM901 [parse-error] file too large to analyse" in out, out
