"""Every rule has a dossier and every dossier passes: bad.py is flagged exactly
on its `# expect:` lines, good.py (the look-alikes) is clean, fixed.py is clean."""

from __future__ import annotations

import re

import pytest

from kmlint.docs import dossier_dir, rule_readme
from kmlint.registry import all_rules
from tests.helpers import RULES_DIR, expectations, lint

RULES = all_rules()


def selection(rule) -> list[str]:
    """KM900 judges the other rules' suppressions, so it runs with all of them."""
    return ["ALL"] if rule.code == "KM900" else [rule.code]
SECTIONS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety",
            "## Runtime confirmation", "## References"]


def test_registry_and_dossiers_are_one_to_one():
    names = {f"{r.code}-{r.name}" for r in RULES}
    dirs = {p.name for p in RULES_DIR.iterdir() if p.is_dir()}
    assert dirs == names


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_readme_has_ruff_sections(rule):
    text = rule_readme(rule)
    assert text is not None, f"missing README for {rule.code}"
    assert text.startswith(f"# {rule.name} ({rule.code})")
    for section in SECTIONS:
        assert section in text, f"{rule.code} README lacks {section}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_bad_is_flagged_exactly_on_expect_lines(rule):
    bad = dossier_dir(rule) / "bad.py"
    text = bad.read_text(encoding="utf-8")
    expected = {e for e in expectations(text) if e[1] == rule.code}
    assert expected, f"{bad} has no `# expect: {rule.code}` line"
    found = {(f.line, f.code) for f in lint(text, str(bad), select=selection(rule)) if f.code == rule.code}
    assert found == expected


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_good_is_clean(rule):
    good = dossier_dir(rule) / "good.py"
    text = good.read_text(encoding="utf-8")
    found = [f for f in lint(text, str(good), select=selection(rule)) if f.code == rule.code]
    assert found == [], [(f.line, f.message) for f in found]


@pytest.mark.parametrize("rule", [r for r in RULES if (dossier_dir(r) / "fixed.py").exists()], ids=lambda r: r.code)
def test_fixed_is_clean(rule):
    """fixed.py is clean of everything the rule fixes.  A rule whose fix is only
    sometimes offered may leave the cases it has no fix for (KM204: loops that
    train, where clear_session() was measured not to help); those must be
    `# expect:` cases of bad.py and carry no fix."""
    fixed = dossier_dir(rule) / "fixed.py"
    text = fixed.read_text(encoding="utf-8")
    found = [f for f in lint(text, str(fixed), select=selection(rule)) if f.code == rule.code]
    expected = {line for line, code in expectations(text) if code == rule.code}
    unfixable = [f for f in found if rule.fixable == "sometimes" and f.fix is None and f.line in expected]
    assert [f for f in found if f not in unfixable] == [], [(f.line, f.message) for f in found]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_fixable_rules_have_fixed_example(rule):
    has_fixed = (dossier_dir(rule) / "fixed.py").exists()
    assert has_fixed == (rule.fixable is not None)
