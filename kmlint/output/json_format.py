"""JSON output: an array of findings (the schema is documented in README.md)."""

from __future__ import annotations

import json

from kmlint.findings import Finding


def render_json(findings: list[Finding], info) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2) + "\n"
