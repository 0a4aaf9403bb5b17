"""SARIF 2.1.0 (GitHub code scanning, Azure DevOps, IDE viewers).

Every registered rule is listed under ``tool.driver.rules`` with its dossier
README as help text and its documentation URL; results carry regions, fixes
as ``artifactChanges`` and a ``partialFingerprints`` entry (the baseline
fingerprint, stable across unrelated edits).

SARIF has no notion of notebook cells.  A notebook finding's region counts
lines within its cell (as the JSON output does) and the location carries the
0-based cell index in ``properties.cell``; its fix is not offered as an
``artifactChange`` because the region does not address the .ipynb file's own
text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

from kmlint import __version__
from kmlint.engine.paths import path_bytes
from kmlint.findings import Finding

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/kmlint/kmlint"


def artifact_uri(path: str) -> str:
    p = Path(path)
    # quote the path's bytes: a name that is not UTF-8 (carried with
    # surrogateescape) becomes %E9, which is what the URI of those bytes is
    raw = path_bytes(p.as_posix())
    if p.is_absolute():
        return "file://" + quote(raw)
    return quote(raw)


def _first_paragraph(readme: str, heading: str) -> str:
    m = re.search(rf"^{re.escape(heading)}\s*\n+(.+?)(?:\n\s*\n|\Z)", readme, re.MULTILINE | re.DOTALL)
    return " ".join(m.group(1).split()) if m else ""


def _rule_descriptor(rule) -> dict:
    from kmlint.docs import rule_readme, rule_url

    readme = rule_readme(rule) or rule.summary
    desc = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "help": {"text": readme, "markdown": readme},
        "helpUri": rule_url(rule),
        "defaultConfiguration": {"level": "error" if rule.severity == "error" else "warning"},
        "properties": {"fixable": rule.fixable, "runtimeConfirmable": rule.confirmable, "preview": rule.preview},
    }
    full = _first_paragraph(readme, "## What it does")
    if full:
        desc["fullDescription"] = {"text": full}
    return desc


def _region(line: int, column: int, end_line: int, end_column: int) -> dict:
    return {"startLine": max(line, 1), "startColumn": max(column, 1),
            "endLine": max(end_line, line, 1), "endColumn": max(end_column, 1)}


def _result(f: Finding, index: dict, fingerprint: str) -> dict:
    location: dict = {"physicalLocation": {
        "artifactLocation": {"uri": artifact_uri(f.path)},
        "region": _region(f.line, f.column, f.end_line, f.end_column),
    }}
    if f.cell is not None:
        location["properties"] = {"cell": f.cell}
    res: dict = {
        "ruleId": f.code,
        "level": "error" if f.severity == "error" else "warning",
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {"kmlint/v1": fingerprint},
    }
    if f.code in index:
        res["ruleIndex"] = index[f.code]
    if "runtime" in f.extra:  # `check --runtime`: the measured verdict, numbers and series
        res["properties"] = {"runtime": f.extra["runtime"]}
    if f.fix is not None and f.fix.edits and f.cell is None:
        res["fixes"] = [{
            "description": {"text": f"{f.fix.description} ({f.fix.applicability} fix)"},
            "artifactChanges": [{
                "artifactLocation": {"uri": artifact_uri(f.path)},
                "replacements": [{
                    "deletedRegion": _region(e.line, e.column, e.end_line, e.end_column),
                    "insertedContent": {"text": e.content},
                } for e in f.fix.edits],
            }],
        }]
    return res


def render_sarif(findings: list[Finding], info) -> str:
    from kmlint.baseline import fingerprints, read_source
    from kmlint.registry import all_meta

    rules = all_meta()
    index = {r.code: i for i, r in enumerate(rules)}
    prints = fingerprints(findings, Path.cwd(), info.get("source", read_source))
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kmlint",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(r) for r in rules],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index, fp) for f, fp in zip(findings, prints)],
        }],
    }
    return json.dumps(log, indent=2) + "\n"
