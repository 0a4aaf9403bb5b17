"""Apply a rule's fixes the way a fixer does until none is left: each fix is a
libcst transformation of the module the finding came from (nodes are matched by
identity), and the file is re-linted after each one."""

from __future__ import annotations

import libcst as cst

from kmlint.config import Settings
from kmlint.engine.linter import lint_text


def apply_fixes(source: str, code: str, path: str = "snippet.py", max_rounds: int = 50) -> str:
    for _ in range(max_rounds):
        result = lint_text(source, path, Settings(select=[code]), keep_tree=True)
        fixable = [f for f in result.findings if f.code == code and f.fix and f.fix.transform]
        if not fixable:
            return source
        new = fixable[0].fix.transform(result.module).code
        assert new != source, f"{code} fix changed nothing"
        cst.parse_module(new)  # a fix never produces a file that does not parse
        source = new
    raise AssertionError(f"{code} fixes did not converge")
