"""Linting one file: decode, (notebook) assemble, prefilter, parse once, build
the semantic model once, dispatch to the enabled rules, apply suppressions,
locate findings.

``lint_source`` is a pure function of (text, path, settings) so results can be
cached and computed in worker processes.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Optional

from kmlint.config import Settings
from kmlint.engine.context import RawFinding, RuleContext
from kmlint.engine import prefilter as prefilter_mod
from kmlint.engine import session as session_mod
from kmlint.engine.session import Session
from kmlint.semantics.model import build_model
from kmlint.syntax import LineIndex, parse as parse_ast, syntax_error
from kmlint.engine.notebooks import NotebookError, NotebookSource, load_notebook
from kmlint.engine.suppressions import has_directives, has_judged_directives, is_skip_file, parse_suppressions, render_directive
from kmlint.findings import Edit, Finding, Fix, SAFE
from kmlint.registry import Rule, get_rule, resolve_selection, rule_meta

PARSE_ERROR = "KM901"
UNUSED_SUPPRESSION = "KM900"
INTERNAL_ERROR = "KM000"


@dataclass
class FileResult:
    """What linting one file produced.

    ``dependencies`` is the contract between project-scope rules (KM501 follows
    imports of project modules) and the result cache: the paths of the *other*
    files whose content (or absence: a path that does not exist is fine) was
    looked at to compute this result.  The cache stores their content hashes and
    treats the entry as a miss as soon as one of them changes."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    internal_errors: int = 0
    skipped: bool = False  # prefilter said no rule can match
    error: Optional[str] = None  # the file could not be read at all
    dependencies: list[str] = field(default_factory=list)
    # kept for fixers/LSP in the same process (never pickled)
    model: object = None
    notebook: Optional[NotebookSource] = None
    text: Optional[str] = None

    def detached(self) -> "FileResult":
        """A copy without the model, safe to pickle or cache."""
        return FileResult(self.path, [f.detached() for f in self.findings], self.internal_errors, self.skipped,
                          self.error, list(self.dependencies))


# ----------------------------------------------------------------- rule selection


def enabled_codes(settings: Settings, path: str) -> set[str]:
    codes = resolve_selection(settings.select, settings.ignore, settings.extend_select, settings.preview)
    if settings.per_file_ignores:
        rel = _relative(path, settings.root)
        for pattern, sels in settings.per_file_ignores.items():
            if _glob_match(rel, pattern):
                for s in sels:
                    codes -= resolve_selection([s], preview=True)
    return codes


def _relative(path: str, root: Path) -> str:
    p = Path(path)
    try:
        return PurePosixPath(p.resolve().relative_to(root.resolve())).as_posix()
    except (ValueError, OSError):
        return PurePosixPath(p).as_posix()


def _glob_match(rel: str, pattern: str) -> bool:
    if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(PurePosixPath(rel).name, pattern):
        return True
    if pattern.endswith("/") or pattern.endswith("/**"):
        return rel.startswith(pattern.rstrip("*").rstrip("/") + "/")
    return False


_RULE_INSTANCES: dict[str, Rule] = {}


def rule_instance(code: str) -> Rule:
    inst = _RULE_INSTANCES.get(code)
    if inst is None:
        cls = get_rule(code)
        assert cls is not None
        inst = _RULE_INSTANCES[code] = cls()
    return inst


# ----------------------------------------------------------------- decoding


def decode(data: bytes) -> str:
    """Decode source bytes honouring a BOM and a PEP 263 coding cookie; raises
    UnicodeDecodeError / SyntaxError for undecodable input."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _line_col_of_offset(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col


# ----------------------------------------------------------------- main entry


def lint_bytes(data: bytes, path: str, settings: Settings, *, keep_tree: bool = False,
               prefilter: Optional[bool] = None, session: Optional[Session] = None) -> FileResult:
    is_nb = path.endswith(".ipynb")
    try:
        text = data.decode("utf-8-sig") if is_nb else decode(data)
    except UnicodeDecodeError as e:
        line, col = _line_col_of_offset(data, e.start)
        return _parse_error_result(path, settings, f"cannot decode file: {e.reason} (byte 0x{data[e.start]:02x})", line, col)
    except SyntaxError as e:  # bad coding cookie
        return _parse_error_result(path, settings, f"cannot decode file: {e.msg}", e.lineno or 1, 1)
    return lint_text(text, path, settings, keep_tree=keep_tree, prefilter=prefilter, session=session)


def lint_text(text: str, path: str, settings: Settings, *, keep_tree: bool = False,
              prefilter: Optional[bool] = None, session: Optional[Session] = None) -> FileResult:
    """The stages of one file: source -> (gate) -> parsed -> model ->
    diagnostics -> suppressions -> located findings.  ``keep_tree`` keeps the
    model, notebook and analysed text on the result (fixers, the language
    server); ``session`` is the run's (the process' current one by default)."""
    codes = enabled_codes(settings, path)
    notebook: Optional[NotebookSource] = None
    cell_errors: list[Finding] = []
    if path.endswith(".ipynb"):
        try:
            notebook = load_notebook(text)
        except NotebookError as e:
            return _parse_error_result(path, settings, str(e), e.line, e.column, codes=codes)
        source = notebook.source
    else:
        source = text
    if "\x00" in source:
        line = source.count("\n", 0, source.index("\x00")) + 1
        return _parse_error_result(path, settings, "source contains a NUL byte", line, 1, codes=codes, notebook=notebook)
    if is_skip_file(source):
        return FileResult(path, skipped=True)
    if session is None:
        session = session_mod.current()

    # ------------------------------------------------------------ gate (catalog only, no rule code)
    metas = [rule_meta(c) for c in sorted(codes) if c not in (PARSE_ERROR, UNUSED_SUPPRESSION)]
    directives = UNUSED_SUPPRESSION in codes and has_judged_directives(source)
    if prefilter is None:
        prefilter = prefilter_mod.enabled()
    if prefilter:
        evidence: dict = {}
        importer = Path(path)
        metas = [m for m in metas if prefilter_mod.may_match(m, source, evidence, importer, session)]
        if not metas and not directives:
            # nothing can match: CPython's parser still checks the syntax, so KM901 is never lost
            if syntax_error(source) is None:
                return FileResult(path, skipped=True)
    active = [rule_instance(m.code) for m in metas]

    # ------------------------------------------------------------ parse
    recovered = False
    tree = None
    try:
        tree = parse_ast(source)
    except SyntaxError as e:
        if notebook is not None:
            source, cell_errors = _parse_notebook_cells(notebook, path, codes)
        elif _newer_syntax(source):
            pass  # valid Python of a newer version: no KM901
        else:
            line, col = e.lineno or 1, max(e.offset or 1, 1)
            error = _parse_error_result(path, settings, f"cannot parse file: {e.msg or 'invalid syntax'}", line, col,
                                        codes=codes)
            recovered_source = _recover(source) if active or directives else None
            if recovered_source is None:
                return error
            source, cell_errors, recovered = recovered_source, error.findings, True
        try:
            tree = parse_ast(source)
        except (SyntaxError, RecursionError, MemoryError):
            # syntax newer than this Python (libcst reads it): the statements
            # CPython cannot parse are blanked for the model
            tree = _ast_of_newer_syntax(source)
    except (RecursionError, MemoryError) as e:
        return _parse_error_result(path, settings, f"file too deeply nested to parse ({type(e).__name__})", 1, 1, codes=codes)

    # ------------------------------------------------------------ model
    result = FileResult(path, [], 0, False)
    model = None
    index = LineIndex(source)
    if tree is not None and active:
        try:
            model = build_model(tree, source, notebook is not None, index)
        except RecursionError:
            result.findings = cell_errors + _parse_error_result(path, settings, "file too deeply nested to analyse",
                                                                1, 1, codes=codes).findings
            return result
        model.project_index = session.project

    # ------------------------------------------------------------ diagnostics
    raw: list[RawFinding] = []
    for rule in active if model is not None else ():
        ctx = RuleContext(rule, model, settings, path)
        try:
            if rule.calls:
                for name in rule.calls:
                    for call in model.calls_by_name.get(name, ()):
                        rule.check_call(call, ctx)
            if rule.wants_module():
                rule.check_module(model, ctx)
        except Exception as e:  # a rule bug must not hide other rules' findings
            result.internal_errors += 1
            result.findings.append(Finding(
                INTERNAL_ERROR, "internal-error",
                f"rule {rule.code} ({rule.name}) crashed on this file: {type(e).__name__}: {e}",
                path, severity="error",
            ))
            continue
        raw.extend(ctx.out)
    if model is not None:
        result.dependencies = sorted(model.dependencies)
    findings = _dedupe(_locate(raw, index, path))
    if recovered:
        for f in findings:
            f.fix = None  # never offer to rewrite a file that does not parse

    # ------------------------------------------------------------ suppressions, cells
    if directives or (raw and has_directives(source)):
        found = parse_suppressions(source)
        if found.by_line:
            findings = _apply_suppressions(findings, found, path, codes, source)
    if notebook is not None:
        findings = [_to_cell(f, notebook) for f in findings]
    result.findings = sorted(cell_errors + result.findings + findings, key=lambda f: f.sort_key)
    if keep_tree:
        result.model, result.notebook, result.text = model, notebook, source
    elif model is not None and hasattr(model, "close"):
        model.close()  # break the model's cycles: reference counting frees it now
    return result


# ----------------------------------------------------------------- helpers


_ERROR_AT = re.compile(r"^(?:parser error: )?error at (\d+):(\d+): ")


def _parse_error_result(path: str, settings: Settings, message: str, line: int, col: int, *,
                        codes: Optional[set[str]] = None, notebook: Optional[NotebookSource] = None) -> FileResult:
    if codes is None:
        codes = enabled_codes(settings, path)
    res = FileResult(path)
    if PARSE_ERROR in codes:
        rule = rule_meta(PARSE_ERROR)
        f = Finding(PARSE_ERROR, rule.name if rule else "parse-error", message, path, line, max(col, 1), line, max(col, 1), severity="error")
        if notebook is not None:
            f = _to_cell(f, notebook)
        res.findings.append(f)
    return res


_BRACKETS = re.compile(r"[()\[\]{}]")
_OPENING = frozenset("([{")


def _extreme(source: str) -> bool:
    """Nesting or a logical line far beyond hand-written code: brackets more
    than 100 deep, a line of over 5,000 characters, a bracketed expression of
    over 10,000, or over 1,000 backslash continuations."""
    if source.count("\\\n") > 1000 or max(map(len, source.split("\n")), default=0) > 5000:
        return True
    depth = 0
    opened_at = 0
    for m in _BRACKETS.finditer(source):  # strings and comments count too: that only costs a check
        if m.group() in _OPENING:
            if depth == 0:
                opened_at = m.start()
            depth += 1
            if depth > 100:
                return True
        elif depth > 0:
            depth -= 1
            if depth == 0 and m.start() - opened_at > 10_000:
                return True
    return depth > 0 and len(source) - opened_at > 10_000


MAX_RECOVERY_STEPS = 8
# clauses continue the compound statement above them (when it takes them)
_CLAUSES = {"else": {"if", "for", "while", "try", "async"}, "elif": {"if"}, "except": {"try"}, "finally": {"try"}}
# the clauses that may still follow each clause: a second `else`, an `elif`
# after `else` or anything after `finally` starts a new (broken) statement, so
# recovery blanks only that and keeps the intact statement above it
_FOLLOWERS = {"if": {"elif", "else"}, "elif": {"elif", "else"}, "for": {"else"}, "while": {"else"},
              "async": {"else"}, "try": {"except", "finally"}, "except": {"except", "else", "finally"},
              "else": {"finally"}, "finally": set()}


def _recover(source: str) -> Optional[str]:
    """``source`` with its broken top-level statements blanked (every line
    kept, so positions still hold), or None.

    A statement is blanked from its first line to the next top-level statement
    the tokenizer found before it lost track (an unclosed bracket or string
    makes that the end of the file), so the code that is analysed is exactly
    code of the file: findings on the intact parts survive a syntax error
    elsewhere (an editor's half-typed line), and nothing that was a string or
    inside the broken statement is ever read as code."""
    lines = _LINE_ENDINGS.split(source)  # [text, ending, text, ending, ..., last text]
    count = (len(lines) + 1) // 2
    starts = _top_level_starts(source)
    blank: set[int] = set()
    text = source
    for _ in range(MAX_RECOVERY_STEPS):
        error = syntax_error(text)
        if error is None:
            return text
        line = min(max(error.lineno or 1, 1), count)
        first = max((s for s in starts if s <= line), default=1)
        end = min((s for s in starts if s > line), default=count + 1)
        region = set(range(first, end))
        if region <= blank:
            return None  # no progress: the statements around are broken too
        blank |= region
        text = "".join(part if i % 2 or (i // 2 + 1) not in blank else "" for i, part in enumerate(lines))
    return None


def _ast_of_newer_syntax(source: str):
    """The ast of a file that libcst reads but this Python's parser does not
    (syntax of a newer Python): the statements it cannot parse are blanked,
    the rest is analysed; no KM901, since the file is valid Python."""
    text = _recover(source)
    if text is None:
        return None
    try:
        return parse_ast(text)
    except (SyntaxError, RecursionError, MemoryError):
        return None


_LINE_ENDINGS = re.compile(r"(\r\n|\r|\n)")


def _top_level_starts(source: str) -> list[int]:
    """Lines where a top-level statement starts, as far as the tokenizer gets."""
    starts: list[int] = []
    new_line = True
    after_decorator = False
    opened_by = ""  # the first word of the current top-level statement
    last_clause = ""  # its first word or the last clause that continued it
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING):
                continue
            if tok.type == tokenize.NEWLINE:
                new_line = True
                continue
            if new_line and tok.start[1] == 0 and tok.type != tokenize.ENDMARKER:
                clause = opened_by in _CLAUSES.get(tok.string, ()) and tok.string in _FOLLOWERS.get(last_clause, ())
                if clause:
                    # `else` after a `try` ends its excepts; after `if`/`for`/`while` nothing follows it
                    last_clause = "finally" if tok.string == "else" and opened_by != "try" else tok.string
                elif not after_decorator:
                    starts.append(tok.start[0])
                    opened_by = last_clause = tok.string
                after_decorator = tok.string == "@"
            new_line = False
    except tokenize.TokenError as e:
        # what follows the point where the tokenizer gave up is not trusted, but
        # a string left open at the start of a line starts a statement there
        where = e.args[1] if len(e.args) > 1 else None
        if e.args[0] == "EOF in multi-line string" and new_line and where and where[1] == 0 and not after_decorator:
            starts.append(where[0])
    except (SyntaxError, ValueError):
        pass
    return starts


def _parse_notebook_cells(nb: NotebookSource, path: str, codes: set[str]) -> tuple[str, list[Finding]]:
    """The joined notebook failed to parse: find the broken cells, report each as
    KM901 and analyse the rest with those cells blanked (positions kept).  A
    cell only a newer Python reads (libcst does) is blanked without KM901."""
    lines = nb.source.split("\n")
    errors: list[Finding] = []
    cell_first: dict[int, int] = {}
    for i, (cell, _) in enumerate(nb.line_map):
        cell_first.setdefault(cell, i)
    for cell, first in cell_first.items():
        n = sum(1 for c, _ in nb.line_map if c == cell)
        chunk = "\n".join(lines[first:first + n]) + "\n"
        error = syntax_error(chunk)
        if error is None:
            continue
        if PARSE_ERROR in codes and not _newer_syntax(chunk):
            line, col = error.lineno or 1, max(error.offset or 1, 1)
            col += nb.column_shift(first + line)
            errors.append(Finding(PARSE_ERROR, "parse-error", f"cannot parse file: {error.msg or 'invalid syntax'}",
                                  path, line, col, line, col, severity="error", cell=cell))
        for j in range(first, first + n):
            lines[j] = ""
    return "\n".join(lines), errors


def _newer_syntax(source: str) -> bool:
    """CPython rejected ``source``: does libcst, which reads the syntax of
    newer Pythons (3.12's type statements, PEP 695 generics ...), accept it?"""
    if _extreme(source):
        return False  # never hand libcst what can crash it
    from kmlint.engine.parsing import ParserSyntaxError, parse_module

    try:
        parse_module(source)
    except (ParserSyntaxError, RecursionError, MemoryError):
        return False
    return True


def _locate(raw: list[RawFinding], index: LineIndex, path: str) -> list[Finding]:
    """1-based positions of the raw findings from the model's spans."""
    out = []
    for r in raw:
        start = index.span(r.node)
        end = index.span(r.end_node) if r.end_node is not None else start
        out.append(Finding(r.rule.code, r.rule.name, r.message, path, start.line, start.col + 1,
                           end.end_line, end.end_col + 1, r.rule.severity, r.fix, None, r.node))
    return out


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.line, f.column, f.end_line, f.end_column)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _apply_suppressions(findings: list[Finding], directives, path: str, codes: set[str], source: str = "") -> list[Finding]:
    sups = directives.by_line
    kept = []
    for f in findings:
        suppressed = False
        for line in {f.line, f.end_line, directives.logical_end.get(f.line, f.line)}:
            for s in sups.get(line, ()):
                if s.matches(f.code):
                    s.used.add(f.code)
                    suppressed = True
        if not suppressed:
            kept.append(f)
    if UNUSED_SUPPRESSION not in codes:
        return kept
    rule = rule_meta(UNUSED_SUPPRESSION)
    lines = source.split("\n")
    for line, items in sups.items():
        for s in items:
            if s.codes is None:
                # a blanket "# noqa" may serve other linters; only our own blanket form is checked
                if s.kind == "kmlint" and not s.used:
                    kept.append(_unused(rule, s, path, None, lines))
                continue
            ours = [c for c in s.codes if c.startswith("KM")]
            # A code whose rule is switched off in this run cannot be judged (it
            # may be needed under the project's usual selection); unknown codes can.
            unused = [c for c in ours if c not in s.used and c != UNUSED_SUPPRESSION
                      and (c in codes or rule_meta(c) is None)]
            if unused:
                kept.append(_unused(rule, s, path, unused, lines))
    return kept


def _unused(rule, s, path: str, unused: Optional[list[str]], lines: list[str]) -> Finding:
    if unused is None:
        msg = "Unused blanket `kmlint: ignore` directive"
        remaining: list[str] = []
    else:
        msg = f"Unused suppression for {', '.join(unused)}"
        remaining = [c for c in s.codes if c not in unused]
    if remaining:
        edit = Edit(render_directive(s.kind, remaining), s.line, s.column + 1, s.line, s.end_column + 1)
    else:
        # drop the directive; drop the whole comment when it held nothing else
        only = s.comment.strip() == s.text.strip()
        start, end = (s.comment_column, s.comment_column + len(s.comment)) if only else (s.column, s.end_column)
        text = lines[s.line - 1] if s.line <= len(lines) else ""
        rest = text[end:]
        if not only and text[start:start + 1] == "#" and rest.strip() and not rest.lstrip().startswith("#"):
            # the directive opened a comment that goes on (`# noqa: KM999 see above`):
            # what follows it stays a comment
            edit = Edit("# ", s.line, start + 1, s.line, end + len(rest) - len(rest.lstrip()) + 1)
        else:
            if not rest.strip():
                start = len(text[:start].rstrip())  # no trailing whitespace left behind
            elif text[start:start + 1] == "#":
                end += len(rest) - len(rest.lstrip())  # the next comment takes the directive's place
            edit = Edit("", s.line, start + 1, s.line, end + 1)
    fix = Fix(SAFE, "Remove unused suppression", [edit])
    return Finding(rule.code, rule.name, msg, path, s.line, s.column + 1, s.line, s.end_column + 1, rule.severity, fix)


def _to_cell(f: Finding, nb: NotebookSource) -> Finding:
    if f.cell is not None:
        return f
    cell, line = nb.to_cell(f.line)
    _, end_line = nb.to_cell(f.end_line)
    if nb.shifts:  # a dedented cell or a stripped prompt: columns move back
        f.column += nb.column_shift(f.line)
        f.end_column += nb.column_shift(f.end_line)
    f.cell = cell
    f.line, f.end_line = line, max(end_line, line) if cell == nb.to_cell(f.end_line)[0] else line
    if f.fix is not None:
        _edits_to_cells(f.fix.edits, nb)
    return f


def _edits_to_cells(edits: list[Edit], nb: NotebookSource) -> None:
    for e in edits:
        if nb.shifts:
            e.column += nb.column_shift(e.line)
            e.end_column += nb.column_shift(e.end_line)
        e.cell, e.line = nb.to_cell(e.line)
        end_cell, e.end_line = nb.to_cell(e.end_line)
        if end_cell != e.cell:
            # an edit ending at the start of the next cell ends with its own cell
            e.end_line, e.end_column = sum(1 for c, _ in nb.line_map if c == e.cell) + 1, 1
