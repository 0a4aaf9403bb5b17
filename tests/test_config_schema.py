"""The JSON schema of ``[tool.kmlint]`` (kmlint/kmlint.schema.json): generated
from the configuration code, in sync, a valid draft-07 schema, accepting the
real configurations of this repository, and accepting exactly the tables that
kmlint itself accepts."""

from __future__ import annotations

import json
import re
import sys

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

jsonschema = pytest.importorskip("jsonschema")

from kmlint.config import KEY_DOCS, KEYS, ConfigError, Settings, apply_table, parse_size  # noqa: E402
from kmlint.config_schema import SCHEMA_PATH, json_schema, schema_text  # noqa: E402
from kmlint.registry import all_rules  # noqa: E402
from tests.helpers import ROOT  # noqa: E402


def validator():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_shipped_schema_is_generated_from_the_config_code():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), "run `python -m kmlint.docs` to refresh it"


def test_every_key_is_described_and_in_the_schema():
    props = json_schema()["properties"]
    assert set(props) == set(KEYS) | {"extend"} == set(KEY_DOCS)
    assert all(p["description"] for p in props.values())
    assert props["large-tensor-bytes"]["default"] == Settings().large_tensor_bytes
    assert props["respect-gitignore"]["default"] is True


def _real_configs():
    """[tool.kmlint] of every pyproject.toml under fixtures/ that has one, every
    kmlint.toml there, and the README's example (its `extend` line uncommented)."""
    out = []
    for p in sorted((ROOT / "fixtures").rglob("*.toml")):
        data = tomllib.loads(p.read_text(encoding="utf-8"))
        if p.name == "pyproject.toml":
            if "kmlint" in data.get("tool", {}):
                out.append((str(p.relative_to(ROOT)), data["tool"]["kmlint"]))
        elif p.name in ("kmlint.toml", ".kmlint.toml"):
            out.append((str(p.relative_to(ROOT)), data))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    block = block.replace('# extend = "../pyproject.toml"', 'extend = "../pyproject.toml"')
    out.append(("README.md", tomllib.loads(block)["tool"]["kmlint"]))
    return out


def test_real_configurations_validate():
    configs = _real_configs()
    assert any(name.startswith("fixtures/") for name, _ in configs)
    v = validator()
    for name, table in configs:
        errors = [e.message for e in v.iter_errors(table)]
        assert errors == [], (name, errors)
    readme = dict(configs)["README.md"]
    assert "extend" in readme and len(readme) >= len(KEYS) - 2


def _kmlint_accepts(table: dict, tmp_path) -> bool:
    cfg = tmp_path / "kmlint.toml"
    cfg.write_text("")
    (tmp_path / "base.toml").write_text("")
    try:
        apply_table(Settings(root=tmp_path), table, cfg)
    except ConfigError:
        return False
    return True


CASES = [
    {},
    {"select": ["KM201", "KM2", "km3", "ALL", "all", "predict-in-loop", " KM101 "]},
    {"select": ["KM7"]},
    {"select": ["KM2015"]},
    {"select": ["predict_in_loop"]},
    {"select": "KM201"},
    {"ignore": ["KM900"], "extend-select": ["KM9"]},
    {"per-file-ignores": {"tests/*": ["KM203"], "nb/*.ipynb": ["KM3", "large-tensor-undeleted"]}},
    {"per-file-ignores": {"tests/*": ["KM999"]}},
    {"per-file-ignores": {"tests/*": "KM203"}},
    {"exclude": [".git"], "extend-exclude": ["scratch"], "respect-gitignore": False, "preview": True},
    {"respect-gitignore": "yes"},
    {"large-tensor-bytes": "100MB", "cache-bytes": "1 GiB", "shuffle-buffer-bytes": 1024,
     "from-tensor-slices-bytes": "1.5gb", "max-file-size": 0},
    {"large-tensor-bytes": "1iB"},
    {"cache-bytes": "-1MB"},
    {"cache-bytes": -1},
    {"cache-bytes": "lots"},
    {"cache-bytes": 1.5},
    {"cache-bytes": True},
    {"prefetch-batches": 8, "tiny-loop-iterations": 0, "jobs": 2},
    {"jobs": -1},
    {"jobs": "2"},
    {"cache-dir": ".cache", "baseline": "kmlint-baseline.json"},
    {"baseline": 3},
    {"extend": "base.toml", "select": ["KM1"]},
    {"extend": 3},
    {"unknown-key": 1},
    {"cache_bytes": "1GiB"},
]


@pytest.mark.parametrize("table", CASES, ids=lambda t: json.dumps(t)[:60])
def test_schema_accepts_exactly_what_kmlint_accepts(table, tmp_path):
    assert validator().is_valid(table) == _kmlint_accepts(table, tmp_path)


@pytest.mark.parametrize("text", ["100MB", "1 GiB", "1.5gb", "10 kib", " 7b ", "12TB", "100", "0",
                                  "1iB", "MB", "-1", "1e3", "1 G", "1..5MB", "1 MiBB", ""])
def test_size_pattern_agrees_with_parse_size(text):
    pattern = json_schema()["definitions"]["size"]["anyOf"][1]["pattern"]
    try:
        parse_size(text)
        accepted = True
    except ValueError:
        accepted = False
    assert bool(re.search(pattern, text)) == accepted


def test_every_rule_code_and_name_is_offered_for_completion():
    offered = set(json_schema()["definitions"]["selector"]["anyOf"][0]["enum"])
    assert {r.code for r in all_rules()} | {r.name for r in all_rules()} | {"ALL"} <= offered


# ----------------------------------------------------------------- in a real TOML toolkit


def _taplo():
    import shutil
    from pathlib import Path

    local = Path(sys.executable).parent / "taplo"
    return str(local) if local.is_file() else shutil.which("taplo")


def _toml_body(text: str, header: str) -> str:
    """The lines of a TOML text after ``header`` up to the next table."""
    lines = text.split(header + "\n", 1)[1].splitlines()
    body = []
    for line in lines:
        if line.startswith("["):
            break
        body.append(line)
    return "\n".join(body) + "\n"


def test_taplo_checks_kmlint_toml_against_the_schema(tmp_path):
    """Taplo (the TOML toolkit behind VS Code's Even Better TOML) reads the
    schema from a `#:schema` first line: the real configurations pass, and
    each mistake is reported on its key or value."""
    import subprocess

    taplo = _taplo()
    if taplo is None:
        pytest.skip("needs taplo (pip install taplo; in the test extra)")
    header = f"#:schema {SCHEMA_PATH.as_uri()}\n"
    demo = _toml_body((ROOT / "fixtures" / "demo" / "pyproject.toml").read_text(encoding="utf-8"), "[tool.kmlint]")
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1]
    readme = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    readme = _toml_body(readme.replace('# extend = "../pyproject.toml"', 'extend = "../pyproject.toml"'), "[tool.kmlint]")
    assert "large-tensor-bytes" in demo and "extend = " in readme

    def lint(name: str, body: str) -> subprocess.CompletedProcess:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "kmlint.toml").write_text(header + body, encoding="utf-8")
        return subprocess.run([taplo, "lint", "--no-auto-config", "--colors", "never", "kmlint.toml"], cwd=folder,
                              capture_output=True, text=True, timeout=120)

    for name, body in (("demo", demo), ("readme", readme)):
        r = lint(name, body)
        assert r.returncode == 0, (name, r.stdout + r.stderr)
    for name, body, needle in (("code", 'select = ["KM201", "KM999"]\n', '"KM999"'),
                               ("size", 'cache-bytes = "1iB"\n', '"1iB"'),
                               ("key", "cache_bytes = 1\n", "'cache_bytes' was unexpected"),
                               ("type", "preview = 1\n", "preview = 1")):
        r = lint(name, body)
        assert r.returncode != 0 and needle in r.stdout + r.stderr, (name, r.stdout + r.stderr)
