"""GitLab Code Quality report (a JSON array in Code Climate's issue shape).
``fingerprint`` is the baseline fingerprint, so an issue keeps its identity
when unrelated lines move.  Notebook findings give the line within the cell
and name the cell in the description."""

from __future__ import annotations

import json
from pathlib import Path

from kmlint.engine.paths import printable
from kmlint.findings import Finding

SEVERITY = {"error": "critical", "warning": "major"}


def render_gitlab(findings: list[Finding], info) -> str:
    from kmlint.baseline import fingerprints, read_source

    prints = fingerprints(findings, Path.cwd(), info.get("source", read_source))
    issues = []
    for f, fp in zip(findings, prints):
        cell = f" (cell {f.cell + 1})" if f.cell is not None else ""
        issues.append({
            "type": "issue",
            "description": f"{f.code} [{f.name}] {f.message}{cell}",
            "check_name": f.code,
            "fingerprint": fp,
            "severity": SEVERITY.get(f.severity, "major"),
            "categories": ["Performance"] if f.code != "KM901" else ["Bug Risk"],
            "location": {"path": printable(Path(f.path).as_posix()), "lines": {"begin": f.line, "end": max(f.end_line, f.line)}},
        })
    return json.dumps(issues, indent=2) + "\n"
