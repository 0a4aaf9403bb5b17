"""Robustness: generated programs (hypothesmith) and mutated real files never
crash the linter, never produce an internal error, and safe fixes always give
code that parses and is stable under a second --fix.

CI runs a small share; `KMLINT_FUZZ_EXAMPLES=10000 python -m pytest tests/test_fuzz.py`
runs the long mode."""

from __future__ import annotations

import json
import os
import random

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmlint.config import Settings
from kmlint.engine.linter import lint_bytes
from kmlint.fixer import fix_source
from tests.helpers import FIXTURES, RULES_DIR

hypothesmith = pytest.importorskip("hypothesmith")

EXAMPLES = int(os.environ.get("KMLINT_FUZZ_EXAMPLES", "60"))
SEEDS = sorted(RULES_DIR.glob("*/bad.py")) + sorted(RULES_DIR.glob("*/good.py")) + sorted((FIXTURES / "demo").rglob("*.py"))
NOTEBOOKS = sorted(FIXTURES.rglob("*.ipynb"))


def _lint(data: bytes, path: str):
    res = lint_bytes(data, path, Settings())
    assert res.internal_errors == 0, [f.message for f in res.findings if f.code == "KM000"]
    return res


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(source=hypothesmith.from_grammar())
def test_generated_programs_never_crash(source):
    _lint(source.encode("utf-8", "surrogatepass"), "generated.py")


def _mutations(data: bytes, rnd: random.Random) -> list[bytes]:
    cut = rnd.randrange(len(data) + 1)
    flips = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        if flips:
            flips[rnd.randrange(len(flips))] = rnd.randrange(256)
    line = rnd.randrange(data.count(b"\n") + 1)
    lines = data.split(b"\n")
    lines.insert(line, b"x = " + b"(" * rnd.randint(50, 400) + b"1" + b")" * rnd.randint(0, 400))
    return [
        data[:cut],
        bytes(flips),
        b"\xef\xbb\xbf" + data,
        data.replace(b"\n", b"\r\n"),
        data.replace(b"    ", b"\t"),
        data[:cut] + b"\x00" + data[cut:],
        data + b"\nx = '" + b"a" * 200_000 + b"'\n",
        b"\n".join(lines),
        b"# -*- coding: latin-1 -*-\n" + data,
        b"# -*- coding: no-such-codec -*-\n" + data,
        data.decode("utf-8").encode("utf-16"),
    ]


@pytest.mark.parametrize("seed", range(max(1, EXAMPLES // 20)))
def test_mutated_real_files_never_crash(seed):
    rnd = random.Random(seed)
    for path in rnd.sample(SEEDS, min(6, len(SEEDS))):
        for mutant in _mutations(path.read_bytes(), rnd):
            _lint(mutant, path.name)


@pytest.mark.parametrize("seed", range(max(1, EXAMPLES // 20)))
def test_broken_notebooks_never_crash(seed):
    rnd = random.Random(seed)
    for path in NOTEBOOKS:
        data = path.read_bytes()
        cut = rnd.randrange(len(data))
        nb = json.loads(data)
        for cell in nb["cells"]:
            if rnd.random() < 0.3:
                cell["source"] = rnd.choice([None, 42, ["def f(:\n"], "%%time\n", "x = (" * 300])
        variants = [data[:cut], json.dumps(nb).encode(), b"[]", b"{\"cells\": {}}", b"\x00\x01"]
        for v in variants:
            _lint(v, path.name)


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*/bad.py")), ids=lambda p: p.parent.name)
def test_safe_fixes_parse_and_are_idempotent_on_mutated_files(path):
    rnd = random.Random(path.parent.name)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    variants = [text, text.replace("\n", "\r\n"), "".join(lines[: rnd.randrange(1, len(lines) + 1)])]
    for variant in variants:
        for unsafe in (False, True):
            out = fix_source(variant, path.name, Settings(), unsafe=unsafe)
            if out.text == variant:
                continue
            cst.parse_module(out.text)  # a fix never corrupts the file
            again = fix_source(out.text, path.name, Settings(), unsafe=unsafe)
            assert again.text == out.text
