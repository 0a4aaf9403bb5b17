"""scripts/sweep_diff.py: matching two audit sweeps' findings (issue 15's sweep comparison)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module():
    spec = importlib.util.spec_from_file_location("sweep_diff", ROOT / "scripts" / "sweep_diff.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def finding(code, line, column, message="m", path="/c/a.py", cell=None, fix=None):
    f = {"code": code, "path": path, "line": line, "column": column, "end_line": line,
         "end_column": column + 3, "message": message, "fix": fix}
    if cell is not None:
        f["cell"] = cell
    return f


def test_identical_sweeps_have_no_difference():
    mod = _module()
    fs = [finding("KM302", 3, 5), finding("KM302", 3, 9), finding("KM901", 1, 1, path="/c/n.ipynb", cell=4)]
    result = mod.compare(fs, [dict(f) for f in reversed(fs)])
    assert result["differences"] == []
    assert result["per_rule"]["KM302"] == {"old": 2, "new": 2}


def test_gone_added_and_changed_findings():
    mod = _module()
    old = [finding("KM205", 10, 4), finding("KM302", 3, 5, "old text"), finding("KM106", 7, 2)]
    new = [finding("KM302", 3, 5, "new text"), finding("KM106", 7, 2, fix={"applicability": "unsafe"}),
           finding("KM402", 8, 1)]
    result = mod.compare(old, new)
    kinds = {(d["kind"], d["rule"]) for d in result["differences"]}
    assert kinds == {("old-only", "KM205"), ("new-only", "KM402"), ("changed", "KM302"), ("changed", "KM106")}
    changed = {d["rule"]: d["what"] for d in result["differences"] if d["kind"] == "changed"}
    assert changed == {"KM302": ["message"], "KM106": ["fix"]}
    assert result["totals"] == {"old": 3, "new": 3, "old-only": 1, "new-only": 1, "changed": 2}


def test_notebook_cells_and_columns_keep_findings_apart():
    mod = _module()
    old = [finding("KM501", 1, 8, path="/c/n.ipynb", cell=13)]
    new = [finding("KM501", 1, 8, path="/c/n.ipynb", cell=112)]
    kinds = sorted(d["kind"] for d in mod.compare(old, new)["differences"])
    assert kinds == ["new-only", "old-only"]
    # two findings of one rule on one line: the one whose column matches is paired
    old = [finding("KM302", 4, 19, "a"), finding("KM302", 4, 36, "b")]
    new = [finding("KM302", 4, 36, "b")]
    (d,) = mod.compare(old, new)["differences"]
    assert (d["kind"], d["column"]) == ("old-only", 19)


def test_cli_strips_prefixes_and_exits_one_on_differences(tmp_path, capsys):
    mod = _module()
    (tmp_path / "old.json").write_text(json.dumps([finding("KM101", 2, 3, path="/x/corpus/p.py")]))
    (tmp_path / "new.json").write_text(json.dumps([finding("KM101", 2, 3, path="corpus/p.py")]))
    args = [str(tmp_path / "old.json"), str(tmp_path / "new.json")]
    assert mod.main(args + ["--strip", "/x/", "--json", str(tmp_path / "d.json")]) == 0
    assert json.loads((tmp_path / "d.json").read_text())["differences"] == []
    assert mod.main(args) == 1
    assert "old-only KM101 /x/corpus/p.py:2:3" in capsys.readouterr().out
