"""Sweep kmlint over a corpus of third-party code and summarise the result.

Used for the precision audit (issue 4): run kmlint over code nobody on the team
wrote, count findings per rule, and catch internal errors (KM000) and crashes.

Usage:
    python scripts/audit_sweep.py CORPUS_DIR [CORPUS_DIR ...] \
        --summary audit.json [--findings findings.json] [--kmlint-root /work/main] \
        [--chunk-size 200] [--jobs 2] [--preview] [--select KM1,KM3]

Every .py/.pyi/.ipynb file under the corpus directories is linted
(`.ipynb_checkpoints` and `__pycache__` skipped).  Files are passed to
`python -m kmlint check --output-format json --no-cache --exit-zero` explicitly,
in chunks, so kmlint's default excludes (e.g. `build/`) do not hide corpus files.
With --kmlint-root the given checkout is put first on PYTHONPATH, so the sweep
measures that checkout rather than whatever kmlint is installed.

A chunk whose process exits abnormally (non-JSON output, a traceback, a signal)
is re-run file by file so the crash is pinned to one file.  Exit status: 0 when
there were no internal errors and no crashes, 1 otherwise.

The summary JSON holds: the registered rules, file counts (py/ipynb), findings
per rule, per-rule file lists, internal errors (KM000, with path and message),
crashes (path, exit status, stderr tail), files kmlint refused (unreadable...),
and wall time.  --findings writes every finding (kmlint's JSON objects).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}
SUFFIXES = (".py", ".pyi", ".ipynb")
INTERNAL_ERROR = "KM000"
NEUTRAL_CWD = tempfile.gettempdir()


def corpus_files(roots: list[Path]) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            found.extend(Path(dirpath, f) for f in sorted(filenames) if f.endswith(SUFFIXES))
    return found


def kmlint_env(kmlint_root: str | None) -> dict:
    env = dict(os.environ)
    if kmlint_root:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [kmlint_root, env.get("PYTHONPATH")]))
    return env


def run_kmlint(files: list[Path], extra: list[str], env: dict) -> dict:
    cmd = [sys.executable, "-m", "kmlint", "check", "--output-format", "json", "--no-cache",
           "--exit-zero", *extra, "--", *(str(f.resolve()) for f in files)]
    # `python -m` puts the working directory first on sys.path: run from a
    # neutral directory so a kmlint checkout there cannot shadow --kmlint-root.
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=NEUTRAL_CWD)
    outcome = {"rc": proc.returncode, "stderr": proc.stderr, "findings": None}
    try:
        outcome["findings"] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pass
    return outcome


def crashed(outcome: dict) -> bool:
    """kmlint reports internal errors as KM000 findings with exit 2; anything
    else non-zero, or output that is not JSON, or a traceback is a crash."""
    if outcome["findings"] is None or "Traceback (most recent call last)" in outcome["stderr"]:
        return True
    return outcome["rc"] not in (0, 2)


def lint_chunk(files: list[Path], extra: list[str], env: dict) -> tuple[list[dict], list[dict], str]:
    """Findings and crashes of one chunk; a crashing chunk is re-run per file."""
    outcome = run_kmlint(files, extra, env)
    if not crashed(outcome):
        return outcome["findings"], [], outcome["stderr"]
    if len(files) == 1:
        return [], [{"path": str(files[0]), "rc": outcome["rc"], "stderr": outcome["stderr"][-4000:]}], ""
    findings, crashes, stderr = [], [], ""
    for f in files:
        fs, cs, err = lint_chunk([f], extra, env)
        findings += fs
        crashes += cs
        stderr += err
    return findings, crashes, stderr


def refused_files(stderr: str) -> list[str]:
    """Files kmlint could not read or lint ('kmlint: error: PATH: why')."""
    return [line[len("kmlint: error: "):] for line in stderr.splitlines() if line.startswith("kmlint: error: ")]


def registered_rules(env: dict) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "kmlint", "rules", "--output-format", "json"],
                          capture_output=True, text=True, env=env, cwd=NEUTRAL_CWD)
    try:
        return [r["code"] for r in json.loads(proc.stdout)]
    except (json.JSONDecodeError, KeyError, TypeError):
        return []


def summarise(files: list[Path], findings: list[dict], crashes: list[dict], refused: list[str],
              rules: list[str], seconds: float) -> dict:
    per_rule = Counter(f["code"] for f in findings if f["code"] != INTERNAL_ERROR)
    files_per_rule: dict[str, set] = defaultdict(set)
    for f in findings:
        files_per_rule[f["code"]].add(f["path"])
    return {
        "rules_registered": rules,
        "files": {
            "total": len(files),
            "py": sum(p.suffix in (".py", ".pyi") for p in files),
            "ipynb": sum(p.suffix == ".ipynb" for p in files),
        },
        "findings_total": sum(per_rule.values()),
        "findings_per_rule": dict(sorted(per_rule.items())),
        "files_with_findings_per_rule": {c: len(p) for c, p in sorted(files_per_rule.items()) if c != INTERNAL_ERROR},
        "internal_errors": [
            {"path": f["path"], "line": f.get("line"), "message": f["message"]}
            for f in findings if f["code"] == INTERNAL_ERROR
        ],
        "crashes": crashes,
        "refused_files": refused,
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="+", type=Path)
    ap.add_argument("--summary", type=Path, required=True, help="where to write the JSON summary")
    ap.add_argument("--findings", type=Path, help="also write every finding here (JSON array)")
    ap.add_argument("--kmlint-root", help="checkout to put first on PYTHONPATH")
    ap.add_argument("--chunk-size", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--preview", action="store_true")
    ap.add_argument("--select", help="passed to kmlint --select")
    args = ap.parse_args(argv)

    extra = (["--preview"] if args.preview else []) + (["--select", args.select] if args.select else [])
    env = kmlint_env(args.kmlint_root)
    files = corpus_files(args.corpus)
    if not files:
        print("audit_sweep: no .py/.ipynb files under the given paths", file=sys.stderr)
        return 2
    chunks = [files[i:i + args.chunk_size] for i in range(0, len(files), args.chunk_size)]
    start = time.monotonic()
    findings, crashes, refused = [], [], []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for fs, cs, err in pool.map(lambda c: lint_chunk(c, extra, env), chunks):
            findings += fs
            crashes += cs
            refused += refused_files(err)
    summary = summarise(files, findings, crashes, refused, registered_rules(env), time.monotonic() - start)
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    if args.findings:
        args.findings.write_text(json.dumps(findings, indent=1) + "\n")
    print(f"{summary['files']['total']} files ({summary['files']['py']} py, {summary['files']['ipynb']} ipynb), "
          f"{summary['findings_total']} findings, {len(summary['internal_errors'])} internal errors, "
          f"{len(crashes)} crashes, {summary['seconds']} s")
    for code, n in summary["findings_per_rule"].items():
        print(f"  {code}: {n}")
    return 1 if summary["internal_errors"] or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
