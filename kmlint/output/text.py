"""Human-readable output: ``path:line:col: CODE [name] message`` (Ruff-like).

Notebook findings read ``nb.ipynb:cell 4:line 3:col 5: ...`` where the cell
number counts every cell of the notebook (markdown too) from 1, as Jupyter
shows them; JSON keeps the 0-based index."""

from __future__ import annotations

from collections import Counter

from kmlint.engine.paths import printable
from kmlint.findings import Finding


def location(f: Finding) -> str:
    if f.cell is not None:
        return f"{printable(f.path)}:cell {f.cell + 1}:line {f.line}:col {f.column}"
    return f"{printable(f.path)}:{f.line}:{f.column}"


def format_finding(f: Finding) -> str:
    fixable = " [*]" if f.fix is not None and f.fix.applicability == "safe" else ""
    return f"{location(f)}: {f.code}{fixable} [{f.name}] {f.message}"


def render_text(findings: list[Finding], info) -> str:
    lines = [format_finding(f) for f in findings]
    if info.get("statistics"):
        counts = Counter((f.code, f.name) for f in findings)
        lines = [f"{n:>5}\t{code}\t[{name}]" for (code, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    lines.extend(summary_lines(findings, info))
    return "\n".join(lines) + ("\n" if lines else "")


def summary_lines(findings: list[Finding], info) -> list[str]:
    """The summary under the findings (none with ``quiet``; no "All checks
    passed" when a path could not be checked)."""
    if info.get("quiet"):
        return []
    n = len(findings)
    files = info.get("files", 0)
    if n:
        fixable = sum(1 for f in findings if f.fix is not None and f.fix.applicability == "safe")
        unsafe = sum(1 for f in findings if f.fix is not None and f.fix.applicability != "safe")
        out = [f"Found {n} finding{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''} checked."]
        if fixable:
            out.append(f"[*] {fixable} fixable with `kmlint check --fix`.")
        if unsafe:
            out.append(f"{unsafe} more fixable with `--unsafe-fixes`.")
        return out
    if info.get("problems"):
        return []
    return [f"All checks passed! ({files} file{'s' if files != 1 else ''} checked)"]
