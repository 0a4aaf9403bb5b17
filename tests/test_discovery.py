import json
import os

from tests.helpers import run_cli


def _paths(tmp_path, *args):
    r = run_cli("check", "--no-cache", "--output-format", "json", *args, cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    return sorted({d["path"] for d in json.loads(r.stdout)})


BAD = "model.fit_generator(g)\n"


def test_recursive_with_default_excludes_and_gitignore(tmp_path):
    for rel in ["a.py", "pkg/b.pyi", "nb/c.ipynb", ".venv/lib/d.py", "build/e.py", "node_modules/f.py",
                "__pycache__/g.py", "ignored/h.py", "keep/i.py", "data.txt", "venv2/j.py"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".ipynb"):
            p.write_text(json.dumps({"cells": [{"cell_type": "code", "source": BAD, "metadata": {}, "outputs": []}],
                                     "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        else:
            p.write_text(BAD)
    (tmp_path / "venv2" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    assert _paths(tmp_path, ".") == ["a.py", "keep/i.py", "nb/c.ipynb", "pkg/b.pyi"]


def test_extend_exclude_and_explicit_files(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nextend-exclude = ["gen"]\n')
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "x.py").write_text(BAD)
    (tmp_path / "y.py").write_text(BAD)
    assert _paths(tmp_path, ".") == ["y.py"]
    assert _paths(tmp_path, "gen/x.py") == ["gen/x.py"]
    assert _paths(tmp_path, "--extend-exclude", "y.py", ".") == []


def test_nested_gitignore_and_negation(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("*.py\n!keep.py\n")
    (tmp_path / "sub" / "drop.py").write_text(BAD)
    (tmp_path / "sub" / "keep.py").write_text(BAD)
    assert _paths(tmp_path, ".") == ["sub/keep.py"]


def test_symlink_loop_does_not_hang(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.py").write_text(BAD)
    os.symlink(tmp_path / "d", tmp_path / "d" / "loop")
    assert _paths(tmp_path, ".") == ["d/a.py"]


def test_bad_encoding_and_nul_become_km901(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "cookie.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\nmodel.fit_generator(g)\n")
    r = run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    data = json.loads(r.stdout)
    got = sorted((d["path"], d["code"], d["line"]) for d in data)
    assert got == [("cookie.py", "KM201", 3), ("latin.py", "KM901", 1), ("nul.py", "KM901", 1)]
    assert "Traceback" not in r.stderr


def test_force_exclude_applies_to_explicit_files(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nextend-exclude = ["gen"]\n')
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "x.py").write_text(BAD)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "b.py").write_text(BAD)
    (tmp_path / "y.py").write_text(BAD)
    assert _paths(tmp_path, "--force-exclude", "gen/x.py", "build/b.py", "y.py") == ["y.py"]


def test_deep_nesting_is_a_parse_error_not_a_crash(tmp_path):
    (tmp_path / "deep.py").write_text("x = " + "(" * 10000 + "1" + ")" * 10000 + "\n")
    (tmp_path / "lists.py").write_text("model.fit_generator(g)\nx = " + "[" * 3000 + "1" + "]" * 3000 + "\n")
    (tmp_path / "ok.py").write_text("x = " + "(" * 100 + "1" + ")" * 100 + "\nmodel.fit_generator(g)\n")
    r = run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    got = sorted((d["path"], d["code"]) for d in json.loads(r.stdout))
    # CPython's parser refuses the nesting (KM901 at it); as for any syntax error the
    # intact statements are still analysed (lists.py's first line)
    assert got == [("deep.py", "KM901"), ("lists.py", "KM201"), ("lists.py", "KM901"), ("ok.py", "KM201")]
    assert "nested" in json.loads(r.stdout)[0]["message"]


def test_one_component_patterns_match_exactly_as_gitignore_does():
    """The excludes made only of one-component names and globs are matched
    without pathspec (start-up); on random patterns and paths the answers
    are pathspec's GitIgnoreSpec's."""
    import random

    import pathspec

    from kmlint.engine.discovery import DEFAULT_EXCLUDES, NameSpec, _spec

    assert isinstance(_spec(DEFAULT_EXCLUDES), NameSpec)
    assert not isinstance(_spec(["/build", "!keep.py"]), NameSpec)  # anchored, negated: pathspec's job
    rng = random.Random(15)
    alphabet = "ab.*?-_"
    for _ in range(300):
        patterns = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) + rng.choice(["", "/"])
                    for _ in range(rng.randint(1, 3))]
        ours = _spec(patterns)
        theirs = pathspec.GitIgnoreSpec.from_lines(patterns)
        for _ in range(20):
            parts = ["".join(rng.choice("ab._-") for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(1, 3))]
            parts = [p for p in parts if p.strip(".")] or ["a"]  # no "." or ".." names in real paths
            path = "/".join(parts) + rng.choice(["", "/"])
            assert ours.match_file(path) == theirs.match_file(path), (patterns, path)
