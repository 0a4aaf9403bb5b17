"""The result cache is never stale: edits, config changes, dependency changes
and a version bump all force a fresh lint; corrupt entries and concurrent runs
are harmless; cached findings are detached."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

import pytest

import kmlint
from kmlint.config import ConfigResolver
from kmlint.engine import cache as cache_mod
from kmlint.engine import runner
from kmlint.engine.cache import CACHE_DIR_NAME, ResultCache
from kmlint.engine.linter import FileResult
from kmlint.findings import Finding
from tests.helpers import run_cli

BAD = "model.fit_generator(gen)\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.kmlint]\n")
    (tmp_path / "train.py").write_text(BAD)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


class _Log:
    """Paths appended to a file: a few files are linted in forked children
    (the crash guard), whose memory the test does not see."""

    def __init__(self):
        fd, self.file = tempfile.mkstemp(prefix="kmlint-lints-")
        os.close(fd)

    def append(self, path: str) -> None:
        with open(self.file, "a", encoding="utf-8") as f:
            f.write(path + "\n")

    def _read(self) -> list[str]:
        with open(self.file, encoding="utf-8") as f:
            return f.read().splitlines()

    def clear(self) -> None:
        open(self.file, "w").close()

    def __eq__(self, other) -> bool:
        return self._read() == other

    def __iter__(self):
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __repr__(self) -> str:
        return repr(self._read())


class LintCounter:
    """Counts real lints (cache misses) by wrapping the runner's linter."""

    def __init__(self, monkeypatch):
        self.paths = _Log()
        original = runner.lint_bytes

        def counting(data, path, settings, **kw):
            if path != "warm_up.py":  # the crash guard's warm-up lint (runner.warm_up) is not a file
                self.paths.append(path)
            return original(data, path, settings, **kw)

        monkeypatch.setattr(runner, "lint_bytes", counting)


def check(**kw):
    res = runner.run(["."], ConfigResolver(), jobs=1, **kw)
    return [f.to_json() for f in res.findings]


def test_second_run_is_served_from_the_cache(project, monkeypatch):
    counter = LintCounter(monkeypatch)
    first = check()
    assert sorted(counter.paths) == ["clean.py", "train.py"]
    assert [f["code"] for f in first] == ["KM201"]
    assert (project / CACHE_DIR_NAME / ".gitignore").is_file()
    counter.paths.clear()
    assert check() == first
    assert counter.paths == []


def test_cached_findings_are_detached(project):
    check()
    res = runner.run(["train.py"], ConfigResolver(), jobs=1)
    f = res.findings[0]
    assert f.node is None and f.fix is not None and f.fix.edits
    assert f.fix.edits[0].content  # the edit a JSON consumer or editor applies survived


def test_an_edit_is_linted_again(project, monkeypatch):
    check()
    counter = LintCounter(monkeypatch)
    (project / "train.py").write_text(BAD + "model.predict_generator(gen)\n")
    assert [(f["line"], f["code"]) for f in check()] == [(1, "KM201"), (2, "KM201")]
    assert counter.paths == ["train.py"]
    (project / "train.py").write_text("x = 2\n")
    assert check() == []


def test_a_config_change_is_linted_again(project):
    assert check() != []
    (project / "pyproject.toml").write_text('[tool.kmlint]\nignore = ["KM201"]\n')
    assert check() == []
    (project / "pyproject.toml").write_text("[tool.kmlint]\n")
    assert [f["code"] for f in check()] == ["KM201"]


def test_command_line_settings_are_part_of_the_key(project):
    assert check() != []
    res = runner.run(["."], ConfigResolver(overrides={"ignore": ["KM201"]}), jobs=1)
    assert res.findings == []


def test_a_version_bump_is_linted_again(project, monkeypatch):
    check()
    counter = LintCounter(monkeypatch)
    monkeypatch.setattr(kmlint, "__version__", kmlint.__version__ + ".post1")
    monkeypatch.setattr(cache_mod, "_CODE_FINGERPRINT", None)
    assert [f["code"] for f in check()] == ["KM201"]
    assert sorted(counter.paths) == ["clean.py", "train.py"]


def test_a_dependency_change_is_linted_again(project, monkeypatch):
    """The contract with project-scope rules (KM501): FileResult.dependencies
    names the other files a result was computed from."""
    helper = project / "gpu_utils.py"
    helper.write_text("GROWTH = False\n")
    original = runner.lint_bytes

    def depends_on_helper(data, path, settings, **kw):
        res = original(data, path, settings, **kw)
        if path == "train.py":
            res.dependencies = [str(helper), str(project / "not_there_yet.py")]
            if not helper.exists() or "GROWTH = True" not in helper.read_text():
                res.findings.append(Finding("KM501", "no-memory-growth", "m", path))
        return res

    monkeypatch.setattr(runner, "lint_bytes", depends_on_helper)

    def train_codes():
        return sorted(f.code for f in runner.run(["train.py"], ConfigResolver(), jobs=1).findings)

    assert train_codes() == ["KM201", "KM501"]
    assert train_codes() == ["KM201", "KM501"]  # cached
    helper.write_text("GROWTH = True\n")
    assert train_codes() == ["KM201"]
    counter = LintCounter(monkeypatch)
    assert train_codes() == ["KM201"]
    assert counter.paths == []
    (project / "not_there_yet.py").write_text("")  # a dependency that appears counts too
    assert train_codes() == ["KM201"]
    assert counter.paths == ["train.py"]
    helper.unlink()  # and one that disappears
    assert train_codes() == ["KM201", "KM501"]


def test_corrupt_entries_are_misses(project, monkeypatch):
    first = check()
    entries = [p for p in (project / CACHE_DIR_NAME).rglob("*.json")]
    assert len(entries) == 2
    garbage = [b"", b"{", b"\x00\xff", json.dumps({"content": 1}).encode(), json.dumps([1, 2]).encode()]
    for blob in garbage:
        for p in entries:
            p.write_bytes(blob)
        counter = LintCounter(monkeypatch)
        assert check() == first
        assert len(counter.paths) == 2
    assert check() == first


def test_no_cache_reads_and_writes_nothing(project):
    assert check(use_cache=False) != []
    assert not (project / CACHE_DIR_NAME).exists()
    r = run_cli("check", "--no-cache", ".", cwd=project)
    assert r.returncode == 1 and "KM201" in r.stdout
    assert not (project / CACHE_DIR_NAME).exists()


def test_cache_dir_config_key(project):
    (project / "pyproject.toml").write_text('[tool.kmlint]\ncache-dir = "build/lint-cache"\n')
    check()
    assert (project / "build" / "lint-cache" / "CACHEDIR.TAG").is_file()
    assert not (project / CACHE_DIR_NAME).exists()


def test_unwritable_cache_does_not_stop_linting(project):
    (project / CACHE_DIR_NAME).write_text("a file where the cache directory should be")
    assert [f["code"] for f in check()] == ["KM201"]


def test_concurrent_writers_and_readers_never_see_half_an_entry(tmp_path):
    cache = ResultCache(tmp_path / "c")
    results = [FileResult("a.py", [Finding("KM201", "n", "m" * 5000, "a.py", i)]) for i in range(1, 5)]
    seen_bad: list = []
    stop = threading.Event()

    def writer(res):
        for _ in range(60):
            cache.put("k" * 64, "digest", res)

    def reader():
        while not stop.is_set():
            got = cache.get("k" * 64, "digest")
            if got is not None and (len(got.findings) != 1 or got.findings[0].message != "m" * 5000):
                seen_bad.append(got)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(r,)) for r in results]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert seen_bad == []
    assert cache.get("k" * 64, "digest").findings[0].line in {1, 2, 3, 4}
    assert not [p for p in (tmp_path / "c").rglob(".tmp-*")]  # no temporary files left behind


def test_concurrent_cli_runs_agree(project):
    import subprocess
    import sys

    from tests.helpers import cli_env

    for i in range(30):
        (project / f"m{i}.py").write_text(BAD * (i % 3) + "y = 1\n")
    cmd = [sys.executable, "-m", "kmlint", "check", "--output-format", "json", "."]
    procs = [subprocess.Popen(cmd, cwd=project, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 1 for p in procs), [o[1] for o in outs]
    assert len({o[0] for o in outs}) == 1
    again = run_cli("check", "--output-format", "json", ".", cwd=project)
    assert again.stdout.encode() == outs[0][0]
    assert len(json.loads(again.stdout)) == 1 + sum(i % 3 for i in range(30))


def _age(path: Path, seconds: int = 3600) -> None:
    old = path.stat().st_mtime - seconds
    os.utime(path, (old, old))


def test_an_old_unchanged_file_is_not_read_on_a_warm_run(project, monkeypatch):
    """A file whose stat signature (mtime, ctime, size, inode) is the entry's
    is taken as unchanged: the warm run neither reads nor hashes it."""
    for name in ("train.py", "clean.py"):
        _age(project / name)
    time_ns = cache_mod.time.time_ns
    # ctime cannot be set back: let the clock run ahead instead (the rule asks for a 2 s old change)
    monkeypatch.setattr(cache_mod.time, "time_ns", lambda: time_ns() + 10 * cache_mod.RACY_NS)
    first = check()
    hashed: list = []
    real = runner.content_hash
    monkeypatch.setattr(runner, "content_hash", lambda data: hashed.append(data) or real(data))
    assert check() == first
    assert hashed == []


def test_a_fresh_file_is_always_hashed_and_a_rewrite_with_the_old_mtime_is_seen(project, monkeypatch):
    time_ns = cache_mod.time.time_ns
    monkeypatch.setattr(cache_mod.time, "time_ns", lambda: time_ns() + 10 * cache_mod.RACY_NS)
    train = project / "train.py"
    _age(train)
    mtime = train.stat().st_mtime_ns
    assert [f["code"] for f in check()] == ["KM201"]
    # same size, mtime set back to what it was: ctime still changes
    train.write_text(BAD.replace("fit_generator", "fit_generatoR"))
    os.utime(train, ns=(mtime, mtime))
    assert [f["code"] for f in check()] == []
    # a file changed just now (within RACY_NS) gets no signature: the next run hashes it
    monkeypatch.setattr(cache_mod.time, "time_ns", time_ns)
    train.write_text(BAD)
    assert cache_mod.stat_signature(train) is None
    assert [f["code"] for f in check()] == ["KM201"]


def test_a_checkout_that_only_touches_files_refreshes_their_signatures(project, monkeypatch):
    time_ns = cache_mod.time.time_ns
    monkeypatch.setattr(cache_mod.time, "time_ns", lambda: time_ns() + 10 * cache_mod.RACY_NS)
    first = check()
    for name in ("train.py", "clean.py"):
        _age(project / name, 7200)  # new signatures, same content
    counter = LintCounter(monkeypatch)
    assert check() == first  # hashed, found unchanged, entries given the new signatures
    assert counter.paths == []
    hashed: list = []
    real = runner.content_hash
    monkeypatch.setattr(runner, "content_hash", lambda data: hashed.append(data) or real(data))
    assert check() == first
    assert hashed == []
