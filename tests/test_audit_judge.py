"""scripts/audit_judge.py: a fresh audit sweep scored against the judged findings."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("audit_judge", ROOT / "scripts" / "audit_judge.py")
audit_judge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_judge)


def _corpus(tmp_path: Path) -> Path:
    wheel = tmp_path / "corpus" / "somepkg-1.2.0-py3-none-any" / "somepkg"
    wheel.mkdir(parents=True)
    (wheel / "train.py").write_text("x = 1\n" * 20)
    nb = tmp_path / "nbs"
    (nb / "owner+repo").mkdir(parents=True)
    (nb / "owner+repo" / "dir__demo.ipynb").write_text(json.dumps({"cells": []}))
    (nb / "manifest.tsv").write_text("repository\tcommit\tpath\tlocal\tblob\n"
                                     f"owner/repo\t{'a' * 40}\tdir/demo.ipynb\towner+repo/dir__demo.ipynb\t{'b' * 40}\n")
    return tmp_path


def _finding(path: Path, code: str, line: int, column: int = 1, cell=None) -> dict:
    f = {"code": code, "message": f"{code} message", "path": str(path), "line": line, "column": column}
    if cell is not None:
        f["cell"] = cell
    return f


def test_score_matches_judgements_counts_fp_and_lists_unjudged_and_gone(tmp_path, capsys):
    root = _corpus(tmp_path)
    py = root / "corpus" / "somepkg-1.2.0-py3-none-any" / "somepkg" / "train.py"
    nb = root / "nbs" / "owner+repo" / "dir__demo.ipynb"
    findings = [_finding(py, "KM203", 5, 3), _finding(py, "KM203", 5, 9), _finding(py, "KM203", 9),
                _finding(nb, "KM302", 2, cell=4), _finding(nb, "KM302", 3, cell=4)]
    (root / "f.json").write_text(json.dumps(findings))
    judged = [
        {"package": "somepkg", "version": "1.2.0", "path": "somepkg/train.py", "cell": None, "line": 5,
         "column": 9, "rule": "KM203", "verdict": "wrong", "reason": "r"},
        {"package": "somepkg", "version": "1.2.0", "path": "somepkg/train.py", "cell": None, "line": 5,
         "column": 3, "rule": "KM203", "verdict": "right", "reason": "r"},
        {"package": "somepkg", "version": "1.2.0", "path": "somepkg/train.py", "cell": None, "line": 9,
         "rule": "KM203", "verdict": "little-value", "reason": "r"},
        {"package": "github:owner/repo", "version": "a" * 40, "path": "dir/demo.ipynb", "cell": 4, "line": 2,
         "rule": "KM302", "verdict": "right", "reason": "r"},
        {"package": "github:owner/repo", "version": "a" * 40, "path": "dir/demo.ipynb", "cell": 4, "line": 7,
         "rule": "KM302", "verdict": "wrong", "reason": "a finding a rule change removed"},
    ]
    (root / "j.jsonl").write_text("".join(json.dumps(j) + "\n" for j in judged))
    rc = audit_judge.main(["score", str(root / "f.json"), "--judgements", str(root / "j.jsonl")])
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("KM")}
    # KM203: 3 findings, columns pick the right judgement on a shared line: 1 right, 1 lv, 1 wrong
    assert rows["KM203"][1:7] == ["3", "0", "1", "1", "1", "33.3%"]
    # KM302: one judged right, one not judged; the wrong judgement's finding is gone
    assert rows["KM302"][1:7] == ["2", "1", "1", "0", "0", "0.0%"] and "{'wrong': 1}" in " ".join(rows["KM302"])
    assert "1 finding(s) not judged yet" in out and "dir/demo.ipynb cell 4:3" in out
    assert "FP rate over 5%: KM203" in out and rc == 1


def test_markdown_table_alone_on_stdout(tmp_path, capsys):
    root = _corpus(tmp_path)
    py = root / "corpus" / "somepkg-1.2.0-py3-none-any" / "somepkg" / "train.py"
    (root / "f.json").write_text(json.dumps([_finding(py, "KM205", 3)]))
    (root / "j.jsonl").write_text(json.dumps({"package": "somepkg", "version": "1.2.0", "path": "somepkg/train.py",
                                              "line": 3, "rule": "KM205", "verdict": "right", "reason": "r"}) + "\n")
    rc = audit_judge.main(["score", str(root / "f.json"), "--judgements", str(root / "j.jsonl"), "--markdown"])
    out = capsys.readouterr().out.splitlines()
    assert rc == 0
    assert out[0].startswith("| rule | findings |") and "| KM205 | 1 | 1 | 0 | 0 | 0% | - |" in out
    assert out[-1].startswith("| all | 1 |")


def test_the_committed_judgements_are_well_formed():
    rows = audit_judge.load_judgements(audit_judge.DEFAULT_JUDGEMENTS)
    assert len(rows) >= 400
    keys = [audit_judge.key_of(r) + (r.get("column"),) for r in rows]
    assert len(keys) == len(set(keys))  # one verdict per finding
    assert all(r["reason"].strip() for r in rows)
