"""Text rendering of runtime results: one table row per measured finding,
notes (fallbacks, errors) below it.  JSON output needs nothing here: the
``runtime`` object travels in ``Finding.extra``."""

from __future__ import annotations

from typing import Optional

from kmlint.findings import Finding

HEADERS = ("finding", "verdict", "ran", "device", "flagged", "fixed variant", "ratio")


def human_bytes(n: Optional[float], signed: bool = True) -> str:
    if n is None:
        return "-"
    sign = "+" if signed and n >= 0 else "-" if n < 0 else ""
    n = abs(n)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{sign}{n / size:.1f} {unit}"
    return f"{sign}{n:.0f} B"


def _amount(kind: str, m: dict) -> str:
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


def row(f: Finding) -> tuple[str, ...]:
    rt = f.extra["runtime"]
    kind = rt.get("kind", "slope")
    flagged = rt.get("flagged", {})
    fixed = rt.get("fixed")
    fixed_text = "-"
    if fixed is not None:
        fixed_text = _amount(kind, fixed)
        if fixed.get("verdict") not in (None, "reference"):
            fixed_text += f" ({fixed['verdict']})"
    ratio = "-"
    if "ratio" in rt:
        ratio = f"{rt['ratio']:.1f}x"
    elif "ratio_to_data" in rt:
        ratio = f"{rt['ratio_to_data']:.1f}x data"
    return (f"{f.code} {f.path}:{f.line}", rt["verdict"], rt.get("ran") or "-", rt.get("device", "-"),
            _amount(kind, flagged), fixed_text, ratio)


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
        details = []
        if rt.get("region"):
            details.append(f"measured: {rt['region']}")
        fixed = rt.get("fixed")
        if fixed is not None:
            details.append(f"fixed variant: {fixed.get('variant', '')} ({fixed.get('ran', '')})")
        if rt.get("error"):
            details.append(f"error: {rt['error']}")
        details.extend(rt.get("notes", []))
        if details:
            lines.append(f"  {f.code} {f.path}:{f.line}:")
            lines.extend(f"    - {d}" for d in details)
    return "\n".join(lines) + "\n"
