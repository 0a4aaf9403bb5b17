"""Every runtime-confirmable rule's scenario, measured with real TensorFlow on the
CPU: the bad variant is confirmed, the fixed variant is not.

Slope rules judge each variant on its own.  Peak rules compare the bad
variant's peak with the fixed one's; the fixed variant is refuted by measuring
it a second time against its own first run (run-to-run noise must not read
as a finding).  All runs are sandboxed children, two at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kmlint.runtime.sandbox import Limits, run_child
from kmlint.runtime.specs import SPECS, scenario_file
from kmlint.runtime.verdict import (
    CONFIRMED, ERROR, NOT_CONFIRMED, PEAK_CONFIRM_BYTES, PEAK_REFUTE_BYTES, SLOPE_CONFIRM, SLOPE_REFUTE,
    choose_metric, peak_ratio, peak_verdict, slope_verdict, summarise,
)

CODES = sorted(SPECS)
ITERATIONS = 20


def _variants(code: str) -> tuple[str, ...]:
    """Peak rules measure the fixed variant twice: against itself it must not be confirmed."""
    return ("bad", "fixed", "fixed-again") if SPECS[code].kind == "peak" else ("bad", "fixed")


def _job(code: str, variant: str) -> dict:
    return {"kind": "scenario", "file": str(scenario_file(code)), "variant": variant, "params": {},
            "cap": ITERATIONS}


@pytest.fixture(scope="module")
def measured():
    runs = [(code, variant) for code in CODES for variant in _variants(code)]
    runs += [(code, variant) for code, variants in EXTRA.items() for variant in variants]

    def measure(run):
        code, variant = run
        outcome = run_child(_job(code, variant.split("-")[0]), Limits(timeout_s=300), "cpu")
        metric, _ = choose_metric(outcome, SPECS[code].metric)
        return run, summarise(outcome, SPECS[code].kind, metric=metric), outcome.log_tail

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(measure, runs))
    measured = {run: (m, log) for run, m, log in results}
    _print_margins(measured)
    return measured


#: variants measured besides bad/fixed: advice that does not work, and a fix that breaks the program
EXTRA = {"KM204": ("clear_session",),
         "KM402": ("bad_scaled", "autofix_scaled", "fixed_scaled", "reduce_retracing_scaled")}


def _print_margins(measured) -> None:
    import os

    lines = []
    for code in CODES:
        # a failed run is reported here and fails its tests (``_ok``): the margins must not hide it
        runs = {v: measured[(code, v)][0] for v in _variants(code)}
        failed = [f"{v} {m.status}: {m.detail[:120]}" if m.status != "ok" else f"{v}: no value measured"
                  for v, m in runs.items()
                  if m.status != "ok" or (m.slope if SPECS[code].kind == "slope" else m.growth) is None]
        if failed:
            lines.append(f"{code}: " + "; ".join(failed))
            continue
        bad, fixed = runs["bad"], runs["fixed"]
        if SPECS[code].kind == "slope":
            lines.append(f"{code} [{bad.metric}]: bad {bad.slope / 1024:.1f} KiB/iter (r2 {bad.r2:.2f}, "
                         f"{bad.slope / SLOPE_CONFIRM:.1f}x the confirm threshold), fixed {fixed.slope / 1024:.1f} "
                         f"KiB/iter ({(SLOPE_REFUTE - fixed.slope) / 1024:+.1f} KiB/iter under the refute threshold)")
        else:
            again = runs["fixed-again"]
            excess = bad.growth - fixed.growth
            lines.append(f"{code} [{bad.metric}]: bad {bad.growth / 2**20:.1f} MiB, fixed {fixed.growth / 2**20:.1f} MiB: "
                         f"excess {excess / 2**20:.1f} MiB ({excess / PEAK_CONFIRM_BYTES:.1f}x the 8 MiB needed), "
                         f"ratio {peak_ratio(bad, fixed):.1f}x; fixed twice: "
                         f"{abs(again.growth - fixed.growth) / 2**20:.1f} MiB apart (refuted under "
                         f"{PEAK_REFUTE_BYTES / 2**20:.0f} MiB)")
    for code, variants in EXTRA.items():
        for variant in variants:
            m = measured[(code, variant)][0]
            lines.append(f"{code} {variant} [{m.metric}]: " + (
                f"{m.slope / 1024:.1f} KiB/iter" if m.status == "ok" and m.slope is not None
                else f"{m.status}: {m.detail[:120] or 'no value measured'}"))
    text = "\n".join(lines)
    print("\nscenario margins:\n" + text)
    if os.environ.get("KMLINT_MARGINS"):
        with open(os.environ["KMLINT_MARGINS"], "w", encoding="utf-8") as f:
            f.write(text + "\n")


def _ok(measured, code, variant):
    m, log = measured[(code, variant)]
    assert m.status == "ok", f"{code} {variant}: {m.status} {m.detail}\n{log}"
    return m


@pytest.mark.parametrize("code", CODES)
def test_bad_scenario_is_confirmed(measured, code):
    bad = _ok(measured, code, "bad")
    if SPECS[code].kind == "slope":
        assert slope_verdict(bad) == CONFIRMED, (bad.slope, bad.r2)
    else:
        fixed = _ok(measured, code, "fixed")
        assert peak_verdict(bad, fixed, SPECS[code].confirm_ratio) == CONFIRMED, (bad.peak_growth, fixed.peak_growth)


@pytest.mark.parametrize("code", CODES)
def test_fixed_scenario_is_not_confirmed(measured, code):
    fixed = _ok(measured, code, "fixed")
    if SPECS[code].kind == "slope":
        assert slope_verdict(fixed) == NOT_CONFIRMED, (fixed.slope, fixed.r2)
    else:
        again = _ok(measured, code, "fixed-again")
        assert peak_verdict(again, fixed, SPECS[code].confirm_ratio) == NOT_CONFIRMED, (again.peak_growth, fixed.peak_growth)


@pytest.mark.parametrize("code", CODES)
def test_tensor_rules_are_judged_on_tensor_bytes(measured, code):
    bad = _ok(measured, code, "bad")
    assert bad.metric == ("tf_current" if SPECS[code].metric == "tensor" else "rss_anon")
    if SPECS[code].metric == "tensor":
        assert bad.beside.get("metric") == "rss_anon", "process memory is reported beside tensor bytes"


def test_km204_clear_session_does_not_stop_the_growth_of_trials_that_train(measured):
    cleared = _ok(measured, "KM204", "clear_session")
    assert slope_verdict(cleared) == CONFIRMED, cleared.slope
    assert slope_verdict(_ok(measured, "KM204", "fixed")) == NOT_CONFIRMED


def test_km402_autofix_breaks_a_float_step_and_a_float32_constant_does_not(measured):
    assert slope_verdict(_ok(measured, "KM402", "bad_scaled")) == CONFIRMED
    broken, _ = measured[("KM402", "autofix_scaled")]
    assert slope_verdict(broken) == ERROR and "TypeError" in broken.detail and "int32" in broken.detail
    assert slope_verdict(_ok(measured, "KM402", "fixed_scaled")) == NOT_CONFIRMED
    # reduce_retracing=True keeps the Python int: it does not stop the retracing
    assert slope_verdict(_ok(measured, "KM402", "reduce_retracing_scaled")) == CONFIRMED
