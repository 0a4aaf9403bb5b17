"""The process pool: same results in the same order as a sequential run, a
worker that dies costs one file, and a handful of files never start a pool."""

from __future__ import annotations

import json
import os

import pytest

from kmlint.config import ConfigResolver
from kmlint.engine import runner
from tests.helpers import run_cli


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for d in ("a", "b/c", "d"):
        (tmp_path / d).mkdir(parents=True)
    for i in range(24):
        body = "model.fit_generator(gen)\n" * (i % 4) + "model.predict_generator(g)\n" * (i % 2) + f"v = {i}\n"
        (tmp_path / ("a", "b/c", "d")[i % 3] / f"m{i:02}.py").write_text(body)
    return tmp_path


def _summary(res):
    return [f.to_json() for f in res.findings], [r.path for r in res.results]


_RUN_CHUNK = runner._run_chunk


def _several_per_chunk(chunk):
    """Runs in the (forked) worker: a failed assertion comes back through the future."""
    assert 1 < len(chunk) <= runner.CHUNK_FILES, [t.display for t in chunk]
    return _RUN_CHUNK(chunk)


@pytest.fixture(params=["one file per submission", "chunks of several files"])
def chunked(request, monkeypatch):
    if request.param == "chunks of several files":
        # 24 files // (2 workers * 1 * 4) = 3 per chunk (6 with -j 1)
        monkeypatch.setattr(runner, "TASKS_PER_WORKER", 1)
        monkeypatch.setattr(runner, "_run_chunk", _several_per_chunk)
    return request.param


def test_pool_gives_the_sequential_results_in_the_same_order(tree, chunked):
    sequential = runner.run(["."], ConfigResolver(), use_cache=False, jobs=1)
    parallel = runner.run(["."], ConfigResolver(), use_cache=False, jobs=2)
    assert _summary(parallel) == _summary(sequential)
    assert len(sequential.findings) == sum(i % 4 + i % 2 for i in range(24))
    assert [r.path for r in parallel.results] == sorted(r.path for r in parallel.results)


def test_dead_worker_costs_one_file(tree, monkeypatch, chunked):
    """A worker killed below Python (out-of-memory kill, native crash) is
    detected; the culprit is found and reported, every other file is linted."""
    original = runner.lint_bytes
    parent = os.getpid()

    def dies_on_m05(data, path, settings, **kw):
        if path.endswith("m05.py"):
            assert os.getpid() != parent, "the pool was not used"
            os._exit(9)
        return original(data, path, settings, **kw)

    monkeypatch.setattr(runner, "lint_bytes", dies_on_m05)  # inherited by forked workers
    res = runner.run(["."], ConfigResolver(), use_cache=False, jobs=2)
    assert res.internal_errors == 1
    crashed = [f for f in res.findings if f.code == "KM000"]
    assert [f.path for f in crashed] == ["d/m05.py"]
    assert "worker process died" in crashed[0].message
    assert len(res.results) == 24
    assert len([f for f in res.findings if f.code == "KM201"]) == sum(i % 4 + i % 2 for i in range(24) if i != 5)


def test_a_handful_of_files_does_not_start_a_pool(tree, monkeypatch):
    def no_pool(*a, **kw):
        raise AssertionError("pool started")

    monkeypatch.setattr(runner, "_pool", no_pool)
    res = runner.run(["a/m00.py", "a/m03.py", "d/m02.py"], ConfigResolver(), use_cache=False, jobs=2)
    assert len(res.results) == 3


def test_jobs_option_and_config_key(tree):
    outs = []
    for args in (["-j", "1"], ["--jobs", "2"], ["--jobs", "0"], []):
        r = run_cli("check", "--no-cache", "--output-format", "json", *args, ".", cwd=tree)
        assert r.returncode == 1, r.stderr
        outs.append(json.loads(r.stdout))
    assert all(o == outs[0] for o in outs)
    (tree / "pyproject.toml").write_text("[tool.kmlint]\njobs = 2\n")
    r = run_cli("check", "--no-cache", "--output-format", "json", ".", cwd=tree)
    assert json.loads(r.stdout) == outs[0]
    r = run_cli("check", "--jobs", "-1", ".", cwd=tree)
    assert r.returncode == 2
