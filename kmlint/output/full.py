"""``full`` (a code frame under each finding, like Ruff's default on a
terminal), ``concise`` (one line per finding, the same as ``text``) and
``json-lines`` (one JSON object per line).

The frame shows the finding's source lines with their numbers and a caret
underline under the span; notebook findings show the lines of their cell."""

from __future__ import annotations

import json
from typing import Callable, Optional

from kmlint.findings import Finding
from kmlint.output.text import format_finding, render_text, summary_lines

MAX_FRAME_LINES = 6


def render_concise(findings: list[Finding], info) -> str:
    return render_text(findings, info)


def render_json_lines(findings: list[Finding], info) -> str:
    return "".join(json.dumps(f.to_json()) + "\n" for f in findings)


def render_full(findings: list[Finding], info) -> str:
    if info.get("statistics"):
        return render_text(findings, info)
    lines_of = _SourceLines(info.get("source"))
    blocks = []
    for f in findings:
        block = [format_finding(f)]
        block.extend(code_frame(f, lines_of(f.path, f.cell)))
        if f.fix is not None and f.fix.description:
            block.append(f"  = help: {f.fix.description}")
        blocks.append("\n".join(block) + "\n")
    tail = summary_lines(findings, info)
    return "\n".join(blocks) + ("\n" if blocks and tail else "") + "".join(line + "\n" for line in tail)


def code_frame(f: Finding, source: Optional[list[str]]) -> list[str]:
    """The span's lines with numbers and a ``^`` underline (empty without source)."""
    if not source or not 1 <= f.line <= len(source):
        return []
    end_line = min(max(f.end_line, f.line), len(source))
    numbers = list(range(f.line, end_line + 1))
    if len(numbers) > MAX_FRAME_LINES:
        numbers = numbers[:MAX_FRAME_LINES - 1] + [end_line]
    width = len(str(numbers[-1]))
    gutter = " " * width + " |"
    out = [gutter]
    previous = None
    for n in numbers:
        if previous is not None and n != previous + 1:
            out.append(" " * width + " :")
        previous = n
        text = source[n - 1].rstrip("\r\n")
        shown = text.expandtabs(4)
        out.append(f"{n:>{width}} | {shown}".rstrip())
        start = f.column - 1 if n == f.line else len(text) - len(text.lstrip())
        end = f.end_column - 1 if n == f.end_line else len(text)
        start = max(0, min(start, len(text)))
        end = max(start, min(end, len(text)))
        a = len(text[:start].expandtabs(4))
        b = len(text[:end].expandtabs(4))
        marks = "^" * max(b - a, 1)
        label = f" {f.code}" if n == numbers[-1] else ""
        out.append(f"{gutter} {' ' * a}{marks}{label}")
    out.append(gutter)
    return out


class _SourceLines:
    """Reads (and remembers) each file's lines; a notebook's by cell."""

    def __init__(self, read: Optional[Callable[[str], Optional[str]]]):
        self.read = read
        self.cache: dict[str, object] = {}

    def __call__(self, path: str, cell: Optional[int]) -> Optional[list[str]]:
        if self.read is None:
            return None
        if path not in self.cache:
            try:
                text = self.read(path)
            except (OSError, UnicodeDecodeError, ValueError):
                text = None
            self.cache[path] = self._parse(path, text)
        data = self.cache[path]
        if data is None:
            return None
        if path.endswith(".ipynb"):
            return data.get(cell) if cell is not None else None
        return data

    @staticmethod
    def _parse(path: str, text: Optional[str]):
        if text is None:
            return None
        if not path.endswith(".ipynb"):
            return text.split("\n")
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return None
        out = {}
        for i, c in enumerate(cells):
            if isinstance(c, dict):
                src = c.get("source", "")
                src = "".join(src) if isinstance(src, list) else src
                if isinstance(src, str):
                    out[i] = src.split("\n")
        return out
