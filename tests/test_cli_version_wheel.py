"""`kmlint --version` of a wheel built from this checkout and installed into a
fresh virtual environment: it is read from the installed package's metadata."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.integration


def _run(*args, cwd=None, timeout=600):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_version_of_the_installed_wheel_comes_from_its_metadata(tmp_path):
    from kmlint import __version__

    venv = tmp_path / "venv"
    r = _run(sys.executable, "-m", "venv", "--system-site-packages", str(venv))
    assert r.returncode == 0, r.stderr
    py = venv / "bin" / "python"
    r = _run(str(py), "-m", "pip", "install", "-q", "hatchling")
    if r.returncode != 0:
        pytest.skip(f"hatchling (the build backend) cannot be installed here: {r.stderr[-300:]}")
    dist = tmp_path / "dist"
    r = _run(str(py), "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT))
    assert r.returncode == 0, r.stderr
    wheels = list(dist.glob("kmlint-*.whl"))
    assert len(wheels) == 1 and wheels[0].name.startswith(f"kmlint-{__version__}-")
    r = _run(str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheels[0]))
    assert r.returncode == 0, r.stderr
    kmlint = venv / "bin" / "kmlint"
    r = _run(str(kmlint), "--version", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"kmlint {__version__}"
    # the metadata is what is read: a version stamped into it at install time shows
    site = Path(_run(str(py), "-c", "import kmlint, os; print(os.path.dirname(os.path.dirname(kmlint.__file__)))",
                     cwd=tmp_path).stdout.strip())
    assert site != ROOT and (site / "kmlint" / "__init__.py").is_file()
    metadata = next(site.glob("kmlint-*.dist-info")) / "METADATA"
    metadata.write_text(metadata.read_text().replace(f"Version: {__version__}\n", "Version: 9.9.9.post1\n", 1))
    r = _run(str(kmlint), "--version", cwd=tmp_path)
    assert r.stdout.strip() == "kmlint 9.9.9.post1"
    # and the installed command lints
    (tmp_path / "a.py").write_text("model.fit_generator(gen)\n")
    r = _run(str(kmlint), "check", "--no-cache", "--output-format", "concise", "a.py", cwd=tmp_path)
    assert r.returncode == 1 and "a.py:1:7: KM201" in r.stdout
