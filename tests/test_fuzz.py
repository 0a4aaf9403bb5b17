"""Robustness fuzzing, CI share (a few hundred examples, the same ones each
run; set KMLINT_FUZZ_EXAMPLES or run ``python benchmarks/fuzz.py --long`` for
10,000 new ones).
The mutations and properties are described in tests/fuzzing.py."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests import fuzzing
from tests.helpers import ROOT, corpus_files

try:
    import hypothesmith
except ImportError:  # pragma: no cover
    hypothesmith = None

FILES = corpus_files()
PY_FILES = [p for p in FILES if p.suffix == ".py"]
NOTEBOOKS = [p for p in FILES if p.suffix == ".ipynb"]
FUZZ = dict(deadline=None, derandomize=not fuzzing.RANDOM, suppress_health_check=list(HealthCheck), print_blob=True)


def _name(path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith not installed")
@settings(max_examples=fuzzing.examples(80), **FUZZ)
@given(source=hypothesmith.from_grammar() if hypothesmith else st.nothing())
def test_generated_programs(source):
    fuzzing.lint(source.encode("utf-8", errors="surrogatepass"), "generated.py")
    fuzzing.check_fixes(source, "generated.py")


@settings(max_examples=fuzzing.examples(120), **FUZZ)
@given(index=st.integers(0, len(FILES) - 1), mutation=st.integers(0, 99), seed=st.integers(0, 2**32 - 1))
def test_mutated_files(index, mutation, seed):
    path = FILES[index]
    rnd = random.Random(seed)
    data = path.read_bytes()
    if path.suffix == ".ipynb":
        mutated = fuzzing.break_notebook(data, rnd)
    else:
        mutated = fuzzing.CRASH_MUTATIONS[mutation % len(fuzzing.CRASH_MUTATIONS)](data, rnd)
    fuzzing.lint(mutated, _name(path))
    try:
        fuzzing.check_fixes(mutated.decode("utf-8"), _name(path))
    except UnicodeDecodeError:
        pass


@settings(max_examples=fuzzing.examples(50), **FUZZ)
@given(index=st.integers(0, len(PY_FILES) - 1), seed=st.integers(0, 2**32 - 1))
def test_junk_after_the_file_keeps_every_finding(index, seed):
    path = PY_FILES[index]
    text = path.read_text(encoding="utf-8")
    if not fuzzing.parses(text):
        return
    broken = fuzzing.junk_appended(text, random.Random(seed))
    if fuzzing.parses(broken):
        event("junk: parsed (continued the last statement)")
        return  # the junk happened to continue the last statement (`else:` after an `if`)
    event("junk: compared")
    before = fuzzing.lint(text.encode(), _name(path))
    after = fuzzing.lint(broken.encode(), _name(path))
    assert fuzzing.located(after) == fuzzing.located(before)
    assert [f.line for f in after.findings if f.code == "KM901"] and all(
        f.line > len(text.splitlines()) for f in after.findings if f.code == "KM901")


# Found by the long fuzz: the first `else:` continues the file's last `for`
# (a valid for-else), the second cannot; recovery used to blank the whole loop
# and lose KM301's finding that needs the loop's `apply_gradients` call.
@pytest.mark.parametrize("junk", ["else:\n    z = 1\nelse:\n    z = 1\n", "else:\n    z = 1\nelif z:\n    pass\n",
                                  "else:\n    z = 1\nexcept:\n    pass\n"])
def test_a_clause_the_statement_above_cannot_take_is_blanked_alone(junk):
    path = ROOT / "rules" / "KM301-large-tensor-undeleted" / "bad.py"
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().splitlines()[-1].startswith("    ")  # the file ends inside a `for` body
    broken = text + "\n" + junk
    assert not fuzzing.parses(broken)
    before = fuzzing.lint(text.encode(), _name(path))
    after = fuzzing.lint(broken.encode(), _name(path))
    assert any(f[0] == "KM301" and f[2] == 21 for f in fuzzing.located(before))
    assert fuzzing.located(after) == fuzzing.located(before)


@pytest.mark.parametrize("source, starts", [
    ("if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\nelse:\n    pass\n", [1, 7]),
    ("for a in b:\n    pass\nelse:\n    pass\nelse:\n    pass\n", [1, 5]),
    ("while a:\n    pass\nelif b:\n    pass\n", [1, 3]),
    ("try:\n    pass\nexcept A:\n    pass\nexcept B:\n    pass\nelse:\n    pass\nfinally:\n    pass\nelse:\n    pass\n",
     [1, 11]),
    ("try:\n    pass\nelse:\n    pass\n", [1, 3]),
    ("try:\n    pass\nfinally:\n    pass\nexcept A:\n    pass\n", [1, 5]),
    ("if a:\n    pass\nelse:\n    pass\nelif b:\n    pass\n", [1, 5]),
])
def test_top_level_starts_follow_which_clauses_a_statement_takes(source, starts):
    from kmlint.engine.linter import _top_level_starts
    assert _top_level_starts(source) == starts


@settings(max_examples=fuzzing.examples(50), **FUZZ)
@given(index=st.integers(0, len(PY_FILES) - 1), where=st.floats(0, 1))
def test_a_file_cut_short_keeps_its_intact_statements(index, where):
    path = PY_FILES[index]
    text = path.read_text(encoding="utf-8")
    if not fuzzing.parses(text):
        return
    cut = int(len(text) * where)
    if fuzzing.parses(text[:cut]):
        event("cut: still parses")
        return  # cut between statements or inside a name: a different, valid file
    event("cut: compared")
    prefix = fuzzing.intact_prefix(text, cut)
    cut_short = fuzzing.lint(text[:cut].encode(), _name(path))
    assert fuzzing.located(cut_short) == fuzzing.located(fuzzing.lint(prefix.encode(), _name(path)))


@pytest.mark.parametrize("path", PY_FILES, ids=_name)
def test_layout_and_encoding_do_not_change_findings(path):
    data = path.read_bytes()
    original = fuzzing.located(fuzzing.lint(data, _name(path)))
    assert fuzzing.located(fuzzing.lint(fuzzing.with_bom(data), _name(path))) == original
    assert fuzzing.located(fuzzing.lint(fuzzing.with_crlf(data), _name(path))) == original
    try:
        latin1, shift = fuzzing.with_latin1_cookie(data)
    except UnicodeEncodeError:
        return
    shifted = [(c, cell, line - shift, col, end - shift, ecol, msg)
               for c, cell, line, col, end, ecol, msg in fuzzing.located(fuzzing.lint(latin1, _name(path)))]
    assert shifted == original


@pytest.mark.parametrize("path", PY_FILES, ids=_name)
def test_safe_fixes_parse_and_are_idempotent(path):
    fuzzing.check_fixes(path.read_text(encoding="utf-8"), _name(path))
