"""Apply a rule's fixes the way a fixer does until none is left: each fix is a
libcst transformation of the module the finding came from (nodes are matched by
identity) or, for engine findings such as KM900, located text edits; the file
is re-linted after each fix."""

from __future__ import annotations

import libcst as cst

from kmlint.config import Settings
from kmlint.engine.linter import lint_text


def _apply_edits(source: str, edits) -> str:
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    for e in sorted(edits, key=lambda e: (e.line, e.column), reverse=True):
        a, b = offset(e.line, e.column), offset(e.end_line, e.end_column)
        source = source[:a] + e.content + source[b:]
    return source


def apply_fixes(source: str, code: str, path: str = "snippet.py", max_rounds: int = 50) -> str:
    for _ in range(max_rounds):
        # every rule runs (KM900 needs them to know which suppressions are used); only `code` is fixed
        result = lint_text(source, path, Settings(extend_select=[code]), keep_tree=True)
        fixable = [f for f in result.findings if f.code == code and f.fix and (f.fix.transform or f.fix.edits)]
        if not fixable:
            return source
        fix = fixable[0].fix
        new = fix.transform(result.module).code if fix.transform else _apply_edits(source, fix.edits)
        assert new != source, f"{code} fix changed nothing"
        cst.parse_module(new)  # a fix never produces a file that does not parse
        source = new
    raise AssertionError(f"{code} fixes did not converge")
