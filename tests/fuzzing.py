"""Mutations and properties for the robustness fuzzing (tests/test_fuzz.py;
``python benchmarks/fuzz.py --long`` runs the same properties 10,000 times).

Properties:

* nothing crashes: no exception, no internal-error (KM000) finding, every
  finding located inside the file;
* encoding and layout do not matter: a BOM, CRLF line endings and a Latin-1
  coding cookie give the same findings;
* a syntax error costs only the broken statement: junk appended after the
  file, or a file cut short, keeps exactly the findings of its intact
  top-level statements (plus KM901);
* safe fixes give code that parses, and fixing again changes nothing.
"""

from __future__ import annotations

import json
import os
import random

from kmlint.config import Settings
from kmlint.engine.linter import _top_level_starts, lint_bytes
from kmlint.syntax import syntax_error
from kmlint.edits import split_lines

SETTINGS = Settings(preview=True)
EXAMPLES = int(os.environ.get("KMLINT_FUZZ_EXAMPLES", "0")) or None
# The test suite's share draws the same examples on every run (a CI run never
# fails on an input no earlier run drew); benchmarks/fuzz.py and any run with
# KMLINT_FUZZ_EXAMPLES draw new ones, which is how new bugs are found.
RANDOM = EXAMPLES is not None or os.environ.get("KMLINT_FUZZ_RANDOM", "") not in ("", "0")


def examples(ci_default: int) -> int:
    return EXAMPLES or ci_default


# ------------------------------------------------------------------ properties


def lint(data: bytes, path: str):
    """Lint and check the invariants every result must satisfy."""
    result = lint_bytes(data, path, SETTINGS)
    internal = [f.message for f in result.findings if f.code == "KM000"]
    assert not internal, internal
    for f in result.findings:
        assert 1 <= f.line <= f.end_line or f.cell is not None, f.to_json()
        assert f.column >= 1 and f.end_column >= 1, f.to_json()
        json.dumps(f.to_json())
    return result


def located(result) -> list[tuple]:
    return sorted((f.code, f.cell, f.line, f.column, f.end_line, f.end_column, f.message)
                  for f in result.findings if f.code != "KM901")


def parses(text: str) -> bool:
    return syntax_error(text) is None


def check_fixes(text: str, path: str) -> None:
    """Safe fixes, and safe plus unsafe ones, produce code that parses and
    are idempotent."""
    from kmlint.fixer import fix_source

    if not path.endswith(".py") or not parses(text):
        return
    for unsafe in (False, True):
        first = fix_source(text, path, SETTINGS, unsafe=unsafe)
        assert first.error is None, first.error
        assert parses(first.text)
        if first.changed:
            again = fix_source(first.text, path, SETTINGS, unsafe=unsafe)
            assert again.error is None and not again.changed, (first.text, again.text)


# ------------------------------------------------------------------ mutations


def truncate(data: bytes, rnd: random.Random) -> bytes:
    return data[:rnd.randrange(len(data) + 1)]


def flip_bytes(data: bytes, rnd: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 5)):
        if out:
            out[rnd.randrange(len(out))] = rnd.randrange(256)
    return bytes(out)


def insert_at_line(data: bytes, rnd: random.Random, chunk: bytes) -> bytes:
    lines = data.split(b"\n")
    at = rnd.randrange(len(lines) + 1)
    return b"\n".join(lines[:at] + [chunk] + lines[at:])


NASTY_CHUNKS = [
    b"x = " + b"(" * 300 + b"1" + b")" * 300,
    b"x = (" + b"a +\n" * 12000 + b"b)",
    b"y = " + b"1+" * 6000 + b"1",
    b"z = '" + b"a" * 300_000 + b"'",
    b"".join(b" " * i + b"if x:\n" for i in range(120)) + b" " * 120 + b"pass",
    b"w = [" + b"[" * 150 + b"]" * 150 + b"]",
    b"\x00",
    b"\tif True:\n        \tpass",
    b"def f(:\n    pass",
    b'"""never closed',
    b"\xff\xfe\x00\x00",
    b"\\",
]


def nasty_insert(data: bytes, rnd: random.Random) -> bytes:
    return insert_at_line(data, rnd, rnd.choice(NASTY_CHUNKS))


def nul_inside(data: bytes, rnd: random.Random) -> bytes:
    at = rnd.randrange(len(data) + 1)
    return data[:at] + b"\x00" + data[at:]


def tabs_for_spaces(data: bytes, rnd: random.Random) -> bytes:
    return data.replace(b"    ", b"\t")  # consistent per file, inconsistent inside strings and alignments


def reencode(data: bytes, rnd: random.Random) -> bytes:
    text = data.decode("utf-8", errors="replace")
    choice = rnd.randrange(4)
    if choice == 0:
        return text.encode("utf-16")
    if choice == 1:
        return b"# -*- coding: cp1252 -*-\n" + text.encode("utf-8")  # mojibake, maybe undecodable
    if choice == 2:
        return b"# -*- coding: no-such-codec -*-\n" + data
    return data + b"\n# \xc3\x28 invalid utf-8\n"


def break_notebook(data: bytes, rnd: random.Random) -> bytes:
    try:
        nb = json.loads(data)
    except ValueError:
        return truncate(data, rnd)
    choice = rnd.randrange(8)
    if choice == 0:
        return truncate(data, rnd)
    if choice == 6:
        return rnd.choice([b"[]", b'{"cells": {}}', b"\x00\x01", b"", b"null"])
    if choice == 7:
        for cell in nb.get("cells") or []:
            if isinstance(cell, dict) and rnd.random() < 0.3:
                cell["source"] = rnd.choice([None, 42, ["def f(:\n"], "%%time\n", "x = (" * 300, "!ls\n"])
        return json.dumps(nb).encode()
    if choice == 1:
        nb["cells"] = {"not": "a list"}
    elif choice == 2 and nb.get("cells"):
        nb["cells"][rnd.randrange(len(nb["cells"]))]["source"] = 42
    elif choice == 3 and nb.get("cells"):
        nb["cells"][rnd.randrange(len(nb["cells"]))] = "a cell that is a string"
    elif choice == 4:
        nb["cells"] = [{"cell_type": "code", "source": ["def f(:\n", "  pass\n"]}] + list(nb.get("cells") or [])
    else:
        return flip_bytes(data, rnd)
    return json.dumps(nb).encode()


CRASH_MUTATIONS = [truncate, flip_bytes, nasty_insert, reencode, nul_inside, tabs_for_spaces]


# ------------------------------------------------------------------ layout-preserving variants


def with_bom(data: bytes) -> bytes:
    return b"\xef\xbb\xbf" + data


def with_crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def with_latin1_cookie(data: bytes) -> tuple[bytes, int]:
    """The file re-encoded as Latin-1 under a coding cookie (one line longer)."""
    text = data.decode("utf-8")
    return b"# -*- coding: latin-1 -*-\n" + text.encode("latin-1"), 1


# ------------------------------------------------------------------ syntax errors


JUNK = ["def broken(:\n", ")))\n", "x = = 1\n", "if True\n    pass\n", "class\n", "return return\n", "@\n",
        "lambda: (yield\n", "'''unterminated\n", "for x in :\n    y\n", "else:\n    z = 1\n", "1 +\n"]


def junk_appended(text: str, rnd: random.Random) -> str:
    junk = "".join(rnd.choice(JUNK) for _ in range(rnd.randint(1, 3)))
    return text + ("" if text.endswith("\n") else "\n") + "\n" + junk


def intact_prefix(text: str, cut: int) -> str:
    """``text`` up to the first line of the top-level statement that ``cut``
    (a character offset) falls in."""
    line = text.count("\n", 0, cut) + 1
    first = max((s for s in _top_level_starts(text) if s <= line), default=1)
    return "".join(split_lines(text)[:first - 1])
