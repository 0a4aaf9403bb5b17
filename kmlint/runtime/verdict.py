"""From measured series to verdicts.  The thresholds are documented in README.md
("Runtime mode"); change them there too.

Metric: anonymous resident memory (``RssAnon``) on the host, or TensorFlow's
GPU allocator (``GPU:0`` current/peak bytes) when the run used a GPU and the
allocator reports statistics.  ``mallinfo2`` in-use bytes are reported beside
it.

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

    @property
    def growth(self) -> Optional[int]:
        return self.held_growth if self.compared == "held" else self.peak_growth

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if v not in (None, [], "")}
        for k in ("slope", "r2", "malloc_slope"):
            if k in out:
                out[k] = round(out[k], 4 if k == "r2" else 1)
        return out


def summarise(outcome, kind: str, compared: str = "peak") -> Measurement:
    """A ``Measurement`` from a child's ``RunOutcome``."""
    start = outcome.first("start") or {}
    device_event = outcome.first("device") or {}
    device = "GPU" if device_event.get("device") == "GPU:0" else "CPU"
    samples = outcome.of("sample")
    gpu = device == "GPU" and any("tf_current" in s for s in samples)
    metric = "tf_current" if gpu else "rss_anon"
    m = Measurement("ok", outcome.reached, start.get("ran", ""), outcome.detail, device, metric,
                    wall_s=round(outcome.wall_s, 2), compared=compared)
    m.notes = [e["message"] for e in outcome.of("note")]
    data = outcome.first("data")
    if data is not None and data.get("nbytes"):
        m.data_bytes = int(data["nbytes"])
    for key in ("rss_anon", "malloc", "tf_current", "gpu_used"):
        values = [s[key] for s in samples if key in s]
        if values:
            m.series[key] = values
    if outcome.status != "ok":
        m.status = outcome.status
        return m
    if not outcome.reached:
        m.status = "not reached"
        return m
    if kind == "slope":
        loop = [s for s in samples if s.get("phase") in ("baseline", "loop")]
        m.iterations = max(len(loop) - 1, 0)
        steady = loop[max(1, m.iterations // 5):]
        if len(steady) >= 2:
            m.slope, m.r2 = fit([s.get(metric, 0) for s in steady])
            if all("malloc" in s for s in steady):
                m.malloc_slope = fit([s["malloc"] for s in steady])[0]
    else:
        # the region's baseline sample, or the program's start (checkpoint regions)
        base = next((s for s in samples if s.get("phase") == "baseline"), None) or (start if metric in start else None)
        top = outcome.first("peak") or (samples[-1] if samples else None)
        if base is not None and top is not None and metric in top:
            m.baseline = base.get(metric)
            m.peak_growth = int(top[metric] - base.get(metric, 0))
            if "malloc" in top and "malloc" in base:
                m.malloc_peak_growth = int(top["malloc"] - base["malloc"])
            end = samples[-1] if samples else None
            if end is not None and metric in end:
                m.held_growth = int(end[metric] - base.get(metric, 0))
        m.iterations = sum(1 for s in samples if s.get("phase") == "loop")
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


def peak_verdict(flagged: Measurement, reference: Optional[Measurement]) -> str:
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
    if excess >= PEAK_CONFIRM_BYTES and ratio >= PEAK_CONFIRM_RATIO:
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
