"""The demo project: every `# expect:` line is reported, nothing else is, and
excluded / git-ignored files are skipped.  Only codes of registered rules are
compared, so the demo can describe rules before they land."""

from __future__ import annotations

import json

from kmlint.registry import all_rules
from tests.helpers import FIXTURES, ROOT, expectations, run_cli

DEMO = FIXTURES / "demo"


def _expected() -> set[tuple]:
    registered = {r.code for r in all_rules()}
    out = set()
    for path in sorted(DEMO.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if "scratch" in path.parts or "outputs" in path.parts:
            continue
        if path.suffix == ".py":
            for line, code in expectations(path.read_text(encoding="utf-8")):
                out.add((rel, None, line, code))
        elif path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            for idx, cell in enumerate(nb["cells"]):
                if cell["cell_type"] == "code":
                    for line, code in expectations("".join(cell["source"])):
                        out.add((rel, idx, line, code))
    return {e for e in out if e[3] in registered}


def test_demo_findings_match_expect_comments():
    r = run_cli("check", "--no-cache", "--output-format", "json", "fixtures/demo", cwd=ROOT)
    assert r.returncode == 1, r.stderr
    found = {(f["path"], f.get("cell"), f["line"], f["code"]) for f in json.loads(r.stdout)}
    assert found == _expected()


def test_demo_text_output_and_skips():
    r = run_cli("check", "--no-cache", "fixtures/demo", cwd=ROOT)
    assert r.returncode == 1
    assert "generated_check.py" not in r.stdout  # git-ignored
    assert "scratch" not in r.stdout  # extend-exclude
    assert "fixtures/demo/legacy/old_eval.py:5:" in r.stdout and "KM901" in r.stdout
    assert "fixtures/demo/explore.ipynb:cell " in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith(("Found", "[*]", "1 ", "2 ", "3 ")) or "Found" in r.stdout


def test_explicitly_named_excluded_file_is_linted():
    r = run_cli("check", "--no-cache", "fixtures/demo/scratch/try_predict.py", cwd=ROOT)
    assert r.returncode == 1
    assert "KM201" in r.stdout


def test_readme_demo_excerpt_is_what_kmlint_prints():
    """The README's `kmlint check fixtures/demo` block: every finding line and
    the summary it shows are lines kmlint prints now (a rule change that alters
    them, e.g. a withdrawn fix changing the fixable counts, must update it)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ kmlint check fixtures/demo\n", 1)[1].split("```", 1)[0]
    shown = [line for line in block.splitlines() if line and line != "..."]
    assert any(line.startswith("Found ") for line in shown)
    r = run_cli("check", "--no-cache", "--output-format", "concise", "fixtures/demo", cwd=ROOT)
    printed = (r.stdout + r.stderr).splitlines()

    def seen(line: str) -> bool:  # a line the README shortens with a trailing "..." matches by its start
        if line.endswith("..."):
            return any(p.startswith(line[:-3]) for p in printed)
        return line in printed

    assert [line for line in shown if not seen(line)] == []
