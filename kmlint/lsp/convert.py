"""kmlint findings as LSP objects: positions, diagnostics, edits, hover text.

Pure functions of text and findings (no server state), so they run on the
lint thread and are easy to test.  kmlint counts 1-based lines and 1-based
columns in code points; LSP counts from 0 and measures columns in the
negotiated encoding (UTF-16 unless the client offers another).
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Optional

from lsprotocol import types
from pygls.workspace import PositionCodec

from kmlint.docs import readme_sections, rule_readme, rule_url
from kmlint.engine.linter import UNUSED_SUPPRESSION
from kmlint.engine.suppressions import parse_suppressions, render_directive
from kmlint.findings import Edit, Finding
from kmlint.edits import line_hunks, split_lines
from kmlint.registry import rule_meta

SOURCE = "kmlint"
# the dossier sections a hover shows
HOVER_SECTIONS = ("What it does", "Why is this bad?")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class TextIndex:
    """One LSP document's lines, to turn kmlint positions into LSP ones."""

    def __init__(self, text: str, codec: PositionCodec):
        self.text = text
        self.lines = _LINE_BREAK.split(text)
        self.codec = codec

    def end(self) -> types.Position:
        return types.Position(len(self.lines) - 1, self.codec.client_num_units(self.lines[-1]))

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a 1-based (line, column); past the end means the end."""
        if line > len(self.lines):
            return self.end()
        text = self.lines[max(line, 1) - 1]
        return types.Position(max(line, 1) - 1, self.codec.client_num_units(text[: max(column - 1, 0)]))

    def range(self, line: int, column: int, end_line: int, end_column: int) -> types.Range:
        return types.Range(self.position(line, column), self.position(end_line, end_column))


def diagnostic(finding: Finding, rng: types.Range) -> types.Diagnostic:
    rule = rule_meta(finding.code)
    return types.Diagnostic(
        range=rng,
        message=f"[{finding.name}] {finding.message}",
        severity=types.DiagnosticSeverity.Error if finding.severity == "error" else types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(href=rule_url(rule)) if rule is not None else None,
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary] if finding.code == UNUSED_SUPPRESSION else None,
    )


def text_edit(index: TextIndex, edit: Edit) -> types.TextEdit:
    content = edit.content
    if edit.end_line > len(index.lines) and content.endswith("\n") and not index.text.endswith(("\n", "\r")):
        # the edit ran to the end of a document (a notebook cell) that has no final newline
        content = content[:-1]
    return types.TextEdit(index.range(edit.line, edit.column, edit.end_line, edit.end_column), content)


def edits_between(index: TextIndex, new_text: str) -> list[types.TextEdit]:
    """The edits turning the document into ``new_text``, one per changed run
    of lines (so the editor keeps the cursor, folds and marks elsewhere)."""
    old_lines = split_lines(index.text)

    def at(line: int) -> types.Position:
        return types.Position(line, 0) if line < len(old_lines) else index.end()

    return [types.TextEdit(types.Range(at(start), at(end)), "".join(lines))
            for start, end, lines in line_hunks(index.text, new_text)]


def noqa_edit(index: TextIndex, line: int, code: str) -> Optional[types.TextEdit]:
    """Suppress ``code`` on ``line`` (1-based): extend the ``# noqa: ...`` or
    ``# kmlint: ignore[...]`` already on the line or at the end of its
    statement, else append ``# noqa: CODE`` to the line (or, where a comment
    cannot go, after a backslash or inside a string, to the statement's last
    line).  None when a blanket directive already covers it or no line fits."""
    directives = parse_suppressions(index.text)
    candidates = [line, directives.logical_end.get(line, line)]
    for candidate in candidates:
        for s in directives.by_line.get(candidate, ()):
            if s.codes is None or code in s.codes:
                return None
            return types.TextEdit(index.range(candidate, s.column + 1, candidate, s.end_column + 1),
                                  render_directive(s.kind, s.codes + [code]))
    open_lines = _lines_ending_in_code(index.text)
    for candidate in candidates:
        if candidate <= len(index.lines) and candidate in open_lines:
            text = index.lines[candidate - 1]
            code_end = len(text.rstrip())
            return types.TextEdit(index.range(candidate, code_end + 1, candidate, len(text) + 1),
                                  "  " + render_directive("noqa", [code]))
    return None


def _lines_ending_in_code(text: str) -> set[int]:
    """Lines where a comment may be appended: those the tokenizer ends with a
    NEWLINE/NL token (not inside a string, not continued by a backslash)."""
    rows: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL):
                rows.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass  # an unfinished buffer: the lines before the problem still count
    return rows


def hover_markdown(finding: Finding) -> str:
    """The finding's message and its rule's explanation from the dossier."""
    parts = [f"**{finding.code}** `{finding.name}`: {finding.message}"]
    rule = rule_meta(finding.code)
    if rule is not None:
        readme = rule_readme(rule)
        sections = readme_sections(readme) if readme else {}
        for title in HOVER_SECTIONS:
            if sections.get(title):
                parts.append(f"**{title}**\n\n{sections[title]}")
        parts.append(f"[{rule.code} documentation]({rule_url(rule)})")
    return "\n\n".join(parts)


def contains(rng: types.Range, pos: types.Position) -> bool:
    return (rng.start.line, rng.start.character) <= (pos.line, pos.character) <= (rng.end.line, rng.end.character)


def overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and \
        (b.start.line, b.start.character) <= (a.end.line, a.end.character)
