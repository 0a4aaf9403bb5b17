"""Run manifests (``kmlint.engine.manifest``): a repeated ``kmlint check``
prints the previous run's report without loading the linter, byte for byte,
and never a stale one: every kind of change the report depends on makes a
normal run whose report is the truth (a ``--no-cache`` run's)."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmlint.engine import manifest
from tests.helpers import ROOT

# runs the real entry point and says on stderr whether click was ever imported
# (a replayed run imports neither click nor the engine)
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nIMPORTED-CLICK=%s\\n' % ('click' in sys.modules)))\n"
    "sys.argv[0] = 'kmlint'\n"
    "from kmlint.__main__ import main\n"
    "main()\n"
)

HELPER_GROWTH = ('import tensorflow as tf\n\n\ndef setup_gpu():\n    for g in tf.config.list_physical_devices("GPU"):\n'
                 '        tf.config.experimental.set_memory_growth(g, True)\n')
TRAIN = ('import tensorflow as tf\nfrom utils.gpu import setup_gpu\n\nsetup_gpu()\n'
         'strategy = tf.distribute.MirroredStrategy(["/gpu:0", "/gpu:1"])\nmodel.fit_generator(gen)\n')


def _write_project(root: Path) -> None:
    (root / "utils").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n\n[tool.kmlint]\n")
    (root / "utils" / "__init__.py").write_text("")
    (root / "utils" / "gpu.py").write_text(HELPER_GROWTH)
    (root / "app" / "train.py").write_text(TRAIN)
    (root / "clean.py").write_text("model.fit_xenerator(g)\n")
    (root / "café.py").write_text("preds = model.predict_generator(gen, steps=n // 32)\n")
    (root / "broken.py").write_text("def f(:\n")


CHANGES = {
    "edit": lambda r: (r / "clean.py").write_text("model.fit_generator(g)\n"),
    # the same size and the mtime set back: the ctime still moves
    "edit-same-size": lambda r: _same_size_edit(r / "clean.py", "model.fit_generator(g)\n"),
    "new-file": lambda r: (r / "app" / "new.py").write_text("model.evaluate_generator(g)\n"),
    "new-directory": lambda r: ((r / "extra").mkdir(), (r / "extra" / "x.py").write_text("m.fit_generator(g)\n")),
    "remove": lambda r: (r / "café.py").unlink(),
    "dependency": lambda r: (r / "utils" / "gpu.py").write_text("import tensorflow as tf\n\n\ndef setup_gpu():\n    pass\n"),
    "config": lambda r: (r / "pyproject.toml").write_text("[tool.kmlint]\nignore = ['KM201']\n"),
    "nested-config": lambda r: (r / "app" / "kmlint.toml").write_text("ignore = ['KM201']\n"),
    "gitignore": lambda r: (r / ".gitignore").write_text("app/\n"),
    "virtualenv": lambda r: (r / "app" / "pyvenv.cfg").write_text("home = /usr\n"),
    "file-becomes-directory": lambda r: ((r / "clean.py").unlink(), (r / "clean.py").mkdir(),
                                         (r / "clean.py" / "inner.py").write_text("m.fit_generator(g)\n")),
}


def _same_size_edit(path: Path, text: str) -> None:
    st = path.stat()
    assert len(text.encode()) == st.st_size
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Projects older than the racily-clean window (2 s): written once, then waited for."""
    base = tmp_path_factory.mktemp("manifest")
    names = ["formats", "options", "corrupt", "layout", "subdir", *CHANGES]
    for name in names:
        _write_project(base / name)
    time.sleep(manifest.RACY_NS / 1e9 + 0.2)
    return {name: base / name for name in names}


def kmlint(cwd: Path, *args: str, env: dict | None = None) -> tuple[int, bytes, bool]:
    """(exit code, stdout, whether the report was replayed)."""
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    e.update(env or {})
    p = subprocess.run([sys.executable, "-c", PROBE, "check", *args], cwd=cwd, capture_output=True, env=e,
                       timeout=120)
    assert b"IMPORTED-CLICK=" in p.stderr, p.stderr.decode(errors="replace")
    return p.returncode, p.stdout, b"IMPORTED-CLICK=False" in p.stderr


def truth(cwd: Path, *args: str) -> tuple[int, bytes]:
    code, out, replayed = kmlint(cwd, "--no-cache", *args)
    assert not replayed
    return code, out


def manifests(root: Path) -> list[Path]:
    runs = root / ".kmlint_cache" / "runs"
    return sorted(runs.glob("*.bin")) if runs.is_dir() else []


@pytest.mark.parametrize("args", [(), ("--output-format", "json"), ("--output-format", "full"),
                                  ("--output-format", "sarif"), ("--statistics",), ("--exit-zero", "-q")])
def test_a_repeated_check_replays_the_report_byte_for_byte(projects, args):
    root = projects["formats"]
    first = kmlint(root, *args)
    assert not first[2]
    second = kmlint(root, *args)
    assert second[2], "the second identical run should answer from its manifest"
    assert second[:2] == first[:2] == truth(root, *args)
    assert first[0] == (0 if "--exit-zero" in args else 1)
    if not args:
        text = first[1].decode()
        assert "KM201" in text and "café.py" in text and "KM901" in text  # findings, a unicode name, a parse error


def test_each_change_makes_a_normal_run_with_the_true_report(projects):
    for name, change in CHANGES.items():
        root = projects[name]
        before = kmlint(root)
        assert kmlint(root)[2], name
        change(root)
        code, out, replayed = kmlint(root)
        assert not replayed, f"{name}: a stale report was replayed"
        assert (code, out) == truth(root), name
        assert out != before[1], f"{name}: the change should change the report"


def test_the_command_line_and_environment_are_part_of_the_command(projects):
    root = projects["options"]
    kmlint(root)
    assert kmlint(root)[2]
    selected = kmlint(root, "--select", "KM901")
    assert not selected[2] and selected[:2] == truth(root, "--select", "KM901")
    assert kmlint(root, "--select", "KM901")[2]
    assert not kmlint(root, env={"KMLINT_NO_PREFILTER": "1"})[2]
    assert kmlint(root, "--select", "KM901")[2] and kmlint(root)[2]  # each command keeps its own manifest
    assert len(manifests(root)) == 3


def test_from_a_subdirectory_the_manifest_is_found_and_paths_stay_right(projects):
    root = projects["subdir"]
    sub = root / "app"
    first = kmlint(sub, ".")
    assert manifests(root)  # the project's cache, above the working directory
    second = kmlint(sub, ".")
    assert second[2] and second[:2] == first[:2] == truth(sub, ".")
    assert b"train.py:6:" in first[1] and b"app/" not in first[1]


def test_files_changed_just_before_the_run_leave_no_manifest(tmp_path):
    _write_project(tmp_path)
    code, out, replayed = kmlint(tmp_path)
    assert not replayed and code == 1
    assert manifests(tmp_path) == []  # changed less than 2 s before the run: not trusted


def test_runs_that_are_not_plain_reports_leave_no_manifest(projects, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(projects["layout"], root)
    time.sleep(manifest.RACY_NS / 1e9 + 0.2)  # copytree gave the files new ctimes
    for args in (["--no-cache"], ["--output-file", str(tmp_path / "report.txt")], ["--diff"],
                 ["--show-files"], ["--baseline", str(tmp_path / "missing.json")]):
        kmlint(root, *args)
        assert manifests(root) == [], args
    p = subprocess.run([sys.executable, "-c", PROBE, "check", "-"], cwd=root, input=b"m.fit_generator(g)\n",
                       capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert p.returncode == 1 and b"KM201" in p.stdout
    assert manifests(root) == []
    kmlint(root, "--fix")  # changes files: nothing recorded, and the next run sees the fixed files
    assert manifests(root) == []
    assert (kmlint(root)[:2]) == truth(root)


def test_a_corrupt_manifest_is_ignored_and_rewritten(projects):
    root = projects["corrupt"]
    first = kmlint(root)
    [path] = manifests(root)
    for garbage in (b"", b"\x00garbage", marshal.dumps({"format": manifest.FORMAT, "command": "other"}),
                    marshal.dumps([1, 2, 3])):
        path.write_bytes(garbage)
        again = kmlint(root)
        assert not again[2] and again[:2] == first[:2]
        assert kmlint(root)[2]  # rewritten by the run that ignored it


def test_the_manifest_records_what_the_report_depends_on(projects):
    root = projects["layout"]
    kmlint(root)
    [path] = manifests(root)
    data = marshal.loads(path.read_bytes())
    real = Path(os.path.realpath(root))
    states, listings = data["states"], data["listings"]
    assert os.path.join(manifest.PACKAGE, "cli.py") in states  # kmlint's own code
    assert os.path.join(manifest.PACKAGE, "knowledge") in str(sorted(states))  # and its data tables
    for f in ("app/train.py", "clean.py", "utils/gpu.py", "pyproject.toml"):
        assert isinstance(states[str(real / f)], list), f
    assert str(real / "app") in listings and "train.py" in listings[str(real / "app")]
    assert ".kmlint_cache" not in listings[str(real)]  # the run's own cache is no input
    assert "utils/" in listings[str(real)]
    # absences the listings already show are not recorded twice
    assert str(real / "app" / "pyproject.toml") not in states


def test_witness_notices_a_path_that_changed_during_the_run(tmp_path):
    w = manifest.Witness()
    f = tmp_path / "a.py"
    assert w.probe(f) is None
    f.write_text("x = 1\n")
    assert isinstance(w.probe(f), list)
    assert w.spoiled
