import json

import pytest

from kmlint.config import ConfigError, ConfigResolver, parse_size
from tests.helpers import run_cli

BAD = "model.fit_generator(g)\nfrom keras.preprocessing.image import ImageDataGenerator\nImageDataGenerator()\n"


def _check(tmp_path, *args):
    r = run_cli("check", "--no-cache", "--output-format", "json", *args, cwd=tmp_path)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip().startswith("[") else None), r.stderr


def test_pyproject_select_and_ignore(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nignore = ["KM206"]\n')
    (tmp_path / "a.py").write_text(BAD)
    rc, data, _ = _check(tmp_path, "a.py")
    assert rc == 1 and {d["code"] for d in data} == {"KM201"}
    # the command line wins over the file
    rc, data, _ = _check(tmp_path, "--select", "KM206", "a.py")
    assert {d["code"] for d in data} == {"KM206"}


def test_kmlint_toml_top_level_keys(tmp_path):
    (tmp_path / "kmlint.toml").write_text('select = ["deprecated-generator-api"]\n')
    (tmp_path / "a.py").write_text(BAD)
    rc, data, _ = _check(tmp_path, "a.py")
    assert {d["code"] for d in data} == {"KM201"}


def test_nearest_config_applies_per_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nselect = ["KM201"]\n')
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[tool.kmlint]\nselect = ["KM206"]\n')
    (tmp_path / "a.py").write_text(BAD)
    (sub / "b.py").write_text(BAD)
    rc, data, _ = _check(tmp_path, ".")
    assert {(d["path"], d["code"]) for d in data} == {("a.py", "KM201"), ("sub/b.py", "KM206")}


def test_pyproject_without_kmlint_table_is_skipped(tmp_path):
    (tmp_path / "kmlint.toml").write_text('select = ["KM206"]\n')
    sub = tmp_path / "pkg"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (sub / "a.py").write_text(BAD)
    rc, data, _ = _check(tmp_path, ".")
    assert {d["code"] for d in data} == {"KM206"}


@pytest.mark.parametrize("body,needle", [
    ('[tool.kmlint]\nselct = ["KM201"]\n', "unknown key 'selct'"),
    ('[tool.kmlint]\nselect = "KM201"\n', "invalid value for 'select'"),
    ('[tool.kmlint]\nselect = ["KM999"]\n', "unknown rule code or name 'KM999' in 'select'"),
    ('[tool.kmlint]\nlarge-tensor-bytes = "lots"\n', "invalid value for 'large-tensor-bytes'"),
    ('[tool.kmlint]\npreview = "yes"\n', "invalid value for 'preview'"),
    ('[tool.kmlint]\nper-file-ignores = { "a.py" = ["nope"] }\n', "unknown rule code or name 'nope' in 'per-file-ignores'"),
    ('[tool.kmlint\n', "invalid TOML"),
])
def test_bad_config_exits_2_naming_file_and_key(tmp_path, body, needle):
    (tmp_path / "pyproject.toml").write_text(body)
    (tmp_path / "a.py").write_text(BAD)
    rc, _, err = _check(tmp_path, "a.py")
    assert rc == 2
    assert "pyproject.toml" in err and needle in err
    assert "Traceback" not in err


def test_explicit_config_option(tmp_path):
    cfg = tmp_path / "custom.toml"
    cfg.write_text('ignore = ["KM201"]\n')
    (tmp_path / "a.py").write_text(BAD)
    rc, data, _ = _check(tmp_path, "--config", str(cfg), "a.py")
    assert {d["code"] for d in data} == {"KM206"}
    rc, _, err = _check(tmp_path, "--config", str(tmp_path / "missing.toml"), "a.py")
    assert rc == 2 and "missing.toml" in err


def test_per_file_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nper-file-ignores = { "tests/*" = ["KM2"] }\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text(BAD)
    (tmp_path / "a.py").write_text(BAD)
    rc, data, _ = _check(tmp_path, ".")
    assert {d["path"] for d in data} == {"a.py"}


def test_sizes():
    assert parse_size(123) == 123
    assert parse_size("100MB") == 100_000_000
    assert parse_size("1 GiB") == 2**30
    assert parse_size("1.5GB") == 1_500_000_000
    with pytest.raises(ValueError):
        parse_size("big")
    with pytest.raises(ValueError):
        parse_size(True)


def test_threshold_reaches_settings(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nlarge-tensor-bytes = "5MB"\nprefetch-batches = 8\n')
    s = ConfigResolver().for_dir(tmp_path)
    assert s.large_tensor_bytes == 5_000_000 and s.prefetch_batches == 8
    assert s.config_path == (tmp_path / "pyproject.toml").resolve()


def test_resolver_reports_errors_as_config_error(tmp_path):
    (tmp_path / "kmlint.toml").write_text("unknown = 1\n")
    with pytest.raises(ConfigError):
        ConfigResolver().for_dir(tmp_path)
