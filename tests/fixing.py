"""Apply one rule's fixes with kmlint's fixer (every rule runs, so KM900 knows
which suppressions are used; only ``code`` is fixed), unsafe fixes included,
for rule tests that check what a fix makes of a snippet."""

from __future__ import annotations

from kmlint.config import Settings
from kmlint.fixer import fix_source


def apply_fixes(source: str, code: str, path: str = "snippet.py") -> str:
    outcome = fix_source(source, path, Settings(extend_select=[code]), unsafe=True, only={code})
    assert outcome.error is None, outcome.error  # a fix never produces a file that does not parse
    assert not outcome.warnings, outcome.warnings  # nor fails, nor keeps undoing another
    return outcome.text
