"""No fix that kmlint offers breaks the program it fixes: every fixable
dossier's fixed.py (exactly what `kmlint check --fix` makes of bad.py, see
test_dossier_fixes.py) runs to its end in the runtime sandbox with real
TensorFlow, with every `for` loop cut to 3 iterations so a dossier runs in
seconds.  Where fixed.py fails, bad.py runs too: when the example itself
cannot run here (a data file, a download, a module that is not installed),
the fixed program must fail the same way (same exception type), not in a
new one the fix brought in.

KM402's fix keeps the program's dtypes (issue 12: `tf.constant(step)` was
int32 where the function multiplies a float32 tensor by the step; it now
passes `tf.constant(step, tf.float32)` there, and offers no fix where the
dtype is unknown), so every dossier must run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

tf = pytest.importorskip("tensorflow")

from kmlint.docs import dossier_root  # noqa: E402
from kmlint.runtime.instrument import cap_loops  # noqa: E402
from kmlint.runtime.sandbox import Limits, run_child  # noqa: E402

DOSSIERS = sorted(p.parent for p in dossier_root().glob("KM*/fixed.py"))
KNOWN_BROKEN: dict[str, str] = {}
# Examples about hardware this machine may lack (code -> GPUs needed, why): without
# it they never end (both bad.py and fixed.py ran into the 240 s limit on CPU,
# eight minutes of CI).
NEEDS_GPUS = {"KM501": (2, "MirroredStrategy over '/gpu:0' and '/gpu:1' waits forever for an NCCL "
                           "all-reduce on a machine without those GPUs")}
GPUS = len(tf.config.list_physical_devices("GPU"))


def _code(dossier: Path) -> str:
    return dossier.name.split("-")[0]


def _runnable(dossier: Path) -> bool:
    return GPUS >= NEEDS_GPUS.get(_code(dossier), (0, ""))[0]


def _run(path: Path):
    code = cap_loops(path.read_text(encoding="utf-8"), 3)
    job = {"kind": "user", "file": str(path.resolve()), "code": code, "cap": 1000}
    return run_child(job, Limits(timeout_s=240), "cpu", str(path.parent))


@pytest.fixture(scope="module")
def outcomes(request):
    """fixed.py of every selected dossier (all of them, or those `-k` keeps); bad.py only
    where fixed.py failed (can the example run here at all?)."""
    selected = {item.callspec.params["dossier"] for item in request.session.items
                if getattr(item, "callspec", None) is not None and "dossier" in item.callspec.params} or set(DOSSIERS)
    chosen = [d for d in DOSSIERS if d in selected and _runnable(d)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        fixed = dict(zip(chosen, pool.map(lambda d: _run(d / "fixed.py"), chosen)))
        failed = [d for d, o in fixed.items() if o.status != "ok"]
        bad = dict(zip(failed, pool.map(lambda d: _run(d / "bad.py"), failed)))
    return {d: (bad.get(d), fixed[d]) for d in chosen}


def test_cap_loops_cuts_every_for_loop():
    code = cap_loops("for i in range(100):\n    for j in x:\n        pass\n", 3)
    assert code.count("islice") == 2 and "islice(range(100), 3)" in code


@pytest.mark.parametrize("dossier", [
    pytest.param(d, id=_code(d),
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BROKEN[_code(d)])]
                 if _code(d) in KNOWN_BROKEN else [])
    for d in DOSSIERS])
def test_fixed_dossier_runs_wherever_the_flagged_one_does(outcomes, dossier):
    if not _runnable(dossier):
        needed, why = NEEDS_GPUS[_code(dossier)]
        pytest.skip(f"{GPUS} GPU(s) here, {needed} needed: {why}")
    bad, fixed = outcomes[dossier]
    if fixed.status == "ok":
        return
    if bad.status != "ok":
        # the example needs what is not here: the fix must not fail differently
        assert fixed.status == bad.status and _kind(fixed.detail) == _kind(bad.detail), (
            f"bad.py: {bad.detail}\nfixed.py: {fixed.detail}")
        return
    assert fixed.status == "ok", f"the fix broke the program: {fixed.detail}\n{fixed.log_tail[-1500:]}"


def _kind(detail: str) -> str:
    """The exception type of a child's error ("FileNotFoundError: ... (line 7)" -> "FileNotFoundError")."""
    return detail.split(":", 1)[0]
