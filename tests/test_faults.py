"""Faults are contained: a crashing rule or engine bug costs one file (an
internal-error finding naming rule and file, exit 2), and unreadable files,
pipes, broken or looping symbolic links, directories named like files and
files deleted during the run give a clear message, never a traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmlint import registry
from kmlint.cli import main
from kmlint.config import ConfigResolver
from kmlint.engine import linter, runner
from kmlint.registry import Rule
from tests.helpers import run_cli

BAD = "model.fit_generator(gen)\n"


class CrashesOnBoom(Rule):
    code = "KM998"
    name = "test-crashes-on-boom"
    summary = "registered by tests/test_faults.py only"

    def check_module(self, model, ctx) -> None:
        if "boom" in model.source:
            raise ValueError("boom")


@pytest.fixture
def crashing_rule(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, CrashesOnBoom.code, CrashesOnBoom)
    monkeypatch.setitem(registry.catalog(), CrashesOnBoom.code,
                        registry.RuleMeta(CrashesOnBoom.code, CrashesOnBoom.name, CrashesOnBoom.summary))
    monkeypatch.setattr(linter, "_RULE_INSTANCES", {})


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text(BAD + "boom = 1\n")
    (tmp_path / "b.py").write_text(BAD)
    return tmp_path


def invoke(*args):
    result = CliRunner().invoke(main, ["check", "--no-cache", *args], catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_a_crashing_rule_costs_one_rule_on_one_file(project, crashing_rule):
    result = invoke("a.py", "b.py")
    assert result.exit_code == 2
    assert "a.py:1:7: KM201" in result.output and "b.py:1:7: KM201" in result.output
    assert "internal error: a.py: rule KM998 (test-crashes-on-boom) crashed on this file: ValueError: boom" in result.output
    assert "b.py: rule KM998" not in result.output


def test_a_crashing_rule_in_a_worker_process(project, crashing_rule):
    for i in range(12):
        (project / f"m{i}.py").write_text(BAD + ("boom = 2\n" if i == 5 else ""))
    res = runner.run(["."], ConfigResolver(), use_cache=False, jobs=2)
    crashed = [f for f in res.findings if f.code == "KM000"]
    assert sorted(f.path for f in crashed) == ["a.py", "m5.py"]
    assert len([f for f in res.findings if f.code == "KM201"]) == 14
    assert res.internal_errors == 2


def test_an_engine_bug_costs_one_file(project, monkeypatch):
    original = linter.lint_text

    def broken(text, path, settings, **kw):
        if path == "a.py":
            raise KeyError("engine bug")
        return original(text, path, settings, **kw)

    monkeypatch.setattr(linter, "lint_text", broken)
    result = invoke("a.py", "b.py")
    assert result.exit_code == 2
    assert "b.py:1:7: KM201" in result.output
    assert "internal error: a.py: kmlint crashed on this file: KeyError" in result.output
    stdin = CliRunner().invoke(main, ["check", "--no-cache", "-", "--stdin-filename", "a.py"], input=BAD)
    assert stdin.exit_code == 2 and "kmlint crashed on this file" in stdin.output


def test_unreadable_file_and_directory(project, monkeypatch):
    (project / "pkg").mkdir()
    (project / "pkg" / "c.py").write_text(BAD)
    (project / "secret").mkdir()
    (project / "secret" / "d.py").write_text(BAD)
    os_open, scandir = os.open, os.scandir

    def denied_file(path, *args, **kwargs):  # source files are read with os.open (never blocking)
        if os.path.basename(path) == "a.py":
            raise PermissionError(13, "Permission denied")
        return os_open(path, *args, **kwargs)

    def denied_dir(path):
        if Path(path).name == "secret":
            raise PermissionError(13, "Permission denied")
        return scandir(path)

    monkeypatch.setattr(os, "open", denied_file)
    monkeypatch.setattr(os, "scandir", denied_dir)
    result = invoke(".")
    assert result.exit_code == 2
    assert "a.py: cannot read: Permission denied" in result.output
    assert "secret: cannot read directory: Permission denied" in result.output
    assert "b.py:1:7: KM201" in result.output and "pkg/c.py:1:7: KM201" in result.output


@pytest.mark.parametrize("use_cache", [False, True])
def test_files_deleted_during_the_run(project, monkeypatch, use_cache):
    for i in range(10):
        (project / f"m{i}.py").write_text(BAD)
    discover = runner.discover

    def then_delete(*args):
        files = list(discover(*args))
        (project / "m3.py").unlink()
        (project / "a.py").unlink()
        return iter(files)

    monkeypatch.setattr(runner, "discover", then_delete)
    res = runner.run(["."], ConfigResolver(), use_cache=use_cache, jobs=2)
    assert sorted((p.path, p.message) for p in res.problems) == [
        ("a.py", "file disappeared while kmlint was running"),
        ("m3.py", "file disappeared while kmlint was running")]
    assert res.files == 10 and len(res.findings) == 10


@pytest.mark.skipif(not hasattr(os, "mkfifo") or sys.platform == "win32", reason="needs POSIX")
def test_pipes_links_loops_and_directories_named_like_files(tmp_path):
    (tmp_path / "ok.py").write_text(BAD)
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "missing.py")
    (tmp_path / "self.py").symlink_to(tmp_path / "self.py")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)  # a directory loop
    (tmp_path / "pkg.py").mkdir()  # a directory named like a file
    (tmp_path / "pkg.py" / "inner.py").write_text(BAD)
    walk = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    assert walk.returncode == 1, walk.stderr  # findings, and nothing to complain about
    assert "Traceback" not in walk.stderr
    assert sorted(line.split(":")[0] for line in walk.stdout.splitlines() if "KM201" in line) == ["ok.py", "pkg.py/inner.py"]
    named = run_cli("check", "--no-cache", "pipe.py", "dangling.py", "self.py", "pkg.py", "ok.py", cwd=tmp_path)
    assert named.returncode == 2 and "Traceback" not in named.stderr
    assert "pipe.py: not a regular file" in named.stderr
    assert "dangling.py: broken symbolic link" in named.stderr
    assert "self.py: broken symbolic link" in named.stderr
    assert "pkg.py/inner.py:1:7: KM201" in named.stdout and "ok.py:1:7: KM201" in named.stdout
