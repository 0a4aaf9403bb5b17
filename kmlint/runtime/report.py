"""Text rendering of runtime results: one table row per measured finding, then
per finding a sentence that says what was confirmed, on which code, with which
metric, and what the fix does, in words (notes, fallbacks and errors below it).
JSON output needs nothing here: the ``runtime`` object travels in
``Finding.extra`` (``summary`` and ``fix_effect`` carry the same words)."""

from __future__ import annotations

from typing import Optional

from kmlint.findings import Finding

HEADERS = ("finding", "verdict", "ran", "device", "metric", "flagged", "fixed variant", "effect of the fix")

#: short names of the metrics for the table (the long ones are verdict.METRIC_LABELS)
SHORT_METRICS = {"rss_anon": "process memory", "tf_current": "tensor bytes", "jax_bytes": "JAX bytes",
                 "torch_bytes": "torch bytes", "gpu_used": "GPU memory"}


def human_bytes(n: Optional[float], signed: bool = True) -> str:
    if n is None:
        return "-"
    sign = "+" if signed and n >= 0 else "-" if n < 0 else ""
    n = abs(n)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{sign}{n / size:.1f} {unit}"
    return f"{sign}{n:.0f} B"


def location(f: Finding) -> str:
    """``path:line``, or ``nb.ipynb:cell 4:line 3`` for a notebook finding (cells count from 1)."""
    if f.cell is not None:
        return f"{f.path}:cell {f.cell + 1}:line {f.line}"
    return f"{f.path}:{f.line}"


def amount(kind: str, m: Optional[dict]) -> str:
    if not m:
        return "-"
    if m.get("status") not in (None, "ok"):
        return m.get("status", "?")
    if kind == "slope":
        if m.get("slope") is None:
            return "-"
        return f"{human_bytes(m['slope'])}/iter"
    key = "held_growth" if m.get("compared") == "held" else "peak_growth"
    if m.get(key) is None:
        return "-"
    return f"{'held' if key == 'held_growth' else 'peak'} {human_bytes(m[key])}"


def fix_effect(rt: dict) -> str:
    """What the fixed variant did to the flagged growth, in words."""
    fixed = rt.get("fixed")
    verdict = rt.get("verdict")
    if fixed is None:
        if rt.get("ratio_to_data") is not None:
            return f"no fixed variant: {rt['ratio_to_data']:.1f}x the array's own size"
        return "no fixed variant was measured"
    if fixed.get("status") not in (None, "ok"):
        return f"the fixed variant failed ({fixed.get('status')}): the fix is not shown to work"
    if verdict not in ("confirmed", "inconclusive"):
        return "nothing to remove: the flagged code did not grow"
    if rt.get("kind") == "slope":
        words = {"not confirmed": "fix removes the growth",
                 "confirmed": "fix does NOT stop the growth",
                 }.get(fixed.get("verdict"), "fix: effect unclear (between the thresholds)")
        if fixed.get("ran") == "scenario" and rt.get("ran") == "your code":
            # no autofix for this finding: what was measured is the rule's advice, on its scenario
            words = words.replace("fix", "advised fix (on the rule's scenario, not your code)", 1)
        return words
    if verdict == "confirmed":
        key = "held_growth" if fixed.get("compared") == "held" else "peak_growth"
        saved = (rt["flagged"].get(key) or 0) - (fixed.get(key) or 0)
        return f"fix frees {human_bytes(saved, signed=False)}"
    return "fix: effect unclear (between the thresholds)"


def summary(rt: dict) -> str:
    """One sentence: verdict, on what code, by which metric, and the fix's effect."""
    from kmlint.runtime.verdict import metric_label

    verdict = rt.get("verdict", "?")
    label = rt.get("metric_label") or metric_label(rt.get("metric", "rss_anon"))
    flagged = amount(rt.get("kind", "slope"), rt.get("flagged"))
    if rt.get("ran") == "scenario":
        words = {"confirmed": "scenario confirmed the pattern", "not confirmed": "scenario did not confirm the pattern",
                 "inconclusive": "scenario was inconclusive"}.get(verdict, f"scenario: {verdict}")
        head = f"{words}; your code was not run"
    elif rt.get("ran"):
        head = f"{verdict} on your code"
    else:
        return f"{verdict}: nothing was run"
    if verdict in ("error", "timeout", "not reached"):
        return head
    return f"{head}: {flagged} of {label}; {fix_effect(rt)}"


def verdict_cell(rt: dict) -> str:
    if rt.get("ran") == "scenario" and rt.get("verdict") in ("confirmed", "not confirmed"):
        return f"{rt['verdict']} (pattern)"
    return rt["verdict"]


def row(f: Finding) -> tuple[str, ...]:
    rt = f.extra["runtime"]
    kind = rt.get("kind", "slope")
    ratio = ""
    fixed_growth = (rt.get("fixed") or {}).get("held_growth" if (rt.get("fixed") or {}).get("compared") == "held"
                                               else "peak_growth")
    if "ratio" in rt and (kind == "slope" or (fixed_growth or 0) >= 1 << 20):  # no "300x" against nothing
        ratio = f" ({rt['ratio']:.1f}x less)" if rt["ratio"] >= 1 else ""
    effect = fix_effect(rt) if rt.get("ran") else "-"
    if effect == "fix removes the growth" or effect.startswith("fix frees"):
        effect += ratio
    device = rt.get("device", "-")
    if rt.get("backend") not in (None, "tensorflow"):
        device = f"{device} ({rt['backend']})"
    return (f"{f.code} {location(f)}", verdict_cell(rt), rt.get("ran") or "-", device,
            SHORT_METRICS.get(rt.get("metric", ""), rt.get("metric", "-")) if rt.get("ran") else "-",
            amount(kind, rt.get("flagged")), amount(kind, rt.get("fixed")) if rt.get("fixed") else "-", effect)


def render_runtime(findings: list[Finding]) -> str:
    measured = [f for f in findings if "runtime" in f.extra]
    if not measured:
        return ""
    rows = [HEADERS] + [row(f) for f in measured]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS))]
    lines = ["", "Runtime confirmation:"]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    for f in measured:
        rt = f.extra["runtime"]
        details = [rt.get("summary") or summary(rt)]
        if rt.get("region"):
            details.append(f"measured: {rt['region']}")
        beside = (rt.get("flagged") or {}).get("beside") or {}
        if beside:
            from kmlint.runtime.verdict import metric_label

            other = amount(rt.get("kind", "slope"), dict(beside, compared=rt["flagged"].get("compared")))
            fixed_beside = ((rt.get("fixed") or {}).get("beside")) or {}
            text = f"beside it, {metric_label(beside['metric'])}: flagged {other}"
            if fixed_beside:
                text += f", fixed {amount(rt.get('kind', 'slope'), dict(fixed_beside, compared=rt['fixed'].get('compared')))}"
            details.append(text)
        fixed = rt.get("fixed")
        if fixed is not None:
            details.append(f"fixed variant: {fixed.get('variant', '')} ({fixed.get('ran', '')})")
        if rt.get("error"):
            details.append(f"error: {rt['error']}")
        details.extend(rt.get("notes", []))
        lines.append(f"  {f.code} {location(f)}:")
        lines.extend(f"    - {d}" for d in details)
    return "\n".join(lines) + "\n"
