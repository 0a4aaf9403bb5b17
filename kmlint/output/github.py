"""GitHub Actions workflow commands: one ``::warning``/``::error`` annotation
per finding, shown on the pull request's diff.  Notebook findings are
annotated on the file with the cell in the message (an annotation line would
point into the notebook's JSON)."""

from __future__ import annotations

from kmlint.engine.paths import printable
from kmlint.findings import Finding


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: list[Finding], info) -> str:
    lines = []
    for f in findings:
        kind = "error" if f.severity == "error" else "warning"
        props = [f"file={_prop(printable(f.path))}"]
        where = ""
        if f.cell is None:
            props += [f"line={f.line}", f"col={f.column}", f"endLine={f.end_line}", f"endColumn={f.end_column}"]
        else:
            where = f"cell {f.cell + 1}, line {f.line}, col {f.column}: "
        props.append(f"title={_prop(f'kmlint {f.code} ({f.name})')}")
        lines.append(f"::{kind} {','.join(props)}::{_data(f'{where}{f.code} {f.message}')}")
    return "".join(line + "\n" for line in lines)
