"""Runtime mode without TensorFlow: verdict arithmetic, instrumentation,
scenario parameters, option checks, and the sandbox containing user code that
bombs memory, hangs or crashes (plain Python children, a second each)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kmlint.runtime import instrument as ins
from kmlint.runtime.sandbox import Limits, run_child
from kmlint.runtime.specs import SPECS, scenario_file, scenario_params
from kmlint.runtime.verdict import (
    CONFIRMED, INCONCLUSIVE, KiB, MiB, NOT_CONFIRMED, Measurement, fit, peak_verdict, slope_verdict,
)
from tests.helpers import cli_env, run_cli

# ----------------------------------------------------------------- verdicts


def test_fit_recovers_a_linear_slope():
    slope, r2 = fit([1000 + 70 * KiB * i for i in range(20)])
    assert slope == pytest.approx(70 * KiB)
    assert r2 == pytest.approx(1.0)


def _slope(slope, r2=0.95, iterations=30):
    return Measurement("ok", True, slope=slope, r2=r2, iterations=iterations)


@pytest.mark.parametrize("slope,r2,iterations,expected", [
    (70 * KiB, 0.95, 30, CONFIRMED),
    (3 * KiB, 0.9, 30, NOT_CONFIRMED),
    (24 * KiB, 0.9, 30, INCONCLUSIVE),   # between the refute and confirm thresholds
    (70 * KiB, 0.1, 30, INCONCLUSIVE),   # a jump, not steady growth
    (70 * KiB, 0.95, 2, INCONCLUSIVE),   # too few iterations
])
def test_slope_verdict_thresholds(slope, r2, iterations, expected):
    assert slope_verdict(_slope(slope, r2, iterations)) == expected


def _peak(growth, data=None):
    return Measurement("ok", True, peak_growth=growth, data_bytes=data)


def test_peak_verdict_against_the_fixed_variant():
    assert peak_verdict(_peak(100 * MiB), _peak(25 * MiB)) == CONFIRMED
    assert peak_verdict(_peak(27 * MiB), _peak(25 * MiB)) == NOT_CONFIRMED
    assert peak_verdict(_peak(40 * MiB), _peak(30 * MiB)) == INCONCLUSIVE  # +10 MiB but only 1.33x
    # a rule whose arithmetic bounds the ratio (KM302: float32 instead of float64 input) sets its own
    assert SPECS["KM302"].confirm_ratio == 1.3
    assert peak_verdict(_peak(126 * MiB), _peak(88 * MiB), SPECS["KM302"].confirm_ratio) == CONFIRMED  # CI, 1.43x
    assert peak_verdict(_peak(126 * MiB), _peak(88 * MiB)) == INCONCLUSIVE
    assert peak_verdict(_peak(90 * MiB), _peak(88 * MiB), SPECS["KM302"].confirm_ratio) == NOT_CONFIRMED


def test_peak_verdict_against_the_data_size_without_fixed_variant():
    assert peak_verdict(_peak(96 * MiB, data=32 * MiB), None) == CONFIRMED
    assert peak_verdict(_peak(4 * MiB, data=32 * MiB), None) == NOT_CONFIRMED
    assert peak_verdict(_peak(96 * MiB), None) == INCONCLUSIVE


def test_failed_runs_give_failure_verdicts():
    assert slope_verdict(Measurement("timeout")) == "timeout"
    assert slope_verdict(Measurement("crashed")) == "error"
    assert peak_verdict(Measurement("memory"), None) == "error"
    assert slope_verdict(Measurement("not reached")) == "not reached"


# ----------------------------------------------------------------- instrumentation

CODE = textwrap.dedent('''\
    import numpy as np
    import tensorflow as tf

    def score(model, x):
        return model.predict(x)

    results = []
    for chunk in chunks:
        results.append(score(model, chunk))
    squares = [model.predict(c) for c in chunks]
    ds = tf.data.Dataset.range(8).map(decode).cache().batch(2)
    raw = np.zeros((10, 10))
    small = raw[:2]
    model.fit(small)
''')


def test_loop_region_reaches_the_loop_around_a_helper_call():
    region = ins.find_region(CODE, "loop", 5, 12)
    assert region.anchor_line == 8
    out = ins.instrument(CODE, region)
    assert "    __kmlint_probe__.tick()\n    results.append" in out
    assert "results.append(score(model, chunk))\n__kmlint_probe__.loop_exit()" in out
    compile(out, "x.py", "exec")


def test_loop_region_in_a_comprehension_ticks_each_element():
    region = ins.find_region(CODE, "loop", 10, 12)
    out = ins.instrument(CODE, region)
    assert "[(__kmlint_probe__.tick(), model.predict(c))[1] for c in chunks]" in out
    compile(out, "x.py", "exec")


def test_drain_region_and_its_reference_without_the_flagged_step():
    region = ins.find_region(CODE, "drain", 11, 39, "cache")
    flagged = ins.instrument(CODE, region)
    reference = ins.instrument(CODE, region, reference=True)
    assert "__kmlint_probe__.drain(lambda: tf.data.Dataset.range(8).map(decode).cache())" in flagged
    assert "__kmlint_probe__.drain(lambda: tf.data.Dataset.range(8).map(decode))" in reference


def test_checkpoint_goes_before_the_heavy_work():
    region = ins.find_region(CODE, "checkpoint", 12, 1)
    # the flagged object is handed over (None once a fix deleted it): a tensor is judged on tensor bytes
    assert region.held_name == "raw"
    assert ins.instrument(CODE, region).endswith(
        "small = raw[:2]\n__kmlint_probe__.checkpoint(globals().get('raw'))\nmodel.fit(small)\n")


def test_no_loop_is_not_instrumentable():
    with pytest.raises(ins.NotInstrumentable):
        ins.find_region("x = model.predict(a)\n", "loop", 1, 5)


def test_map_line_follows_inserted_lines():
    old = "a = 1\nb = 2\nc = 3\n"
    new = "a = 1\ndel a\nb = 2\nc = 3\n"
    assert ins.map_line(old, new, 3) == 4
    assert ins.map_line(old, "a = 1\nb = 20\nc = 3\n", 2) == 2


def test_scenario_parameters_come_from_literals_and_are_clamped():
    code = "ds = ds.batch(64).prefetch(100000)\n"
    params, notes = scenario_params(SPECS["KM105"], code, 1, 6, 30)
    assert params == {"iterations": 30, "buffer": 256, "batch_size": 64}
    assert any("scaled" in n for n in notes)


def test_every_confirmable_rule_has_a_spec_and_a_scenario():
    from kmlint.registry import all_rules

    confirmable = {r.code for r in all_rules() if r.confirmable}
    assert confirmable <= set(SPECS)
    for code in SPECS:
        assert scenario_file(code) is not None, code


# ----------------------------------------------------------------- sandbox (no TensorFlow)


def _user_job(tmp_path, body: str) -> dict:
    path = tmp_path / "user.py"
    code = "import os, ctypes\nchunks = []\nfor i in range(100):\n" + textwrap.indent(body, "    ") + "\n"
    region = ins.find_region(code, "loop", 4, 5)
    path.write_text(code)
    return {"kind": "user", "file": str(path), "code": ins.instrument(code, region), "cap": 30}


def test_cpu_children_use_the_allocator_that_keeps_statistics(monkeypatch):
    # Without BFC, TF 2.21's CPU allocator raises "Allocator stats not available"
    # on some hosts, and tensor rules silently fell back to RSS (CI, stop 18).
    from kmlint.runtime.sandbox import child_env
    monkeypatch.delenv("TF_CPU_ALLOCATOR_USE_BFC", raising=False)
    for device in ("cpu", "auto", "gpu"):  # "auto" (the default) runs on the CPU where there is no GPU
        assert child_env(device)["TF_CPU_ALLOCATOR_USE_BFC"] == "true"
    monkeypatch.setenv("TF_CPU_ALLOCATOR_USE_BFC", "false")  # a user's explicit choice stands
    assert child_env("cpu")["TF_CPU_ALLOCATOR_USE_BFC"] == "false"


def test_memory_bomb_is_killed_by_the_watchdog(tmp_path):
    job = _user_job(tmp_path, "chunks.append(b'x' * (64 << 20))")
    out = run_child(job, Limits(timeout_s=60, rss_bytes=300 << 20, data_slack_bytes=8 << 30), "cpu", str(tmp_path))
    assert out.status == "memory", (out.status, out.detail)
    assert "watchdog" in out.detail
    assert out.reached and len(out.of("sample")) >= 2  # the samples taken before the kill survive


def test_memory_bomb_hits_the_data_limit(tmp_path):
    job = _user_job(tmp_path, "chunks.append(bytearray(4 << 30))")
    out = run_child(job, Limits(timeout_s=60, rss_bytes=256 << 20, data_slack_bytes=256 << 20), "cpu", str(tmp_path))
    assert out.status == "memory" and "RLIMIT_DATA" in out.detail, out.detail


def test_infinite_loop_times_out(tmp_path):
    job = _user_job(tmp_path, "while True:\n    pass")
    out = run_child(job, Limits(timeout_s=3), "cpu", str(tmp_path))
    assert out.status == "timeout" and "timed out" in out.detail


@pytest.mark.parametrize("crash,signal_name", [("os.abort()", "SIGABRT"), ("ctypes.string_at(0)", "SIGSEGV")])
def test_hard_crash_is_reported(tmp_path, crash, signal_name):
    out = run_child(_user_job(tmp_path, crash), Limits(timeout_s=60), "cpu", str(tmp_path))
    assert out.status == "crashed" and signal_name in out.detail, out.detail


def test_user_exception_names_the_line(tmp_path):
    out = run_child(_user_job(tmp_path, "open('missing.csv')"), Limits(timeout_s=60), "cpu", str(tmp_path))
    assert out.status == "error"
    assert "FileNotFoundError" in out.detail and "line 5" in out.detail


# ----------------------------------------------------------------- command line


def test_runtime_options_need_the_flag(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    res = run_cli("check", "--runtime-iterations", "10", str(tmp_path))
    assert res.returncode == 2 and "--runtime-iterations needs --runtime" in res.stderr


def test_runtime_never_runs_under_pre_commit(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    env = cli_env()
    env["PRE_COMMIT"] = "1"
    res = run_cli("check", "--runtime", str(tmp_path), env=env)
    assert res.returncode == 2 and "pre-commit" in res.stderr


def test_runtime_package_does_not_import_tensorflow():
    code = ("import sys, kmlint.cli, kmlint.runtime.confirm, kmlint.runtime.report, kmlint.runtime.instrument\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env=cli_env())


def test_sarif_results_carry_the_runtime_object():
    import json

    from kmlint.findings import Finding
    from kmlint.output.sarif import render_sarif

    runtime = {"verdict": "confirmed", "ran": "your code", "flagged": {"slope": 60000.0}}
    finding = Finding("KM203", "predict-in-loop", "m", "a.py", 3, 1, 3, 9, extra={"runtime": runtime})
    [result] = json.loads(render_sarif([finding], {"source": lambda path: "x = 1\n" * 5}))["runs"][0]["results"]
    assert result["properties"]["runtime"] == runtime


# ----------------------------------------------------------------- metrics

def _outcome(samples, extra=()):
    from kmlint.runtime.sandbox import RunOutcome

    events = [{"e": "start", "ran": "scenario"}, {"e": "device", "device": "CPU:0"}, {"e": "region"}, *extra]
    events += [dict(s, e="sample") for s in samples]
    return RunOutcome("ok", events + [{"e": "end"}])


def test_tensor_rules_are_judged_on_allocator_bytes_with_rss_beside():
    from kmlint.runtime.verdict import choose_metric, summarise

    # tensors kept per step: the allocator grows 256 KiB a step, RSS barely moves (pages are reused)
    samples = [{"phase": "loop", "rss_anon": 500 * MiB + i * KiB, "tf_current": i * 256 * KiB} for i in range(20)]
    outcome = _outcome(samples)
    assert choose_metric(outcome, "host") == ("rss_anon", None)
    metric, why = choose_metric(outcome, "tensor")
    assert metric == "tf_current" and why is None
    m = summarise(outcome, "slope", metric=metric)
    assert m.slope == pytest.approx(256 * KiB) and slope_verdict(m) == CONFIRMED
    assert m.beside["metric"] == "rss_anon" and m.beside["slope"] == pytest.approx(KiB)
    assert m.to_json()["metric_label"] == "TensorFlow tensor bytes"


def test_a_numpy_array_held_is_judged_on_process_memory():
    from kmlint.runtime.verdict import choose_metric

    held = [{"e": "held", "tensor": False, "type": "ndarray", "nbytes": 8 * MiB}]
    metric, why = choose_metric(_outcome([{"phase": "end", "rss_anon": MiB, "tf_current": 0}], held), "tensor")
    assert metric == "rss_anon" and "ndarray" in why


def test_an_allocator_that_reports_nothing_falls_back_to_process_memory():
    from kmlint.runtime.verdict import choose_metric

    metric, why = choose_metric(_outcome([{"phase": "loop", "rss_anon": MiB}]), "tensor")
    assert metric == "rss_anon" and "no statistics" in why


def test_allocator_peak_counts_from_zero_before_tensorflow_was_imported():
    from kmlint.runtime.verdict import summarise

    # KM301 in your code: the start event is taken before TensorFlow exists
    from kmlint.runtime.sandbox import RunOutcome

    events = [{"e": "start", "ran": "your code", "rss_anon": 100 * MiB}, {"e": "region"},
              {"e": "sample", "phase": "end", "rss_anon": 1400 * MiB, "tf_current": 324_000_000}, {"e": "end"}]
    m = summarise(RunOutcome("ok", events), "peak", "held", "tf_current")
    assert m.held_growth == 324_000_000 and m.beside["held_growth"] == 1300 * MiB


def test_fixed_variant_from_text_edits_of_engine_v2_rules():
    from kmlint.findings import Edit, Fix, Finding
    from kmlint.runtime.confirm import Source, _autofix

    code = "import tensorflow as tf\nfor step in range(9):\n    f(x, step)\n"
    fix = Fix("unsafe", "pass a tensor", [Edit("tf.constant(step, tf.float32)", 3, 10, 3, 14)])
    finding = Finding("KM402", "retracing", "m", "a.py", 3, 5, fix=fix)
    fixed = _autofix(finding, Source(path=None, code=code))
    assert fixed == "import tensorflow as tf\nfor step in range(9):\n    f(x, tf.constant(step, tf.float32))\n"
    insert = Fix("unsafe", "del", [Edit("del x\n", 3, 1, 3, 1)])
    assert _autofix(Finding("KM301", "n", "m", "a.py", 1, fix=insert), Source(None, "a = 1\nb = 2\n")) == \
        "a = 1\nb = 2\ndel x\n"
