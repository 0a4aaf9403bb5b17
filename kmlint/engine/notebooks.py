"""Jupyter notebooks as one Python module, read the way IPython reads cells.

Code cells are joined in cell order so names flow across cells like in the
kernel.  Each cell first goes through the same steps as IPython's input
transformers (``IPython.core.inputtransformer2.TransformerManager``, which is
not imported here: it is the oracle of the tests only):

* cleanup: a cell whose first line is indented is dedented by that indentation,
  ``>>>``/``...`` and ``In [n]:``/``...:`` prompts are stripped;
* a cell magic (the first line starts with ``%%``): the magic line becomes
  ``pass``; the body stays Python for the magics that run it in the kernel
  (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``, ``%%debug``) and is
  blanked for the others (``%%bash``, ``%%writefile``, ``%%html`` ...);
* at the start of a logical line (blocks included), an escaped command ``%magic``,
  ``!shell``, ``!!shell``, ``?obj``/``??obj``, ``,f a b``/``;f a b``/``/f a b``
  (auto-call), with its backslash continuation lines: the first line becomes
  ``pass`` at the same indentation, the continuation lines become empty
  (``%time stmt`` / ``%timeit [options] stmt`` keep ``stmt`` at its columns
  behind ``pass;``, as IPython runs it in the kernel);
* ``x = !cmd`` / ``x = %magic``: the right-hand side becomes ``None``;
* ``obj?`` / ``obj??`` help at the end of a logical line: the line becomes ``pass``;
* automagic: a cell of one line such as ``pip install x`` that is not Python
  (the kernel runs it as ``%pip install x``) becomes ``pass``.

A replacement is a statement of the same shape, so a block whose body is only a
magic (``if IN_COLAB:`` / ``    %pip install x``) stays a block, and every other
line keeps its line and columns.  The only column changes are the cleanup's
(removed indentation or prompt), recorded per line as a shift.

A line table maps module lines back to (cell index, line in cell).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Optional


class NotebookError(ValueError):
    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass
class NotebookSource:
    source: str
    # module line (1-based) -> (cell index into nb["cells"], 1-based line in cell)
    line_map: list[tuple[int, int]] = field(default_factory=list)
    cell_sources: dict[int, str] = field(default_factory=dict)  # raw code cell text by cell index
    data: Optional[dict] = None
    # module line (1-based) -> columns removed at its start (a dedented cell, a prompt)
    shifts: dict[int, int] = field(default_factory=dict)

    def to_cell(self, line: int) -> tuple[Optional[int], int]:
        if 1 <= line <= len(self.line_map):
            return self.line_map[line - 1]
        if self.line_map:
            cell, cell_line = self.line_map[-1]
            return cell, cell_line + (line - len(self.line_map))
        return None, line

    def column_shift(self, line: int) -> int:
        """Columns to add to a module column on this module line to get the cell's column."""
        return self.shifts.get(line, 0)


# ----------------------------------------------------------------- cell transformation

# cell magics whose body is Python run in the kernel's namespace
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_ESCAPES = frozenset("!?%,;/")
# IPython's default line magics and shell aliases (callable without % by automagic)
AUTOMAGICS = frozenset("""
alias alias_magic autoawait autocall automagic bookmark cat cd colors conda config cp debug dhist dirs
doctest_mode ed edit env gui hist history killbgscripts ldir lf lk ll load load_ext loadpy logoff logon
logstart logstate logstop ls lsmagic lx macro magic matplotlib mamba micromamba mkdir mv notebook page
pastebin pdb pdef pdoc pfile pinfo pinfo2 pip popd pprint precision prun psearch psource pushd pwd pycat
pylab quickref recall rehashx reload_ext rep rerun reset reset_selective rm rmdir run save sc set_env sx
system tb time timeit unalias unload_ext uv who who_ls whos xdel xmode
""".split())
_AUTOMAGIC_LINE = re.compile(r"([\w*.]+)(.*)$")
_HELP_END = re.compile(r"(%{0,2}(?!\d)[\w*]+(\.(?!\d)[\w*]+|\[-?[0-9]+\])*)(\?\??)$")
_CELL_MAGIC_HELP = re.compile(r"%%\w+\?")
_CLASSIC_PROMPT = re.compile(r"^(>>>|\.\.\.)( |$)")
_CLASSIC_FIRST = re.compile(r"^>>>( |$)")
_IPYTHON_PROMPT = re.compile(r"^(((\[nav\]|\[ins\])? )?In \[\d+\]: |\s*\.{3,}: ?)")
# a cell may hold IPython syntax only if one of these is present
_MAYBE_SPECIAL = re.compile(r"^[ \t\f]*[!?%,;/]|\?|=[ \t]*[!%]")
_WORD = re.compile(r"\w+")
_STRING_START = re.compile(r"([rRbBuUfF]{0,2})('''|\"\"\"|'|\")")
_SINGLE_END = {"'": re.compile(r"(?:[^'\\]|\\.)*'"), '"': re.compile(r'(?:[^"\\]|\\.)*"')}
_TRIPLE_END = {"'''": re.compile(r"(?:[^\\]|\\.)*?'''", re.S), '"""': re.compile(r'(?:[^\\]|\\.)*?"""', re.S)}
_STRING_PREFIXES = frozenset({"", "r", "u", "b", "f", "br", "rb", "fr", "rf"})
_OPERATOR_BEFORE_EQ = frozenset("=!<>+-*/%@&|^:")


def _compiles(code: str, mode: str = "exec") -> bool:
    try:
        compile(code, "<cell>", mode, dont_inherit=True)
        return True
    except (SyntaxError, ValueError, OverflowError):
        return False
    except Warning:  # a SyntaxWarning turned into an error by -W error
        return True


class _Token:
    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind: str, text: str, line: int, col: int):
        self.kind, self.text, self.line, self.col = kind, text, line, col


def _logical_line(lines: list[str], first: int, start_col: int) -> tuple[int, list[_Token]]:
    """Tokens of the logical line starting at ``lines[first][start_col:]`` and the
    index of its last physical line.  Strings (triple-quoted ones over lines),
    comments, brackets and backslash continuations are followed the way Python's
    tokenizer does; an unterminated single-quoted string is one stray quote (as
    tokenize's ERRORTOKEN), an unterminated triple-quoted string runs to the end."""
    tokens: list[_Token] = []
    depth = 0
    i, pos = first, start_col
    n = len(lines)
    while i < n:
        line = lines[i]
        length = len(line)
        continued = False
        while pos < length:
            ch = line[pos]
            if ch in " \t\f":
                pos += 1
                continue
            if ch == "#":
                tokens.append(_Token("comment", line[pos:], i, pos))
                break
            if ch == "\\" and pos == length - 1:
                continued = True
                break
            m = _STRING_START.match(line, pos) if ch in "'\"rRbBuUfF" else None
            if m is not None and m.group(1).lower() in _STRING_PREFIXES:
                quote = m.group(2)
                body_start = m.end()
                if len(quote) == 3:
                    j, end = _triple_end(lines, i, body_start, quote)
                    tokens.append(_Token("string", quote, i, pos))
                    if j is None:
                        return n - 1, tokens  # EOF in a multi-line string: the line runs to the end
                    i, pos, line, length = j, end, lines[j], len(lines[j])
                    continue
                j, end = _single_end(lines, i, body_start, quote)
                if j is None:  # unterminated: a stray quote, like tokenize's ERRORTOKEN
                    tokens.append(_Token("other", ch, i, pos))
                    pos += 1
                    continue
                if end < 0:
                    if j >= n:  # EOF inside a string continued with backslashes
                        tokens.append(_Token("string", quote, i, pos))
                        return n - 1, tokens
                    # continued with backslashes, then not closed: tokenize makes the
                    # whole of it one error token and reads on at the next line, in the
                    # same logical line
                    tokens.append(_Token("other", quote, i, pos))
                    i, pos = j + 1, 0
                    if i >= n:
                        return n - 1, tokens
                    line, length = lines[i], len(lines[i])
                    continue
                tokens.append(_Token("string", quote, i, pos))
                i, pos, line, length = j, end, lines[j], len(lines[j])
                continue
            if ch.isalnum() or ch == "_" or ord(ch) > 127:
                m = _WORD.match(line, pos)
                end = m.end() if m is not None and m.end() > pos else pos + 1
                tokens.append(_Token("name", line[pos:end], i, pos))
                pos = end
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(depth - 1, 0)
            elif ch == "=":
                nxt = line[pos + 1] if pos + 1 < length else ""
                prev = line[pos - 1] if pos > 0 else ""
                if nxt == "=":
                    tokens.append(_Token("op", "==", i, pos))
                    pos += 2
                    continue
                if prev in _OPERATOR_BEFORE_EQ and tokens and tokens[-1].line == i and tokens[-1].col == pos - 1:
                    tokens[-1].text += "="  # part of an augmented assignment or comparison
                    pos += 1
                    continue
            elif ch == "!" and pos + 1 < length and line[pos + 1] == "=":
                tokens.append(_Token("op", "!=", i, pos))
                pos += 2
                continue
            tokens.append(_Token("op", ch, i, pos))
            pos += 1
        if continued or depth > 0:
            i, pos = i + 1, 0
            continue
        return i, tokens
    return n - 1, tokens


def _triple_end(lines: list[str], i: int, pos: int, quote: str) -> tuple[Optional[int], int]:
    pattern = _TRIPLE_END[quote]
    while i < len(lines):
        m = pattern.match(lines[i], pos)
        if m is not None:
            return i, m.end()
        # a backslash at the end of a line escapes the newline; nothing else spans lines
        i, pos = i + 1, 0
    return None, 0


def _single_end(lines: list[str], i: int, pos: int, quote: str) -> tuple[Optional[int], int]:
    """Where a single-quoted string ends: (line, column after it); (None, 0)
    when it is not closed on its own line (a stray quote); (line, -1) when it
    went on over backslash-newlines and was not closed on that line (``len(lines)``:
    the cell ended inside it)."""
    pattern = _SINGLE_END[quote]
    first = i
    while True:
        m = pattern.match(lines[i], pos)
        if m is not None:
            return i, m.end()
        line = lines[i]
        # a backslash-newline inside a single-quoted string continues it
        tail = line[pos:]
        if tail.endswith("\\") and (len(tail) - len(tail.rstrip("\\"))) % 2 == 1:
            if i + 1 >= len(lines):
                return len(lines), -1
            i, pos = i + 1, 0
            continue
        return (None, 0) if i == first else (i, -1)


def _continued_end(lines: list[str], i: int) -> int:
    """The last physical line of a line continued with backslashes (IPython's rule)."""
    while lines[i].endswith("\\") and i + 1 < len(lines):
        i += 1
    return i


def _assembled(lines: list[str], i: int, col: int, end: int) -> str:
    parts = [lines[i][col:]] + lines[i + 1:end + 1]
    return " ".join([p.rstrip()[:-1] for p in parts[:-1]] + [parts[-1].rstrip()])


def _autocall(escape: str, content: str) -> str:
    """The call IPython makes of an auto-call escape (``,`` ``;`` ``/``)."""
    name, _, args = content.partition(" ")
    if escape == ",":
        return '%s("%s")' % (name, '", "'.join(args.split()))
    if escape == ";":
        return '%s("%s")' % (name, args)
    return "%s(%s)" % (name, ", ".join(args.split()))


_TIMEIT_VALUE_OPTIONS, _TIMEIT_FLAGS = "nrp", "tcqo"


def _timed_statement(text: str) -> Optional[int]:
    """For the argument text of ``%time``/``%timeit`` (after the magic name), the
    offset where the timed statement starts, or None when there is none."""
    pos = 0
    length = len(text)
    while True:
        while pos < length and text[pos] in " \t":
            pos += 1
        if pos >= length:
            return None
        if text[pos] != "-" or pos + 1 >= length or not text[pos + 1].isalpha():
            return pos
        # an option cluster: flags, or a value option taking the rest of the word or the next word
        j = pos + 1
        while j < length and text[j] in _TIMEIT_FLAGS:
            j += 1
        if j < length and text[j] in _TIMEIT_VALUE_OPTIONS:
            j += 1
            if j >= length or text[j] in " \t":
                while j < length and text[j] in " \t":
                    j += 1
            while j < length and text[j] not in " \t":
                j += 1
        elif j < length and text[j] not in " \t":
            return pos  # not an option of %timeit: the statement (e.g. -x)
        pos = j


_ENV_ARGS = re.compile(r"[ \t]*(\w+)[ \t]*(?:=|[ \t])[ \t]*(.*?)[ \t]*$")


def _escaped_line(line: str, indent: str, content_col: int, assembled: str) -> Optional[str]:
    """The replacement of the first line of an escaped command, or None when
    IPython's own replacement would not compile (the line is then left as is)."""
    escape = assembled[:2] if assembled[:2] in ("!!", "??") else assembled[:1]
    content = assembled[len(escape):]
    if escape in (",", ";", "/"):
        call = _autocall(escape, content)
        return indent + "pass" if _compiles(call, "eval") else None
    if escape == "%" and not line.endswith("\\"):
        name, sep, args = content.partition(" ")
        if name in ("env", "set_env") and sep:
            # IPython sets os.environ: the same statement in Python, so the model
            # sees the variable (CUDA_VISIBLE_DEVICES, TF_FORCE_GPU_ALLOW_GROWTH)
            m = _ENV_ARGS.match(args)
            if m:
                value = m.group(2)
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                stmt = f"__import__('os').environ[{m.group(1)!r}] = {value!r}"
                if _compiles(stmt):
                    return indent + stmt
        if name in ("time", "timeit") and sep:
            offset = _timed_statement(args) if name == "timeit" else len(args) - len(args.lstrip(" \t"))
            if offset is not None and offset < len(args):
                stmt_col = content_col + 1 + len(name) + 1 + offset
                stmt = line[stmt_col:]
                if stmt.strip() and _compiles("pass;" + stmt):
                    return indent + "pass;" + " " * (stmt_col - len(indent) - 5) + stmt
    return indent + "pass"


def _cleanup(lines: list[str]) -> tuple[list[str], list[int], int]:
    """IPython's cleanup transforms (leading empty lines kept as they are):
    returns the lines, the columns removed from each, and the first non-empty line."""
    shifts = [0] * len(lines)
    first = next((k for k, line in enumerate(lines) if line and not line.isspace()), None)
    if first is None:
        return lines, shifts, 0
    lines = list(lines)
    m = re.match(r"[ \t]+", lines[first])
    if m:
        space = m.group(0)
        for k in range(first, len(lines)):
            if lines[k].startswith(space):
                lines[k] = lines[k][len(space):]
                shifts[k] += len(space)
    for initial, prompt in ((_CLASSIC_FIRST, _CLASSIC_PROMPT), (_IPYTHON_PROMPT, _IPYTHON_PROMPT)):
        if initial.match(lines[first]) or (first + 1 < len(lines) and prompt.match(lines[first + 1])):
            for k in range(first, len(lines)):
                m = prompt.match(lines[k])
                if m:
                    lines[k] = lines[k][m.end():]
                    shifts[k] += m.end()
    return lines, shifts, first


def _maybe_special(lines: list[str]) -> bool:
    """A quick look: can the cell hold anything IPython transforms?"""
    first = next((k for k, line in enumerate(lines) if line and not line.isspace()), None)
    if first is None:
        return False
    if lines[first][0] in " \t":
        return True
    for k in (first, first + 1):
        if k < len(lines) and (_CLASSIC_PROMPT.match(lines[k]) or _IPYTHON_PROMPT.match(lines[k])):
            return True
    search = _MAYBE_SPECIAL.search
    return any(search(line) for line in lines)


def transform_lines(lines: list[str]) -> tuple[list[str], list[int]]:
    """The cell's lines (no line ends) as Python: the same number of lines, each
    IPython construct replaced by a same-shape statement (see the module's
    docstring).  Also returns, per line, the columns removed at its start."""
    if not _maybe_special(lines):
        last = len(lines) - 1
        if lines and lines[last] and (last == 0 or not lines[last - 1].strip()) and _automagic(lines[last]) \
                and not any(line.strip() for line in lines[:last]):
            return lines[:last] + ["pass"], [0] * len(lines)
        return lines, [0] * len(lines)
    lines, shifts, first = _cleanup(lines)
    if lines[first].startswith("%%") and not _CELL_MAGIC_HELP.match(lines[first]):
        name = lines[first][2:].rstrip().partition(" ")[0]
        out = lines[:first] + ["pass"]
        if name in PYTHON_CELL_MAGICS:
            body, body_shifts = transform_lines(lines[first + 1:])
            return out + body, shifts[:first + 1] + [a + b for a, b in zip(shifts[first + 1:], body_shifts)]
        return out + [""] * (len(lines) - first - 1), shifts
    out = _transform_statements(lines)
    if len(lines) - first == 1 and out[first] == lines[first] and _automagic(lines[first]):
        out[first] = "pass"
    return out, shifts


def _automagic(line: str) -> bool:
    """IPython's automagic, which the kernel applies to a cell of one line (after
    the transformers): ``pip install x`` runs ``%pip install x``.  Only taken
    when the line is not Python anyway (a name bound in the kernel would make
    IPython read it as Python, which kmlint cannot know)."""
    m = _AUTOMAGIC_LINE.match(line)
    if m is None or m.group(1) not in AUTOMAGICS:
        return False
    rest = m.group(2).lstrip()
    if rest.startswith("=") and not rest.startswith("=="):
        return False  # an assignment: IPython reads it as Python
    return not _compiles(line)


def _transform_statements(lines: list[str]) -> list[str]:
    out = list(lines)
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        stripped = line.lstrip(" \t\f")
        if not stripped or stripped[0] == "#":
            i += 1
            continue
        col = len(line) - len(stripped)
        indent = line[:col]
        if stripped[0] in _ESCAPES:
            end, tokens = _logical_line(lines, i, col)
            last = tokens[-1] if tokens else None
            if last is not None and last.text == "?" and _help_target(lines, i, col, last):
                out[i] = indent + "pass"  # help (`%magic?`, `!ls?`) wins over the escape
            else:
                end = _continued_end(lines, i)
                replacement = _escaped_line(line, indent, col, _assembled(lines, i, col, end))
                if replacement is None:
                    i = end + 1
                    continue
                out[i] = replacement
            for k in range(i + 1, end + 1):
                out[k] = ""
            i = end + 1
            continue
        end, tokens = _logical_line(lines, i, col)
        last = tokens[-1] if tokens else None
        if last is not None and last.text == "?" and last.kind == "op" and _help_target(lines, i, col, last):
            out[i] = indent + "pass"
            for k in range(i + 1, end + 1):
                out[k] = ""
            i = end + 1
            continue
        assign = _special_assignment(tokens)
        if assign is not None:
            k, start = assign.line, assign.col
            rhs_end = _continued_end(lines, k)
            out[k] = lines[k][:start] + "None"
            for j in range(k + 1, rhs_end + 1):
                out[j] = ""
            end = rhs_end  # IPython reads on after the command's own lines
        i = end + 1
    return out


def _help_target(lines: list[str], i: int, col: int, question: _Token) -> bool:
    """IPython's help-end rule: the logical line ends with ``name?``/``name??``."""
    piece = "\n".join(lines[i:question.line + 1])[col:]
    return _HELP_END.search(piece) is not None


def _special_assignment(tokens: list[_Token]) -> Optional[_Token]:
    """``x = !cmd`` / ``x = %magic``: the ``!``/``%`` token after the first
    top-level ``=``, like IPython's SystemAssign and MagicAssign."""
    depth = 0
    for k, tok in enumerate(tokens):
        text = tok.text
        if tok.kind == "op":
            if text == "=" and depth == 0:
                if k + 1 >= len(tokens):
                    return None
                nxt = tokens[k + 1]
                if nxt.kind == "op" and nxt.text == "%" and k + 2 < len(tokens) and tokens[k + 2].kind == "name" \
                        and (tokens[k + 2].text[0].isalpha() or tokens[k + 2].text[0] == "_"):
                    return nxt
                if nxt.kind == "op" and nxt.text == "!" and k > 0:
                    return nxt
                return None
            if text in "([{":
                depth += 1
            elif text in ")]}":
                depth = max(depth - 1, 0)
    return None


def transform_cell(source: str) -> str:
    """A cell's text as the Python kmlint analyses (same lines, see transform_lines)."""
    lines = source.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    new, _ = transform_lines([line.rstrip("\r") for line in lines])
    return "".join(line + "\n" for line in new)


# ----------------------------------------------------------------- notebooks


def cell_text(cell: dict, index: Optional[int] = None) -> str:
    src = cell.get("source", "")
    where = f"cell {index + 1}" if index is not None else "a cell"
    if isinstance(src, list):
        bad = next((i for i, part in enumerate(src) if not isinstance(part, str)), None)
        if bad is not None:
            raise NotebookError(f"{where}: source list item {bad} is {_json_kind(src[bad])}, not a string")
        src = "".join(src)
    if not isinstance(src, str):
        raise NotebookError(f"{where}: source is {_json_kind(src)}, neither a string nor a list of strings")
    return src


def _json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string"


def load_notebook(text: str) -> NotebookSource:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"notebook is not valid JSON: {e.msg}", e.lineno, e.colno) from None
    except RecursionError:
        raise NotebookError("notebook JSON is nested too deeply to read") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise NotebookError("notebook JSON has no 'cells' list")
    metadata = data.get("metadata")
    lang = (metadata.get("kernelspec", {}) if isinstance(metadata, dict) else {}) or {}
    if isinstance(lang, dict) and lang.get("language") not in (None, "python", "Python"):
        return NotebookSource("", [], {}, data)
    out_lines: list[str] = []
    line_map: list[tuple[int, int]] = []
    cell_sources: dict[int, str] = {}
    shifts: dict[int, int] = {}
    for idx, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {idx} is not an object")
        if cell.get("cell_type") != "code":
            continue
        src = cell_text(cell, idx)
        cell_sources[idx] = src
        lines = src.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        new, cell_shifts = transform_lines([line.rstrip("\r") for line in lines])
        for i, line in enumerate(new):
            out_lines.append(line)
            line_map.append((idx, i + 1))
            if cell_shifts[i]:
                shifts[len(out_lines)] = cell_shifts[i]
    source = "\n".join(out_lines) + ("\n" if out_lines else "")
    return NotebookSource(source, line_map, cell_sources, data, shifts)
