#!/usr/bin/env python3
"""Score kmlint on the labelled real-world evaluation set (issue 16).

The labels (``eval/labels.jsonl``) point into public third-party code that is
NOT part of this repository.  One row per label::

    {"source": "github:owner/name" | "pypi:package==version",
     "version": "<40-hex commit>" | "<package version>",
     "path": "file inside the source", "cell": null | <0-based notebook cell>,
     "line": <1-based line (within the cell for notebooks)>,
     "rule": "KMxxx", "kind": "finding" | "trap", "reason": "...",
     "also": [[cell, line], ...]   # optional: other places a finding may be reported
    }

Steps:

1. materialise the sources into a corpus directory laid out as
   ``<corpus>/<owner>+<name>/<path>`` (GitHub) or ``<corpus>/pypi+<package>/<path>``:
   * ``--corpus DIR``: a directory of already-fetched sources (CI cannot reach
     GitHub; the snapshots were taken with the session's ``fetch`` tool, see
     ``eval/SOURCES.md``);
   * ``--mirrors DIR``: git mirrors laid out as ``DIR/<owner>+<name>/repo``; the
     ``.py``/``.ipynb`` files at the pinned commit are written into the corpus;
   * ``pypi:`` sources are downloaded with ``pip download --no-deps --no-binary :all:``
     at the pinned version and unpacked into the corpus (when not already there).
2. run ``python -m kmlint check --output-format json --preview --no-cache -j N``
   over every source that has labels (whole source trees, so project-level
   facts such as imported helpers are seen);
3. score: a ``finding`` label is found when kmlint reports the same rule in the
   same file (and notebook cell) on the labelled line, one line either side, or
   on one of its ``also`` places; a ``trap`` is flagged when kmlint reports its
   rule there.  A reported finding is matched to the nearest label first, so a
   finding on a real case does not also count against a trap on the next line.

Prints a per-rule table (recall on findings, trap precision = share of traps
NOT flagged) and can write the misses (``--misses-out``) and kmlint's raw
findings (``--save-findings``) for later runs (``--findings``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LABELS = ROOT / "eval" / "labels.jsonl"
REQUIRED = ("source", "version", "path", "line", "rule", "kind", "reason")


# ----------------------------------------------------------------------------- labels


def load_labels(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            raw = raw.strip()
            if not raw:
                continue
            row = json.loads(raw)
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                raise SystemExit(f"{path}:{n}: missing {missing}")
            if row["kind"] not in ("finding", "trap"):
                raise SystemExit(f"{path}:{n}: kind must be finding or trap")
            row.setdefault("cell", None)
            rows.append(row)
    return rows


def source_dir(source: str) -> str:
    """``github:owner/name`` -> ``owner+name``; ``pypi:pkg==1.0`` -> ``pypi+pkg``."""
    kind, _, rest = source.partition(":")
    if kind == "github":
        return rest.replace("/", "+")
    if kind == "pypi":
        return "pypi+" + rest.split("==")[0]
    raise SystemExit(f"unknown source kind: {source}")


# ----------------------------------------------------------------------------- materialise


def _git_dir(mirror: Path) -> Path:
    return mirror / ".git" if (mirror / ".git").is_dir() else mirror


def materialise_git(mirrors: Path, corpus: Path, name: str, commit: str) -> None:
    target = corpus / name
    if target.is_dir() and any(target.iterdir()):
        return
    git = _git_dir(mirrors / name / "repo")
    if not git.exists():
        print(f"warning: no mirror for {name} under {mirrors}", file=sys.stderr)
        return
    files = subprocess.run(["git", "--git-dir", str(git), "ls-tree", "-r", "--name-only", commit],
                           check=True, capture_output=True, text=True).stdout.splitlines()
    for rel in files:
        if not rel.endswith((".py", ".ipynb")):
            continue
        out = subprocess.run(["git", "--git-dir", str(git), "show", f"{commit}:{rel}"], capture_output=True)
        if out.returncode != 0:  # large files listed but absent from the snapshot
            continue
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(out.stdout)


def materialise_pypi(corpus: Path, source: str, version: str) -> None:
    package = source.partition(":")[2].split("==")[0]
    target = corpus / ("pypi+" + package)
    if target.is_dir() and any(target.iterdir()):
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        "-d", tmp, f"{package}=={version}"], check=True)
        for archive in Path(tmp).iterdir():
            if archive.name.endswith((".tar.gz", ".tgz")):
                with tarfile.open(archive) as tf:
                    tf.extractall(tmp + "/x")  # noqa: S202 - pinned registry artifact
            elif archive.suffix in (".zip", ".whl"):
                with zipfile.ZipFile(archive) as zf:
                    zf.extractall(tmp + "/x")
        unpacked = Path(tmp) / "x"
        roots = list(unpacked.iterdir()) if unpacked.exists() else []
        base = roots[0] if len(roots) == 1 and roots[0].is_dir() else unpacked
        for path in base.rglob("*"):
            if path.is_file() and path.suffix in (".py", ".ipynb"):
                dest = target / path.relative_to(base)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(path.read_bytes())


def materialise(labels: list[dict], corpus: Path, mirrors: Optional[Path]) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    done = set()
    for row in labels:
        key = (row["source"], row["version"])
        if key in done:
            continue
        done.add(key)
        kind = row["source"].partition(":")[0]
        if kind == "github" and mirrors is not None:
            materialise_git(mirrors, corpus, source_dir(row["source"]), row["version"])
        elif kind == "pypi":
            materialise_pypi(corpus, row["source"], row["version"])


# ----------------------------------------------------------------------------- run kmlint


def run_kmlint(corpus: Path, labels: list[dict], jobs: int, files_only: bool) -> list[dict]:
    if files_only:
        targets = sorted({str(corpus / source_dir(r["source"]) / r["path"]) for r in labels})
    else:
        targets = sorted({str(corpus / source_dir(r["source"])) for r in labels})
    missing = [t for t in targets if not os.path.exists(t)]
    if missing:
        raise SystemExit(f"missing in corpus (fetch them first): {missing[:5]} ...")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "kmlint", "check", "--output-format", "json", "--preview", "--no-cache",
           "-j", str(jobs), *targets]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT))
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"kmlint exited with {proc.returncode}")
    return json.loads(proc.stdout or "[]")


# ----------------------------------------------------------------------------- scoring


def _key(corpus: Path, finding: dict) -> tuple[str, Optional[int]]:
    path = os.path.realpath(finding["path"])
    return os.path.relpath(path, os.path.realpath(corpus)), finding.get("cell")


def score(labels: list[dict], findings: list[dict], corpus: Path) -> dict:
    """Match reported findings to labels; returns per-label verdicts."""
    by_place: dict[tuple, list[tuple[int, int]]] = defaultdict(list)  # (file, cell, rule) -> [(line, label idx)]
    for i, row in enumerate(labels):
        rel = os.path.join(source_dir(row["source"]), row["path"])
        by_place[(rel, row.get("cell"), row["rule"])].append((row["line"], i))
        if row["kind"] == "finding":
            for cell, line in row.get("also", []):
                by_place[(rel, cell, row["rule"])].append((line, i))
    hit = [False] * len(labels)
    for f in findings:
        rel, cell = _key(corpus, f)
        cands = by_place.get((rel, cell, f["code"]), [])
        if not cands:
            continue
        exact = [i for line, i in cands if line == f["line"]]
        near = [i for line, i in cands if abs(line - f["line"]) == 1]
        chosen = exact or near
        for i in chosen:
            hit[i] = True
    return {"hit": hit}


def table(labels: list[dict], hit: list[bool]) -> tuple[str, dict]:
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"F": 0, "found": 0, "T": 0, "flagged": 0})
    for row, h in zip(labels, hit):
        d = per[row["rule"]]
        if row["kind"] == "finding":
            d["F"] += 1
            d["found"] += h
        else:
            d["T"] += 1
            d["flagged"] += h
    lines = [f"{'rule':7} {'findings':>8} {'found':>6} {'recall':>7} {'traps':>6} {'flagged':>8} {'trap-prec':>9}"]
    tot = {"F": 0, "found": 0, "T": 0, "flagged": 0}
    for rule in sorted(per):
        d = per[rule]
        for k in tot:
            tot[k] += d[k]
        rec = f"{d['found'] / d['F']:.2f}" if d["F"] else "-"
        tp = f"{1 - d['flagged'] / d['T']:.2f}" if d["T"] else "-"
        lines.append(f"{rule:7} {d['F']:>8} {d['found']:>6} {rec:>7} {d['T']:>6} {d['flagged']:>8} {tp:>9}")
    rec = f"{tot['found'] / tot['F']:.2f}" if tot["F"] else "-"
    tp = f"{1 - tot['flagged'] / tot['T']:.2f}" if tot["T"] else "-"
    lines.append(f"{'all':7} {tot['F']:>8} {tot['found']:>6} {rec:>7} {tot['T']:>6} {tot['flagged']:>8} {tp:>9}")
    return "\n".join(lines), {k: dict(v) for k, v in per.items()} | {"all": tot}


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--corpus", type=Path, default=Path(os.environ.get("KMLINT_EVAL_CORPUS", "/work/evalcorpus")),
                    help="directory of fetched sources, <owner>+<name>/<path> (outside the repo)")
    ap.add_argument("--mirrors", type=Path, default=None,
                    help="git mirrors <owner>+<name>/repo to materialise the pinned commits from")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--files-only", action="store_true",
                    help="lint only the labelled files (faster, loses project-level context)")
    ap.add_argument("--findings", type=Path, default=None, help="reuse kmlint JSON output saved earlier")
    ap.add_argument("--save-findings", type=Path, default=None)
    ap.add_argument("--misses-out", type=Path, default=None, help="write missed findings and flagged traps (JSON)")
    ap.add_argument("--json", action="store_true", help="print the per-rule numbers as JSON")
    args = ap.parse_args(argv)

    labels = load_labels(args.labels)
    corpus = args.corpus.resolve()
    if args.findings:
        findings = json.loads(args.findings.read_text())
    else:
        materialise(labels, corpus, args.mirrors)
        findings = run_kmlint(corpus, labels, args.jobs, args.files_only)
        if args.save_findings:
            args.save_findings.write_text(json.dumps(findings))
    hit = score(labels, findings, corpus)["hit"]
    text, numbers = table(labels, hit)
    print(json.dumps(numbers, indent=1) if args.json else text)
    if args.misses_out:
        out = [dict(row, status="missed" if row["kind"] == "finding" else "flagged")
               for row, h in zip(labels, hit) if (row["kind"] == "finding") != h]
        args.misses_out.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
