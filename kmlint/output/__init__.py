"""Report formats.  Each format is a function ``(findings, run_info) -> str``
registered in ``FORMATS``; the CLI picks one with ``--output-format``."""

from __future__ import annotations

from typing import Callable

from kmlint.output.full import render_concise, render_full, render_json_lines
from kmlint.output.github import render_github
from kmlint.output.gitlab import render_gitlab
from kmlint.output.json_format import render_json
from kmlint.output.junit import render_junit
from kmlint.output.sarif import render_sarif
from kmlint.output.text import render_text

FORMATS: dict[str, Callable] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
    "gitlab": render_gitlab,
    "junit": render_junit,
    "full": render_full,
    "concise": render_concise,
    "json-lines": render_json_lines,
}

