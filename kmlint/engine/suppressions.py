"""``# noqa`` / ``# kmlint: ignore[...]`` / ``# kmlint: skip-file`` comments.

Comments are found with the tokenizer (never inside strings), and only in files
whose text mentions ``noqa`` or ``kmlint:``, so clean files pay nothing.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Optional

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_KMLINT = re.compile(r"#\s*kmlint:\s*(?P<kind>ignore|skip-file)(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
SKIP_FILE = re.compile(r"^\s*#\s*kmlint:\s*skip-file\b", re.IGNORECASE | re.MULTILINE)


@dataclass
class Suppression:
    line: int  # 1-based line of the comment
    column: int  # 0-based column where the directive starts
    end_column: int
    codes: Optional[list[str]]  # None = blanket
    kind: str  # "noqa" | "kmlint"
    text: str  # the matched directive text
    comment: str  # the whole comment
    comment_column: int
    used: set[str] = field(default_factory=set)

    def matches(self, code: str) -> bool:
        return self.codes is None or code.upper() in self.codes


def render_directive(kind: str, codes: list[str]) -> str:
    """The text of a directive of ``kind`` ("noqa" or "kmlint") naming ``codes``."""
    if kind == "noqa":
        return "# noqa: " + ", ".join(codes)
    return "# kmlint: ignore[" + ", ".join(codes) + "]"


def has_directives(text: str) -> bool:
    return "noqa" in text or "kmlint:" in text or "NOQA" in text


_JUDGED_NOQA = re.compile(r"noqa\s*:[^\n]*\bkm[0-9]")


def has_judged_directives(text: str) -> bool:
    """A directive KM900 can find unused: any ``kmlint:`` comment or a ``noqa``
    naming a KM code, in any case (flake8's ``# noqa: E501`` and blanket
    ``# noqa`` are never judged, so they do not make a file worth parsing).
    Substring searches find the candidates; the pattern only reads their
    text from there (over a whole text, a case-insensitive pattern with no literal
    start tries every position)."""
    low = text.lower()
    if "noqa" not in low and "kmlint" not in low:  # most files have neither word in any case
        return False
    if "kmlint:" in low:
        return True
    i = low.find("noqa")
    while i >= 0:
        if _JUDGED_NOQA.match(low, i):
            return True
        i = low.find("noqa", i + 4)
    return False


@dataclass
class Directives:
    by_line: dict[int, list[Suppression]]
    # line -> last line of the logical line (statement) it belongs to, so a
    # `# noqa` at the end of a multi-line statement covers all of it
    logical_end: dict[int, int]


def parse_suppressions(source: str) -> Directives:
    out: dict[int, list[Suppression]] = {}
    logical_end: dict[int, int] = {}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        tokens = []
    start = None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            if start is not None:
                for ln in range(start, tok.start[0] + 1):
                    logical_end[ln] = tok.start[0]
            start = None
        elif tok.type not in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT) and start is None:
            start = tok.start[0]
        if tok.type != tokenize.COMMENT:
            continue
        line, col = tok.start
        comment = tok.string
        m = _KMLINT.search(comment)
        if m and m.group("kind").lower() == "ignore":
            codes = None
            if m.group("codes") is not None:
                codes = [c.upper() for c in _CODE.findall(m.group("codes"))]
            out.setdefault(line, []).append(
                Suppression(line, col + m.start(), col + m.end(), codes, "kmlint", m.group(0), comment, col)
            )
            continue
        m = _NOQA.search(comment)
        if m:
            codes = None
            if m.group("codes"):
                codes = [c.upper() for c in _CODE.findall(m.group("codes"))]
            out.setdefault(line, []).append(
                Suppression(line, col + m.start(), col + m.end(), codes, "noqa", m.group(0), comment, col)
            )
    return Directives(out, logical_end)


def is_skip_file(source: str) -> bool:
    return "skip-file" in source and SKIP_FILE.search(source) is not None
