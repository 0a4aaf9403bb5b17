"""kmlint speed benchmark: one command, ratios against the libcst parse floor.

    python benchmarks/bench.py            # both corpora, 2 processes
    python benchmarks/bench.py --corpus keras --jobs 4 --repeat 3

Builds two corpora from package wheels (``pip download --no-deps``, cached in
``--work``; nothing is downloaded when the wheels are already there):

* ``keras``: every ``.py`` file of the keras 3.15.1 wheel, all Keras code, the
  worst case for a Keras linter;
* ``mixed``: the keras files plus django, sqlalchemy, rich and requests, a
  monorepo where most files never mention TensorFlow.

For each corpus it measures, with the same number of processes:

* floor: a bare ``libcst.parse_module`` of every file kmlint would lint;
* kmlint cold: ``kmlint check --no-cache``;
* kmlint warm: ``kmlint check`` twice with the cache, the second run timed
  (it replays the first run's manifest, ``kmlint/engine/manifest.py``);
* kmlint warm, 1 touched: the same after one file's mtime changed (its
  content did not): the manifest no longer holds, every file goes through
  the per-file cache;
* Fixit and pylint with their default rules, when installed.

Every command runs in a fresh process under a small wrapper that reports wall
time, CPU time (user+sys of the process and all its workers) and the peak RSS
of the largest process.  The machine may be shared: wall ratios move with the
load of other processes, CPU-time ratios much less; both are printed.  This is
a script, not a test: it takes a few minutes (much longer with pylint).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KERAS = "keras==3.15.1"
MIXED_EXTRA = ["django==5.2.19", "sqlalchemy==2.1.9", "rich==15.0.0", "requests==2.34.2"]
CORPORA = {"keras": [KERAS], "mixed": [KERAS, *MIXED_EXTRA]}

# Runs a command and prints {"wall", "cpu", "rss_mb", "rc"} for it and all its
# descendants (ru_maxrss of RUSAGE_CHILDREN is the largest single process).
WRAPPER = r"""
import json, resource, subprocess, sys, time
out = open(sys.argv[1], "wb") if sys.argv[1] != "-" else subprocess.DEVNULL
t = time.perf_counter()
try:
    rc = subprocess.run(sys.argv[3:], stdout=out, stderr=subprocess.PIPE, timeout=float(sys.argv[2]))
    code, err = rc.returncode, rc.stderr.decode(errors="replace")[-2000:]
except subprocess.TimeoutExpired:
    code, err = "timeout", ""
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": r.ru_utime + r.ru_stime, "rss_mb": r.ru_maxrss / 1024, "rc": code, "stderr": err}))
"""

FLOOR = r"""
import sys
from multiprocessing import get_context
import libcst

def parse(path):
    with open(path, "rb") as f:
        libcst.parse_module(f.read())
    return 0

if __name__ == "__main__":
    files = open(sys.argv[1]).read().split("\n")
    jobs = int(sys.argv[2])
    if jobs == 1:
        for p in files:
            parse(p)
    else:
        with get_context("fork").Pool(jobs) as pool:
            for _ in pool.imap_unordered(parse, files, chunksize=4):
                pass
"""


def wheel(spec: str, downloads: Path) -> Path:
    name, version = spec.split("==")
    prefix = f"{name.lower()}-{version}-"
    found = [p for p in downloads.glob("*.whl") if p.name.lower().startswith(prefix)]
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                        "-d", str(downloads), spec], check=True)
        found = [p for p in downloads.glob("*.whl") if p.name.lower().startswith(prefix)]
    return found[0]


def build_corpus(name: str, work: Path) -> Path:
    root = work / "corpus" / name
    marker = root / ".complete"
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for spec in CORPORA[name]:
        with zipfile.ZipFile(wheel(spec, work / "wheels")) as z:
            for info in z.infolist():
                if info.filename.endswith(".py"):
                    z.extract(info, root / spec.split("==")[0])
    marker.write_text("")
    return root


def files_of(root: Path) -> list[str]:
    """The files kmlint lints in ``root`` (its own discovery), for the floor."""
    sys.path.insert(0, str(REPO))
    from kmlint.config import ConfigResolver
    from kmlint.engine.discovery import discover

    problems: list = []
    return [str(p) for p in discover([str(root)], ConfigResolver(), problems)]


def measure(cmd: list[str], cwd: Path, env: dict, output: str = "-", timeout: float = 3600) -> dict:
    out = subprocess.run([sys.executable, "-c", WRAPPER, output, str(timeout), *cmd], cwd=cwd, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"{cmd[:4]} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["wall"])


def bench_corpus(name: str, args, env: dict) -> dict:
    root = build_corpus(name, args.work)
    files = files_of(root)
    size = sum(os.path.getsize(f) for f in files)
    listing = args.work / f"{name}.files"
    listing.write_text("\n".join(files))
    kmlint = [sys.executable, "-m", "kmlint", "check", "--exit-zero", "--output-format", "json", "--jobs",
              str(args.jobs), "."]
    cache = root / ".kmlint_cache"
    print(f"\n== {name}: {len(files)} files, {size / 1e6:.1f} MB, {args.jobs} processes", flush=True)
    res: dict = {"files": len(files), "mb": size / 1e6}

    def run(label: str, cmd: list[str], prepare=None, output: str = "-", timeout: float = 3600) -> dict:
        runs = []
        for _ in range(args.repeat):
            if prepare:
                prepare()
            runs.append(measure(cmd, root, env, output, timeout))
            if runs[-1]["rc"] not in (0, 1) and label.startswith("kmlint"):
                raise RuntimeError(f"{label}: exit {runs[-1]['rc']}: {runs[-1]['stderr']}")
        r = best(runs)
        res[label] = r
        note = " (timed out)" if r["rc"] == "timeout" else ""
        print(f"{label:<22} wall {r['wall']:7.2f}s  cpu {r['cpu']:7.2f}s  peak rss {r['rss_mb']:6.0f} MB{note}", flush=True)
        return r

    cold_out, full_out = args.work / f"{name}.cold.json", args.work / f"{name}.noprefilter.json"
    run("floor", [sys.executable, "-c", FLOOR, str(listing), str(args.jobs)])
    run("kmlint cold", kmlint[:4] + ["--no-cache"] + kmlint[4:], output=str(cold_out))
    run("kmlint no prefilter", kmlint[:4] + ["--no-cache"] + kmlint[4:], output=str(full_out),
        prepare=lambda: env.update(KMLINT_NO_PREFILTER="1"))
    env.pop("KMLINT_NO_PREFILTER", None)
    # the prefilter must not change a single finding on real code either
    res["findings"] = len(json.loads(cold_out.read_text()))
    res["prefilter_equal"] = json.loads(cold_out.read_text()) == json.loads(full_out.read_text())
    print(f"findings: {res['findings']}; identical without the prefilter: {res['prefilter_equal']}", flush=True)

    def fill_cache():
        shutil.rmtree(cache, ignore_errors=True)
        subprocess.run(kmlint, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run("kmlint warm", kmlint, prepare=fill_cache)
    touched = files[len(files) // 2]

    def touch_one():
        fill_cache()
        os.utime(touched)  # same content, new mtime: the run manifest no longer holds, the per-file cache does

    run("kmlint warm, 1 touched", kmlint, prepare=touch_one)
    shutil.rmtree(cache, ignore_errors=True)
    if not args.no_tools:
        if shutil.which("fixit"):
            run("fixit", ["fixit", "--quiet", "lint", "."], timeout=args.tool_timeout)
        if shutil.which("pylint"):
            run("pylint", [sys.executable, "-m", "pylint", f"--jobs={args.jobs}", "--exit-zero",
                           "--recursive=y", "--output-format=text", "."], timeout=args.tool_timeout)
    floor = res["floor"]
    for label in [k for k in res if isinstance(res[k], dict) and k != "floor"]:
        r = res[label]
        r["wall_x_floor"] = r["wall"] / floor["wall"]
        r["cpu_x_floor"] = r["cpu"] / floor["cpu"]
    res["warm_x_cold"] = res["kmlint warm"]["wall"] / res["kmlint cold"]["wall"]
    res["touched_x_cold"] = res["kmlint warm, 1 touched"]["wall"] / res["kmlint cold"]["wall"]
    return res


def report(results: dict, args) -> str:
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}, "
             f"{platform.system()} {platform.release()}; {args.jobs} processes; best of {args.repeat}",
             "", "| corpus | measurement | wall s | x floor (wall) | CPU s | x floor (CPU) | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        corpus = f"{name} ({res['files']} files, {res['mb']:.1f} MB)"
        for label, r in res.items():
            if not isinstance(r, dict):
                continue
            wx = f"{r['wall_x_floor']:.2f}x" if "wall_x_floor" in r else "1.00x"
            cx = f"{r['cpu_x_floor']:.2f}x" if "cpu_x_floor" in r else "1.00x"
            lines.append(f"| {corpus} | {label} | {r['wall']:.2f} | {wx} | {r['cpu']:.2f} | {cx} | {r['rss_mb']:.0f} |")
            corpus = ""
        lines.append(f"| | warm / cold (wall) | | {res['warm_x_cold']:.3f}x | | | |")
        lines.append(f"| | warm, 1 touched / cold (wall) | | {res['touched_x_cold']:.3f}x | | | |")
        lines.append(f"| | findings (identical without prefilter: {res['prefilter_equal']}) | {res['findings']} | | | | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is kept")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kmlint-bench",
                    help="where wheels and corpora are kept between runs")
    ap.add_argument("--no-tools", action="store_true", help="skip Fixit and pylint")
    ap.add_argument("--tool-timeout", type=float, default=1800, help="seconds before Fixit/pylint are stopped")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    names = list(CORPORA) if args.corpus == "all" else [args.corpus]
    started = time.time()
    results = {name: bench_corpus(name, args, env) for name in names}
    print("\n" + report(results, args))
    print(f"\n(total {time.time() - started:.0f}s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
