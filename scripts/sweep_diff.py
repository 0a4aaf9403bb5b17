#!/usr/bin/env python3
"""Compare two audit sweeps' findings (``scripts/audit_sweep.py --findings FILE``).

Used for issue 15 (engine v2 keeps every behaviour): sweep the audit corpus with
two checkouts, then

    python scripts/sweep_diff.py OLD_FINDINGS.json NEW_FINDINGS.json [--json diff.json]
        [--strip PREFIX ...] [--rule KM302] [--messages]

Findings are matched on (path, notebook cell, line, rule); where several findings of
one rule share a line, on the column first, then in order.  A matched pair whose
message, column/end position or fix (present or not, and its applicability) differ is
a *changed* finding; the rest are *old only* (gone in the new sweep) or *new only*.
Printed: findings per rule old / new / old-only / new-only / changed, then every
difference (``--messages`` prints both messages of changed pairs).  ``--json`` writes
the same as data (counts and the difference list) for a note or a later comparison.
Exit status 0 when the two sweeps agree, 1 when they differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

INTERNAL_ERROR = "KM000"


def load(path: Path, strip: list[str]) -> list[dict]:
    findings = json.loads(path.read_text())
    for f in findings:
        p = f["path"]
        for prefix in strip:
            if p.startswith(prefix):
                p = p[len(prefix):]
                break
        f["path"] = p
    return findings


def key(f: dict) -> tuple:
    return (f["path"], f.get("cell"), f["line"], f["code"])


def fix_state(f: dict) -> str | None:
    fix = f.get("fix")
    if not fix:
        return None
    return fix.get("applicability", "fix") if isinstance(fix, dict) else "fix"


def span(f: dict) -> tuple:
    return (f.get("column"), f.get("end_line"), f.get("end_column"))


def pair_up(old: list[dict], new: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    """Pairs of one line's findings of one rule: same column first, then in order."""
    old = sorted(old, key=lambda f: (f.get("column") or 0, f["message"]))
    new = sorted(new, key=lambda f: (f.get("column") or 0, f["message"]))
    pairs, rest_old = [], []
    unused = list(new)
    for o in old:
        same = next((n for n in unused if n.get("column") == o.get("column")), None)
        if same is not None:
            unused.remove(same)
            pairs.append((o, same))
        else:
            rest_old.append(o)
    while rest_old and unused:
        pairs.append((rest_old.pop(0), unused.pop(0)))
    return pairs, rest_old, unused


def compare(old: list[dict], new: list[dict]) -> dict:
    by_old: dict[tuple, list] = defaultdict(list)
    by_new: dict[tuple, list] = defaultdict(list)
    for f in old:
        by_old[key(f)].append(f)
    for f in new:
        by_new[key(f)].append(f)
    differences = []
    for k in sorted(set(by_old) | set(by_new), key=lambda k: (k[3], k[0], k[1] or -1, k[2])):
        pairs, only_old, only_new = pair_up(by_old.get(k, []), by_new.get(k, []))
        for o in only_old:
            differences.append({"kind": "old-only", "rule": k[3], "path": k[0], "cell": k[1], "line": k[2],
                                "column": o.get("column"), "old_message": o["message"], "old_fix": fix_state(o)})
        for n in only_new:
            differences.append({"kind": "new-only", "rule": k[3], "path": k[0], "cell": k[1], "line": k[2],
                                "column": n.get("column"), "new_message": n["message"], "new_fix": fix_state(n)})
        for o, n in pairs:
            what = []
            if o["message"] != n["message"]:
                what.append("message")
            if span(o) != span(n):
                what.append("span")
            if fix_state(o) != fix_state(n):
                what.append("fix")
            if what:
                differences.append({"kind": "changed", "what": what, "rule": k[3], "path": k[0], "cell": k[1],
                                    "line": k[2], "old_span": span(o), "new_span": span(n),
                                    "old_fix": fix_state(o), "new_fix": fix_state(n),
                                    "old_message": o["message"], "new_message": n["message"]})
    per_rule: dict[str, Counter] = defaultdict(Counter)
    for f in old:
        per_rule[f["code"]]["old"] += 1
    for f in new:
        per_rule[f["code"]]["new"] += 1
    for d in differences:
        per_rule[d["rule"]][d["kind"]] += 1
    return {
        "totals": {"old": len(old), "new": len(new),
                   **Counter(d["kind"] for d in differences)},
        "per_rule": {r: dict(c) for r, c in sorted(per_rule.items())},
        "differences": differences,
    }


def where(d: dict) -> str:
    cell = f" cell {d['cell']}" if d.get("cell") is not None else ""
    return f"{d['path']}{cell}:{d['line']}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path, help="--findings of the old checkout's sweep")
    ap.add_argument("new", type=Path, help="--findings of the new checkout's sweep")
    ap.add_argument("--strip", action="append", default=[], help="path prefix to drop before matching")
    ap.add_argument("--rule", action="append", help="only these rules (repeatable)")
    ap.add_argument("--messages", action="store_true", help="print both messages of changed findings")
    ap.add_argument("--json", type=Path, help="write counts and differences here")
    args = ap.parse_args(argv)

    old, new = load(args.old, args.strip), load(args.new, args.strip)
    if args.rule:
        old = [f for f in old if f["code"] in args.rule]
        new = [f for f in new if f["code"] in args.rule]
    result = compare(old, new)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")

    cols = ("old", "new", "old-only", "new-only", "changed")
    print("rule    " + "".join(f"{c:>10}" for c in cols))
    for rule, counts in result["per_rule"].items():
        print(f"{rule:8}" + "".join(f"{counts.get(c, 0):>10}" for c in cols))
    t = result["totals"]
    print("total   " + "".join(f"{t.get(c, 0):>10}" for c in cols))
    for d in result["differences"]:
        if d["kind"] == "changed":
            print(f"changed  {d['rule']} {where(d)} ({', '.join(d['what'])})"
                  + (f" span {d['old_span']} -> {d['new_span']}" if "span" in d["what"] else "")
                  + (f" fix {d['old_fix']} -> {d['new_fix']}" if "fix" in d["what"] else ""))
            if args.messages and "message" in d["what"]:
                print(f"    old: {d['old_message']}\n    new: {d['new_message']}")
        else:
            side = "old" if d["kind"] == "old-only" else "new"
            print(f"{d['kind']:8} {d['rule']} {where(d)}:{d['column']}  {d[side + '_message'][:160]}")
    return 1 if result["differences"] else 0


if __name__ == "__main__":
    sys.exit(main())
