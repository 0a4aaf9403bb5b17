"""From measured series to verdicts.  The thresholds are documented in README.md
("Runtime mode"); change them there too.

Metric (``choose_metric``): tensor-holding rules (``Spec.metric == "tensor"``:
KM106, KM301, KM303) are judged on the framework allocator's bytes of live
tensors (TensorFlow's ``get_memory_info`` on the CPU and the GPU), with the
process's memory reported beside it; the other rules on the process's
anonymous resident memory (``RssAnon``), or on the allocator's bytes when the
run used a GPU.  ``mallinfo2`` in-use bytes are kept too.  Every verdict
names its metric.

* slope rules: least-squares slope of the metric over the loop iterations
  (the first fifth of the iterations, at least one, is warm-up and skipped):
  ``confirmed`` when the slope is at least ``SLOPE_CONFIRM`` bytes/iteration
  and the growth is steady (R² >= ``R2_MIN``); ``not confirmed`` below
  ``SLOPE_REFUTE``; ``inconclusive`` in between, on unsteady growth, or with
  fewer than ``MIN_ITERATIONS`` measured iterations.
* peak rules: the region's peak growth over its baseline, flagged variant
  against the fixed variant: ``confirmed`` when the flagged peak exceeds the
  fixed one by ``PEAK_CONFIRM_BYTES`` and by ``PEAK_CONFIRM_RATIO`` times;
  ``not confirmed`` when the excess is below ``PEAK_REFUTE_BYTES`` or the
  ratio below ``PEAK_REFUTE_RATIO``; ``inconclusive`` in between.  Without a
  fixed variant (KM106 in the user's code) the excess is compared with the
  byte size of the flagged array: ``confirmed`` from ``DATA_CONFIRM`` times
  its size, ``not confirmed`` under ``DATA_REFUTE`` times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

KiB, MiB = 1024, 1024 * 1024

SLOPE_CONFIRM = 32 * KiB
SLOPE_REFUTE = 16 * KiB
R2_MIN = 0.5
MIN_ITERATIONS = 4
PEAK_CONFIRM_BYTES = 8 * MiB
PEAK_CONFIRM_RATIO = 1.5
PEAK_REFUTE_BYTES = 4 * MiB
PEAK_REFUTE_RATIO = 1.2
DATA_CONFIRM = 1.5
DATA_REFUTE = 0.5

CONFIRMED, NOT_CONFIRMED, INCONCLUSIVE = "confirmed", "not confirmed", "inconclusive"
NOT_REACHED, ERROR, TIMEOUT = "not reached", "error", "timeout"

THRESHOLDS = {
    "slope_confirm_bytes_per_iteration": SLOPE_CONFIRM, "slope_refute_bytes_per_iteration": SLOPE_REFUTE,
    "r2_min": R2_MIN, "min_iterations": MIN_ITERATIONS,
    "peak_confirm_bytes": PEAK_CONFIRM_BYTES, "peak_confirm_ratio": PEAK_CONFIRM_RATIO,
    "peak_refute_bytes": PEAK_REFUTE_BYTES, "peak_refute_ratio": PEAK_REFUTE_RATIO,
    "data_confirm_ratio": DATA_CONFIRM, "data_refute_ratio": DATA_REFUTE,
}


def fit(values: list[float]) -> tuple[float, float]:
    """Least-squares slope per step and R² of a series."""
    n = len(values)
    if n < 2:
        return 0.0, 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    sxy = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    syy = sum((v - mean_y) ** 2 for v in values)
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 1.0
    return slope, r2


@dataclass
class Measurement:
    """One run of one variant, summarised."""

    status: str  # ok | error | timeout | memory | crashed | not reached
    reached: bool = False  # the flagged region started
    ran: str = ""  # "your code" | "scenario"
    detail: str = ""
    device: str = "CPU"
    metric: str = "rss_anon"
    iterations: int = 0
    slope: Optional[float] = None  # bytes per iteration
    r2: Optional[float] = None
    malloc_slope: Optional[float] = None
    peak_growth: Optional[int] = None  # bytes over the region's baseline
    malloc_peak_growth: Optional[int] = None
    held_growth: Optional[int] = None  # bytes still held at the region's end
    compared: str = "peak"  # which of peak_growth / held_growth the verdict compares
    baseline: Optional[int] = None
    data_bytes: Optional[int] = None
    wall_s: float = 0.0
    series: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    beside: dict = field(default_factory=dict)  # the other metric's numbers (RSS beside tensor bytes)
    backend: str = ""

    @property
    def growth(self) -> Optional[int]:
        return self.held_growth if self.compared == "held" else self.peak_growth

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}
        for k in ("slope", "r2", "malloc_slope"):
            if k in out:
                out[k] = round(out[k], 4 if k == "r2" else 1)
        if "slope" in out.get("beside", {}):
            out["beside"] = dict(out["beside"], slope=round(out["beside"]["slope"], 1))
        out["metric_label"] = metric_label(self.metric)
        return out


#: what each metric is, in the words the report uses
METRIC_LABELS = {
    "rss_anon": "memory held by the process",
    "tf_current": "TensorFlow tensor bytes",
    "jax_bytes": "JAX allocator bytes",
    "torch_bytes": "PyTorch allocator bytes",
    "gpu_used": "GPU device memory (NVML)",
}
#: the allocator metrics of the Keras backends, in order of preference
TENSOR_METRICS = ("tf_current", "jax_bytes", "torch_bytes")


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def choose_metric(outcome, prefer: str = "host") -> tuple[str, Optional[str]]:
    """The metric a run is judged on, and why when it is not the preferred one.

    On a GPU: the framework allocator's bytes.  ``prefer == "tensor"``
    (tensor-holding rules): the framework allocator's bytes of live tensors,
    unless the flagged object is not a tensor (a NumPy array is outside the
    allocator: process memory then) or the allocator reported nothing.
    Otherwise the process's anonymous resident memory (``RssAnon``)."""
    samples = outcome.of("sample")
    device_event = outcome.first("device") or {}
    allocators = [k for k in TENSOR_METRICS if any(k in s for s in samples)]
    if device_event.get("device") == "GPU:0" and allocators:
        return allocators[0], None
    if prefer != "tensor":
        return "rss_anon", None
    held = outcome.first("held")
    if held is not None and not held.get("tensor"):
        kind = held.get("type") or "not a tensor"
        return "rss_anon", f"the flagged object ({kind}) is not a tensor: judged on process memory, not tensor bytes"
    if allocators:
        return allocators[0], None
    return "rss_anon", "the framework's allocator reported no statistics: judged on process memory"


@dataclass
class _Stats:
    iterations: int = 0
    slope: Optional[float] = None
    r2: Optional[float] = None
    peak_growth: Optional[int] = None
    held_growth: Optional[int] = None
    baseline: Optional[int] = None


def _stats(outcome, kind: str, metric: str) -> _Stats:
    start = outcome.first("start") or {}
    samples = outcome.of("sample")
    out = _Stats()
    # an allocator metric is 0 before the framework is imported: a missing value is 0 then
    default = None if metric == "rss_anon" else 0
    if kind == "slope":
        loop = [s for s in samples if s.get("phase") in ("baseline", "loop")]
        out.iterations = max(len(loop) - 1, 0)
        steady = loop[max(1, out.iterations // 5):]
        if len(steady) >= 2 and (default is not None or all(metric in s for s in steady)):
            out.slope, out.r2 = fit([s.get(metric, default or 0) for s in steady])
        return out
    base = next((s for s in samples if s.get("phase") == "baseline"), None) or start
    top = outcome.first("peak") or (samples[-1] if samples else None)
    base_value = base.get(metric, default) if base else default
    if top is not None and base_value is not None and (metric in top or default is not None):
        out.baseline = base_value
        out.peak_growth = int(top.get(metric, default) - base_value)
        end = samples[-1] if samples else None
        if end is not None and (metric in end or default is not None):
            out.held_growth = int(end.get(metric, default) - base_value)
    out.iterations = sum(1 for s in samples if s.get("phase") == "loop")
    return out


def summarise(outcome, kind: str, compared: str = "peak", metric: Optional[str] = None) -> Measurement:
    """A ``Measurement`` from a child's ``RunOutcome``, judged on ``metric``
    (default: ``choose_metric``); the process's memory is kept beside an
    allocator metric (``Measurement.beside``)."""
    start = outcome.first("start") or {}
    device_event = outcome.first("device") or {}
    device = "GPU" if device_event.get("device") == "GPU:0" else "CPU"
    samples = outcome.of("sample")
    if metric is None:
        metric = choose_metric(outcome)[0]
    m = Measurement("ok", outcome.reached, start.get("ran", ""), outcome.detail, device, metric,
                    wall_s=round(outcome.wall_s, 2), compared=compared)
    m.backend = (start.get("backend") or device_event.get("backend") or "")
    m.notes = [e["message"] for e in outcome.of("note")]
    data = outcome.first("data")
    if data is not None and data.get("nbytes"):
        m.data_bytes = int(data["nbytes"])
    for key in ("rss_anon", "malloc", *TENSOR_METRICS, "gpu_used"):
        values = [s[key] for s in samples if key in s]
        if values:
            m.series[key] = values
    if outcome.status != "ok":
        m.status = outcome.status
        return m
    if not outcome.reached:
        m.status = "not reached"
        return m
    stats = _stats(outcome, kind, metric)
    m.iterations, m.slope, m.r2 = stats.iterations, stats.slope, stats.r2
    m.peak_growth, m.held_growth, m.baseline = stats.peak_growth, stats.held_growth, stats.baseline
    malloc = _stats(outcome, kind, "malloc") if all("malloc" in s for s in samples) and samples else None
    if malloc is not None:
        m.malloc_slope, m.malloc_peak_growth = malloc.slope, malloc.peak_growth
    other = "rss_anon" if metric != "rss_anon" else next((k for k in TENSOR_METRICS if k in m.series), None)
    if other is not None:
        o = _stats(outcome, kind, other)
        m.beside = {k: v for k, v in (("metric", other), ("slope", o.slope), ("peak_growth", o.peak_growth),
                                      ("held_growth", o.held_growth)) if v is not None}
    return m


def failure_verdict(m: Measurement) -> Optional[str]:
    if m.status == "ok":
        return None
    if m.status == "timeout":
        return TIMEOUT
    if m.status == "not reached":
        return NOT_REACHED
    return ERROR


def slope_verdict(m: Measurement) -> str:
    failed = failure_verdict(m)
    if failed:
        return failed
    if m.slope is None or m.iterations < MIN_ITERATIONS:
        return INCONCLUSIVE
    if m.slope >= SLOPE_CONFIRM and (m.r2 or 0) >= R2_MIN:
        return CONFIRMED
    if m.slope < SLOPE_REFUTE:
        return NOT_CONFIRMED
    return INCONCLUSIVE


def peak_verdict(flagged: Measurement, reference: Optional[Measurement],
                 confirm_ratio: Optional[float] = None) -> str:
    """``confirm_ratio``: the rule's own ratio (``Spec.confirm_ratio``), else ``PEAK_CONFIRM_RATIO``."""
    failed = failure_verdict(flagged)
    if failed:
        return failed
    growth = flagged.growth
    if growth is None:
        return INCONCLUSIVE
    if reference is None or reference.status != "ok" or reference.growth is None:
        if flagged.data_bytes:
            share = growth / flagged.data_bytes
            if share >= DATA_CONFIRM and growth >= PEAK_CONFIRM_BYTES:
                return CONFIRMED
            return NOT_CONFIRMED if share < DATA_REFUTE else INCONCLUSIVE
        return INCONCLUSIVE
    excess = growth - reference.growth
    ratio = peak_ratio(flagged, reference)
    if excess >= PEAK_CONFIRM_BYTES and ratio >= (confirm_ratio or PEAK_CONFIRM_RATIO):
        return CONFIRMED
    if excess < PEAK_REFUTE_BYTES or ratio < PEAK_REFUTE_RATIO:
        return NOT_CONFIRMED
    return INCONCLUSIVE


def peak_ratio(flagged: Measurement, reference: Measurement) -> float:
    # a reference that barely grows counts as 1 MiB, so ratios stay finite and meaningful
    return (flagged.growth or 0) / max(reference.growth or 0, MiB)


def slope_ratio(flagged: Measurement, reference: Measurement) -> Optional[float]:
    if flagged.slope is None or reference.slope is None:
        return None
    return flagged.slope / max(reference.slope, KiB)
