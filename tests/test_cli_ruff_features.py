"""The CLI a Ruff user expects (issue 13, part 2), through the real command:
--watch, --show-settings, --show-files, config `extend`, --add-noqa, the
full/concise/json-lines formats, a missing path, git's other ignore files."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.helpers import cli_env, notebook, run_cli

BAD = "model.fit_generator(gen, steps_per_epoch=10)\n"


def _isolated_env(tmp_path: Path) -> dict:
    """HOME and XDG_CONFIG_HOME inside the test, so the user's git config is not read."""
    home = tmp_path / "_home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


# ----------------------------------------------------------------- missing path


def test_a_missing_path_prints_only_the_error(tmp_path):
    r = run_cli("check", "--no-cache", "missing.py", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip() == "kmlint: error: missing.py: no such file or directory"


def test_a_missing_path_next_to_a_clean_file_does_not_say_all_checks_passed(tmp_path):
    (tmp_path / "ok.py").write_text("x = 1\n")
    r = run_cli("check", "--no-cache", "ok.py", "missing.py", cwd=tmp_path)
    assert r.returncode == 2
    assert "All checks passed" not in r.stdout
    assert "missing.py: no such file or directory" in r.stderr


# ----------------------------------------------------------------- output formats


def test_full_format_shows_a_code_frame_with_a_caret_under_the_span(tmp_path):
    (tmp_path / "a.py").write_text("import os\nfor x in data:\n\tmodel.predict(x)\n" + BAD)
    r = run_cli("check", "--no-cache", "--output-format", "full", "a.py", cwd=tmp_path)
    assert r.returncode == 1
    out = r.stdout
    block = out[out.index("a.py:4:7: KM201"):]
    lines = block.splitlines()
    assert lines[1] == "  |"
    assert lines[2] == "4 | model.fit_generator(gen, steps_per_epoch=10)"
    caret = lines[3]
    assert caret.index("^") == lines[2].index("fit_generator")
    assert caret.rstrip().endswith("^ KM201") and caret.count("^") == len("fit_generator")
    assert "  = help: Replace with `fit`" in block
    # a tab-indented line: the frame expands tabs and the caret follows
    km203 = out[out.index("a.py:3:2: KM203"):].splitlines()
    assert km203[2] == "3 |     model.predict(x)"
    assert km203[3].index("^") == km203[2].index("model")
    assert out.rstrip().endswith("1 more fixable with `--unsafe-fixes`.")


def test_full_format_frames_notebook_cells(tmp_path):
    (tmp_path / "n.ipynb").write_text(notebook("import os\n", "!pip install x\nmodel.fit_generator(g)\n"))
    r = run_cli("check", "--no-cache", "--output-format", "full", "n.ipynb", cwd=tmp_path)
    lines = r.stdout.splitlines()
    k = lines.index(next(x for x in lines if x.startswith("n.ipynb:cell 2:line 2:col 7: KM201")))
    assert lines[k + 2] == "2 | model.fit_generator(g)"
    assert lines[k + 3].index("^") == lines[k + 2].index("fit_generator")


def test_full_is_the_default_on_a_terminal_and_text_otherwise(tmp_path):
    (tmp_path / "a.py").write_text(BAD)
    piped = run_cli("check", "--no-cache", "a.py", cwd=tmp_path)
    assert " | " not in piped.stdout and "a.py:1:7: KM201" in piped.stdout
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kmlint", "check", "--no-cache", "a.py"], cwd=tmp_path,
                            stdout=child, stderr=subprocess.PIPE, env=cli_env())
    os.close(child)
    chunks = []
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    assert "1 | model.fit_generator(gen, steps_per_epoch=10)" in out
    assert "^^^^^^^^^^^^^ KM201" in out


def test_concise_and_json_lines(tmp_path):
    (tmp_path / "a.py").write_text(BAD + "model.predict_generator(g)\n")
    concise = run_cli("check", "--no-cache", "--output-format", "concise", "a.py", cwd=tmp_path)
    text = run_cli("check", "--no-cache", "--output-format", "text", "a.py", cwd=tmp_path)
    assert concise.stdout == text.stdout and concise.stdout.startswith("a.py:1:7: KM201")
    r = run_cli("check", "--no-cache", "--output-format", "json-lines", "a.py", cwd=tmp_path)
    assert r.returncode == 1
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(d["code"], d["line"], d["column"]) for d in rows] == [("KM201", 1, 7), ("KM201", 2, 7)]
    assert r.stdout.count("\n") == 2


# ----------------------------------------------------------------- config extend


def test_config_extend_inherits_relative_to_the_config_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.kmlint]\nignore = ["KM201"]\ncache-dir = "shared-cache"\n')
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "kmlint.toml").write_text('extend = "../pyproject.toml"\nextend-select = ["KM9"]\n')
    (proj / "a.py").write_text(BAD + "for x in d:\n    model.predict(x)\n")
    r = run_cli("check", "--no-cache", "--output-format", "concise", "a.py", cwd=proj)
    assert "KM201" not in r.stdout and "KM203" in r.stdout  # KM201 ignored by the base file
    r = run_cli("check", "--show-settings", "a.py", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert f"Settings path: {proj / 'kmlint.toml'}" in r.stdout
    assert 'ignore = ["KM201"]' in r.stdout and 'extend-select = ["KM9"]' in r.stdout
    assert f'cache-dir = "{tmp_path / "shared-cache"}"' in r.stdout  # relative to the base file
    enabled = json.loads(re.search(r"^enabled-rules = (.*)$", r.stdout, re.M).group(1))
    assert "KM201" not in enabled and "KM203" in enabled


def test_config_extend_cycle_is_an_error_naming_the_files(tmp_path):
    (tmp_path / "kmlint.toml").write_text('extend = "sub/kmlint.toml"\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kmlint.toml").write_text('extend = "../kmlint.toml"\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    r = run_cli("check", "--no-cache", "a.py", cwd=tmp_path)
    assert r.returncode == 2
    assert "circular 'extend'" in r.stderr
    top, sub = str(tmp_path / "kmlint.toml"), str(tmp_path / "sub" / "kmlint.toml")
    assert f"{top} -> {sub} -> {top}" in r.stderr
    r = run_cli("check", "--no-cache", "a.py", cwd=tmp_path / "sub")
    assert r.returncode == 2 and "does not exist" not in r.stderr


def test_config_extend_of_a_missing_file_is_an_error(tmp_path):
    (tmp_path / "kmlint.toml").write_text('extend = "nowhere.toml"\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    r = run_cli("check", "--no-cache", "a.py", cwd=tmp_path)
    assert r.returncode == 2 and "'extend' names" in r.stderr and "nowhere.toml" in r.stderr


# ----------------------------------------------------------------- --show-files and git ignores


def test_show_files_honours_gitignore_info_exclude_and_the_global_excludes_file(tmp_path):
    env = _isolated_env(tmp_path)
    repo = tmp_path / "repo"
    (repo / ".git" / "info").mkdir(parents=True)
    (repo / ".git" / "info" / "exclude").write_text("excluded_by_info.py\n")
    (repo / ".gitignore").write_text("ignored_dir/\n")
    for name in ("kept.py", "excluded_by_info.py", "excluded_globally.py", "ignored_dir/x.py", "sub/kept2.ipynb",
                 "sub/excluded_by_info.py"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x = 1\n" if name.endswith(".py") else notebook("x = 1\n"))
    xdg_ignore = Path(env["XDG_CONFIG_HOME"]) / "git" / "ignore"
    xdg_ignore.parent.mkdir(parents=True)
    xdg_ignore.write_text("excluded_globally.py\n")
    r = run_cli("check", "--show-files", cwd=repo, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["kept.py", "sub/kept2.ipynb"]
    # core.excludesFile replaces the default global file
    (Path(env["HOME"]) / ".gitconfig").write_text('[user]\n  name = x\n[core]\n\texcludesFile = ~/my-ignore\n')
    (Path(env["HOME"]) / "my-ignore").write_text("kept.py\n")
    r = run_cli("check", "--show-files", cwd=repo, env=env)
    assert r.stdout.splitlines() == ["excluded_globally.py", "sub/kept2.ipynb"]
    # respect-gitignore = false lints them all
    (repo / "pyproject.toml").write_text("[tool.kmlint]\nrespect-gitignore = false\n")
    r = run_cli("check", "--show-files", cwd=repo, env=env)
    assert len(r.stdout.splitlines()) == 6


def test_info_exclude_of_a_linked_worktree_is_the_main_repositorys(tmp_path):
    env = _isolated_env(tmp_path)
    main_git = tmp_path / "main" / ".git"
    (main_git / "info").mkdir(parents=True)
    (main_git / "info" / "exclude").write_text("scratch.py\n")
    (main_git / "worktrees" / "wt").mkdir(parents=True)
    (main_git / "worktrees" / "wt" / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text(f"gitdir: {main_git / 'worktrees' / 'wt'}\n")
    (wt / "scratch.py").write_text(BAD)
    (wt / "real.py").write_text("x = 1\n")
    r = run_cli("check", "--show-files", cwd=wt, env=env)
    assert r.stdout.splitlines() == ["real.py"]
    r = run_cli("check", "--no-cache", cwd=wt, env=env)
    assert r.returncode == 0 and "All checks passed! (1 file checked)" in r.stdout


# ----------------------------------------------------------------- --add-noqa


def test_add_noqa_suppresses_every_finding_in_place_merging_directives(tmp_path):
    src = ("import os\r\n"
           "model.fit_generator(gen)  # noqa: E501\r\n"
           "model.predict_generator(g,\r\n"
           "    steps=1)\r\n"
           "for x in data:\r\n"
           "    model.predict(x)  # kmlint: ignore[E501]\r\n"
           "model.evaluate_generator(g)  # train\r\n")
    (tmp_path / "a.py").write_bytes(src.encode())
    (tmp_path / "n.ipynb").write_text(notebook("%time model.fit_generator(g)\n", "!ls\nmodel.fit_generator(g)\n"))
    r = run_cli("check", "--add-noqa", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Added 6 noqa directives in 2 files." in r.stdout
    assert (tmp_path / "a.py").read_bytes().decode() == (
        "import os\r\n"
        "model.fit_generator(gen)  # noqa: E501, KM201\r\n"
        "model.predict_generator(g,\r\n"
        "    steps=1)  # noqa: KM201\r\n"
        "for x in data:\r\n"
        "    model.predict(x)  # kmlint: ignore[E501, KM203]\r\n"
        "model.evaluate_generator(g)  # train  # noqa: KM201\r\n")
    cells = [c["source"] for c in json.loads((tmp_path / "n.ipynb").read_text())["cells"]]
    assert cells == ["%time model.fit_generator(g)  # noqa: KM201\n", "!ls\nmodel.fit_generator(g)  # noqa: KM201\n"]
    r = run_cli("check", "--no-cache", cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    assert "All checks passed! (2 files checked)" in r.stdout
    r = run_cli("check", "--add-noqa", cwd=tmp_path)
    assert "Added 0 noqa directives in 0 files." in r.stdout


# ----------------------------------------------------------------- --watch


class _Reader:
    def __init__(self, stream):
        self.text = ""
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream):
        for line in iter(stream.readline, ""):
            with self.lock:
                self.text += line

    def wait_for(self, needle: str, count: int, timeout: float) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.text.count(needle) >= count:
                    return self.text
            time.sleep(0.1)
        raise AssertionError(f"no {count}x {needle!r} within {timeout}s; output so far:\n{self.text}")


def test_watch_lints_again_when_a_file_changes(tmp_path):
    target = tmp_path / "a.py"
    target.write_text("x = 1\n")
    proc = subprocess.Popen([sys.executable, "-m", "kmlint", "check", "--watch", "--no-cache", "."], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env())
    try:
        out = _Reader(proc.stdout)
        first = out.wait_for("Watching for file changes.", 1, 120)
        assert "Starting linter in watch mode..." in first and "All checks passed! (1 file checked)" in first
        time.sleep(0.3)
        target.write_text("x = 1\n" + BAD)
        second = out.wait_for("Watching for file changes.", 2, 60)
        assert "File change detected..." in second
        assert "a.py:2:7: KM201" in second[second.index("File change detected"):]
        (tmp_path / "new.py").write_text("model.predict_generator(g)\n")  # a new file is seen too
        third = out.wait_for("Watching for file changes.", 3, 60)
        assert "new.py:1:7: KM201" in third[third.rindex("File change detected"):]
        assert proc.poll() is None  # still watching
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ----------------------------------------------------------------- --version


def _fake_install(site: Path, version: str, direct_url: dict | None) -> None:
    info = site / f"kmlint-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: kmlint\nVersion: {version}\n")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url))


def test_version_comes_from_the_package_metadata_of_the_running_install(tmp_path):
    from kmlint import __version__
    from tests.helpers import ROOT

    r = run_cli("--version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == f"kmlint {__version__}"  # no metadata: __version__
    # an editable install of this checkout: its metadata is the running code's
    editable = tmp_path / "editable"
    _fake_install(editable, "7.7.7", {"url": ROOT.as_uri(), "dir_info": {"editable": True}})
    r = run_cli("--version", cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(editable)})
    assert r.stdout.strip() == "kmlint 7.7.7"
    # some other copy installed elsewhere: its metadata does not describe this code
    other = tmp_path / "other"
    _fake_install(other, "6.6.6", {"url": (tmp_path / "elsewhere").as_uri(), "dir_info": {"editable": True}})
    r = run_cli("--version", cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(other)})
    assert r.stdout.strip() == f"kmlint {__version__}"
