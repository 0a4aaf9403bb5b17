"""JSON output: an array of findings (the schema is documented in README.md)."""

from __future__ import annotations

import json

from kmlint.engine.paths import printable
from kmlint.findings import Finding


def render_json(findings: list[Finding], info) -> str:
    out = []
    for f in findings:
        data = f.to_json()
        data["path"] = printable(f.path)  # a non-UTF-8 name as caf\xe9.py, not a lone surrogate
        out.append(data)
    return json.dumps(out, indent=2) + "\n"
