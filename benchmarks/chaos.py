"""Chaos runs: kill, concurrency and fault scenarios at scale (issue 14).

    python benchmarks/chaos.py                 # every scenario, small scale (~5 min on 2 cores)
    python benchmarks/chaos.py --long          # 10x the rounds and files
    python benchmarks/chaos.py --only fix-kill,odd-inputs --rounds 40 --files 2000

Scenarios (each prints one line of figures; the exit status is 1 when any
invariant broke):

- fix-kill: ``kmlint check --fix`` killed with SIGKILL at a random moment,
  round after round, on a tree of fixable files (CRLF, BOM, coding cookie,
  modes 0600/0755).  Every file must be either untouched or exactly fixed; no
  process of the killed run may survive; the next complete ``--fix`` must
  leave no ``*.kmlint-tmp`` and every file fixed.
- parallel-kill: ``kmlint check -j 2`` killed with SIGKILL once its workers
  run; none may survive.
- server-kill: ``kmlint server`` killed (SIGTERM, SIGKILL alternately) after
  its lint worker and multiprocessing's resource tracker started; none may
  survive.
- cache-storm: concurrent cached runs while files are edited and cache entries
  are truncated or replaced by junk or JSON of the wrong shape; then every
  cached run must equal a fresh ``--no-cache`` run.
- odd-inputs: a tree of odd inputs (names that are not UTF-8, a FIFO, a file
  that crashes the parser, a too-large file, broken notebooks, a file that
  becomes a FIFO mid-run) in every output format: the run ends, exits 1 or 2,
  never prints a traceback and reports every ordinary file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(REPO) + (os.pathsep + os.environ["PYTHONPATH"]
                                                if os.environ.get("PYTHONPATH") else ""))
KMLINT = [sys.executable, "-m", "kmlint"]

BAD = "import tensorflow as tf\nmodel = tf.keras.Model()\n" + "".join(
    f"def step{i}(g):\n    model.fit_generator(g, steps_per_epoch={i + 1})\n" for i in range(12))


# ----------------------------------------------------------------- processes


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    try:
        return _stat_fields(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents.setdefault(int(_stat_fields(int(entry))[1]), []).append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in parents.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def survivors(pids, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    for p in left:  # do not leave them to the next scenario
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    return left


def wait_children(proc: subprocess.Popen, n: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        kids = descendants(proc.pid)
        if len(kids) >= n:
            return kids
        time.sleep(0.02)
    return descendants(proc.pid)


# ----------------------------------------------------------------- trees


def fixable_tree(root: Path, files: int) -> dict[Path, bytes]:
    originals = {}
    for i in range(files):
        text = BAD + f"# file {i}\n"
        kind = i % 4
        if kind == 1:
            data = text.replace("\n", "\r\n").encode()
        elif kind == 2:
            data = b"\xef\xbb\xbf" + text.encode()
        elif kind == 3:
            data = ("# -*- coding: latin-1 -*-\n# caf\xe9\n" + text).encode("latin-1")
        else:
            data = text.encode()
        p = root / f"pkg{i % 10}" / f"m{i:05}.py"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.chmod(p, (0o600, 0o644, 0o755, 0o640)[i % 4])
        originals[p] = data
    return originals


def restore(originals: dict[Path, bytes]) -> None:
    for p, data in originals.items():
        p.write_bytes(data)


# ----------------------------------------------------------------- scenarios


def fix_kill(work: Path, rounds: int, files: int) -> dict:
    tree = work / "fix"
    originals = fixable_tree(tree, files)
    modes = {p: os.stat(p).st_mode for p in originals}
    started = time.monotonic()
    subprocess.run(KMLINT + ["check", "--no-cache", "--fix", "-q", "."], cwd=tree, env=ENV, capture_output=True)
    full = time.monotonic() - started  # kills land anywhere from start-up to the last file
    fixed = {p: p.read_bytes() for p in originals}
    assert all(fixed[p] != originals[p] for p in originals), "the fixer fixed nothing"
    corrupted = leftover_procs = not_fixed_after = tmp_after = 0
    tmp_right_after = 0
    partially = []
    for r in range(rounds):
        restore(originals)
        proc = subprocess.Popen(KMLINT + ["check", "--no-cache", "--fix", "-q", "."], cwd=tree, env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(random.uniform(0.1, 1.0) * full)
        kids = descendants(proc.pid)
        proc.kill()
        proc.wait()
        leftover_procs += len(survivors(kids))
        done = 0
        for p in originals:
            data = p.read_bytes()
            if data == fixed[p]:
                done += 1
            elif data != originals[p]:
                corrupted += 1
            if os.stat(p).st_mode != modes[p]:
                corrupted += 1
        partially.append(done)
        tmp_right_after += len(list(tree.rglob("*.kmlint-tmp")))
        subprocess.run(KMLINT + ["check", "--no-cache", "--fix", "-q", "."], cwd=tree, env=ENV, capture_output=True)
        tmp_after += len(list(tree.rglob("*.kmlint-tmp")))
        not_fixed_after += sum(1 for p in originals if p.read_bytes() != fixed[p])
    ok = corrupted == 0 and leftover_procs == 0 and tmp_after == 0 and not_fixed_after == 0
    return {"ok": ok, "rounds": rounds, "files": files, "corrupted": corrupted, "surviving processes": leftover_procs,
            "files fixed when killed (min-max)": f"{min(partially)}-{max(partially)}",
            "tmp files left by the kills": tmp_right_after, "tmp files after the next run": tmp_after,
            "not fixed after the next run": not_fixed_after}


def parallel_kill(work: Path, rounds: int, files: int) -> dict:
    tree = work / "parallel"
    fixable_tree(tree, max(files, 100))
    left = started = 0
    for _ in range(rounds):
        proc = subprocess.Popen(KMLINT + ["check", "--no-cache", "-j", "2", "."], cwd=tree, env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kids = wait_children(proc, 2)
        started += len(kids)
        time.sleep(random.uniform(0, 0.5))
        kids = sorted(set(kids) | set(descendants(proc.pid)))
        proc.kill()
        proc.wait()
        left += len(survivors(kids))
    return {"ok": left == 0, "rounds": rounds, "workers seen": started, "surviving processes": left}


def _lsp(obj) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def server_kill(work: Path, rounds: int, files: int) -> dict:
    try:
        import pygls  # noqa: F401
    except ImportError:
        return {"ok": True, "skipped": "pygls is not installed"}
    left = seen = 0
    for r in range(rounds):
        proc = subprocess.Popen(KMLINT + ["server"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=ENV)
        proc.stdin.write(_lsp({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                               "params": {"processId": None, "rootUri": None, "capabilities": {}}}))
        proc.stdin.write(_lsp({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        uri = (work / f"doc{r}.py").as_uri()
        proc.stdin.write(_lsp({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": BAD}}}))
        proc.stdin.flush()
        kids = wait_children(proc, 2)
        seen += len(kids)
        proc.send_signal(signal.SIGKILL if r % 2 else signal.SIGTERM)
        proc.wait()
        left += len(survivors(kids))
    return {"ok": left == 0, "rounds": rounds, "processes seen": seen, "surviving processes": left}


def _json_findings(stdout: str):
    return sorted((f["path"], f["line"], f["column"], f["code"], f["message"]) for f in json.loads(stdout))


def cache_storm(work: Path, rounds: int, files: int) -> dict:
    tree = work / "cache"
    fixable_tree(tree, files)
    paths = sorted(tree.rglob("*.py"))
    mismatches = runs = vandalised = edits = errors = 0
    for _ in range(max(1, rounds // 3)):  # the slowest scenario: a third of the rounds
        stop = threading.Event()

        def editor() -> None:
            nonlocal edits
            while not stop.is_set():
                p = random.choice(paths)
                text = p.read_bytes()
                if b"predict" in text:
                    p.write_bytes(text.replace(b"for x in xs:\n    model.predict(x)\n", b""))
                else:
                    p.write_bytes(text + b"xs = [1]\nfor x in xs:\n    model.predict(x)\n")
                edits += 1
                time.sleep(0.01)

        def vandal() -> None:
            nonlocal vandalised
            junk = [b"", b"{", b"[]", b'{"content": 1}', b'{"content": "x", "dependencies": []}', b"\xff\xfe",
                    b"[" * 50000]
            while not stop.is_set():
                entries = list((tree / ".kmlint_cache").rglob("*.json"))
                if entries:
                    e = random.choice(entries)
                    try:
                        e.write_bytes(random.choice(junk))
                        vandalised += 1
                    except OSError:
                        pass
                time.sleep(0.02)

        threads = [threading.Thread(target=editor), threading.Thread(target=vandal)]
        for t in threads:
            t.start()
        procs = [subprocess.Popen(KMLINT + ["check", "--output-format", "json", "-j", "1", "."], cwd=tree, env=ENV,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for p in procs:
            _, err = p.communicate()
            errors += "Traceback" in err or p.returncode not in (0, 1)
        stop.set()
        for t in threads:
            t.join()
        fresh = subprocess.run(KMLINT + ["check", "--no-cache", "--output-format", "json", "."], cwd=tree, env=ENV,
                               capture_output=True, text=True)
        expected = _json_findings(fresh.stdout)
        procs = [subprocess.Popen(KMLINT + ["check", "--output-format", "json", "-j", "1", "."], cwd=tree, env=ENV,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        for p in procs:
            out, err = p.communicate()
            runs += 1
            errors += "Traceback" in err or p.returncode not in (0, 1)
            mismatches += _json_findings(out) != expected
    return {"ok": mismatches == 0 and errors == 0, "rounds": max(1, rounds // 3), "files": files, "edits": edits,
            "entries vandalised": vandalised, "cached runs compared": runs, "mismatches": mismatches,
            "errors": errors}


def odd_inputs(work: Path, rounds: int, files: int) -> dict:
    tree = work / "odd"
    tree.mkdir()
    normal = max(20, files // 10)
    for i in range(normal):
        (tree / f"ok{i:04}.py").write_text(BAD)
    (tree / os.fsdecode(b"caf\xe9.py")).write_text(BAD)
    (tree / os.fsdecode(b"new\nline.py")).write_text(BAD)
    os.mkfifo(tree / "fifo.py")
    (tree / "crash.py").write_text("x = " + " \\\n".join(["not " * 1240] * 13) + " y\n")
    (tree / "big.py").write_text("x = 1\n" * 400_000)  # 2.4 MB: over the default budget
    (tree / "deep.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (tree / "ints.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": [1, 2]}]}))
    (tree / "bad.py").write_bytes(b"x = '\xff'\n")
    (tree / "pyproject.toml").write_text("[tool.kmlint]\njobs = 100000\n")
    hangs = tracebacks = bad_exits = missing = runs = 0
    formats = ["text", "json", "sarif", "github", "gitlab", "junit"]
    for r in range(rounds):
        fmt = formats[r % len(formats)]
        swap = tree / "ok0000.py"
        args = KMLINT + ["check", "--output-format", fmt, "-j", str(1 + r % 2)] + (["--no-cache"] if r % 3 else [])
        if r % 4 == 3:
            args.append("--fix")
        proc = subprocess.Popen(args + ["."], cwd=tree, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r % 5 == 4:  # a file becomes a FIFO while the run goes on
            time.sleep(random.uniform(0, 1))
            swap.unlink()
            os.mkfifo(swap)
        try:
            out, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            hangs += 1
        runs += 1
        tracebacks += b"Traceback" in err
        bad_exits += proc.returncode not in (1, 2)
        if fmt != "sarif" and "--fix" not in args:
            missing += sum(1 for i in range(1, normal) if f"ok{i:04}.py".encode() not in out)
        if swap.exists() and not swap.is_file():
            swap.unlink()
        swap.write_text(BAD)
        for i in range(normal):
            (tree / f"ok{i:04}.py").write_text(BAD)
    return {"ok": hangs == tracebacks == bad_exits == missing == 0, "runs": runs, "hangs": hangs,
            "tracebacks": tracebacks, "exit not 1/2": bad_exits, "ordinary files missing": missing}


SCENARIOS = {"fix-kill": fix_kill, "parallel-kill": parallel_kill, "server-kill": server_kill,
             "cache-storm": cache_storm, "odd-inputs": odd_inputs}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true", help="10x the rounds and files")
    ap.add_argument("--rounds", type=int, help="rounds per scenario (default 10, --long 100)")
    ap.add_argument("--files", type=int, help="files per tree (default 300, --long 3000)")
    ap.add_argument("--only", help="comma-separated scenario names")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    random.seed(args.seed)
    rounds = args.rounds or (100 if args.long else 10)
    files = args.files or (3000 if args.long else 300)
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    failed = False
    for name in chosen:
        work = Path(tempfile.mkdtemp(prefix=f"kmlint-chaos-{name}-"))
        started = time.monotonic()
        try:
            result = SCENARIOS[name](work, rounds, files)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        ok = result.pop("ok")
        failed |= not ok
        figures = ", ".join(f"{k}: {v}" for k, v in result.items())
        print(f"{name:14} {'ok    ' if ok else 'FAILED'} {figures} ({time.monotonic() - started:.0f} s)", flush=True)
    print("chaos: " + ("FAILED" if failed else "every invariant held"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
