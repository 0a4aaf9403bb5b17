"""``--runtime-plots DIR``: one PNG per measured finding that shows the number
the verdict used, on the verdict's own metric, with its thresholds.

* growth per iteration (slope rules): the metric over the iterations of the
  flagged and the fixed variant, the fitted slope of each over the steady part
  (the first fifth is warm-up) and the slope the verdict confirms from;
* peak and held memory (peak rules): a bar chart, flagged against fixed (or
  against the array's own size), with the bar the flagged one must pass to be
  confirmed.

Labels are words ("memory held by the process (MiB)", "TensorFlow tensor
bytes (MiB)"), titles are wrapped and figures are saved with a tight bounding
box so nothing is clipped.  Needs matplotlib (the ``runtime`` extra)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any, Optional

from kmlint.findings import Finding
from kmlint.runtime import verdict as V
from kmlint.runtime.report import human_bytes, location

FLAGGED_COLOR, FIXED_COLOR, THRESHOLD_COLOR = "#c0392b", "#2471a3", "#7f8c8d"


def plot_name(f: Finding) -> str:
    """File name of a finding's plot; notebook cells are part of it, so two cells' findings never share one."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f.path).strip("_")
    cell = f"-cell{f.cell + 1}" if f.cell is not None else ""
    return f"{f.code}-{stem}{cell}-{f.line}.png"


def _unit(values: list[float]) -> tuple[float, str]:
    top = max((abs(v) for v in values), default=0)
    return (2**20, "MiB") if top >= 2**20 else (2**10, "KiB")


def axis_label(metric: str, unit: str) -> str:
    return f"{V.metric_label(metric)} ({unit})"


def _title(f: Finding, rt: dict) -> str:
    from kmlint.runtime.report import summary

    head = f"{f.code} {f.name} at {location(f)}"
    return "\n".join(textwrap.wrap(head, 70) + textwrap.wrap(rt.get("summary") or summary(rt), 80))


def _slope_plot(ax, rt: dict) -> None:
    metric = rt.get("metric", "rss_anon")
    runs = [("flagged", rt.get("flagged"), FLAGGED_COLOR), ("fixed variant", rt.get("fixed"), FIXED_COLOR)]
    everything = []
    for _, data, _ in runs:
        values = (data or {}).get("series", {}).get(metric) or []
        everything += [v - values[0] for v in values]
    scale, unit = _unit(everything)
    for label, data, color in runs:
        values = (data or {}).get("series", {}).get(metric)
        if not values:
            continue
        ys = [(v - values[0]) / scale for v in values]
        ax.plot(range(len(ys)), ys, marker=".", color=color, label=f"{label}: {human_bytes(data.get('slope'))}/iter")
        skip = max(1, (len(values) - 1) // 5)
        if data.get("slope") is not None and len(values) - skip >= 2:
            xs = list(range(skip, len(values)))
            mean_x = sum(xs) / len(xs)
            mean_y = sum(ys[skip:]) / len(xs)
            slope = data["slope"] / scale
            ax.plot([xs[0], xs[-1]], [mean_y + slope * (xs[0] - mean_x), mean_y + slope * (xs[-1] - mean_x)],
                    color=color, linestyle="--", linewidth=1.2, label=f"{label}: fitted slope")
        if label == "flagged":
            first = ys[skip] if len(ys) > skip else 0
            n = len(ys) - 1
            ax.plot([skip, n], [first, first + V.SLOPE_CONFIRM / scale * (n - skip)], color=THRESHOLD_COLOR,
                    linestyle=":", linewidth=1.5, label=f"confirmed from {human_bytes(V.SLOPE_CONFIRM, False)}/iter")
            ax.axvspan(0, skip, color="#eeeeee", zorder=0, label="warm-up (not fitted)")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("iteration of the flagged loop")
    ax.set_ylabel(axis_label(metric, unit) + "\ngrowth since the first iteration")


def _peak_plot(ax, rt: dict) -> None:
    metric = rt.get("metric", "rss_anon")
    flagged, fixed = rt.get("flagged") or {}, rt.get("fixed")
    key = "held_growth" if flagged.get("compared") == "held" else "peak_growth"
    word = "held" if key == "held_growth" else "peak"
    bars = [("flagged", flagged.get(key), FLAGGED_COLOR)]
    threshold: Optional[float] = None
    if fixed is not None and fixed.get(key) is not None:
        bars.append(("fixed variant", fixed.get(key), FIXED_COLOR))
        reference = fixed[key]
        threshold = max(reference + V.PEAK_CONFIRM_BYTES, V.PEAK_CONFIRM_RATIO * max(reference, V.MiB))
        threshold_text = f"confirmed above {human_bytes(threshold, False)} (fixed +8 MiB and 1.5x)"
    elif flagged.get("data_bytes"):
        bars.append(("the array itself", flagged["data_bytes"], THRESHOLD_COLOR))
        threshold = max(V.DATA_CONFIRM * flagged["data_bytes"], V.PEAK_CONFIRM_BYTES)
        threshold_text = f"confirmed above {human_bytes(threshold, False)} ({V.DATA_CONFIRM}x the array)"
    values = [v or 0 for _, v, _ in bars] + ([threshold] if threshold else [])
    scale, unit = _unit(values)
    names = [name for name, _, _ in bars]
    heights = [(v or 0) / scale for _, v, _ in bars]
    drawn = ax.bar(names, heights, color=[c for _, _, c in bars], width=0.5)
    for rect, (_, v, _) in zip(drawn, bars):
        ax.annotate(human_bytes(v), (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                    ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    if threshold is not None:
        ax.axhline(threshold / scale, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.2, label=threshold_text)
        ax.legend(loc="upper right", fontsize=8)
    ax.set_ylim(min(0, *heights) * 1.15, max([*heights, (threshold or 0) / scale, 1e-9]) * 1.25)
    ax.set_ylabel(axis_label(metric, unit) + f"\n{word} growth over the region's start")


def figure(f: Finding):
    """The finding's figure (matplotlib ``Figure``); ``write_plots`` saves it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rt = f.extra["runtime"]
    fig = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(fig)  # no pyplot: no global state, no GUI backend
    ax = fig.add_subplot()
    if rt.get("kind") == "slope":
        _slope_plot(ax, rt)
        ax.legend(fontsize=8, loc="upper left")
    else:
        _peak_plot(ax, rt)
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(_title(f, rt), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def write_plots(findings: list[Finding], folder: Path, progress: Any = None) -> list[Path]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if progress is not None:
            progress.say("--runtime-plots needs matplotlib: pip install 'kmlint[runtime]'")
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for f in findings:
        rt = f.extra.get("runtime")
        if not rt or "flagged" not in rt:
            continue
        fig = figure(f)
        target = folder / plot_name(f)
        fig.savefig(target, bbox_inches="tight", pad_inches=0.15)
        written.append(target)
    return written


def png_bytes(f: Finding) -> bytes:
    """The plot as PNG bytes (the HTML report embeds them)."""
    import io

    buffer = io.BytesIO()
    figure(f).savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.15)
    return buffer.getvalue()
