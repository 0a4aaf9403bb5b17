"""kmlint as a user installs it: the sdist and wheel built from this checkout
with the standard front end (``python -m build``: the sdist first, then the
wheel from the unpacked sdist, so a file missing from the sdist breaks the
wheel), and the wheel installed into a fresh virtual environment (no system
site-packages, dependencies from the package index), where ``kmlint
--version`` is read from the installed package's metadata and the installed
command lints, documents its rules from the packaged dossiers and ships the
config schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from kmlint import __version__
from kmlint.registry import all_rules
from tests.helpers import ROOT

pytestmark = pytest.mark.integration


def _run(*args, cwd=None, timeout=900):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    pytest.importorskip("build")
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("dist")
    # no isolation: the build backend (hatchling) comes from the test extra
    r = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (sdist,) = out.glob("kmlint-*.tar.gz")
    (wheel,) = out.glob("kmlint-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    _, wheel = dist
    base = tmp_path_factory.mktemp("venv")
    env_dir = base / "venv"
    r = _run(sys.executable, "-m", "venv", str(env_dir))
    assert r.returncode == 0, r.stderr
    py = env_dir / "bin" / "python"
    r = _run(str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return py, env_dir / "bin" / "kmlint"


def test_sdist_and_wheel_are_named_by_the_version_and_carry_the_data(dist):
    sdist, wheel = dist
    assert sdist.name == f"kmlint-{__version__}.tar.gz"
    assert wheel.name.startswith(f"kmlint-{__version__}-") and wheel.name.endswith("-py3-none-any.whl")
    dossiers = [f"{r.code}-{r.name}" for r in all_rules()]
    with tarfile.open(sdist) as tar:
        in_sdist = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "kmlint/cli.py", "kmlint/kmlint.schema.json"} <= in_sdist
    assert {f"rules/{d}/README.md" for d in dossiers} <= in_sdist
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
        entry_points = whl.read(f"kmlint-{__version__}.dist-info/entry_points.txt").decode()
        metadata = whl.read(f"kmlint-{__version__}.dist-info/METADATA").decode()
    assert {"kmlint/cli.py", "kmlint/catalog.py", "kmlint/kmlint.schema.json", "kmlint/knowledge/tfds.json"} <= in_wheel
    assert {f"kmlint/_rules/{d}/README.md" for d in dossiers} <= in_wheel
    assert "kmlint = kmlint.__main__:main" in entry_points
    assert f"\nVersion: {__version__}\n" in metadata and "Provides-Extra: lsp" in metadata


def test_the_installed_wheel_works_and_its_version_comes_from_metadata(venv, tmp_path):
    py, kmlint = venv
    r = _run(str(kmlint), "--version", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"kmlint {__version__}"
    # the package is the installed one, not this checkout
    site = Path(_run(str(py), "-c", "import kmlint, os; print(os.path.dirname(os.path.dirname(kmlint.__file__)))",
                     cwd=tmp_path).stdout.strip())
    assert site != ROOT and (site / "kmlint" / "__init__.py").is_file()
    # the installed command lints, documents rules from the packaged dossiers, ships the schema
    (tmp_path / "a.py").write_text("model.fit_generator(gen)\n")
    r = _run(str(kmlint), "check", "--no-cache", "--output-format", "concise", "a.py", cwd=tmp_path)
    assert r.returncode == 1 and "a.py:1:7: KM201" in r.stdout, r.stdout + r.stderr
    r = _run(str(kmlint), "rule", "KM201", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("# deprecated-generator-api (KM201)")
    r = _run(str(py), "-c", "import json, kmlint.config_schema as s; print(json.load(open(s.SCHEMA_PATH))['title'])",
             cwd=tmp_path)
    assert r.stdout.strip() == "kmlint configuration", r.stderr
    (tmp_path / "kmlint.toml").write_text('select = ["KM2"]\n')
    r = _run(str(kmlint), "check", "--no-cache", "--output-format", "json", "a.py", cwd=tmp_path)
    assert [f["code"] for f in json.loads(r.stdout)] == ["KM201"]

    # the metadata is what is read: a version stamped into it at install time shows
    metadata = next(site.glob("kmlint-*.dist-info")) / "METADATA"
    metadata.write_text(metadata.read_text().replace(f"Version: {__version__}\n", "Version: 9.9.9.post1\n", 1))
    r = _run(str(kmlint), "--version", cwd=tmp_path)
    assert r.stdout.strip() == "kmlint 9.9.9.post1"
