from kmlint.docs import rules_table
from tests.helpers import ROOT


def test_readme_rule_table_matches_registry():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- rules-table:start -->\n") + len("<!-- rules-table:start -->\n")
    end = text.index("<!-- rules-table:end -->")
    assert text[start:end] == rules_table(), "run `python -m kmlint.docs` to refresh README.md"


def test_readme_starts_with_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = text.split("```bash\n")
    first = blocks[1].split("```")[0].strip()
    second = blocks[2].split("```")[0].strip()
    assert first.startswith("pip install . && kmlint check fixtures/")
    assert "pip install -e" in second and "[test" in second and "pytest" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second in ci
