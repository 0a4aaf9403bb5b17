"""The sandboxed child process: ``python -m kmlint.runtime.child JOB.json``.

It runs exactly one measurement: a rule's scenario variant, or the user's
instrumented program, and records events through ``probe.Recorder``.  The
parent (``sandbox.py``) enforces the wall-clock timeout and the RSS watchdog;
the child caps its own data segment first thing (RLIMIT_DATA: RLIMIT_AS would
break TensorFlow, which reserves large address ranges it never touches).
"""

from __future__ import annotations

import builtins
import faulthandler
import importlib.util
import json
import os
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any, Callable

from kmlint.runtime.probe import Recorder, settle

#: a loop that ends before the iteration cap still counts once it gave this many samples
MIN_LOOP_SAMPLES = 4


def _contain(job: dict, rec: Recorder) -> None:
    """Keep the user program's processes in reach and end them with this one:
    this process becomes a child subreaper (a double-forked or ``setsid()``
    grandchild stays below it), a watcher thread ends the tree when kmlint
    dies (EOF on ``watch_fd``) or this run's own deadline passes (kmlint may
    have been SIGSTOPped by the program), and every way out through
    ``rec.finish`` kills the tree first and resumes kmlint (SIGCONT)."""
    import resource
    import select
    import signal
    import threading

    from kmlint.engine import guard

    guard.become_subreaper()
    parent = int(job.get("parent") or os.getppid())
    deadline_s = float(job.get("deadline_s") or 0)
    if deadline_s > 0:  # the kernel's backstop, generous: CPU time counts every thread
        cpu = int(deadline_s * max(1, os.cpu_count() or 1)) + 30
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        except (ValueError, OSError):
            pass

    def end_tree() -> None:
        from kmlint.runtime.sandbox import descendants

        pids = descendants(os.getpid())
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
        try:
            os.kill(parent, signal.SIGCONT)  # kmlint may have been stopped by the program
        except OSError:
            pass

    finish = rec.finish

    def contained_finish(reason: str, code: int = 0) -> None:
        end_tree()
        finish(reason, code)

    rec.finish = contained_finish  # type: ignore[method-assign]
    fd = job.get("watch_fd")

    def watch() -> None:
        end = time.monotonic() + deadline_s if deadline_s > 0 else None
        status = 70
        while True:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                status = 124  # sandbox.DEADLINE_EXIT
                break
            if fd is None:
                time.sleep(min(left, 1.0) if left is not None else 1.0)
                continue
            ready, _, _ = select.select([fd], [], [], min(left, 1.0) if left is not None else 1.0)
            if ready:
                try:
                    data = os.read(fd, 1)
                except OSError:
                    data = b""
                if not data:
                    break  # kmlint died
        end_tree()
        os._exit(status)

    if fd is not None or deadline_s > 0:
        threading.Thread(target=watch, name="kmlint-watch", daemon=True).start()


def _limit_self(data_bytes: int) -> None:
    import resource

    if data_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (data_bytes, data_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core dumps from crashing user code


def _user_frame(tb, path: str) -> str:
    """The deepest traceback line inside the user's file, for the report."""
    where = ""
    for frame in traceback.extract_tb(tb):
        if frame.filename == path:
            where = f"line {frame.lineno}"
    return where


class UserProbe:
    """What the instrumented user program calls (as ``__kmlint_probe__``)."""

    def __init__(self, rec: Recorder, cap: int, drain_seconds: float) -> None:
        self.rec = rec
        self.cap = cap
        self.ticks = 0
        self.drain_seconds = drain_seconds
        self.reached = False

    def _enter(self) -> None:
        if not self.reached:
            self.reached = True
            self.rec.event("region")

    # slope rules: the flagged loop
    def tick(self) -> None:
        """First statement of every iteration: sample, stop after ``cap`` iterations."""
        self._enter()
        self.rec.sample("loop")
        self.ticks += 1
        if self.ticks > self.cap:
            self.rec.finish("iteration cap")

    def loop_exit(self) -> None:
        """Right after the loop: stop once enough iterations were measured
        (a nested loop may be entered again by its outer loop otherwise)."""
        if self.ticks >= MIN_LOOP_SAMPLES:
            self.rec.sample("loop")
            self.rec.finish("loop ended")

    # peak rules: one statement
    def region_start(self) -> None:
        self._enter()
        self.rec.start_region()

    def region_end(self) -> None:
        self.rec.end_region()
        self.rec.finish("region ended")

    def checkpoint(self, held: Any = None) -> None:
        """Before the heavy work that follows a large array: memory held there.
        ``held`` is the flagged object (None when the fixed variant deleted it)."""
        self._enter()
        if held is not None:
            self.rec.event("held", tensor=_is_tensor(held), type=type(held).__name__, nbytes=_nbytes(held))
        self.rec.sample("end")
        self.rec.finish("checkpoint")

    def data(self, value: Any) -> Any:
        """Wraps an argument to record its size in bytes; returns it unchanged."""
        self.rec.event("data", nbytes=_nbytes(value))
        return value

    # dataset rules: iterate the flagged pipeline once
    def drain(self, make: Callable[[], Any]) -> None:
        self._enter()
        self.rec.start_region()
        dataset = make()
        deadline = time.monotonic() + self.drain_seconds
        last_sample = 0.0
        for n, _ in enumerate(dataset, 1):
            if n == 1:
                settle()  # background buffers (prefetch) fill while the consumer waits
            now = time.monotonic()
            if now - last_sample > 0.02:
                self.rec.sample("loop", elements=n)
                last_sample = now
            if now > deadline:
                self.rec.event("note", message=f"stopped draining after {n} elements (time budget)")
                break
        self.rec.end_region()
        self.rec.finish("drained")


def _is_tensor(value: Any) -> bool:
    """A framework tensor (TensorFlow, JAX, PyTorch), not a NumPy array or a Python object."""
    module = type(value).__module__ or ""
    return module.split(".")[0] in ("tensorflow", "jax", "jaxlib", "torch", "keras")


def _nbytes(value: Any) -> int:
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    n = getattr(value, "nbytes", None)
    if isinstance(n, int):
        return n
    try:
        return int(value.numpy().nbytes)  # a tf.Tensor
    except Exception:
        return 0


def _configure_tensorflow(rec: Recorder, device: str) -> Any:
    import tensorflow as tf

    try:  # the environment variables set by the parent already ask for this
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    rec.tf_device = rec.detect_device(tf)
    if device == "gpu" and rec.tf_device != "GPU:0":
        raise RuntimeError("--device gpu was given but TensorFlow sees no GPU")
    return tf


def _configure_backend(rec: Recorder, job: dict) -> None:
    """Import the run's Keras backend first, so allocator statistics exist from the start."""
    backend = job.get("backend") or "tensorflow"
    if backend == "tensorflow":
        _configure_tensorflow(rec, job["device"])
        return
    rec.configure_backend(backend)
    if job["device"] == "gpu" and rec.tf_device != "GPU:0":
        raise RuntimeError(f"--device gpu was given but {backend} sees no GPU")


def _run_scenario(job: dict, rec: Recorder) -> None:
    _configure_backend(rec, job)
    spec = importlib.util.spec_from_file_location("kmlint_runtime_scenario", job["file"])
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load scenario {job['file']}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    params = dict(getattr(module, "PARAMS", {}))
    params.update(job.get("params") or {})
    params["iterations"] = min(int(params.get("iterations", job["cap"])), job["cap"])
    setup = getattr(module, "setup", None)
    state = setup(params) if setup is not None else None
    variant = getattr(module, job["variant"])
    rec.event("start", ran="scenario", kind=module.KIND, params=params, backend=job.get("backend") or "tensorflow")
    rec.event("region")
    if module.KIND == "slope":
        rec.sample("baseline")
        for count, _ in enumerate(variant(params, state), 1):
            rec.sample("loop")
            if count >= job["cap"]:
                break
    else:
        rec.start_region()
        for marker in variant(params, state):
            if marker == "start":  # the variant's measured phase begins after its own set-up
                rec.restart_window()
            else:
                rec.sample("loop")
        rec.end_region()
    data_bytes = getattr(module, "data_bytes", None)
    if data_bytes is not None:
        rec.event("data", nbytes=int(data_bytes(params)))


def _run_user(job: dict, rec: Recorder) -> None:
    path = job["file"]
    folder = str(Path(path).parent)
    os.chdir(folder)
    sys.path.insert(0, folder)
    sys.argv = [path]
    probe = UserProbe(rec, job["cap"], job.get("drain_seconds", 60.0))
    builtins.__kmlint_probe__ = probe  # type: ignore[attr-defined]
    rec.event("start", ran="your code", backend=job.get("backend") or "tensorflow", **rec.measure())
    code = compile(job["code"], path, "exec", dont_inherit=True)
    main_module = types.ModuleType("__main__")
    main_module.__file__ = path
    sys.modules["__main__"] = main_module  # pickling and multiprocessing look it up there
    if job["device"] == "gpu" or (job.get("backend") or "tensorflow") != "tensorflow":
        _configure_backend(rec, job)
    try:
        exec(code, main_module.__dict__)
    except SystemExit as e:
        if e.code not in (None, 0):
            raise RuntimeError(f"the program called sys.exit({e.code!r})") from None
    rec.event("note", message="the program ended" + ("" if probe.reached else " without reaching the flagged code"))
    if probe.reached and rec.samples:
        rec.sample("loop")


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    _limit_self(int(job.get("data_limit", 0)))
    faulthandler.enable()  # a segfault still prints the Python stack to stderr
    rec = Recorder(job["out"], job["device"])
    _contain(job, rec)
    try:
        if job["kind"] == "scenario":
            _run_scenario(job, rec)
        else:
            _run_user(job, rec)
    except BaseException as e:  # noqa: BLE001 - report everything the child can still report
        where = _user_frame(e.__traceback__, job.get("file", "")) if job["kind"] == "user" else ""
        rec.event("error", error=f"{type(e).__name__}: {e}"[:2000], where=where,
                  traceback="".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:])
        rec.finish("error", 3)
    rec.finish("completed")
    return 0  # not reached: finish() exits


if __name__ == "__main__":
    sys.exit(main(sys.argv))
