"""Issue 14, section 4 (and the runtime part of section 3): runtime mode
contains the whole process tree of the user's program and is honest about
what it runs.  No TensorFlow needed: the user programs here are plain Python."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from kmlint.findings import Finding
from kmlint.runtime import instrument as ins
from kmlint.runtime import sandbox
from kmlint.runtime.sandbox import Limits, run_child
from tests.helpers import cli_env, run_cli
from tests.robust_support import alive, wait_gone


def _user_job(tmp_path: Path, body: str, before: str = "") -> dict:
    path = tmp_path / "user.py"
    code = "import os, sys, time, signal\n" + before + "for i in range(100):\n" + textwrap.indent(body, "    ") + "\n"
    line = code.count("\n", 0, code.index("for i in")) + 1
    region = ins.find_region(code, "loop", line + 1, 5)  # the first statement of the loop body
    path.write_text(code)
    return {"kind": "user", "file": str(path), "code": ins.instrument(code, region), "cap": 30}


ESCAPE = """\
if i == 0:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            open({pidfile!r}, "w").write(str(os.getpid()))
            {payload}
            time.sleep(300)
            os._exit(0)
        os._exit(0)
time.sleep({pause})
"""


def _pid_from(path: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = path.read_text()
            if text:
                return int(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    raise AssertionError("the grandchild never started")


def test_a_setsid_double_forked_grandchild_does_not_survive_the_run(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    body = ESCAPE.format(pidfile=str(pidfile), payload="pass", pause=0.05)
    out = run_child(_user_job(tmp_path, body), Limits(timeout_s=60), "cpu", str(tmp_path))
    assert out.status == "ok", (out.status, out.detail, out.log_tail)
    grandchild = _pid_from(pidfile)
    assert wait_gone([grandchild], 10) == [], "the escaped grandchild survived kmlint's run"


def test_the_memory_of_a_grandchild_counts_and_kills_the_tree(tmp_path):
    """The watchdog counted direct children only: a double-forked grandchild
    allocated 3.1 GB under a 2 GiB limit."""
    pidfile = tmp_path / "grandchild.pid"
    payload = "hog = bytearray(400 << 20)\n            hog[::4096] = b'x' * len(hog[::4096])"
    body = ESCAPE.format(pidfile=str(pidfile), payload=payload, pause=0.2)
    out = run_child(_user_job(tmp_path, body), Limits(timeout_s=60, rss_bytes=250 << 20, data_slack_bytes=8 << 30),
                    "cpu", str(tmp_path))
    assert out.status == "memory" and "watchdog" in out.detail, (out.status, out.detail, out.log_tail)
    assert wait_gone([_pid_from(pidfile)], 10) == []


def test_a_child_started_while_another_run_reaps_orphans_is_not_taken_for_one(tmp_path, monkeypatch):
    """Runs go two at a time (``--runtime --jobs 2``, the scenario tests): one run's end reaps
    kmlint's unknown children just as the other run has started its own marked child.  That
    child was killed as an orphan and its run reported "crashed" (CI, 12-05)."""
    real_popen = subprocess.Popen
    reapers = []

    def popen_while_another_run_ends(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        reaper = threading.Thread(target=sandbox._reap_orphans)
        reapers.append(reaper)
        reaper.start()
        reaper.join(1.0)  # the other run's reaping, right after this child started
        return proc

    monkeypatch.setattr(sandbox.subprocess, "Popen", popen_while_another_run_ends)
    out = run_child(_user_job(tmp_path, "pass"), Limits(timeout_s=60), "cpu", str(tmp_path))
    for reaper in reapers:
        reaper.join(10)
    assert out.status == "ok" and out.reached, (out.status, out.detail, out.log_tail)


# A small "kmlint" that runs one measurement, for the tests that signal it.
RUNNER = r"""
import json, sys, time
from kmlint.runtime import sandbox
from kmlint.runtime.sandbox import Limits, run_child
job = json.loads(open(sys.argv[1]).read())
sandbox.PASS_ENV[:] = json.loads(sys.argv[3])
sandbox.install_stop_handler()
start = time.monotonic()
out = run_child(job, Limits(timeout_s=float(sys.argv[2])), "cpu", job["cwd"])
print(json.dumps({"status": out.status, "detail": out.detail, "wall": time.monotonic() - start}), flush=True)
"""


def _runner(tmp_path: Path, job: dict, timeout_s: float, env=None, pass_env=()) -> subprocess.Popen:
    job = dict(job, cwd=str(tmp_path))
    job_file = tmp_path / "job-spec.json"
    job_file.write_text(json.dumps(job))
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(job_file), str(timeout_s), json.dumps(list(pass_env))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(env),
                            start_new_session=True)


def test_sigstop_of_kmlint_does_not_suspend_the_timeout(tmp_path):
    """The program stops its parent (kmlint) and spins: the run still ends at
    the deadline (67.7 s against 20 s before), and kmlint is resumed."""
    body = "if i == 0:\n    os.kill(os.getppid(), signal.SIGSTOP)\nwhile True:\n    pass"
    proc = _runner(tmp_path, _user_job(tmp_path, body), 4)
    try:
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    result = json.loads(stdout)
    assert result["status"] == "timeout", result
    assert result["wall"] < 4 + sandbox.DEADLINE_SLACK_S + 10, result


def _tree_of_runner(proc: subprocess.Popen, pidfile: Path) -> tuple[int, int]:
    grandchild = _pid_from(pidfile)
    child = None
    deadline = time.monotonic() + 30
    while child is None and time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"kmlint.runtime.child" in cmd and _ppid(int(entry)) == proc.pid:
                    child = int(entry)
        time.sleep(0.05)
    assert child is not None
    return child, grandchild


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _temp_dirs_of(pid: int) -> list[str]:
    return [n for n in os.listdir(tempfile.gettempdir()) if n.startswith(f"{sandbox.TMP_PREFIX}{pid}-")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_kmlint_ends_the_runs_whole_tree(tmp_path, sig):
    """SIGTERM of `kmlint check --runtime` left the child at 100% CPU with no
    timeout, and its temporary folder."""
    pidfile = tmp_path / "grandchild.pid"
    body = ESCAPE.format(pidfile=str(pidfile), payload="pass", pause=0) + "while True:\n    pass\n"
    proc = _runner(tmp_path, _user_job(tmp_path, body), 300)
    try:
        child, grandchild = _tree_of_runner(proc, pidfile)
        assert _temp_dirs_of(proc.pid)
        proc.send_signal(sig)
        proc.wait(60)
        assert wait_gone([child, grandchild], 15) == []
        if sig == signal.SIGTERM:
            assert _temp_dirs_of(proc.pid) == []
        else:  # nothing can clean up after SIGKILL: the next run does
            assert _temp_dirs_of(proc.pid)
            again = _runner(tmp_path, _user_job(tmp_path, "break"), 60)
            again.communicate(timeout=120)
            assert _temp_dirs_of(proc.pid) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_the_environment_is_scrubbed_unless_passed(tmp_path):
    dump = tmp_path / "env.json"
    body = f"json_env = dict(os.environ)\nopen({str(dump)!r}, 'w').write(__import__('json').dumps(json_env))\nbreak"
    secrets = {"AWS_SECRET_ACCESS_KEY": "hunter2", "GITHUB_TOKEN": "ghp_x", "MY_PROJECT_DATA": "/data"}
    for pass_env, expect in (((), set()), (("MY_PROJECT_*",), {"MY_PROJECT_DATA"})):
        proc = _runner(tmp_path, _user_job(tmp_path, body), 60, env={**os.environ, **secrets}, pass_env=pass_env)
        stdout, stderr = proc.communicate(timeout=120)
        assert json.loads(stdout)["status"] in ("ok", "not reached"), stdout + stderr
        seen = json.loads(dump.read_text())
        assert set(secrets) & set(seen) == expect
        assert "PATH" in seen and seen["TF_NUM_INTRAOP_THREADS"] == "1"


def test_scrubbed_environ_keeps_the_allow_list_only():
    env = {"PATH": "/bin", "LC_ALL": "C", "CUDA_VISIBLE_DEVICES": "0", "AWS_SECRET_ACCESS_KEY": "x", "TOKEN": "y"}
    assert sandbox.scrubbed_environ(env) == {"PATH": "/bin", "LC_ALL": "C", "CUDA_VISIBLE_DEVICES": "0"}
    assert "TOKEN" in sandbox.scrubbed_environ(env, extra=["TOKEN"])


def test_help_does_not_call_it_a_sandbox_without_the_caveat():
    r = run_cli("check", "--help")
    text = " ".join(r.stdout.split())
    assert "Not a security sandbox" in text
    assert "EXECUTE your code" in text and "--runtime-pass-env" in text


def test_what_will_run_is_printed_before_it_runs():
    from kmlint.runtime.cli_options import announce_execution
    from kmlint.runtime.confirm import Options

    findings = [Finding("KM203", "predict-in-loop", "m", "train.py", 12), Finding("KM201", "x", "m", "other.py", 3)]
    out = io.StringIO()
    announce_execution(findings, Options(), out)
    text = out.getvalue()
    assert "EXECUTES your code" in text and "not a security sandbox" in text
    assert "every module-level statement before the measured code runs" in text and "at least twice" in text
    assert "train.py (up to line 12" in text and "other.py" not in text
    assert "environment of the runs" in text and "PATH" in text


def test_sigterm_of_kmlint_check_runtime_ends_the_run_and_its_folder(tmp_path):
    """End to end: `kmlint check --runtime` on a program that spins before the
    flagged loop, then SIGTERM of kmlint."""
    pytest.importorskip("tensorflow")
    (tmp_path / "spin.py").write_text(
        "import numpy as np\nimport tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(1)])\n"
        "while True:\n    pass\nfor batch in np.zeros((10, 4, 3)):\n    model.predict(batch)\n")
    proc = subprocess.Popen([sys.executable, "-m", "kmlint", "check", "--no-cache", "--runtime", "--device", "cpu",
                             "-j", "1", "spin.py"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env(), start_new_session=True)
    try:
        child = None
        deadline = time.monotonic() + 180
        while child is None and time.monotonic() < deadline and proc.poll() is None:
            for entry in os.listdir("/proc"):
                if entry.isdigit() and _ppid(int(entry)) == proc.pid:
                    try:
                        if b"kmlint.runtime.child" in Path(f"/proc/{entry}/cmdline").read_bytes():
                            child = int(entry)
                    except OSError:
                        pass
            time.sleep(0.1)
        assert child is not None, proc.communicate(timeout=60)
        assert _temp_dirs_of(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
        assert b"EXECUTES your code" in err
        assert wait_gone([child], 15) == []
        assert _temp_dirs_of(proc.pid) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
