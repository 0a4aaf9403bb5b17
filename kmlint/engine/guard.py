"""Containing what Python cannot catch.

A native extension can crash the whole process on some input (libcst's parser
overflows its C stack on a few thousand chained ``not``s and takes the
process down with SIGSEGV: no exception, no report), and a file can make the
analysis use gigabytes.  A run of many files lints in worker processes, where
a dead worker costs one file (see ``runner._execute``); every other path that
lints in the main process (one file, stdin, pre-commit's few files, ``--fix``,
the language server's lint worker) calls ``guarded``: the work runs in a
forked child, its result comes back pickled through a pipe, and a child that
dies is reported as a ``Crashed`` exception, which the caller turns into that
file's internal-error finding.

Children die with their parent (``die_with_parent``): a kmlint killed with
SIGKILL leaves no worker behind.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
from typing import Any, Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

# the environment variable that turns guarding off (debugging with pdb, or a
# platform where fork misbehaves); guarding is also off where there is no fork
NO_GUARD_ENV = "KMLINT_NO_FORK_GUARD"


class Crashed(Exception):
    """The guarded work's process died (a signal, or exited without a result)."""


def _prctl(option: int, arg: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(expected_parent: int | None = None, sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies
    (Linux).  ``expected_parent``: the parent's pid when the child was made;
    if it is already gone (it died between fork and here), exit now."""
    _prctl(PR_SET_PDEATHSIG, int(sig))
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


def become_subreaper() -> bool:
    """Orphaned descendants of this process are re-parented to it instead of
    init (Linux), so it can find and kill a whole tree."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def enabled() -> bool:
    return hasattr(os, "fork") and not os.environ.get(NO_GUARD_ENV)


def guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a forked child; its return value (which must
    pickle) or its exception comes back.  Raises ``Crashed`` when the child
    dies without answering.  Runs ``fn`` in this process when forking is
    unavailable or fails."""
    if not enabled():
        return fn(*args, **kwargs)
    parent = os.getpid()
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return fn(*args, **kwargs)  # no memory or process slot for a child: unguarded
    if pid == 0:  # the child
        status = 1
        try:
            os.close(read_fd)
            die_with_parent(parent)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent
            try:
                payload = (True, fn(*args, **kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the parent
                payload = (False, e)
            try:
                data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as e:  # an unpicklable result or exception
                data = pickle.dumps((False, RuntimeError(f"{type(e).__name__}: {e}")))
            with os.fdopen(write_fd, "wb") as out:
                out.write(data)
            status = 0
        finally:
            os._exit(status)  # never run the parent's cleanups (atexit, pytest, buffers) twice
    os.close(write_fd)
    chunks = []
    try:
        with os.fdopen(read_fd, "rb") as inp:
            while True:
                chunk = inp.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        status = _wait(pid)
    if chunks:
        try:
            ok, value = pickle.loads(b"".join(chunks))
        except Exception:
            ok, value = None, None
        if ok is True:
            return value
        if ok is False:
            raise value
    raise Crashed(describe_status(status))


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        except BaseException:
            # Ctrl-C while waiting: the child must not outlive us
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            raise


def describe_status(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGKILL:
            return f"the process analysing it was killed ({name}; out of memory?)"
        return f"the process analysing it crashed ({name}, in a native extension such as the parser)"
    if os.WIFEXITED(status):
        return f"the process analysing it exited with status {os.WEXITSTATUS(status)} without a result"
    return "the process analysing it ended without a result"
