"""Fix builders of engine v2: text edits located by the model's spans.

A fix is ``Fix(applicability, description, edits=[Edit, ...])``; each builder
here turns a question about ``ast`` nodes ("put ``mmap_mode='r'`` into this
call", "insert ``del x`` after that statement") into located ``Edit``s: module
lines (1-based) and columns (1-based, code points, end exclusive), which is
what the fixer, the JSON/SARIF writers and the language server consume.  The
edits reproduce the layout libcst's transformations produced (same separators,
same indentation), so a dossier's ``fixed.py`` is still exactly what ``--fix``
makes.

Builders need the model only for its ``index`` (source text and positions) and
``tree``; rules call them with nodes the model handed out.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from kmlint.findings import Edit, Fix

if TYPE_CHECKING:  # pragma: no cover
    from kmlint.syntax import LineIndex


def _index(model) -> "LineIndex":
    return model.index


def edit(model, line: int, col: int, end_line: int, end_col: int, text: str) -> Edit:
    """An edit of the range (1-based lines, 0-based code point columns)."""
    return Edit(text, line, col + 1, end_line, end_col + 1)


def insertion(model, line: int, col: int, text: str) -> Edit:
    return edit(model, line, col, line, col, text)


# ----------------------------------------------------------------- expressions


def replace(model, node: ast.AST, text: str) -> Edit:
    """Replace the source of ``node`` with ``text``."""
    s = _index(model).span(node)
    return edit(model, s.line, s.col, s.end_line, s.end_col, text)


def delete(model, node: ast.AST) -> Edit:
    return replace(model, node, "")


def rename_attribute(model, attribute: ast.Attribute, new_name: str) -> Edit:
    """``a.b`` -> ``a.new_name`` (the attribute name is the last thing the node spans)."""
    s = _index(model).span(attribute)
    return edit(model, s.end_line, s.end_col - len(attribute.attr), s.end_line, s.end_col, new_name)


def rename_call(model, call: ast.Call, new_name: str) -> Edit:
    """The called name of ``f(..)`` / ``obj.f(..)`` renamed."""
    if isinstance(call.func, ast.Attribute):
        return rename_attribute(model, call.func, new_name)
    return replace(model, call.func, new_name)


# ----------------------------------------------------------------- call arguments


def _arguments(call: ast.Call) -> list[ast.AST]:
    """Positional arguments and keywords in source order."""
    items: list[ast.AST] = [*call.args, *call.keywords]
    items.sort(key=lambda a: (a.lineno, a.col_offset))  # type: ignore[attr-defined]
    return items


def _between(model, a: ast.AST, b: ast.AST) -> str:
    ix = _index(model)
    sa, sb = ix.span(a), ix.span(b)
    return ix.source[ix.offset(sa.end_line, sa.end_col):ix.offset(sb.line, sb.col)]


def _open_paren(model, call: ast.Call) -> tuple[int, int]:
    """(line, col) just after the call's opening parenthesis."""
    ix = _index(model)
    s = ix.span(call.func)
    pos = ix.offset(s.end_line, s.end_col)
    src = ix.source
    pos = src.index("(", pos) + 1
    return _line_col(ix, pos)


def _close_paren(model, call: ast.Call) -> tuple[int, int]:
    """(line, col) of the call's closing parenthesis."""
    ix = _index(model)
    s = ix.span(call)
    return s.end_line, s.end_col - 1


def _line_col(ix: "LineIndex", pos: int) -> tuple[int, int]:
    import bisect

    line = bisect.bisect_right(ix.starts, pos)
    return line, pos - ix.starts[line - 1]


def _separator(model, call: ast.Call, items: list[ast.AST]) -> str:
    """The text between arguments, laid out like the call's own (same line or
    one argument per line)."""
    if len(items) >= 2:
        sep = _between(model, items[0], items[1])
        if "#" not in sep and sep.strip() == ",":
            return sep
    if items:
        ix = _index(model)
        line, col = _open_paren(model, call)
        first = ix.span(items[0])
        head = ix.source[ix.offset(line, col):ix.offset(first.line, first.col)]
        if "\n" in head or "\r" in head:
            return "," + head
    return ", "


def keyword(call: ast.Call, name: str) -> Optional[ast.keyword]:
    for k in call.keywords:
        if k.arg == name:
            return k
    return None


def set_keyword(model, call: ast.Call, name: str, value: str) -> list[Edit]:
    """``call`` with ``name=value``: the existing keyword's value replaced, or
    a new keyword argument placed before the other keywords (after the
    positional ones), separated like its neighbours."""
    existing = keyword(call, name)
    if existing is not None:
        return [replace(model, existing.value, value)]
    new = f"{name}={value}"
    items = _arguments(call)
    if not items:
        line, col = _close_paren(model, call)
        return [insertion(model, line, col, new)]
    sep = _separator(model, call, items)
    first_kw = next((a for a in items if isinstance(a, (ast.keyword, ast.Starred))), None)
    ix = _index(model)
    if first_kw is not None:
        s = ix.span(first_kw)
        return [insertion(model, s.line, s.col, new + sep)]
    s = ix.span(items[-1])
    return [insertion(model, s.end_line, s.end_col, sep + new)]


def remove_argument(model, call: ast.Call, node: ast.AST) -> Edit:
    """Remove one argument (a positional expression or an ``ast.keyword``)
    with its separator."""
    items = _arguments(call)
    ix = _index(model)
    i = next(k for k, a in enumerate(items) if a is node)
    s = ix.span(node)
    if i + 1 < len(items):
        nxt = ix.span(items[i + 1])
        return edit(model, s.line, s.col, nxt.line, nxt.col, "")
    if i > 0:
        prev = ix.span(items[i - 1])
        return edit(model, prev.end_line, prev.end_col, s.end_line, s.end_col, "")
    # the only argument: drop a trailing comma too
    line, col = _close_paren(model, call)
    rest = ix.source[ix.offset(s.end_line, s.end_col):ix.offset(line, col)]
    if rest.strip() == ",":
        return edit(model, s.line, s.col, line, col, "")
    return edit(model, s.line, s.col, s.end_line, s.end_col, "")


def keep_only_arguments(model, call: ast.Call, kept: Sequence[ast.AST]) -> list[Edit]:
    """Drop every argument of ``call`` except ``kept`` (``f(x, a=1, b=2)`` ->
    ``f(x)``), a trailing comma included."""
    items = _arguments(call)
    drop = [a for a in items if not any(a is k for k in kept)]
    if not drop:
        return []
    keep = [a for a in items if any(a is k for k in kept)]
    ix = _index(model)
    if keep and all(items.index(d) > items.index(keep[-1]) for d in drop):
        # everything after the last kept argument goes, up to the parenthesis
        s = ix.span(keep[-1])
        line, col = _close_paren(model, call)
        return [edit(model, s.end_line, s.end_col, line, col, "")]
    return [remove_argument(model, call, d) for d in reversed(drop)][:1] if len(drop) == 1 else \
        [_rewrite_arguments(model, call, keep)]


def _rewrite_arguments(model, call: ast.Call, keep: Sequence[ast.AST]) -> Edit:
    ix = _index(model)
    open_line, open_col = _open_paren(model, call)
    close_line, close_col = _close_paren(model, call)
    return edit(model, open_line, open_col, close_line, close_col, ", ".join(ix.segment(a) for a in keep))


# ----------------------------------------------------------------- statements


def _statement_start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        return min(d.lineno for d in decorators)
    return node.lineno


def _lines(model, code: str, indent: str) -> str:
    eol = _index(model).line_ending()
    out = []
    for line in code.strip("\n").split("\n"):
        out.append((indent + line if line.strip() else "") + eol)
    return "".join(out)


def insert_before(model, stmt: ast.stmt, code: str) -> Edit:
    """``code`` (one or more statements) on their own lines before ``stmt``,
    indented like it."""
    ix = _index(model)
    line = _statement_start(stmt)
    return insertion(model, line, 0, _lines(model, code, ix.indentation(stmt.lineno)))


def insert_after(model, stmt: ast.stmt, code: str, indent: Optional[str] = None) -> Edit:
    """``code`` on its own lines after ``stmt`` (after the whole of a compound
    statement), indented like ``stmt`` unless ``indent`` is given."""
    ix = _index(model)
    end = stmt.end_lineno or stmt.lineno
    ind = ix.indentation(stmt.lineno) if indent is None else indent
    text = _lines(model, code, ind)
    if end < ix.line_count:
        return insertion(model, end + 1, 0, text)
    # the statement ends the file without a final line break
    last = ix.line_text(end)
    return insertion(model, end, len(last), ix.line_ending() + text.rstrip("\r\n"))


def remove_statement(model, stmt: ast.stmt) -> Edit:
    """Delete the lines of a statement that stands on lines of its own."""
    ix = _index(model)
    end = stmt.end_lineno or stmt.lineno
    if end < ix.line_count:
        return edit(model, _statement_start(stmt), 0, end + 1, 0, "")
    return edit(model, _statement_start(stmt), 0, end, len(ix.line_text(end)), "")


# ----------------------------------------------------------------- imports


def has_import(model, module_name: str) -> bool:
    for stmt in model.tree.body:
        if isinstance(stmt, ast.Import):
            if any(a.asname is None and a.name == module_name for a in stmt.names):
                return True
    return False


def add_import(model, module_name: str) -> Optional[Edit]:
    """``import module_name`` after the last top-level import (after the
    docstring when there is none, else at the top); None when the module
    already has it.  Identical edits of several fixes are applied once."""
    if has_import(model, module_name):
        return None
    body = model.tree.body
    last: Optional[ast.stmt] = None
    for i, s in enumerate(body):
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            last = s
        elif i == 0 and isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            last = s
    code = f"import {module_name}"
    if last is not None:
        return insert_after(model, last, code, indent="")
    if body:
        return insertion(model, _first_statement_line(model, body[0]), 0, _lines(model, code, ""))
    ix = _index(model)
    return insertion(model, 1, 0, _lines(model, code, "")) if ix.source else insertion(model, 1, 0, code + "\n")


def _first_statement_line(model, stmt: ast.stmt) -> int:
    return _statement_start(stmt)


# ----------------------------------------------------------------- applying


def fix(applicability: str, description: str, edits: Iterable[Optional[Edit]]) -> Fix:
    """A Fix from builder results (None entries, e.g. an import already there, are dropped)."""
    return Fix(applicability, description, None, [e for e in edits if e is not None])


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """``text`` with non-overlapping located edits applied (module lines)."""
    from kmlint.syntax import LineIndex

    ix = LineIndex(text)
    out = text
    for e in sorted(edits, key=lambda e: (e.line, e.column, e.end_line, e.end_column), reverse=True):
        a = ix.offset(e.line, e.column - 1)
        b = ix.offset(e.end_line, e.end_column - 1)
        out = out[:a] + e.content + out[b:]
    return out
