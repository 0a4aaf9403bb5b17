"""Issue 14, sections 2 and 3: a native crash costs one file on every path,
and no process outlives kmlint.

The crash input is real: a 64 kB chain of ~16,000 ``not``s over a dozen
backslash-continued lines makes libcst's native parser overflow its C stack
(SIGSEGV).  Engine v2 (CPython's ``ast``) refuses such code cleanly; the tests
stay, since any native extension may crash on some input."""

from __future__ import annotations

import faulthandler
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kmlint.cli import main
from kmlint.config import ConfigResolver
from kmlint.engine import guard, runner
from tests.helpers import cli_env, run_cli
from tests.robust_support import BAD, bad_file, children_of, wait_gone

CRASH_REASON = "the process analysing it crashed (SIGSEGV"


def crashing_source() -> str:
    line = "not " * 1240
    return "x = " + " \\\n".join([line] * 13) + " y\n"


@pytest.fixture
def crash_tree(tmp_path):
    (tmp_path / "crash.py").write_text(crashing_source())
    bad_file(tmp_path / "a.py")
    bad_file(tmp_path / "b.py")
    return tmp_path


def _segfaults_unguarded(tmp_path: Path) -> bool:
    """The input still crashes the parser (engine v2 may remove the cause)."""
    env = cli_env({**os.environ, guard.NO_GUARD_ENV: "1"})
    r = subprocess.run([sys.executable, "-m", "kmlint", "check", "--no-cache", "crash.py"], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=300)
    return r.returncode == -signal.SIGSEGV


def test_the_crash_input_really_crashes_without_the_guard(crash_tree):
    if not _segfaults_unguarded(crash_tree):
        pytest.skip("the parser no longer crashes on this input (engine v2?): the guard tests below still run")


def test_one_file_that_crashes_the_parser_is_its_km000(crash_tree):
    r = run_cli("check", "--no-cache", "crash.py", cwd=crash_tree)
    assert r.returncode in (1, 2), r.stderr  # 2 when it crashed (KM000), 1 if a later parser reports KM901
    if r.returncode == 2:
        assert f"crash.py:1:1: KM000 [internal-error] kmlint crashed on this file: {CRASH_REASON}" in r.stdout


@pytest.mark.parametrize("args", [
    ["crash.py", "a.py", "b.py"],  # pre-commit's few staged files
    ["--force-exclude", "crash.py", "a.py", "b.py"],
    ["-j", "1", "."],
    ["-j", "2", "."],
])
def test_a_crash_costs_one_file_and_the_others_are_reported(crash_tree, args):
    r = run_cli("check", "--no-cache", *args, cwd=crash_tree)
    assert "a.py:3:7: KM201" in r.stdout and "b.py:3:7: KM201" in r.stdout, r.stdout + r.stderr
    assert "crash.py:1:1: KM" in r.stdout
    assert r.returncode == (2 if "KM000" in r.stdout else 1)


def test_stdin_that_crashes_the_parser_is_reported(crash_tree):
    r = subprocess.run([sys.executable, "-m", "kmlint", "check", "--no-cache", "-", "--stdin-filename", "ed.py"],
                       input=crashing_source(), capture_output=True, text=True, env=cli_env(), timeout=300,
                       cwd=crash_tree)
    assert "ed.py:1:1: KM" in r.stdout, r.stderr
    assert r.returncode != -signal.SIGSEGV


def test_stdin_fix_that_crashes_echoes_the_source_unchanged(crash_tree):
    source = crashing_source()
    r = subprocess.run([sys.executable, "-m", "kmlint", "check", "--fix", "-"], input=source,
                       capture_output=True, text=True, env=cli_env(), timeout=300, cwd=crash_tree)
    assert r.stdout == source  # an editor replaces its buffer with this
    assert "-:1:1: KM" in r.stderr


def test_fix_goes_on_fixing_the_other_files_after_a_crash(crash_tree):
    r = run_cli("check", "--fix", "crash.py", "a.py", "b.py", cwd=crash_tree)
    assert "fit(gen)" in (crash_tree / "a.py").read_text()
    assert "fit(gen)" in (crash_tree / "b.py").read_text()
    assert (crash_tree / "crash.py").read_text() == crashing_source()
    assert "Fixed 2 findings in 2 files." in r.stdout + r.stderr


def test_the_guard_returns_values_and_exceptions():
    assert guard.guarded(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        guard.guarded(lambda: 1 / 0)
    with pytest.raises(guard.Crashed, match="SIGABRT"):
        guard.guarded(lambda: (faulthandler.disable(), os.abort()))  # no dump of pytest's stack
    with pytest.raises(guard.Crashed, match="exited with status 3"):
        guard.guarded(os._exit, 3)


def test_workers_are_capped_at_the_cores_and_the_files(tmp_path, monkeypatch):
    """`jobs = 100000` in a pyproject started one process per file."""
    (tmp_path / "pyproject.toml").write_text("[tool.kmlint]\njobs = 100000\n")
    for i in range(runner.MIN_FILES_FOR_POOL + 4):
        bad_file(tmp_path / f"m{i}.py")
    monkeypatch.chdir(tmp_path)
    sizes: list[int] = []
    real_pool = runner._pool

    def recording(workers):
        sizes.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(runner, "_pool", recording)
    r = CliRunner().invoke(main, ["check", "--no-cache", "."])
    assert r.exit_code == 1
    assert sizes == [min(runner.default_jobs(), runner.MIN_FILES_FOR_POOL + 4)]
    assert runner.worker_count(100000, 3) == min(3, runner.default_jobs())
    assert runner.worker_count(100000, 10**6) == runner.default_jobs()


def _wait_for_children(proc: subprocess.Popen, n: int, timeout: float = 120) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children_of(proc.pid)
        if len(kids) >= n:
            return kids
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    return []


def _big_tree(root: Path, files: int) -> None:
    body = "".join(f"def f{i}(model, data):\n    for x in data:\n        model.fit_generator(x)\n" for i in range(300))
    for i in range(files):
        (root / f"m{i:03}.py").write_text(body + f"# {i}\n")


def test_kill_9_of_a_parallel_check_takes_its_workers_with_it(tmp_path):
    _big_tree(tmp_path, 200)
    proc = subprocess.Popen([sys.executable, "-m", "kmlint", "check", "--no-cache", "-j", "2", "."], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env())
    try:
        kids = _wait_for_children(proc, 2)
        assert kids, "the workers never started"
        proc.kill()
        proc.wait(30)
        assert wait_gone(kids, 15) == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_kill_9_of_a_one_file_check_takes_the_guard_child_with_it(tmp_path):
    """A large file (a few seconds of parsing) linted by the guard's child."""
    _big_tree(tmp_path, 1)
    big = tmp_path / "m000.py"
    big.write_text(big.read_text() * 4)
    proc = subprocess.Popen([sys.executable, "-m", "kmlint", "check", "--no-cache", "m000.py"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env())
    try:
        kids = _wait_for_children(proc, 1)
        if not kids:
            pytest.skip("the lint ended before the child could be seen")
        proc.kill()
        proc.wait(30)
        assert wait_gone(kids, 15) == []
    finally:
        if proc.poll() is None:
            proc.kill()


def _lsp_message(obj) -> bytes:
    import json

    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_the_language_server_takes_its_worker_and_the_resource_tracker(sig):
    pytest.importorskip("pygls")
    proc = subprocess.Popen([sys.executable, "-m", "kmlint", "server"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env())
    try:
        proc.stdin.write(_lsp_message({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                       "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
        proc.stdin.write(_lsp_message({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        proc.stdin.flush()
        kids = _wait_for_children(proc, 2)  # the lint worker and multiprocessing's resource tracker
        assert len(kids) >= 2
        proc.send_signal(sig)
        proc.wait(30)
        assert wait_gone(kids, 15) == []
    finally:
        if proc.poll() is None:
            proc.kill()


def test_fix_leftovers_of_a_killed_run_are_removed_by_the_next(tmp_path):
    bad_file(tmp_path / "a.py")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f".a.py.{dead.pid}.x1y2z3.kmlint-tmp"  # its process is gone
    leftover.write_text("half a file")
    old = tmp_path / ".a.py.x1y2z3.kmlint-tmp"  # an older kmlint's name, without a pid
    old.write_text("half a file")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    live = tmp_path / f".a.py.{os.getpid()}.x1y2z3.kmlint-tmp"  # a run in progress (this process)
    live.write_text("being written")
    r = run_cli("check", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not leftover.exists() and not old.exists()
    assert live.exists()
    assert "fit(gen)" in (tmp_path / "a.py").read_text()


def test_no_leftover_when_fix_is_killed_while_writing(tmp_path):
    """SIGKILL between writing the temporary file and renaming it (the window
    is made long by a slow fsync): the next run cleans up, and the file is
    whole."""
    bad_file(tmp_path / "a.py")
    script = (
        "import os, time, sys\n"
        "real = os.fsync\n"
        "def slow(fd):\n"
        "    sys.stderr.write('WRITING\\n'); sys.stderr.flush(); time.sleep(60)\n"
        "os.fsync = slow\n"
        "from kmlint.cli import main\n"
        "sys.argv = ['kmlint', 'check', '--no-cache', '--fix', '.']\n"
        "main()\n")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        assert proc.stderr.readline().strip() == "WRITING"
        assert list(tmp_path.glob(".a.py.*.kmlint-tmp"))
        proc.kill()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list(tmp_path.glob(".a.py.*.kmlint-tmp"))
    assert (tmp_path / "a.py").read_text() == BAD
    r = run_cli("check", "--no-cache", "--fix", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not list(tmp_path.glob("*.kmlint-tmp")) and not list(tmp_path.glob(".*.kmlint-tmp"))
    assert "fit(gen)" in (tmp_path / "a.py").read_text()



def _segfault() -> None:
    import ctypes

    faulthandler.disable()  # no stack dump from the child
    ctypes.string_at(0)


@pytest.fixture
def segfault_on_boom(tmp_path, monkeypatch):
    """A real SIGSEGV (a null read) whenever boom.py is linted or fixed, in
    whichever process does it: engine v2 no longer crashes on the `not` chain,
    but any native extension may crash on some input."""
    from kmlint import fixer

    bad_file(tmp_path / "a.py")
    bad_file(tmp_path / "boom.py")
    for i in range(runner.MIN_FILES_FOR_POOL):
        bad_file(tmp_path / "more" / f"m{i}.py")
    monkeypatch.chdir(tmp_path)
    lint, fix = runner.lint_bytes, fixer.fix_bytes

    def crashing_lint(data, path, settings, **kw):
        if path.endswith("boom.py"):
            _segfault()
        return lint(data, path, settings, **kw)

    def crashing_fix(data, path, shown, settings, unsafe):
        if shown.endswith("boom.py"):
            _segfault()
        return fix(data, path, shown, settings, unsafe)

    monkeypatch.setattr(runner, "lint_bytes", crashing_lint)
    monkeypatch.setattr(fixer, "fix_bytes", crashing_fix)
    return tmp_path


@pytest.mark.parametrize("args", [["boom.py"], ["boom.py", "a.py"], ["-j", "1", "."], ["-j", "2", "."],
                                  ["--fix", "boom.py", "a.py"]])
def test_a_native_crash_is_that_files_km000_on_every_path(segfault_on_boom, args):
    r = CliRunner().invoke(main, ["check", "--no-cache", *args])
    assert r.exit_code == 2, r.output
    assert "boom.py:1:1: KM000 [internal-error]" in r.output
    assert "SIGSEGV" in r.output or "worker process died" in r.output
    if "a.py" in args or "." in args:
        assert ("a.py:3:7: KM201" in r.output) != ("--fix" in args)
    if "--fix" in args:
        assert "fit(gen)" in (segfault_on_boom / "a.py").read_text()
        assert (segfault_on_boom / "boom.py").read_text() == BAD


def test_a_native_crash_on_stdin_is_reported(segfault_on_boom):
    r = CliRunner().invoke(main, ["check", "--no-cache", "-", "--stdin-filename", "boom.py"], input=BAD)
    assert r.exit_code == 2
    assert "boom.py:1:1: KM000" in r.output and "SIGSEGV" in r.output
    r = CliRunner().invoke(main, ["check", "--no-cache", "--fix", "-", "--stdin-filename", "boom.py"], input=BAD)
    assert r.exit_code == 2
    assert r.stdout.startswith(BAD)  # the buffer comes back unchanged
