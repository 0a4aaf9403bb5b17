"""Schema of the labelled real-world evaluation set (eval/labels.jsonl, issue 16)
and the scorer's matching logic (scripts/eval_recall.py) on synthetic findings;
the third-party code itself is not in the repository."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from kmlint.registry import get_rule

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "eval" / "labels.jsonl"
REQUIRED = ("source", "version", "path", "line", "rule", "kind", "reason")


def _rows():
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]


def _scorer():
    spec = importlib.util.spec_from_file_location("eval_recall", ROOT / "scripts" / "eval_recall.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_at_least_300_labels_with_traps():
    rows = _rows()
    kinds = Counter(r["kind"] for r in rows)
    assert len(rows) >= 300
    assert kinds["finding"] and kinds["trap"]
    assert set(kinds) == {"finding", "trap"}


def test_every_row_is_complete():
    for n, row in enumerate(_rows(), 1):
        for key in REQUIRED:
            assert row.get(key) not in (None, ""), (n, key)
        assert isinstance(row["line"], int) and row["line"] >= 1, n
        assert row.get("cell") is None or (isinstance(row["cell"], int) and row["cell"] >= 0), n
        assert (row.get("cell") is not None) == row["path"].endswith(".ipynb"), n
        assert len(row["reason"]) >= 8, n
        for place in row.get("also", []):
            assert len(place) == 2 and isinstance(place[1], int), n


def test_sources_are_pinned():
    for n, row in enumerate(_rows(), 1):
        kind, _, name = row["source"].partition(":")
        assert kind in ("github", "pypi"), n
        if kind == "github":
            assert re.fullmatch(r"[\w.-]+/[\w.-]+", name), n
            assert re.fullmatch(r"[0-9a-f]{40}", row["version"]), n
        else:
            assert re.fullmatch(r"[\w.-]+==[\w.+-]+", name) and row["version"] == name.split("==")[1], n


def test_rules_exist_in_the_registry():
    for n, row in enumerate(_rows(), 1):
        rule = get_rule(row["rule"])
        assert rule is not None and rule.code == row["rule"], (n, row["rule"])


def test_no_duplicate_labels():
    keys = Counter((r["source"], r["path"], r.get("cell"), r["line"], r["rule"]) for r in _rows())
    assert [k for k, c in keys.items() if c > 1] == []


def test_scorer_loads_the_labels():
    mod = _scorer()
    assert len(mod.load_labels(LABELS)) == len(_rows())


def test_scorer_matching(tmp_path):
    mod = _scorer()
    corpus = tmp_path
    base = {"source": "github:o/r", "version": "0" * 40, "reason": "synthetic case"}
    labels = [
        dict(base, path="a.py", cell=None, line=10, rule="KM203", kind="finding"),
        dict(base, path="a.py", cell=None, line=11, rule="KM203", kind="trap"),   # next line: not hit by line 10
        dict(base, path="a.py", cell=None, line=20, rule="KM302", kind="finding"),  # reported one line later
        dict(base, path="nb.ipynb", cell=3, line=2, rule="KM101", kind="finding", also=[[5, 1]]),
        dict(base, path="nb.ipynb", cell=4, line=2, rule="KM101", kind="trap"),
        dict(base, path="a.py", cell=None, line=30, rule="KM201", kind="finding"),  # other rule reported
    ]
    d = corpus / "o+r"
    findings = [
        {"code": "KM203", "path": str(d / "a.py"), "line": 10},
        {"code": "KM302", "path": str(d / "a.py"), "line": 21},
        {"code": "KM101", "path": str(d / "nb.ipynb"), "cell": 5, "line": 1},
        {"code": "KM206", "path": str(d / "a.py"), "line": 30},
    ]
    hit = mod.score(labels, findings, corpus)["hit"]
    assert hit == [True, False, True, True, False, False]
    text, numbers = mod.table(labels, hit)
    assert numbers["KM203"] == {"F": 1, "found": 1, "T": 1, "flagged": 0}
    assert numbers["all"]["found"] == 3 and numbers["all"]["F"] == 4
    assert "KM101" in text


def test_source_dir():
    mod = _scorer()
    assert mod.source_dir("github:ageron/handson-ml3") == "ageron+handson-ml3"
    assert mod.source_dir("pypi:keras==2.15.0") == "pypi+keras"
    with pytest.raises(SystemExit):
        mod.source_dir("svn:x")
