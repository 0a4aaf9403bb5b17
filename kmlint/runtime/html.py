"""``--runtime-report report.html``: one self-contained HTML page with the
verdict table, per finding the sentence, the plot (embedded PNG, when
matplotlib is installed), the notes, and the code that ran: your
instrumented file (the probes are the ``__kmlint_probe__`` lines) or the
rule's scenario, flagged and fixed variant."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from kmlint.findings import Finding
from kmlint.runtime import report

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }
th { background: #f3f3f3; }
td.confirmed { color: #b03a2e; font-weight: bold; }
td.fix-works { color: #1e8449; }
td.fix-fails { color: #b03a2e; font-weight: bold; }
section { border-top: 2px solid #ddd; margin-top: 2em; padding-top: 0.5em; }
pre { background: #f7f7f7; border: 1px solid #e1e1e1; padding: 0.8em; overflow-x: auto; font-size: 12px; }
details { margin: 0.5em 0; }
img { max-width: 100%; border: 1px solid #eee; }
.summary { font-size: 16px; }
"""


@dataclass
class Entry:
    finding: Finding
    flagged_code: str = ""
    flagged_title: str = ""
    fixed_code: str = ""
    fixed_title: str = ""


def _anchor(f: Finding) -> str:
    return "f-" + "".join(c if c.isalnum() else "-" for c in f"{f.code}-{report.location(f)}")


def _plot(f: Finding) -> Optional[str]:
    try:
        from kmlint.runtime.plots import png_bytes

        data = png_bytes(f)
    except ImportError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render(entries: list[Entry]) -> str:
    e = html.escape
    measured = [x for x in entries if "runtime" in x.finding.extra]
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             "<title>kmlint runtime report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>kmlint runtime report</h1>",
             f"<p>{len(measured)} finding(s) measured. Each verdict names the metric it used.</p>",
             "<table id='verdicts'><thead><tr>"]
    parts += [f"<th>{e(h)}</th>" for h in report.HEADERS]
    parts.append("</tr></thead><tbody>")
    for x in measured:
        cells = report.row(x.finding)
        classes = ["", "confirmed" if cells[1].startswith("confirmed") else "", "", "", "", "", "",
                   "fix-works" if cells[7].startswith(("fix removes", "fix frees")) else
                   "fix-fails" if "NOT" in cells[7] or "failed" in cells[7] else ""]
        parts.append("<tr>")
        for i, (cell, cls) in enumerate(zip(cells, classes)):
            text = f"<a href='#{_anchor(x.finding)}'>{e(cell)}</a>" if i == 0 else e(cell)
            parts.append(f"<td class='{cls}'>{text}</td>" if cls else f"<td>{text}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    for x in measured:
        f, rt = x.finding, x.finding.extra["runtime"]
        parts.append(f"<section id='{_anchor(f)}'><h2>{e(f.code)} {e(f.name)} at {e(report.location(f))}</h2>")
        parts.append(f"<p class='summary'>{e(rt.get('summary') or report.summary(rt))}</p>")
        parts.append(f"<p>Finding: {e(f.message)}</p>")
        image = _plot(f) if "flagged" in rt else None
        if image:
            parts.append(f"<img alt='memory plot of {e(f.code)}' src='{image}'>")
        notes = ([f"measured: {rt['region']}"] if rt.get("region") else []) + list(rt.get("notes", []))
        if rt.get("error"):
            notes.append(f"error: {rt['error']}")
        if notes:
            parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
        for title, code in ((x.flagged_title, x.flagged_code), (x.fixed_title, x.fixed_code)):
            if code:
                parts.append(f"<details open><summary>{e(title)}</summary><pre><code>{e(code)}</code></pre></details>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, entries: list[Entry]) -> Path:
    path = Path(path)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(entries), encoding="utf-8")
    return path
