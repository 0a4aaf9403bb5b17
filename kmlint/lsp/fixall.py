"""Every safe fix of a buffer at once (the "fix all" code action).

The work is the fixer's (``kmlint.fixer.fix_source``, shared with the CLI);
this module only adapts a buffer to it.  Until the fixer is on this branch the
same result comes from applying the safe fixes' located edits, re-linting
between rounds.
"""

from __future__ import annotations

from kmlint.config import Settings
from kmlint.engine.linter import lint_text
from kmlint.findings import SAFE

MAX_ROUNDS = 10


def fix_all_safe(text: str, path: str, settings: Settings) -> str:
    try:
        from kmlint.fixer import fix_source
    except ImportError:
        return _apply_safe_edits(text, path, settings)
    return fix_source(text, path, settings).text


def _apply_safe_edits(text: str, path: str, settings: Settings) -> str:
    if path.endswith(".ipynb"):
        return text  # located edits count lines within cells, not in the JSON
    for _ in range(MAX_ROUNDS):
        lines = text.splitlines(keepends=True)
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line))

        def offset(line: int, column: int) -> int:
            return starts[min(line, len(lines) + 1) - 1] + column - 1 if line <= len(lines) else len(text)

        spans = []
        for f in lint_text(text, path, settings).findings:
            if f.fix is None or f.fix.applicability != SAFE or not f.fix.edits:
                continue
            edits = [(offset(e.line, e.column), offset(e.end_line, e.end_column), e.content) for e in f.fix.edits]
            if all(b <= s or a >= e for a, b, _ in edits for s, e, _ in spans):
                spans.extend(edits)
        if not spans:
            return text
        for start, end, content in sorted(spans, reverse=True):
            text = text[:start] + content + text[end:]
    return text
