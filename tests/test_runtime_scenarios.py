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
from kmlint.runtime.verdict import CONFIRMED, NOT_CONFIRMED, peak_verdict, slope_verdict, summarise

CODES = sorted(SPECS)
ITERATIONS = 20


def _job(code: str, variant: str) -> dict:
    return {"kind": "scenario", "file": str(scenario_file(code)), "variant": variant, "params": {},
            "cap": ITERATIONS}


@pytest.fixture(scope="module")
def measured():
    runs = [(code, variant) for code in CODES
            for variant in (("bad", "fixed", "fixed-again") if SPECS[code].kind == "peak" else ("bad", "fixed"))]

    def measure(run):
        code, variant = run
        outcome = run_child(_job(code, variant.split("-")[0]), Limits(timeout_s=240), "cpu")
        return run, summarise(outcome, SPECS[code].kind), outcome.log_tail

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(measure, runs))
    return {run: (m, log) for run, m, log in results}


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
        assert peak_verdict(bad, fixed) == CONFIRMED, (bad.peak_growth, fixed.peak_growth)


@pytest.mark.parametrize("code", CODES)
def test_fixed_scenario_is_not_confirmed(measured, code):
    fixed = _ok(measured, code, "fixed")
    if SPECS[code].kind == "slope":
        assert slope_verdict(fixed) == NOT_CONFIRMED, (fixed.slope, fixed.r2)
    else:
        again = _ok(measured, code, "fixed-again")
        assert peak_verdict(again, fixed) == NOT_CONFIRMED, (again.peak_growth, fixed.peak_growth)
