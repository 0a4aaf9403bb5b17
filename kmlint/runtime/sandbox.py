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

Containment of the whole process tree (issue 14): the child is a child
subreaper (PR_SET_CHILD_SUBREAPER), so what the user program starts stays
below it even after ``setsid()`` or a double fork; the watchdog measures and
kills every descendant, not just the process group.  The child also watches a
pipe from kmlint (EOF: kmlint died, kill the tree and exit) and its own
monotonic deadline (a user program that SIGSTOPs kmlint does not stop the
clock; the child resumes kmlint with SIGCONT on its way out), with RLIMIT_CPU
as the kernel's backstop.  The environment is scrubbed to an allow-list
(``--runtime-pass-env NAME`` passes more).  Not a security sandbox: the
program runs as you and can read and write what you can.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
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


#: the child's own deadline comes this long after the parent's (the parent
#: normally kills first; the child's is for a parent that was stopped)
DEADLINE_SLACK_S = 2.0
DEADLINE_EXIT = 124  # the child's exit status when its own deadline killed it


def install_stop_handler() -> None:
    """SIGTERM (and SIGHUP) of kmlint: every running measurement kills its
    whole tree before kmlint exits (runtime runs in threads; only the main
    thread receives signals).  Main thread only."""
    def stop(signum, frame):
        STOP.set()
        raise SystemExit(128 + signum)  # not 1 ("findings"), and not click's "Aborted!"

    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            signal.signal(sig, stop)
        except (ValueError, OSError):
            pass


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


#: variables passed to the user's program from kmlint's environment (the rest is
#: dropped: tokens, keys and passwords in CI environments are not its business)
ENV_ALLOW = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_*", "TZ", "TERM", "TMPDIR", "TEMP", "TMP",
    "PYTHONPATH", "PYTHONHOME", "PYTHONIOENCODING", "PYTHONUTF8", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV",
    "LD_LIBRARY_PATH", "CUDA_*", "NVIDIA_*", "TF_*", "XLA_*", "KERAS_*", "JAX_*", "OMP_*", "MKL_*", "OPENBLAS_*",
    "HF_HOME", "KERAS_HOME", "TFDS_DATA_DIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME",
]
#: names (or globs) added by ``--runtime-pass-env``
PASS_ENV: list[str] = []


def scrubbed_environ(environ=None, extra=()) -> dict[str, str]:
    """The allow-listed part of ``environ`` (default: kmlint's own)."""
    environ = os.environ if environ is None else environ
    patterns = list(ENV_ALLOW) + list(PASS_ENV) + list(extra)
    return {k: v for k, v in environ.items() if any(fnmatch.fnmatchcase(k, p) for p in patterns)}


def child_env(device: str, backend: str = "tensorflow") -> dict[str, str]:
    env = scrubbed_environ()
    env.update(CHILD_ENV)
    env["KERAS_BACKEND"] = backend or "tensorflow"
    if backend == "jax":
        env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # allocator numbers that follow the program
    package_parent = str(Path(kmlint.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    # TF 2.21's default CPU allocator keeps no statistics on some hosts
    # (get_memory_info("CPU:0") raises "Allocator stats not available"); the
    # BFC allocator always keeps them, so tensor-level rules are judged on
    # tensor bytes rather than on RSS wherever TF runs on the CPU ("auto"
    # without a GPU, the default, included).
    env.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = "-1"
    else:
        # GPU runs: grow allocations on demand so the numbers mean something
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                out.extend(int(p) for p in f.read().split())
        except (OSError, ValueError):
            pass
    return out


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the child is a subreaper, so orphans of
    its tree, ``setsid()`` or double fork included, stay below it)."""
    out: list[int] = []
    todo = [pid]
    seen = {pid}
    while todo:
        for c in _children(todo.pop()):
            if c not in seen:
                seen.add(c)
                out.append(c)
                todo.append(c)
    return out


def _rss_of_group(pid: int) -> int:
    """Resident memory of the child and of every process below it."""
    total = 0
    pids = [pid, *descendants(pid)]
    for p in pids:
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
    return total


def _kill_group(proc: subprocess.Popen, tree: Optional[set[int]] = None) -> None:
    """Kill the child, its process group and every process of its tree: the
    tree is frozen first (SIGSTOP) so nothing forks while it is killed."""
    pids = [proc.pid, *descendants(proc.pid)] if proc.poll() is None else []
    pids.extend(p for p in (tree or ()) if p not in pids and _started_before(p, proc))
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    _reap_orphans()


def _started_before(pid: int, proc: subprocess.Popen) -> bool:
    """Still the process seen in the child's tree (not a recycled pid)."""
    return pid in _TREE_STARTS.get(proc.pid, {}) and _start_time(pid) == _TREE_STARTS[proc.pid][pid]


def _start_time(pid: int) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


# child pid -> {descendant pid: its start time}: every process seen in a
# child's tree, killed at the end even if it outlived the child (then it was
# re-parented to kmlint, a subreaper too)
_TREE_STARTS: dict[int, dict[int, Optional[int]]] = {}
_LIVE_CHILDREN: set[int] = set()
_LOCK = threading.Lock()
#: set by a SIGTERM of kmlint: every watchdog kills its tree and stops
STOP = threading.Event()


def _note_tree(proc: subprocess.Popen) -> None:
    seen = _TREE_STARTS.setdefault(proc.pid, {})
    for p in descendants(proc.pid):
        if p not in seen:
            seen[p] = _start_time(p)


def _reap_orphans() -> None:
    """Processes of a sandbox tree re-parented to kmlint (a subreaper) after
    their child ended: kill and reap them."""
    if not _subreaper:
        return
    import multiprocessing

    # under the lock: a child another thread is starting is registered before
    # this scan or started after it, never taken here for an orphan
    with _LOCK:
        ours = _LIVE_CHILDREN | {p.pid for p in multiprocessing.active_children()}
        trees = list(_TREE_STARTS.values())  # a snapshot: other threads add and drop trees
        for p in _children(os.getpid()):
            if p in ours:
                continue
            seen = any(p in tree and tree[p] == _start_time(p) for tree in trees)
            if not seen and not _is_orphan_of_sandbox(p):
                continue
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                try:
                    os.kill(p, sig)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                os.waitpid(p, os.WNOHANG)
            except ChildProcessError:
                pass


def _is_orphan_of_sandbox(pid: int) -> bool:
    """A direct child of kmlint that kmlint did not start: marked by the
    sandbox environment every runtime child passes on."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return b"KMLINT_RUNTIME_CHILD=1" in f.read().split(b"\0")
    except OSError:
        return False


_subreaper = False
_cleaned = False
TMP_PREFIX = "kmlint-runtime-"


def _prepare_parent() -> None:
    """Once per kmlint process: become a subreaper (orphans of a sandbox tree
    come back to kmlint, not to init) and remove the temporary folders of
    earlier kmlint processes that were killed (their pid is gone)."""
    global _subreaper, _cleaned
    if not _subreaper:
        from kmlint.engine import guard

        _subreaper = guard.become_subreaper()
    if _cleaned:
        return
    _cleaned = True
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        if not name.startswith(TMP_PREFIX):
            continue
        pid, sep, _ = name[len(TMP_PREFIX):].partition("-")  # kmlint-runtime-PID-XXXXXXXX
        if sep and pid.isdigit() and int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)


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
    _prepare_parent()
    with tempfile.TemporaryDirectory(prefix=f"{TMP_PREFIX}{os.getpid()}-") as tmp:
        out = Path(tmp) / "events.jsonl"
        watch_r, watch_w = os.pipe()  # the child sees EOF when kmlint dies, however it dies
        job = dict(job, out=str(out), device=device,
                   data_limit=limits.rss_bytes + limits.data_slack_bytes,
                   watch_fd=watch_r, parent=os.getpid(), deadline_s=limits.timeout_s + DEADLINE_SLACK_S)
        job_path = Path(tmp) / "job.json"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        log_path = Path(tmp) / "log.txt"
        start = time.monotonic()
        deadline = start + limits.timeout_s
        killed = ""
        env = child_env(device, job.get("backend") or "tensorflow")
        env["KMLINT_RUNTIME_CHILD"] = "1"  # marks the tree's processes (see _reap_orphans)
        with open(log_path, "wb") as log:
            # started and registered under the lock: another thread's _reap_orphans
            # would otherwise take this marked, not yet registered child for an orphan
            with _LOCK:
                try:
                    proc = subprocess.Popen(
                        [sys.executable, "-m", "kmlint.runtime.child", str(job_path)],
                        cwd=cwd or tmp, env=env, stdin=subprocess.DEVNULL,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(watch_r,),
                    )
                finally:
                    os.close(watch_r)
                _LIVE_CHILDREN.add(proc.pid)
            try:
                while proc.poll() is None:
                    _note_tree(proc)
                    # a monotonic deadline: time kmlint spent stopped (SIGSTOP
                    # from the user's program) counts, and is over on resume
                    if STOP.is_set():
                        killed = "stopped: kmlint is shutting down"
                    elif time.monotonic() > deadline:
                        killed = f"timed out after {limits.timeout_s:.0f} s"
                    else:
                        rss = _rss_of_group(proc.pid)
                        if rss > limits.rss_bytes:
                            killed = (f"killed by the memory watchdog: resident memory {rss / 2**20:.0f} MiB "
                                      f"passed the limit of {limits.rss_bytes / 2**20:.0f} MiB")
                    if killed:
                        _kill_group(proc, set(_TREE_STARTS.get(proc.pid, ())))
                        proc.wait()
                        break
                    time.sleep(0.05)
            except BaseException:  # Ctrl-C in the parent: never leave a child behind
                _kill_group(proc, set(_TREE_STARTS.get(proc.pid, ())))
                proc.wait()
                raise
            finally:
                os.close(watch_w)
                with _LOCK:
                    _LIVE_CHILDREN.discard(proc.pid)
                # a child that exited may have left processes of its own behind
                _kill_group(proc, set(_TREE_STARTS.get(proc.pid, ())))
                _TREE_STARTS.pop(proc.pid, None)
            if STOP.is_set():
                raise KeyboardInterrupt("kmlint is shutting down")
            if not killed and proc.returncode == DEADLINE_EXIT:
                killed = f"timed out after {limits.timeout_s:.0f} s (the child's own deadline)"
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
