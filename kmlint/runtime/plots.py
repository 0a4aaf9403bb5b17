"""``--runtime-plots DIR``: one PNG per measured finding, memory over the
iterations (or samples) of the flagged and the fixed variant.  Needs
matplotlib (the ``runtime`` extra)."""

from __future__ import annotations

import re
from pathlib import Path

from kmlint.findings import Finding



def plot_name(f: Finding) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f.path).strip("_")
    return f"{f.code}-{stem}-{f.line}.png"


def write_plots(findings: list[Finding], folder: Path, progress=None) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
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
        metric = rt.get("metric", "rss_anon")
        fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
        for label, data in (("flagged", rt["flagged"]), ("fixed", rt.get("fixed"))):
            values = (data or {}).get("series", {}).get(metric)
            if values:
                ax.plot(range(len(values)), [(v - values[0]) / 2**20 for v in values], marker=".", label=label)
        ax.set_xlabel("iteration" if rt.get("kind") == "slope" else "sample")
        ax.set_ylabel(f"{metric} growth (MiB)")
        ax.set_title(f"{f.code} {f.name} at {f.path}:{f.line}: {rt['verdict']} ({rt.get('ran')})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        target = folder / plot_name(f)
        fig.savefig(target)
        plt.close(fig)
        written.append(target)
    return written
