"""Baselines through the CLI: --write-baseline, --baseline, the `baseline`
config key, fingerprints that survive unrelated edits, stale entries."""

from __future__ import annotations

import json

from tests.helpers import run_cli

LEGACY = (
    "from tensorflow import keras\n"
    "model = keras.Sequential()\n"
    "model.fit_generator(train_gen, epochs=3)\n"
    "model.evaluate_generator(val_gen)\n"
)


def _codes(stdout: str) -> list[tuple[str, int, str]]:
    return [(d["path"], d["line"], d["code"]) for d in json.loads(stdout)]


def _write(tmp_path, text=LEGACY):
    (tmp_path / "train.py").write_text(text)
    r = run_cli("check", "--no-cache", "--write-baseline", "kmlint-baseline.json", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "wrote 2 findings to baseline kmlint-baseline.json" in r.stderr
    return json.loads((tmp_path / "kmlint-baseline.json").read_text())


def _check(tmp_path, *extra):
    return run_cli("check", "--no-cache", "--output-format", "json", "--baseline", "kmlint-baseline.json", *extra,
                   ".", cwd=tmp_path)


def test_write_baseline_records_findings_and_baseline_hides_them(tmp_path):
    data = _write(tmp_path)
    assert [(e["code"], e["path"], e["line"]) for e in data["findings"]] == [("KM201", "train.py", 3),
                                                                            ("KM201", "train.py", 4)]
    r = _check(tmp_path)
    assert (r.returncode, json.loads(r.stdout)) == (0, []), r.stderr
    assert r.stderr == ""


def test_fingerprints_survive_code_inserted_above_and_moved_lines(tmp_path):
    _write(tmp_path)
    lines = LEGACY.splitlines(keepends=True)
    # code inserted above, the two statements swapped, whitespace and a comment changed on a flagged line
    moved = lines[2].replace("train_gen, epochs=3)", "train_gen,  epochs=3)  # TODO: migrate")
    (tmp_path / "train.py").write_text("import os\n\n# data\n" + lines[0] + lines[1] + "x = 1\n" + lines[3] + "\n" + moved)
    r = _check(tmp_path)
    assert (r.returncode, json.loads(r.stdout)) == (0, []), r.stdout + r.stderr


def test_a_changed_flagged_statement_is_new_and_its_old_entry_is_reported_fixed(tmp_path):
    _write(tmp_path)
    (tmp_path / "train.py").write_text(LEGACY.replace("epochs=3", "epochs=30"))
    r = _check(tmp_path)
    assert r.returncode == 1
    assert _codes(r.stdout) == [("train.py", 3, "KM201")]
    assert "1 baseline entry no longer matches any finding" in r.stderr
    assert "train.py: KM201 (line 3 when recorded)" in r.stderr
    assert "hint: rewrite the baseline with `kmlint check --write-baseline kmlint-baseline.json`" in r.stderr


def test_a_second_identical_statement_is_a_new_finding(tmp_path):
    _write(tmp_path)
    (tmp_path / "train.py").write_text(LEGACY + "model.evaluate_generator(val_gen)\n")
    r = _check(tmp_path)
    assert r.returncode == 1
    assert _codes(r.stdout) == [("train.py", 5, "KM201")]  # occurrence 2 of that statement


def test_fixed_findings_are_reported_as_stale_after_fix(tmp_path):
    _write(tmp_path)
    r = run_cli("check", "--no-cache", "--fix", "--baseline", "kmlint-baseline.json", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 baseline entries no longer match any finding" in r.stderr


def test_only_files_and_rules_checked_in_this_run_can_have_stale_entries(tmp_path):
    _write(tmp_path)
    (tmp_path / "other.py").write_text("x = 1\n")
    r = run_cli("check", "--no-cache", "--baseline", "kmlint-baseline.json", "other.py", cwd=tmp_path)
    assert r.returncode == 0 and "no longer match" not in r.stderr
    r = run_cli("check", "--no-cache", "--baseline", "kmlint-baseline.json", "--select", "KM206", ".", cwd=tmp_path)
    assert r.returncode == 0 and "no longer match" not in r.stderr


def test_baseline_config_key_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nbaseline = "ci/kmlint-baseline.json"\n')
    (tmp_path / "ci").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(LEGACY)
    r = run_cli("check", "--no-cache", "--write-baseline", "ci/kmlint-baseline.json", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "ci" / "kmlint-baseline.json").read_text())["findings"][0]["path"] == "../src/train.py"
    # from a subdirectory the configured baseline is still found and still matches
    r = run_cli("check", "--no-cache", ".", cwd=tmp_path / "src")
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "src" / "train.py").write_text(LEGACY + "model.predict_generator(test_gen)\n")
    r = run_cli("check", "--no-cache", ".", cwd=tmp_path / "src")
    assert r.returncode == 1 and "train.py:5:7: KM201" in r.stdout


def test_notebook_findings_are_baselined_by_cell_content(tmp_path):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "a", "metadata": {}, "outputs": [],
                     "source": ["model.fit_generator(gen)\n"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    r = run_cli("check", "--no-cache", "--write-baseline", "kmlint-baseline.json", ".", cwd=tmp_path)
    assert r.returncode == 0
    nb["cells"].insert(0, {"cell_type": "markdown", "id": "m", "metadata": {}, "source": ["# intro"]})
    nb["cells"][1]["source"].insert(0, "import numpy as np\n")
    (tmp_path / "nb.ipynb").write_text(json.dumps(nb))
    r = _check(tmp_path)
    assert (r.returncode, json.loads(r.stdout)) == (0, []), r.stderr


def test_bad_baseline_files_are_clear_errors(tmp_path):
    (tmp_path / "train.py").write_text(LEGACY)
    r = _check(tmp_path)
    assert r.returncode == 2 and "baseline file kmlint-baseline.json not found" in r.stderr
    (tmp_path / "kmlint-baseline.json").write_text("{not json")
    r = _check(tmp_path)
    assert r.returncode == 2 and "is not valid JSON" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "kmlint-baseline.json").write_text('{"findings": []}')
    r = _check(tmp_path)
    assert r.returncode == 2 and "is not a kmlint baseline" in r.stderr
    (tmp_path / "pyproject.toml").write_text("[tool.kmlint]\nbaseline = 3\n")
    r = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    assert r.returncode == 2 and "'baseline'" in r.stderr
