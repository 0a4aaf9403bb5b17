import json

from tests.helpers import run_cli


def test_exit_codes_and_text_format(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("model.fit_generator(gen, steps_per_epoch=10)\n")
    clean = tmp_path / "clean.py"
    clean.write_text("x = 1\n")
    r = run_cli("check", "--no-cache", str(bad), cwd=tmp_path)
    assert r.returncode == 1
    assert "bad.py:1:7: KM201 [*] [deprecated-generator-api]" in r.stdout
    assert "Found 1 finding in 1 file checked." in r.stdout
    r = run_cli("check", "--no-cache", str(clean), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("check", "--no-cache", "--exit-zero", str(bad), cwd=tmp_path)
    assert r.returncode == 0


def test_usage_errors_exit_2(tmp_path):
    r = run_cli("check", "--select", "KM999", str(tmp_path))
    assert r.returncode == 2
    assert "KM999" in r.stderr
    r = run_cli("check", "--no-such-option")
    assert r.returncode == 2
    r = run_cli("check", str(tmp_path / "missing.py"))
    assert r.returncode == 2
    assert "missing.py" in r.stderr


def test_json_format(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\nmodel.predict_generator(gen, steps=n // 32)\n")
    r = run_cli("check", "--no-cache", "--output-format", "json", "bad.py", cwd=tmp_path)
    data = json.loads(r.stdout)
    f = [d for d in data if d["code"] == "KM201"][0]
    assert f["path"] == "bad.py"
    assert (f["line"], f["column"], f["end_line"], f["end_column"]) == (2, 7, 2, 24)
    assert f["fix"]["applicability"] == "safe"
    assert set(f) >= {"code", "name", "message", "severity", "path", "line", "column", "end_line", "end_column", "fix"}


def test_stdin(tmp_path):
    r = run_cli("check", "--no-cache", "-", "--stdin-filename", "nb_snippet.py", input="model.fit_generator(g)\n", cwd=tmp_path)
    assert r.returncode == 1
    assert "nb_snippet.py:1:7: KM201" in r.stdout


def test_selectors_accept_codes_prefixes_and_names(tmp_path):
    src = tmp_path / "a.py"
    src.write_text("from keras.preprocessing.image import ImageDataGenerator\ng = ImageDataGenerator()\nmodel.fit_generator(g)\n")
    for sel, expected in [("KM201", {"KM201"}), ("KM2", {"KM201", "KM206"}), ("legacy-image-data-generator", {"KM206"})]:
        r = run_cli("check", "--no-cache", "--output-format", "json", "--select", sel, str(src), cwd=tmp_path)
        assert {d["code"] for d in json.loads(r.stdout)} == expected
    r = run_cli("check", "--no-cache", "--output-format", "json", "--ignore", "KM206", str(src), cwd=tmp_path)
    assert {d["code"] for d in json.loads(r.stdout)} == {"KM201"}


def test_rules_and_rule_commands():
    r = run_cli("rules")
    assert r.returncode == 0
    assert "KM201" in r.stdout and "deprecated-generator-api" in r.stdout
    r = run_cli("rule", "KM201")
    assert r.returncode == 0 and r.stdout.startswith("# deprecated-generator-api (KM201)")
    r = run_cli("rule", "KM999")
    assert r.returncode == 2
