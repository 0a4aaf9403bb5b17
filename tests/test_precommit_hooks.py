"""Both pre-commit hooks through the real ``pre-commit``: a temporary git
repository uses a snapshot of this checkout (working tree included) as its
hook repository, pinned by the README's own snippet: its ``rev`` is the
release tag ``v<version>``, created in the snapshot as it is at a release.  pre-commit pip-installs kmlint into its own environment,
so these are integration tests (marked ``integration``); they run in the
normal suite."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.integration

BAD = "model.fit_generator(gen, steps_per_epoch=10)\n"
CLEAN = "model.fit(gen, steps_per_epoch=10)\n"
UNFIXABLE = "from keras.preprocessing.image import ImageDataGenerator\ngen = ImageDataGenerator()\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "kmlint tests", "GIT_AUTHOR_EMAIL": "tests@kmlint.invalid",
           "GIT_COMMITTER_NAME": "kmlint tests", "GIT_COMMITTER_EMAIL": "tests@kmlint.invalid"}


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV},
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def readme_precommit_config() -> dict:
    """The README's pre-commit snippet, parsed."""
    import yaml

    text = (ROOT / "README.md").read_text(encoding="utf-8").split("## Pre-commit", 1)[1]
    return yaml.safe_load(text.split("```yaml\n", 1)[1].split("```", 1)[0])


def _snapshot_of_checkout(dest: Path, tag: str) -> str:
    """Commit this checkout's current files (tracked and new, not ignored)
    into a fresh repository and tag it (annotated, as a release is); returns
    the commit."""
    files = _git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "snapshot")
    _git(dest, "tag", "-a", tag, "-m", f"kmlint {tag}")
    return _git(dest, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    base = tmp_path_factory.mktemp("precommit")
    hooks = base / "hooks"
    hooks.mkdir()
    config = readme_precommit_config()
    (repo,) = config["repos"]
    _snapshot_of_checkout(hooks, repo["rev"])
    proj = base / "project"
    proj.mkdir()
    # the README's snippet, with the repository's URL replaced by the snapshot
    # and its commented-out alternative hook switched on
    repo["repo"] = str(hooks)
    repo["hooks"].append({"id": "kmlint-fix"})
    (proj / ".pre-commit-config.yaml").write_text(json.dumps(config))  # YAML reads JSON
    (proj / "bad.py").write_text(BAD)
    (proj / "to_fix.py").write_text(BAD)
    (proj / "clean.py").write_text(CLEAN)
    (proj / "legacy.py").write_text(UNFIXABLE)
    _git(proj, "init", "-q")
    _git(proj, "add", "-A")
    _git(proj, "commit", "-q", "-m", "project")
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(base / "cache")}
    env.pop("PYTHONPATH", None)  # the hook must run the kmlint pre-commit installed

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=proj, capture_output=True,
                              text=True, env=env, timeout=900)

    return proj, run


def test_readme_pins_the_release_tag_of_this_version():
    from kmlint import __version__

    (repo,) = readme_precommit_config()["repos"]
    assert repo["rev"] == f"v{__version__}"
    assert [h["id"] for h in repo["hooks"]] == ["kmlint"]
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: kmlint\n" in hooks and "- id: kmlint-fix\n" in hooks


def test_kmlint_hook_fails_on_a_finding_and_passes_a_clean_file(project):
    proj, run = project
    r = run("kmlint", "--files", "bad.py")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "bad.py:1:7: KM201" in r.stdout
    r = run("kmlint", "--files", "clean.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (proj / "bad.py").read_text() == BAD  # the check hook never writes


def test_kmlint_fix_hook_fixes_the_file_and_fails_because_it_changed_it(project):
    proj, run = project
    r = run("kmlint-fix", "--files", "clean.py")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("kmlint-fix", "--files", "to_fix.py")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "files were modified by this hook" in r.stdout
    assert (proj / "to_fix.py").read_text() == CLEAN
    r = run("kmlint-fix", "--files", "to_fix.py")  # nothing left to fix
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("kmlint-fix", "--files", "legacy.py")  # no fix for KM206: the finding fails the hook
    assert r.returncode == 1, r.stdout + r.stderr
    assert "legacy.py:2:7: KM206" in r.stdout
    assert "files were modified" not in r.stdout
    assert (proj / "legacy.py").read_text() == UNFIXABLE
