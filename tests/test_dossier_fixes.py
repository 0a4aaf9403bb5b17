"""Each dossier's fixed.py is exactly what the rule's fixes make of bad.py
(applied one at a time, re-linting in between, as the fixer does), and a
second pass changes nothing."""

from __future__ import annotations

import pytest

from kmlint.docs import dossier_dir
from kmlint.registry import all_rules
from tests.fixing import apply_fixes

FIXABLE = [r for r in all_rules() if (dossier_dir(r) / "fixed.py").exists()]


@pytest.mark.parametrize("rule", FIXABLE, ids=lambda r: r.code)
def test_fixed_is_what_the_fix_makes_of_bad(rule):
    bad = dossier_dir(rule) / "bad.py"
    fixed = (dossier_dir(rule) / "fixed.py").read_text(encoding="utf-8")
    out = apply_fixes(bad.read_text(encoding="utf-8"), rule.code, str(bad))
    assert out == fixed
    assert apply_fixes(out, rule.code, str(bad)) == out
