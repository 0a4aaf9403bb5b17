"""Helpers for the robustness tests (issue 14): run kmlint as an unprivileged
user, make trees an unprivileged user can reach, wait for processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import pytest

from tests.helpers import cli_env

NOBODY = 65534

# Run as root, dropping to `nobody` after the imports: the interpreter and the
# site-packages may live where `nobody` cannot read (/root/.pyenv), so
# everything kmlint imports lazily is imported first.
_DROP = r"""
import os, sys
import libcst, click
import kmlint.cli, kmlint.reporting, kmlint.engine.runner, kmlint.output, kmlint.fixer, kmlint.baseline
import kmlint.engine.cache, kmlint.engine.discovery, kmlint.engine.guard
from kmlint.registry import all_rules
from kmlint.engine.cache import code_fingerprint
from kmlint.engine.linter import lint_text
from kmlint.config import Settings
all_rules(); code_fingerprint()
lint_text("import tensorflow as tf\nm = tf.keras.Model()\nm.fit_generator(g)\n", "warm.py", Settings())
os.setgroups([])
os.setgid(%(uid)d)
os.setuid(%(uid)d)
os.chdir(sys.argv[1])
sys.argv = ["kmlint"] + sys.argv[2:]
kmlint.cli.main()
"""


def run_unprivileged(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``kmlint ARGS`` as a user that is not root (root ignores permissions)."""
    if os.geteuid() != 0:
        cmd = [sys.executable, "-m", "kmlint", *args]
    else:
        cmd = [sys.executable, "-c", _DROP % {"uid": NOBODY}, str(cwd), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=cli_env(), timeout=timeout)


@pytest.fixture
def open_tmp():
    """A temporary directory every user can enter (pytest's tmp_path is
    private to root when the tests run as root)."""
    d = Path(tempfile.mkdtemp(prefix="kmlint-robust-"))
    os.chmod(d, 0o777)
    try:
        yield d
    finally:
        for root, dirs, _ in os.walk(d):
            for name in dirs:
                try:
                    os.chmod(os.path.join(root, name), 0o755)
                except OSError:
                    pass
        shutil.rmtree(d, ignore_errors=True)


def give_away(path: Path) -> None:
    """Make a tree readable and writable by `nobody`."""
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), NOBODY, NOBODY)
    os.chown(path, NOBODY, NOBODY)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def children_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


BAD = "import tensorflow as tf\nmodel = tf.keras.Model()\nmodel.fit_generator(gen)\n"


def bad_file(path: Path, text: Optional[str] = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text is not None else BAD)
    return path
