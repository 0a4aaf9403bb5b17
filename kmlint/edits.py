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


def remove_arguments(model, call: ast.Call, removed) -> list:
    """Edits dropping several arguments (positional expressions or
    ``ast.keyword``s) of one call without overlapping: each run of adjacent
    removed arguments goes with the separator before it when it ends the
    argument list (a trailing comma and the line break before ``)`` stay, as
    libcst kept them), else with the separator after it."""
    items = sorted([*call.args, *call.keywords], key=lambda a: (a.lineno, a.col_offset))
    gone = [any(a is r for r in removed) for a in items]
    ix = model.index
    out = []
    i = 0
    while i < len(items):
        if not gone[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(items) and gone[j + 1]:
            j += 1
        first, last = ix.span(items[i]), ix.span(items[j])
        if j + 1 < len(items):
            nxt = ix.span(items[j + 1])
            out.append(edit(model, first.line, first.col, nxt.line, nxt.col, ""))
        elif i > 0:
            prev = ix.span(items[i - 1])
            out.append(edit(model, prev.end_line, prev.end_col, last.end_line, last.end_col, ""))
        else:  # every argument goes
            out.extend(keep_only_arguments(model, call, []))
        i = j + 1
    return out


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


def flatten(items: Iterable) -> list[Edit]:
    """Edits from builders that return one edit, a list of them, or None."""
    out: list[Edit] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            out.extend(e for e in item if e is not None)
        else:
            out.append(item)
    return out


def fix(applicability: str, description: str, edits: Iterable[Optional[Edit]]) -> Fix:
    """A Fix from builder results (None entries, e.g. an import already there, are dropped)."""
    return Fix(applicability, description, [e for e in edits if e is not None])


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


# ----------------------------------------------------------------- moving a method call (KM1xx, portA)
# ``ds.repeat().cache()`` -> ``ds.cache().repeat()``: the text of a method call
# after its receiver (``.cache()``, with the spacing, comments and line breaks
# before its dot) is inserted after another call's receiver and removed where
# it was.  The result is what kmlint's libcst transform made of the module.


def _offset_edit(model, start: int, end: int, content: str) -> Edit:
    """An edit of the source range [start, end) (indexes into the source text)."""
    ix = _index(model)
    return edit(model, *_line_col(ix, start), *_line_col(ix, end), content)


def _end_offset(model, node: ast.AST) -> int:
    ix = _index(model)
    span = ix.span(node)
    return ix.offset(span.end_line, span.end_col)


def _after_closing_parens(source: str, pos: int) -> int:
    """The index just after the parentheses that close around an expression
    ending at ``pos`` (``(ds)`` in ``(ds).cache()``), or ``pos`` without any."""
    last, i, n = pos, pos, len(source)
    while i < n:
        c = source[i]
        if c in " \t\f\r\n\\":
            i += 1
        elif c == "#":
            i = source.find("\n", i)
            if i < 0:
                break
        elif c == ")":
            i += 1
            last = i
        else:
            break
    return last


def _after_receiver(model, call: ast.Call) -> int:
    return _after_closing_parens(_index(model).source, _end_offset(model, call.func.value))  # type: ignore[attr-defined]


def _block_of(model, stmt: ast.stmt) -> tuple[Optional[ast.AST], list]:
    """(owner, statement list) of the block holding ``stmt``."""
    for owner in ast.walk(model.tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(owner, name, None)
            if isinstance(block, list) and any(s is stmt for s in block):
                return owner, block
    return None, []


def _last_block(model, stmt: ast.stmt) -> list:
    """The statements of the last indented block of a compound statement."""
    if isinstance(stmt, ast.If) and stmt.orelse:
        first = stmt.orelse[0]
        if (len(stmt.orelse) == 1 and isinstance(first, ast.If)
                and _index(model).line_text(first.lineno).lstrip().startswith("elif")):
            return _last_block(model, first)
        return stmt.orelse
    if isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        return stmt.finalbody or stmt.orelse or (stmt.handlers[-1].body if stmt.handlers else stmt.body)
    if isinstance(stmt, getattr(ast, "Match", ())) and stmt.cases:  # type: ignore[arg-type]
        return stmt.cases[-1].body  # type: ignore[attr-defined]
    return getattr(stmt, "orelse", None) or getattr(stmt, "body", None) or []


def _footer_indent(model, stmt: ast.stmt) -> Optional[str]:
    """The indentation of a compound statement's last block (comment lines after
    it at that depth belong to the block), None for simple statements and
    one-line suites (``if x: y``)."""
    block = _last_block(model, stmt)
    if not block or not isinstance(block[0], ast.stmt):
        return None
    span = _index(model).span(block[0])
    indent = _index(model).indentation(span.line)
    return indent if indent and len(indent) == span.col else None


def _is_blank_or_comment(text: str) -> bool:
    stripped = text.strip()
    return not stripped or stripped.startswith("#")


def _removed_lines(model, stmt: ast.stmt) -> tuple[int, int]:
    """The lines (1-based, inclusive) removing a simple statement takes: its own
    lines and the blank and comment lines above it that libcst counts as its
    ``leading_lines`` (not the module's header, not a previous block's footer)."""
    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
    owner, block = _block_of(model, stmt)
    i = next((k for k, s in enumerate(block) if s is stmt), 0)
    if isinstance(owner, ast.Module) and i == 0:
        return first, last  # comments above the first statement are the module's header
    line = first - 1
    run: list[int] = []
    while line >= 1 and _is_blank_or_comment(_index(model).line_text(line)):
        run.append(line)
        line -= 1
    run.reverse()
    if i > 0 and run:
        indent = _footer_indent(model, block[i - 1])
        if indent:
            owned = [k for k, ln in enumerate(run) if _index(model).line_text(ln).startswith(indent)]
            if owned:
                run = run[owned[-1] + 1:]
    return (run[0] if run else first), last


def _statement_removal(model, stmt: ast.stmt) -> Edit:
    first, last = _removed_lines(model, stmt)
    start = _index(model).offset(first, 0)
    if last < _index(model).line_count:
        end = _index(model).offset(last + 1, 0)
    else:  # the file's last line, without a line break: the one before goes
        end = len(_index(model).source)
        if first > 1:
            start = _index(model).offset(first - 1, len(_index(model).line_text(first - 1)))
    return _offset_edit(model, start, end, "")


def move_method_call(model, moved: ast.Call, target: ast.Call,
                     drop_statement: Optional[ast.stmt] = None) -> list[Edit]:
    """Move the method call ``moved`` (``r.m(args)``) so that it applies just before
    the method call ``target``: ``x.t(..)`` becomes ``x.m(args).t(..)`` and where
    ``moved`` stood only its receiver ``r`` remains.  ``drop_statement`` (a line
    such as ``ds = ds.m(args)``, alone on its lines) is removed instead of being
    left as ``ds = ds``, with the comment lines above it."""
    source = _index(model).source
    cut, end = _after_receiver(model, moved), _end_offset(model, moved)
    at = _after_receiver(model, target)
    edits = [_offset_edit(model, at, at, source[cut:end])]
    if drop_statement is None:
        edits.append(_offset_edit(model, cut, end, ""))
    else:
        edits.append(_statement_removal(model, drop_statement))
    return edits


# ----------------------------------------------------------------- line hunks
# A fix is applied as line hunks: (start, end, new_lines) replaces the 0-based
# line range [start, end) of the current text.  Comparing hunks lets several
# fixes go into one pass without node identity (which libcst does not keep
# across transformations) and maps fixes back onto notebook cells.


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\\n" only (libcst's notion of a line;
    str.splitlines would also split on form feeds and other separators)."""
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def line_hunks(old: str, new: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """The minimal line replacements turning ``old`` into ``new``."""
    import difflib

    a, b = split_lines(old), split_lines(new)
    # trim the common ends first: most fixes touch a few lines of a long file
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    mid_a, mid_b = a[head:len(a) - tail], b[head:len(b) - tail]
    hunks = []
    matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            hunks.append((head + i1, head + i2, tuple(mid_b[j1:j2])))
    return hunks
