#!/usr/bin/env python3
"""Judge and score the precision audit (issue 16): kmlint's findings on third-party code.

The audit sweep (``scripts/audit_sweep.py --findings FILE``) lints a corpus of public
code nobody on the team wrote.  Every finding is judged by a person, and the verdicts
are kept as data in ``eval/audit_judgements.jsonl``, one row per finding::

    {"package": "keras" | "github:owner/name", "version": "3.15.1" | "<commit>",
     "path": "path inside the wheel / repository", "cell": null | <0-based cell>,
     "line": <1-based line (within the cell for notebooks)>, "column": <1-based>,
     "rule": "KMxxx", "verdict": "right" | "little-value" | "wrong", "reason": "..."}

``right``: a real problem worth the user's attention; ``little-value``: right by the
letter but of little value (tiny data, a test fixture...); ``wrong``: a false positive.
The false-positive rate of a rule is wrong / judged.

The third-party code is not in this repository.  The corpus layout it expects:

* wheels unpacked as ``<corpus>/<name>-<version>-<tags>/...`` (``/tmp/audit/corpus``:
  keras 3.15.1, keras_cv 0.9.0, keras_hub 0.32.0, keras_tuner 1.4.8, autokeras 3.0.0,
  d2l 1.0.3, tensorflow_datasets 4.9.10, tensorflow_hub 0.16.1, tf_models_official
  2.20.0, tensorflow_model_optimization 0.8.1: ``pip download --no-deps PKG==VER`` and
  unzip each wheel into a directory named after the wheel file);
* the notebook corpus of ``scripts/notebook_corpus.py build`` (``/work/nbcorpus``), whose
  ``manifest.tsv`` maps each local file to its repository, commit and path.

Usage::

    python scripts/audit_sweep.py /tmp/audit/corpus /work/nbcorpus --summary s.json \\
        --findings findings.json --kmlint-root . --jobs 2
    python scripts/audit_judge.py score findings.json            # table + unjudged list
    python scripts/audit_judge.py score findings.json --markdown # the table of eval/AUDIT.md
    python scripts/audit_judge.py show findings.json --rule KM302 [--all] [--context 6]

``score`` matches each finding to a judgement on (package, version, path, cell, line,
rule), using the column when several judgements share a line; it prints per rule the
findings, the judged ones, right / little-value / wrong and the FP rate, then the
findings not yet judged (exit status 1 when there are any, or when a rule's FP rate is
over ``--max-fp``).  Judgements whose finding is gone are counted as "gone" (a rule
change removed them: good for wrong ones, a recall question for right ones).
``show`` prints unjudged findings (or all with ``--all``) with the code around them,
to judge them.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JUDGEMENTS = ROOT / "eval" / "audit_judgements.jsonl"
VERDICTS = ("right", "little-value", "wrong")
REQUIRED = ("package", "version", "path", "line", "rule", "verdict", "reason")
WHEEL_DIR = re.compile(r"^(?P<name>[A-Za-z0-9_.]+?)-(?P<version>[0-9][^-]*)-[^-]+-[^-]+-[^-]+$")


# ----------------------------------------------------------------------------- locating


class Locator:
    """Maps a finding's file to (package, version, path inside it)."""

    def __init__(self) -> None:
        self._manifests: dict[Path, dict[str, tuple[str, str, str]]] = {}

    def _manifest(self, root: Path) -> dict[str, tuple[str, str, str]]:
        if root not in self._manifests:
            rows: dict[str, tuple[str, str, str]] = {}
            with open(root / "manifest.tsv", encoding="utf-8") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    rows[row["local"]] = ("github:" + row["repository"], row["commit"], row["path"])
            self._manifests[root] = rows
        return self._manifests[root]

    def locate(self, file: Path) -> tuple[str, str, str]:
        for parent in file.parents:
            if (parent / "manifest.tsv").is_file():
                local = file.relative_to(parent).as_posix()
                hit = self._manifest(parent).get(local)
                if hit:
                    return hit
            m = WHEEL_DIR.match(parent.name)
            if m:
                return m["name"], m["version"], file.relative_to(parent).as_posix()
        return "?", "?", file.as_posix()


def finding_file(finding: dict) -> Path:
    path = Path(finding["path"])
    if not path.is_absolute():  # audit_sweep runs kmlint from the temp directory
        path = Path(tempfile.gettempdir()) / path
    return path.resolve()


def key_of(row: dict) -> tuple:
    return (row["package"], row["version"], row["path"], row.get("cell"), row["line"], row["rule"])


# ----------------------------------------------------------------------------- data


def load_findings(path: Path, loc: Locator, rules: set[str] | None) -> list[dict]:
    out = []
    for f in json.loads(path.read_text(encoding="utf-8")):
        if f["code"] == "KM000" or (rules and f["code"] not in rules):
            continue
        file = finding_file(f)
        package, version, rel = loc.locate(file)
        out.append({"package": package, "version": version, "path": rel, "cell": f.get("cell"),
                    "line": f["line"], "column": f.get("column"), "rule": f["code"],
                    "message": f["message"], "file": str(file)})
    return out


def load_judgements(path: Path) -> list[dict]:
    rows = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            raw = raw.strip()
            if not raw:
                continue
            row = json.loads(raw)
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                raise SystemExit(f"{path}:{n}: missing {missing}")
            if row["verdict"] not in VERDICTS:
                raise SystemExit(f"{path}:{n}: verdict must be one of {VERDICTS}")
            row.setdefault("cell", None)
            rows.append(row)
    return rows


def match(findings: list[dict], judgements: list[dict]) -> tuple[list[tuple[dict, dict | None]], list[dict]]:
    """Pairs (finding, judgement or None) and the judgements no finding matched."""
    by_key: dict[tuple, list[dict]] = defaultdict(list)
    for j in judgements:
        by_key[key_of(j)].append(j)
    used: set[int] = set()
    pairs = []
    for f in findings:
        candidates = [j for j in by_key.get(key_of(f), []) if id(j) not in used]
        exact = [j for j in candidates if j.get("column") == f["column"]]
        pick = (exact or candidates or [None])[0]
        if pick is not None:
            used.add(id(pick))
        pairs.append((f, pick))
    gone = [j for j in judgements if id(j) not in used]
    return pairs, gone


# ----------------------------------------------------------------------------- commands


def table(pairs: list[tuple[dict, dict | None]], gone: list[dict]) -> list[dict]:
    rows: dict[str, Counter] = defaultdict(Counter)
    for f, j in pairs:
        c = rows[f["rule"]]
        c["findings"] += 1
        if j is None:
            c["unjudged"] += 1
        else:
            c[j["verdict"]] += 1
    for j in gone:
        rows[j["rule"]]["gone_" + j["verdict"]] += 1
    out = []
    for rule in sorted(rows):
        c = rows[rule]
        judged = c["right"] + c["little-value"] + c["wrong"]
        out.append({"rule": rule, "findings": c["findings"], "unjudged": c["unjudged"], "right": c["right"],
                    "little_value": c["little-value"], "wrong": c["wrong"],
                    "fp_rate": (c["wrong"] / judged) if judged else 0.0,
                    "gone": {v: c["gone_" + v] for v in VERDICTS if c["gone_" + v]}})
    return out


def cmd_score(args: argparse.Namespace) -> int:
    loc = Locator()
    rules = set(args.rule) if args.rule else None
    findings = load_findings(args.findings, loc, rules)
    judgements = [j for j in load_judgements(args.judgements) if not rules or j["rule"] in rules]
    pairs, gone = match(findings, judgements)
    rows = table(pairs, gone)
    if args.markdown:
        print("| rule | findings | right | little value | wrong | FP rate | judged findings now gone |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            gone_txt = ", ".join(f"{n} {v}" for v, n in r["gone"].items()) or "-"
            print(f"| {r['rule']} | {r['findings']} | {r['right']} | {r['little_value']} | {r['wrong']} | "
                  f"{100 * r['fp_rate']:.0f}% | {gone_txt} |")
        t = Counter()
        for r in rows:
            for k in ("findings", "right", "little_value", "wrong"):
                t[k] += r[k]
        judged = t["right"] + t["little_value"] + t["wrong"]
        print(f"| all | {t['findings']} | {t['right']} | {t['little_value']} | {t['wrong']} | "
              f"{100 * t['wrong'] / max(1, judged):.1f}% | |")
    else:
        print(f"{'rule':7} {'find':>5} {'unjdg':>5} {'right':>5} {'lv':>4} {'wrong':>5} {'FP':>6}  gone")
        for r in rows:
            print(f"{r['rule']:7} {r['findings']:5} {r['unjudged']:5} {r['right']:5} {r['little_value']:4} "
                  f"{r['wrong']:5} {100 * r['fp_rate']:5.1f}%  {r['gone'] or ''}")
    out = sys.stderr if args.markdown else sys.stdout  # keep the table alone on stdout
    unjudged = [f for f, j in pairs if j is None]
    if unjudged:
        print(f"\n{len(unjudged)} finding(s) not judged yet:", file=out)
        for f in unjudged:
            cell = f" cell {f['cell']}" if f["cell"] is not None else ""
            print(f"  {f['rule']} {f['package']}=={f['version'][:12]} {f['path']}{cell}:{f['line']}: "
                  f"{f['message'][:120]}", file=out)
    over = [r["rule"] for r in rows if r["fp_rate"] > args.max_fp]
    if over:
        print(f"\nFP rate over {100 * args.max_fp:.0f}%: {', '.join(over)}", file=out)
    return 1 if unjudged or over else 0


def source_lines(f: dict) -> list[str]:
    file = Path(f["file"])
    if file.suffix == ".ipynb":
        nb = json.loads(file.read_text(encoding="utf-8"))
        cells = nb.get("cells") or [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
        cell = cells[f["cell"]] if f["cell"] is not None and f["cell"] < len(cells) else {}
        src = cell.get("source") or cell.get("input") or ""
        return ("".join(src) if isinstance(src, list) else src).splitlines()
    return file.read_text(encoding="utf-8", errors="replace").splitlines()


def cmd_show(args: argparse.Namespace) -> int:
    loc = Locator()
    findings = load_findings(args.findings, loc, None)
    pairs, _ = match(findings, load_judgements(args.judgements))
    for n, (f, j) in enumerate(pairs):  # n: the finding's index in the findings file
        if (j is not None and not args.all) or (args.rule and f["rule"] not in args.rule):
            continue
        cell = f" cell {f['cell']}" if f["cell"] is not None else ""
        print(f"=== #{n} {f['rule']} {f['package']} {f['version']} {f['path']}{cell}:{f['line']}:{f['column']}")
        print(f"    {f['message']}")
        if j is not None:
            print(f"    JUDGED {j['verdict']}: {j['reason']}")
        try:
            lines = source_lines(f)
        except (OSError, ValueError) as exc:
            print(f"    (cannot read: {exc})")
            continue
        lo, hi = max(0, f["line"] - 1 - args.context), min(len(lines), f["line"] + args.context)
        for n in range(lo, hi):
            mark = ">>" if n == f["line"] - 1 else "  "
            print(f"{mark}{n + 1:5} {lines[n][:160]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("score", "show"):
        p = sub.add_parser(name)
        p.add_argument("findings", type=Path, help="findings JSON written by audit_sweep.py --findings")
        p.add_argument("--judgements", type=Path, default=DEFAULT_JUDGEMENTS)
        p.add_argument("--rule", action="append", help="only this rule (repeatable)")
        if name == "score":
            p.add_argument("--markdown", action="store_true")
            p.add_argument("--max-fp", type=float, default=0.05)
        else:
            p.add_argument("--all", action="store_true", help="also judged findings")
            p.add_argument("--context", type=int, default=6)
    args = ap.parse_args(argv)
    return cmd_score(args) if args.cmd == "score" else cmd_show(args)


if __name__ == "__main__":
    sys.exit(main())
