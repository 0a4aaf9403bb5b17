"""kmlint/catalog.py (rule metadata read without importing rule code) matches the rule classes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kmlint.engine import guard
from kmlint.docs import CATALOG_FIELDS, catalog_source
from kmlint.registry import all_meta, all_rules

CATALOG = Path(__file__).resolve().parents[1] / "kmlint" / "catalog.py"


def test_catalog_is_generated_from_the_rule_classes():
    assert CATALOG.read_text(encoding="utf-8") == catalog_source(), \
        "kmlint/catalog.py is stale: run `python -m kmlint.docs`"


def test_catalog_and_registry_agree_field_by_field():
    metas = {m.code: m for m in all_meta()}
    classes = {r.code: r for r in all_rules()}
    assert metas.keys() == classes.keys()
    for code, cls in classes.items():
        for f in CATALOG_FIELDS:
            want = getattr(cls, f)
            got = getattr(metas[code], f)
            if f in ("calls", "tokens"):
                got, want = frozenset(got), frozenset(want)
            assert got == want, (code, f)
        assert cls.__module__ == f"kmlint.checks.{metas[code].module}"


def test_listing_rules_and_linting_a_file_without_candidates_import_no_rule_code(tmp_path):
    target = tmp_path / "plain.py"
    target.write_text("def add(a, b):\n    return a + b\n")
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kmlint.cli import main\n"
        "r = CliRunner().invoke(main, ['rules'])\n"
        "assert r.exit_code == 0 and 'KM201' in r.output, r.output\n"
        f"r = CliRunner().invoke(main, ['check', '--no-cache', {str(target)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('kmlint.checks.'))\n"
        "print(loaded)\n"
    )
    # without the crash guard, whose warm-up lint in the parent imports rules on purpose
    env = {**os.environ, guard.NO_GUARD_ENV: "1"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout
