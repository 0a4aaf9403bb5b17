"""GPU check of runtime mode: needs nothing but this project and a GPU.

Runs every runtime-confirmable rule's scenario (bad and fixed variant, and
the fixed one twice for peak rules) on each installed Keras backend the
scenario supports (TensorFlow, JAX, PyTorch), with ``--device gpu``, in
the same sandboxed children ``kmlint check --runtime`` uses, and prints the
verdict table: the metric each verdict used (the backend's allocator bytes
on a GPU), bad against fixed, and the device memory NVML saw grow.  A first
row checks the probe itself: a 1 GiB allocation must show in NVML and in
the allocator.

    python benchmarks/gpu_check.py                      # everything installed, on the GPU
    python benchmarks/gpu_check.py --backends jax,torch --codes KM203,KM204
    python benchmarks/gpu_check.py --device cpu         # the same table on the CPU (no GPU needed)
    python benchmarks/gpu_check.py --json out.json

Exit status 0 when every run completed (whatever the verdicts: a pattern that
does not grow on a backend is a result, e.g. KM203 on JAX), 1 when a run
failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kmlint.runtime.backends import BACKENDS, installed, scenario_backends  # noqa: E402
from kmlint.runtime.report import fix_effect, human_bytes  # noqa: E402
from kmlint.runtime.sandbox import Limits, run_child  # noqa: E402
from kmlint.runtime.specs import SPECS, scenario_file  # noqa: E402
from kmlint.runtime.verdict import (  # noqa: E402
    CONFIRMED, NOT_CONFIRMED, choose_metric, metric_label, peak_verdict, slope_verdict, summarise,
)

PROBE_CHECK = {
    "tensorflow": "import tensorflow as tf\nx = tf.ones((256, 1024, 1024), tf.float32)\n",
    "jax": "import jax.numpy as jnp\nx = jnp.ones((256, 1024, 1024), jnp.float32).block_until_ready()\n",
    "torch": "import torch\nx = torch.ones((256, 1024, 1024), dtype=torch.float32, device='cuda' if torch.cuda.is_available() else 'cpu')\n",
}


def _device_growth(m) -> str:
    values = m.series.get("gpu_used")
    if not values:
        return "-"
    return human_bytes(max(values) - values[0])


def _amount(kind: str, m) -> str:
    if m is None:
        return "-"
    if m.status != "ok":
        return m.status
    if kind == "slope":
        return f"{human_bytes(m.slope)}/iter" if m.slope is not None else "-"
    return f"peak {human_bytes(m.growth)}" if m.growth is not None else "-"


def probe_check(backend: str, device: str, timeout: float) -> dict:
    """A 1 GiB allocation inside a measured region: what NVML and the allocator saw."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alloc.py"
        code = PROBE_CHECK[backend] + "__kmlint_probe__.checkpoint(x)\nx.sum()\n"
        path.write_text(code)
        outcome = run_child({"kind": "user", "file": str(path), "code": code, "cap": 10, "backend": backend},
                            Limits(timeout_s=timeout, rss_bytes=8 << 30), device, tmp)
    metric, _ = choose_metric(outcome, "tensor")
    m = summarise(outcome, "peak", "held", metric)
    return {"backend": backend, "status": m.status, "detail": m.detail, "device": m.device, "metric": metric,
            "held": m.held_growth, "device_memory": _device_growth(m), "rss_beside": m.beside.get("held_growth")}


def run_rule(code: str, backend: str, device: str, iterations: int, timeout: float) -> dict:
    spec = SPECS[code]
    file = scenario_file(code)
    variants = ("bad", "fixed", "fixed") if spec.kind == "peak" else ("bad", "fixed")

    def one(variant):
        job = {"kind": "scenario", "file": str(file), "variant": variant, "params": {"iterations": iterations},
               "cap": iterations, "backend": backend}
        return run_child(job, Limits(timeout_s=timeout, rss_bytes=16 << 30), device)

    start = time.monotonic()
    outcomes = [one(v) for v in variants]
    metric, why = choose_metric(outcomes[0], spec.metric)
    ms = [summarise(o, spec.kind, "peak", metric) for o in outcomes]
    bad, fixed = ms[0], ms[1]
    if spec.kind == "slope":
        verdict, fixed_verdict = slope_verdict(bad), slope_verdict(fixed)
    else:
        verdict = peak_verdict(bad, fixed, spec.confirm_ratio)
        fixed_verdict = peak_verdict(ms[2], fixed, spec.confirm_ratio)
    rt = {"verdict": verdict, "kind": spec.kind, "ran": "scenario",
          "flagged": {"status": bad.status, "slope": bad.slope, "peak_growth": bad.peak_growth},
          "fixed": {"status": fixed.status, "slope": fixed.slope, "peak_growth": fixed.peak_growth,
                    "verdict": fixed_verdict}}
    return {"rule": code, "backend": backend, "device": bad.device, "metric": metric_label(metric),
            "bad": _amount(spec.kind, bad), "fixed": _amount(spec.kind, fixed), "verdict": verdict,
            "fixed_verdict": fixed_verdict, "effect": fix_effect(rt),
            "device_memory_bad": _device_growth(bad), "device_memory_fixed": _device_growth(fixed),
            "ok": verdict == CONFIRMED and fixed_verdict == NOT_CONFIRMED,
            "errors": [m.detail[:300] for m in ms if m.status != "ok"], "note": why or "",
            "wall_s": round(time.monotonic() - start, 1)}


def table(rows: list[dict], columns: list[str]) -> str:
    cells = [columns] + [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--codes", default=",".join(sorted(SPECS)))
    parser.add_argument("--device", default="gpu", choices=["gpu", "auto", "cpu"])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--jobs", type=int, default=1, help="scenarios run in parallel (1 keeps device numbers clean)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    backends = [b for b in args.backends.split(",") if b]
    missing = [b for b in backends if not installed(b)]
    backends = [b for b in backends if installed(b)]
    print(f"backends installed: {', '.join(backends) or 'none'}" + (f"; not installed: {', '.join(missing)}" if missing else ""))
    if not backends:
        return 1
    probes = [probe_check(b, args.device, args.timeout) for b in backends]
    print("\nProbe check (a 1 GiB tensor held):")
    print(textwrap.indent(table([dict(p, held=human_bytes(p["held"]), rss_beside=human_bytes(p["rss_beside"]))
                                 for p in probes],
                                ["backend", "status", "device", "metric", "held", "device_memory", "rss_beside"]), "  "))
    jobs = [(code, b) for code in args.codes.split(",") if code in SPECS for b in backends
            if b in scenario_backends(scenario_file(code))]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(lambda j: run_rule(j[0], j[1], args.device, args.iterations, args.timeout), jobs))
    print("\nScenarios (bad vs fixed):")
    print(textwrap.indent(table(rows, ["rule", "backend", "device", "metric", "bad", "fixed", "verdict", "effect",
                                       "device_memory_bad", "device_memory_fixed", "wall_s"]), "  "))
    for r in rows:
        for e in r["errors"]:
            print(f"  {r['rule']} {r['backend']}: {e}")
        if r["note"]:
            print(f"  {r['rule']} {r['backend']}: {r['note']}")
    if args.json:
        args.json.write_text(json.dumps({"probes": probes, "rows": rows}, indent=2))
    return 0 if not any(r["errors"] for r in rows) and all(p["status"] == "ok" for p in probes) else 1


if __name__ == "__main__":
    sys.exit(main())
