"""Running a whole check: discovery, the result cache, per-file linting (in a
process pool when there is enough work), ordering of results.

Files stream through a bounded window of pool tasks; workers read, lint and
cache one file each and send back a detached result (no libcst trees), so
memory stays bounded whatever the size of the tree.  Results come back in
discovery order whatever the scheduling.
"""

from __future__ import annotations

import gc
import json
import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

from kmlint.config import ConfigResolver, Settings

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import ProcessPoolExecutor
from kmlint.engine.cache import ResultCache, cache_dir_for, content_hash, stat_signature
from kmlint.engine.discovery import DiscoveryProblem, discover
from kmlint.engine import guard
from kmlint.engine.linter import INTERNAL_ERROR, FileResult, _parse_error_result, lint_bytes
from kmlint.engine.paths import NotRegularFile, TooLarge, read_regular, resolved
from kmlint.engine import session as session_mod
from kmlint.findings import Finding

# Below this many files to lint, starting worker processes costs more than it saves.
MIN_FILES_FOR_POOL = 8
PAUSE_COLLECTOR_BELOW = 200_000  # bytes of source; see collector_paused()
RUN_GC_THRESHOLD = (50_000, 20, 100)  # see freeze_imports()
# Tasks in flight per worker: enough to keep workers busy, few enough to bound memory.
TASKS_PER_WORKER = 4
CHUNK_FILES = 8  # at most this many files per submission to a worker


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    problems: list[DiscoveryProblem] = field(default_factory=list)
    internal_errors: int = 0
    results: list[FileResult] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)  # the file of each result, in the same order


@dataclass
class _Task:
    index: int
    path: str
    display: str
    settings: Settings
    cache_dir: Optional[Path]
    cache_key: Optional[str]


def display_path(path: Path) -> str:
    """Paths as given, relative to the working directory when possible."""
    try:
        full = resolved(path)
        cwd = resolved(Path(os.getcwd()))
        text, base = str(full), str(cwd).rstrip(os.sep)
        if text.startswith(base + os.sep):
            return text[len(base) + 1:].replace(os.sep, "/")  # relative_to, without pathlib's cost
        return full.relative_to(cwd).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(jobs: int, files: int) -> int:
    """Worker processes for ``files`` files: never more than the usable cores
    nor than the files (``jobs = 100000`` in a pyproject once started one
    process per file)."""
    return max(1, min(jobs, default_jobs(), files))


def lint_path(path: Path, resolver: ConfigResolver, display: Optional[str] = None) -> FileResult:
    shown = display or display_path(path)
    return _lint_file(path, shown, resolver.for_file(path))[0]


# A notebook's outputs (plots, logs, embedded images) are never parsed: the
# budget counts its code cells, and its file may be this many times the budget.
NOTEBOOK_FILE_FACTOR = 16


def read_limit(path, settings: Settings) -> int:
    """How many bytes may be read of a file before it is over budget unread."""
    limit = settings.max_file_size
    if limit > 0 and str(path).endswith(".ipynb"):
        return limit * NOTEBOOK_FILE_FACTOR
    return limit


def code_size(data: bytes, display: str) -> int:
    """The bytes the size budget counts: the whole file, or a notebook's code
    cells (their UTF-8 source; a notebook that is not readable JSON counts
    whole, and gets its own KM901 when parsed)."""
    if not display.endswith(".ipynb"):
        return len(data)
    try:
        nb = json.loads(data)
    except (ValueError, RecursionError):
        return len(data)
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        return len(data)
    total = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(part for part in source if isinstance(part, str))
        if isinstance(source, str):
            total += len(source.encode("utf-8", "surrogatepass"))
    return total


def over_budget(data: bytes, display: str, settings: Settings) -> Optional[int]:
    """The counted size when it is over ``max-file-size`` (None when within)."""
    limit = settings.max_file_size
    if limit <= 0 or len(data) <= limit:
        return None
    size = code_size(data, display)
    return size if size > limit else None


def _lint_file(path: Path, display: str, settings: Settings) -> tuple[FileResult, Optional[str], Optional[list]]:
    """Read and lint one file; never raises.  Also returns the hash of the
    bytes that were linted (None when unreadable) and the file's stat
    signature taken before they were read (for the cache)."""
    signature = stat_signature(path)
    try:
        data = read_regular(path, read_limit(path, settings))
    except TooLarge as e:
        return too_large(display, settings, e.size), None, None
    except OSError as e:
        return FileResult(display, error=_read_error(path, e)), None, None
    size = over_budget(data, display, settings)
    if size is not None:
        return too_large(display, settings, size, code_cells=display.endswith(".ipynb")), None, None
    with collector_paused(len(data) < PAUSE_COLLECTOR_BELOW):
        result = lint_data(data, display, settings)
    return result, content_hash(data), signature


@contextmanager
def collector_paused(pause: bool = True) -> Iterator[None]:
    """Run one file's lint with Python's cyclic garbage collector off, then
    collect what it left in one pass.

    A libcst tree is hundreds of thousands of objects; with the collector on,
    parsing and the semantic walk trigger collection after collection, each
    promoting the same live tree to an older generation and rescanning it
    (measured: a third of the CPU time of linting Keras' sources).  The model's
    scopes and bindings refer to each other, so a file's tree is freed by the
    collector, not by reference counting: one young-generation pass at the
    end frees it, since everything the file allocated is still young.  Very
    large files keep the collector on: their parse leaves enough cyclic
    garbage to raise the peak memory (+36 MB on a 450 kB file)."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


def freeze_imports() -> None:
    """Move everything imported so far out of the collector's sight: the
    modules, rules and tables live for the whole run, and a full collection
    would otherwise rescan them every time (and touch every page a forked
    worker shares with its parent)."""
    gc.collect()
    gc.freeze()
    # Linting leaves no cyclic garbage (models are closed, results detached):
    # in the sweeps measured, no automatic collection found anything, yet the
    # full ones rescanned the run's caches (13% of the CPU time on Keras'
    # sources).  Collect rarely; the end-of-file pass of collector_paused()
    # still frees what a file left.
    gc.set_threshold(*RUN_GC_THRESHOLD)


def lint_data(data: bytes, display: str, settings: Settings) -> FileResult:
    """``lint_bytes`` that never raises: an engine bug costs this file (an
    internal-error finding), not the run."""
    try:
        return lint_bytes(data, display, settings)
    except Exception as e:
        return crashed_result(display, f"kmlint crashed on this file: {type(e).__name__}: {e}")


def too_large(display: str, settings: Settings, size: int, code_cells: bool = False) -> FileResult:
    """The size budget: a file over ``max-file-size`` is a finding, not a parse
    (analysis memory grows ~1 GB per MB of source).  A notebook's budget
    counts its code cells (``code_size``); its file may be up to
    NOTEBOOK_FILE_FACTOR times the budget before it is not even read."""
    budget = _mb(settings.max_file_size)
    if code_cells:
        what = f"{_mb(size)} of code cells is over the max-file-size budget of {budget}"
    elif display.endswith(".ipynb"):
        what = (f"{_mb(size)} is over {NOTEBOOK_FILE_FACTOR} times the max-file-size budget of {budget} "
                f"(a notebook's code cells count, its outputs may take the rest)")
    else:
        what = f"{_mb(size)} is over the max-file-size budget of {budget}"
    return _parse_error_result(display, settings, f"file too large to analyse: {what} (raise `max-file-size` "
                               f"in the configuration to analyse it)", 1, 1)


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.1f} kB"


def _lint_data_detached(data: bytes, display: str, settings: Settings) -> FileResult:
    return lint_data(data, display, settings).detached()


def lint_data_guarded(data: bytes, display: str, settings: Settings) -> FileResult:
    """``lint_data`` in a forked child (``guard``): source from stdin (an
    editor's buffer) that crashes the parser is this file's KM000, not a
    dead kmlint.  The result is detached (no tree)."""
    size = over_budget(data, display, settings)
    if size is not None:
        return too_large(display, settings, size, code_cells=display.endswith(".ipynb"))
    # one buffer: no warm-up (it pays off only when several children reuse it)
    try:
        return guard.guarded(_lint_data_detached, data, display, settings)
    except guard.Crashed as e:
        return crashed_result(display, f"kmlint crashed on this file: {e}")


def _read_error(path: Path, e: OSError) -> str:
    try:
        if isinstance(e, IsADirectoryError) or path.is_dir():
            return "is a directory, not a file"
        if isinstance(e, FileNotFoundError):
            return "broken symbolic link" if path.is_symlink() else "file disappeared while kmlint was running"
    except OSError:
        pass
    if isinstance(e, NotRegularFile):
        return "not a regular file any more (a pipe, socket or device); skipped"
    return f"cannot read: {e.strerror or e}"


def crashed_result(display: str, message: str) -> FileResult:
    finding = Finding(INTERNAL_ERROR, "internal-error", message, display, severity="error")
    return FileResult(display, [finding], internal_errors=1)


def _run_task(task: _Task) -> FileResult:
    result, digest, signature = _lint_file(Path(task.path), task.display, task.settings)
    result = result.detached()
    if task.cache_dir is not None and task.cache_key is not None and digest is not None:
        ResultCache(task.cache_dir).put(task.cache_key, digest, result, signature)
    return result


def _run_chunk(chunk: list[_Task]) -> list[FileResult]:
    return [_run_task(t) for t in chunk]


def run(paths: list[str], resolver: ConfigResolver, force_exclude: bool = False,
        use_cache: bool = True, jobs: Optional[int] = None, witness=None) -> RunResult:
    """Lint ``paths`` (through the cache and the worker pool; runtime mode
    reads what it needs from the findings and the files); ``jobs`` defaults to
    the number of usable cores; ``witness``: see ``discover``."""
    result = RunResult()
    session_mod.begin()
    files = list(discover(paths, resolver, result.problems, force_exclude, witness))
    results: list[Optional[FileResult]] = [None] * len(files)
    caches: dict[Path, ResultCache] = {}
    dirs: dict[int, tuple[Settings, Path]] = {}  # per settings object: its cache directory
    tasks: list[_Task] = []
    for i, p in enumerate(files):
        display = display_path(p)
        settings = resolver.for_file(p)
        if not use_cache:
            tasks.append(_Task(i, str(p), display, settings, None, None))
            continue
        known = dirs.get(id(settings))
        if known is None or known[0] is not settings:
            known = dirs[id(settings)] = (settings, cache_dir_for(settings))
        directory = known[1]
        cache = caches.get(directory)
        if cache is None:
            cache = caches[directory] = ResultCache(directory)
        try:
            key = cache.key(p, display, settings)
            signature = stat_signature(p)
            digest: list = []

            def content(p=p, settings=settings, digest=digest):
                digest.append(content_hash(read_regular(p, read_limit(p, settings))))
                return digest[0]

            hit, hashed = cache.lookup(key, content, p)
            if hit is not None and hashed and signature is not None and digest:
                cache.put(key, digest[0], hit, signature)  # unchanged content, new signature (a checkout)
        except (OSError, TooLarge):
            key, hit = None, None  # the task reports why it cannot be read
        except Exception:  # noqa: BLE001 - a cache bug costs the cache, not the run
            key, hit = None, None
        if hit is not None:
            results[i] = hit
        else:
            tasks.append(_Task(i, str(p), display, settings, directory, key))
    for index, res in _execute(tasks, jobs or default_jobs()):
        results[index] = res
    for p, res in zip(files, results):
        if res.error:
            result.problems.append(DiscoveryProblem(res.path, res.error))
            continue
        result.files += 1
        result.findings.extend(res.findings)
        result.internal_errors += res.internal_errors
        result.results.append(res)
        result.paths.append(p)
    result.findings.sort(key=lambda f: f.sort_key)
    return result


def _execute(tasks: list[_Task], jobs: int) -> Iterator[tuple[int, FileResult]]:
    if len(tasks) < MIN_FILES_FOR_POOL or not guard.enabled():
        # in this process, each file guarded by a forked child: a native crash
        # costs that file (its KM000), not the run
        frozen = len(tasks) >= MIN_FILES_FOR_POOL and gc.get_freeze_count() == 0
        threshold = gc.get_threshold()
        if frozen:
            freeze_imports()
        try:
            for t in tasks:
                yield t.index, _guarded_task(t, warm=len(tasks) > 1)
        finally:
            if frozen:
                gc.unfreeze()  # this process may go on (a language server, a test run)
                gc.set_threshold(*threshold)
        return
    # a pool even for -j 1: the worker keeps its caches from file to file, and
    # a worker that dies costs one file (see below).  Imported here: a run on
    # a few files never starts a pool (18 ms of start-up saved)
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    workers = worker_count(jobs, len(tasks))
    # a few files per submission: one future and two messages per file cost
    # the parent more than the pickling; small enough to keep both workers
    # busy to the end (a chunk is the files of one directory, in order)
    size = max(1, min(CHUNK_FILES, len(tasks) // (workers * TASKS_PER_WORKER * 4)))
    pending_chunks = iter([tasks[i:i + size] for i in range(0, len(tasks), size)])
    unfinished: list[_Task] = []
    with _pool(workers) as pool:
        running = {}
        try:
            while True:
                while len(running) < workers * TASKS_PER_WORKER:
                    chunk = next(pending_chunks, None)
                    if chunk is None:
                        break
                    running[pool.submit(_run_chunk, chunk)] = chunk
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    chunk = running.pop(fut)
                    try:
                        results = fut.result()
                    except BrokenProcessPool:
                        unfinished.extend(chunk)
                        continue
                    for t, res in zip(chunk, results):
                        yield t.index, res
                if unfinished:
                    for chunk in running.values():
                        unfinished.extend(chunk)
                    for chunk in pending_chunks:
                        unfinished.extend(chunk)
                    break
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    # A worker died (killed for memory, or a crash below Python): find the
    # culprit by linting each remaining file in a process of its own.
    for t in sorted(unfinished, key=lambda t: t.index):
        yield t.index, _isolated(t)


WARM_UP_SOURCE = ("import tensorflow as tf\nmodel = tf.keras.Model()\nfor x in range(3):\n"
                  "    model.fit_generator(x)\n    model.predict(x)\n")
_warmed: set = set()


def warm_up(settings: Settings, fixing: bool = False) -> None:
    """Lint (or fix) a small snippet here once before the first guarded child:
    the first lint of a process imports and builds what every later one reuses
    (0.8 s); done in each forked child, it would be paid per file."""
    key = (settings.fingerprint(), fixing)
    if key in _warmed or not guard.enabled():
        return
    _warmed.add(key)
    try:
        if fixing:
            from kmlint.fixer import fix_source

            fix_source(WARM_UP_SOURCE, "warm_up.py", settings)
        else:
            from kmlint.engine import linter  # not this module's name: tests wrap that one to count lints

            linter.lint_bytes(WARM_UP_SOURCE.encode(), "warm_up.py", settings)
    except Exception:  # noqa: BLE001 - only a warm-up; the real lint reports
        pass


def _guarded_task(task: _Task, warm: bool = True) -> FileResult:
    """One file linted in a forked child (``guard``); ``warm``: lint a snippet
    here first so that the children inherit the imported rules (worth it from
    the second file on)."""
    if warm:
        warm_up(task.settings)
    try:
        result = guard.guarded(_run_task, task)
    except guard.Crashed as e:
        return crashed_result(task.display, f"kmlint crashed on this file: {e}")
    except Exception as e:  # noqa: BLE001 - raised in the child, e.g. in the cache
        return crashed_result(task.display, f"kmlint crashed on this file: {type(e).__name__}: {e}")
    return result


def _pool(workers: int) -> "ProcessPoolExecutor":
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    # fork starts in milliseconds and inherits the imported rules
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(os.getpid(),))


def _worker_init(parent: Optional[int] = None) -> None:
    # a worker dies with kmlint (kill -9 of kmlint left its workers running)
    guard.die_with_parent(parent)
    # Ctrl-C is handled once, by the parent, which cancels the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    freeze_imports()


def _isolated(task: _Task) -> FileResult:
    from concurrent.futures.process import BrokenProcessPool

    with _pool(1) as pool:
        try:
            return pool.submit(_run_task, task).result()
        except BrokenProcessPool:
            return crashed_result(task.display, "kmlint's worker process died while linting this file "
                                                "(out of memory, or a crash in a native extension)")
