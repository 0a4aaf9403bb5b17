"""Parent side of the sandbox: spawn one child per measurement and contain it.

Each child is a fresh ``python -m kmlint.runtime.child`` process in its own
session (process group), with:

* a data-segment limit (RLIMIT_DATA, set by the child on itself before any
  import; RLIMIT_AS is not usable with TensorFlow);
* a wall-clock timeout, after which the whole process group is killed;
* an RSS watchdog in the parent that kills the group when the child's
  resident memory passes the limit (the kernel's OOM killer would pick a
  process itself, maybe not this one);
* single-threaded TensorFlow/BLAS pools (stable numbers, no oversubscription
  when several children run in parallel) and quiet TensorFlow logs.

Whatever happens to the child (exception, OOM, hang, segfault, abort), the
parent returns a ``RunOutcome`` and carries on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import kmlint

#: environment given to every child (on top of the parent's)
CHILD_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "KERAS_BACKEND": "tensorflow",
    "PYTHONUNBUFFERED": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    # glibc moves its mmap threshold up after large frees, so whether a freed
    # array's pages go back to the kernel (and RSS drops) changed from run to
    # run: 25 MiB swings in a scenario's peak.  A fixed threshold keeps large
    # blocks mmapped and released, so RSS follows the live arrays.
    "MALLOC_MMAP_THRESHOLD_": "131072",
}


@dataclass
class Limits:
    timeout_s: float = 120.0
    rss_bytes: int = 4 << 30
    # data segment: RSS limit plus room for address space TensorFlow maps but never touches
    data_slack_bytes: int = 4 << 30


@dataclass
class RunOutcome:
    status: str  # ok | error | timeout | memory | crashed
    events: list[dict] = field(default_factory=list)
    returncode: Optional[int] = None
    detail: str = ""
    log_tail: str = ""
    wall_s: float = 0.0

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("e") == kind]

    def first(self, kind: str) -> Optional[dict]:
        found = self.of(kind)
        return found[0] if found else None

    @property
    def reached(self) -> bool:
        return self.first("region") is not None


def child_env(device: str, backend: str = "tensorflow") -> dict[str, str]:
    env = dict(os.environ)
    env.update(CHILD_ENV)
    env["KERAS_BACKEND"] = backend or "tensorflow"
    if backend == "jax":
        env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # allocator numbers that follow the program
    package_parent = str(Path(kmlint.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    else:
        # GPU runs: grow allocations on demand so the numbers mean something
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


def _rss_of_group(pid: int) -> int:
    """Resident memory of the child and the processes it started (same session)."""
    total = 0
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                pids.extend(int(p) for p in f.read().split())
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
    return total


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _read_events(path: Path) -> list[dict]:
    events = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return events
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass  # a line cut short by a kill
    return events


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def run_child(job: dict, limits: Limits, device: str = "auto", cwd: Optional[str] = None) -> RunOutcome:
    """Run one measurement job in a sandboxed child and collect its events."""
    with tempfile.TemporaryDirectory(prefix="kmlint-runtime-") as tmp:
        out = Path(tmp) / "events.jsonl"
        job = dict(job, out=str(out), device=device,
                   data_limit=limits.rss_bytes + limits.data_slack_bytes)
        job_path = Path(tmp) / "job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        log_path = Path(tmp) / "log.txt"
        start = time.monotonic()
        killed = ""
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kmlint.runtime.child", str(job_path)],
                cwd=cwd or tmp, env=child_env(device, job.get("backend") or "tensorflow"), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            try:
                while proc.poll() is None:
                    elapsed = time.monotonic() - start
                    if elapsed > limits.timeout_s:
                        killed = f"timed out after {limits.timeout_s:.0f} s"
                    else:
                        rss = _rss_of_group(proc.pid)
                        if rss > limits.rss_bytes:
                            killed = (f"killed by the memory watchdog: resident memory {rss / 2**20:.0f} MiB "
                                      f"passed the limit of {limits.rss_bytes / 2**20:.0f} MiB")
                    if killed:
                        _kill_group(proc)
                        proc.wait()
                        break
                    time.sleep(0.05)
            except BaseException:  # Ctrl-C in the parent: never leave a child behind
                _kill_group(proc)
                proc.wait()
                raise
            # a child that exited may have left processes of its own in its group
            _kill_group(proc)
        wall = time.monotonic() - start
        events = _read_events(out)
        log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    outcome = RunOutcome("ok", events, proc.returncode, "", log_tail, wall)
    error = outcome.first("error")
    ended = outcome.first("end")
    if killed:
        outcome.status = "timeout" if killed.startswith("timed out") else "memory"
        outcome.detail = killed
    elif error is not None:
        outcome.status = "error"
        outcome.detail = error["error"] + (f" ({error['where']})" if error.get("where") else "")
        if error["error"].startswith("MemoryError"):
            outcome.status = "memory"
            outcome.detail = "MemoryError: the data-segment limit (RLIMIT_DATA) was reached" + (
                f" ({error['where']})" if error.get("where") else "")
    elif proc.returncode is not None and proc.returncode < 0:
        outcome.status = "crashed"
        outcome.detail = f"the child crashed with {_signal_name(-proc.returncode)}"
    elif ended is None:
        outcome.status = "crashed"
        outcome.detail = f"the child exited with status {proc.returncode} before reporting"
    return outcome
