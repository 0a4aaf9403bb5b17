"""Applying fixes: ``fix_source`` (pure, text in and text out; the language
server calls it too) and ``fix_file`` (encoding, notebooks on disk, atomic
writes).

A fix is a list of located text edits (kmlint/edits.py).  Like Ruff we
iterate: lint, turn every applicable fix into line hunks against the current
text, apply in one pass the fixes whose hunks do not conflict (in position
order, then by code), lint again for the rest, until nothing is left to fix or
``MAX_ITERATIONS`` passes.  Identical hunks (two fixes both adding ``import
math``) are shared.

Notebooks are fixed on the module kmlint analyses (code cells joined, magics
neutralised); the changed lines are written back into their cells, unchanged
lines are copied from the original cell source (so magics survive), and the
rest of the notebook JSON is kept as it was.
"""

from __future__ import annotations

import bisect
import difflib
import io
import json
import os
import re
import stat
import tempfile
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from kmlint.config import Settings
from kmlint.engine.linter import FileResult, lint_bytes, lint_text
from kmlint.engine.notebooks import NotebookSource, cell_text
from kmlint.engine import guard
from kmlint.engine.paths import TooLarge, printable, read_regular
from kmlint.findings import SAFE, UNSAFE, Finding
from kmlint.syntax import syntax_error
from kmlint.edits import split_lines

MAX_ITERATIONS = 100

Hunk = tuple[int, int, tuple[str, ...]]  # replace lines [start, end) with the new lines


@dataclass
class FixOutcome:
    text: str  # the fixed file text (a .ipynb: the whole notebook JSON)
    applied: list[Finding] = field(default_factory=list)  # as located when their fix was applied
    remaining: list[Finding] = field(default_factory=list)  # after the last re-lint
    error: Optional[str] = None  # fixing was abandoned; text is then the input text
    warnings: list[str] = field(default_factory=list)
    original: str = field(default="", repr=False)

    @property
    def changed(self) -> bool:
        return self.text != self.original


# ----------------------------------------------------------------- fix_source


def fix_source(text: str, path: str, settings: Settings, *, unsafe: bool = False,
               only: Optional[set[str]] = None) -> FixOutcome:
    """Apply every safe fix (and unsafe ones with ``unsafe``) to ``text``;
    ``only`` restricts fixing to those rule codes (all enabled rules still run,
    e.g. KM900 needs them to know which suppressions are used)."""
    allowed = _Allowed({SAFE, UNSAFE} if unsafe else {SAFE}, only)
    current = text
    result = first = lint_text(current, path, settings, keep_tree=True)
    outcome = FixOutcome(text, original=text)
    seen_texts = {hash(current)}
    for _ in range(MAX_ITERATIONS):
        if result.text is None:
            break
        batch = _choose(result, allowed, outcome.warnings)
        if not batch:
            break
        new = _apply(result, current, [h for _, hunks in batch for h in hunks])
        broken = _syntax_error(new, result)
        if broken is not None:
            culprit = _first_breaking(result, current, batch) or batch[0][0]
            return FixOutcome(text, [], [f.detached() for f in first.findings],
                              f"the fix for {culprit.code} at {_where(culprit)} produced code that does not parse "
                              f"({broken}); file left unchanged", outcome.warnings, text)
        outcome.applied.extend(f.detached() for f, _ in batch)
        if hash(new) in seen_texts:  # fixes undoing each other
            outcome.warnings.append("fixes did not converge (they undo each other); stopped")
            current = new
            result = lint_text(current, path, settings, keep_tree=True)
            break
        seen_texts.add(hash(new))
        current = new
        result = lint_text(current, path, settings, keep_tree=True)
    else:
        if _choose(result, allowed, []):
            outcome.warnings.append(f"fixes did not converge after {MAX_ITERATIONS} passes")
    outcome.text = current
    outcome.remaining = [f.detached() for f in result.findings]
    outcome.warnings = list(dict.fromkeys(outcome.warnings))  # each pass retries (and re-reports) skipped fixes
    return outcome


def _where(f: Finding) -> str:
    if f.cell is not None:
        return f"cell {f.cell + 1}, line {f.line}"
    return f"line {f.line}"


def _module_lines(result: FileResult) -> list[str]:
    # the linted source is the module's code (kept by lint_text); generating it would cost a walk
    return split_lines(result.text or "")


def _module_line_finder(nb: Optional[NotebookSource]):
    """A function giving the 1-based module line of a (cell, line) position."""
    if nb is None:
        return lambda cell, line: line
    index = {pos: i + 1 for i, pos in enumerate(nb.line_map)}
    return lambda cell, line: line if cell is None else index.get((cell, line))


@dataclass
class _Allowed:
    applicability: set[str]
    codes: Optional[set[str]]

    def __contains__(self, f: Finding) -> bool:
        return f.fix is not None and f.fix.applicability in self.applicability and \
            (self.codes is None or f.code in self.codes)


def _candidates(result: FileResult, allowed: _Allowed, warnings: list[str]) -> list[tuple[tuple, Finding, list[Hunk]]]:
    """Every applicable fix of this pass as hunks, in position order, then by code."""
    out = []
    module_line = _module_line_finder(result.notebook)
    for f in result.findings:
        if f not in allowed:
            continue
        start = module_line(f.cell, f.line)
        hunks = _edit_hunks(_module_lines(result), f, module_line) if start is not None and f.fix.edits else []
        if hunks and result.notebook is not None and not _fits_cells(hunks, result):
            warnings.append(f"the fix for {f.code} at {_where(f)} spans notebook cells or IPython "
                            "magics; not applied")
            continue
        if hunks:
            out.append(((start, f.column, f.code), f, hunks))
    out.sort(key=lambda c: c[0])
    return out


def _edit_hunks(lines: list[str], f: Finding, module_line) -> list[Hunk]:
    """Column edits (1-based, end exclusive) as hunks over the lines they touch:
    one per group of edits on the same or overlapping lines, so a fix whose
    edits lie in different notebook cells (a chain step moved from one cell to
    another) gives one hunk per cell."""
    located = []
    for e in f.fix.edits:
        cell = e.cell if e.cell is not None else f.cell
        line = module_line(cell, e.line)
        end_line = module_line(cell, e.end_line)
        end_col = e.end_column
        if end_col == 1 and e.end_line > e.line:
            # the start of a line is the end of the one before: whole removed
            # lines (also the last of the file or of a cell) touch no further line
            before = module_line(cell, e.end_line - 1)
            if before is not None and 1 <= before <= len(lines) and lines[before - 1].endswith("\n"):
                end_line, end_col = before, len(lines[before - 1]) + 1
        if line is None or end_line is None:
            return []
        located.append((line, e.column, end_line, end_col, e.content))
    located.sort()
    groups: list[list[tuple]] = []
    for edit in located:
        if groups and edit[0] <= max(x[2] for x in groups[-1]):
            groups[-1].append(edit)
        else:
            groups.append([edit])
    hunks = []
    for group in groups:
        hunk = _group_hunk(lines, group)
        if hunk is None:
            return []
        if hunk[2] != tuple(lines[hunk[0]:hunk[1]]):
            hunks.append(hunk)
    return hunks


def _group_hunk(lines: list[str], located: list[tuple]) -> Optional[Hunk]:
    first = min(x[0] for x in located) - 1
    last = max(x[2] for x in located)
    if first < 0 or last > len(lines):
        return None
    span = "".join(lines[first:last])
    offsets = [0]
    for line in lines[first:last]:
        offsets.append(offsets[-1] + len(line))
    for line, col, end_line, end_col, content in sorted(located, reverse=True):
        a = offsets[line - 1 - first] + col - 1
        b = offsets[end_line - 1 - first] + end_col - 1
        span = span[:a] + content + span[b:]
    return (first, last, tuple(split_lines(span)))


def _overlap(a: Hunk, b: Hunk) -> bool:
    if a[0] == a[1] and b[0] == b[1]:
        return a[0] == b[0]  # two insertions at one point: their order would be arbitrary
    return a[0] < b[1] and b[0] < a[1]


def _choose(result: FileResult, allowed: _Allowed, warnings: list[str]) -> list[tuple[Finding, list[Hunk]]]:
    """The fixes of this pass: position order, skipping any that conflicts with
    one already chosen (it is retried on the next pass)."""
    chosen: list[tuple[Finding, list[Hunk]]] = []
    taken = _Taken()
    for _, f, hunks in _candidates(result, allowed, warnings):
        new = [h for h in hunks if h not in taken.hunks]
        if any(taken.conflicts(h) for h in new):
            continue
        for h in new:
            taken.add(h)
        chosen.append((f, new))
    return chosen


class _Taken:
    """The hunks chosen so far (pairwise non-overlapping), sorted by start, so
    a new hunk is checked against its neighbours only: one pass over a file
    with n fixes costs n log n, not n^2 overlap tests."""

    def __init__(self) -> None:
        self.hunks: set[Hunk] = set()
        self.spans: list[tuple[int, int]] = []

    def add(self, h: Hunk) -> None:
        self.hunks.add(h)
        bisect.insort(self.spans, (h[0], h[1]))

    def conflicts(self, h: Hunk) -> bool:
        spans = self.spans
        i = bisect.bisect_left(spans, (h[0], h[0]))
        # spans do not overlap, so their ends grow with their starts: scan left
        # while one may still reach past h's start, right while one starts inside h
        j = i - 1
        while j >= 0 and (spans[j][1] > h[0] or spans[j][0] == h[0]):
            if _overlap(h, (*spans[j], ())):
                return True
            j -= 1
        j = i
        while j < len(spans) and (spans[j][0] < h[1] or spans[j][0] == h[0]):
            if _overlap(h, (*spans[j], ())):
                return True
            j += 1
        return False


def _apply(result: FileResult, current: str, hunks: list[Hunk]) -> str:
    lines = _module_lines(result)
    origin: list[Optional[int]] = list(range(len(lines)))  # index of each line in the old module
    new_lines: list[str] = []
    new_origin: list[Optional[int]] = []
    inserted_cell: list[Optional[int]] = []
    pos = 0
    nb = result.notebook
    for start, end, repl in sorted(set(hunks), key=lambda h: (h[0], h[1])):
        new_lines.extend(lines[pos:start])
        new_origin.extend(origin[pos:start])
        inserted_cell.extend([None] * (start - pos))
        cell = _cell_for(nb, start, end) if nb is not None else None
        if nb is not None and len(repl) == end - start:
            repl = [_restore_magic(nb, lines, start + k, text) for k, text in enumerate(repl)]
        new_lines.extend(repl)
        new_origin.extend([None] * len(repl))
        inserted_cell.extend([cell] * len(repl))
        pos = end
    new_lines.extend(lines[pos:])
    new_origin.extend(origin[pos:])
    inserted_cell.extend([None] * (len(lines) - pos))
    if nb is None:
        return "".join(new_lines)
    return _notebook_text(current, nb, new_lines, new_origin, inserted_cell)


# ----------------------------------------------------------------- notebooks


def _cell_for(nb: NotebookSource, start: int, end: int) -> Optional[int]:
    """The cell new lines belong to: the replaced lines' cell, or for an
    insertion the cell of the line before it (a statement added after the last
    line of a cell stays in that cell)."""
    if not nb.line_map:
        return None
    index = start if end > start else max(start - 1, 0)
    return nb.line_map[min(index, len(nb.line_map) - 1)][0]


def _raw_cell_lines(nb: NotebookSource, cell: int) -> list[str]:
    lines = nb.cell_sources[cell].split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _fits_cells(hunks: list[Hunk], result: FileResult) -> bool:
    """A hunk may only replace lines of one cell, and never a neutralised magic
    (writing the neutralised comment back would destroy it)."""
    nb = result.notebook
    module_lines = _module_lines(result)
    for start, end, repl in hunks:
        cells = {nb.line_map[i][0] for i in range(start, min(end, len(nb.line_map)))}
        if len(cells) > 1 or end > len(nb.line_map):
            return False
        for i in range(start, end):
            cell, line = nb.line_map[i]
            raw = _raw_cell_lines(nb, cell)[line - 1].rstrip("\r")
            module = module_lines[i].rstrip("\n")
            if raw != module:
                # `%time stmt` is analysed as `pass; stmt`: a fix inside stmt can go back
                tail = _kept_tail(raw, module)
                if tail is None or len(repl) != end - start or not repl[i - start].startswith(module[:tail]):
                    return False
    return True


_TIMED = re.compile(r"[ \t]*pass; *")


def _kept_tail(raw: str, module: str) -> Optional[int]:
    """Where the kept statement starts when the module line is a ``%time`` /
    ``%timeit`` magic line of the cell read as ``pass; stmt`` (same columns)."""
    m = _TIMED.match(module)
    if m is None or m.end() >= len(module) or raw[m.end():] != module[m.end():]:
        return None
    return m.end() if raw[len(module) - len(module.lstrip()):].startswith("%") else None


def _restore_magic(nb: NotebookSource, module_lines: list[str], index: int, new: str) -> str:
    """A fixed module line as it goes back into its cell: a ``%time stmt`` line
    gets its magic prefix back in front of the fixed statement."""
    if index >= len(nb.line_map):
        return new
    cell, line = nb.line_map[index]
    raw = _raw_cell_lines(nb, cell)[line - 1].rstrip("\r")
    module = module_lines[index].rstrip("\n")
    if raw == module:
        return new
    tail = _kept_tail(raw, module)
    if tail is None or not new.startswith(module[:tail]):
        return new
    return raw[:tail] + new[tail:]


def _notebook_text(current: str, nb: NotebookSource, lines: list[str], origin: list[Optional[int]],
                   inserted_cell: list[Optional[int]]) -> str:
    per_cell: dict[int, list[str]] = {}
    for i, line in enumerate(lines):
        if origin[i] is not None:
            cell, cell_line = nb.line_map[origin[i]]
            per_cell.setdefault(cell, []).append(_raw_cell_lines(nb, cell)[cell_line - 1])
        else:
            cell = inserted_cell[i]
            eol = "\r" if "\r\n" in nb.cell_sources.get(cell, "") else ""
            per_cell.setdefault(cell, []).append(line.rstrip("\n") + eol)
    data = json.loads(current)
    for cell, raw in nb.cell_sources.items():
        src = "\n".join(per_cell.get(cell, []))
        if src and raw.endswith("\n"):
            src += "\n"
        if src == raw:
            continue
        original = data["cells"][cell].get("source")
        data["cells"][cell]["source"] = split_lines(src) if isinstance(original, list) else src
    return dump_notebook(data, current)


def dump_notebook(data: dict, like: str) -> str:
    """JSON text in the layout of the original notebook text ``like`` (indent,
    ASCII escaping, final newline); key order is kept as loaded."""
    m = re.match(r"\{\s*?\n([ \t]+)\"", like)
    indent = m.group(1) if m else None
    compact = (",", ":") if indent is None and '": ' not in like else None
    text = json.dumps(data, indent=indent, ensure_ascii=like.isascii(), separators=compact)
    if like.endswith("\n"):
        text += "\n"
    if "\r\n" in like:
        text = text.replace("\n", "\r\n")
    return text


def _syntax_error(new: str, result: FileResult) -> Optional[str]:
    """Why the fixed text does not parse, or None.  In a notebook only the
    changed cells are checked (each cell must parse on its own, and a cell that
    was already broken is not the fix's doing)."""
    if result.notebook is None:
        return _describe(syntax_error(new))
    from kmlint.engine.notebooks import NotebookError, load_notebook

    try:
        nb = load_notebook(new)
    except NotebookError as e:
        return str(e)
    lines = split_lines(nb.source)
    chunks: dict[int, list[str]] = {}
    for i, (cell, _) in enumerate(nb.line_map):
        chunks.setdefault(cell, []).append(lines[i])
    for cell, raw in nb.cell_sources.items():
        if raw != result.notebook.cell_sources.get(cell):
            error = _describe(syntax_error("".join(chunks.get(cell, []))))
            if error:
                return f"cell {cell + 1}: {error}"
    return None


def _describe(err: Optional[SyntaxError]) -> Optional[str]:
    if err is None:
        return None
    return f"{err.msg} at line {err.lineno}" if err.lineno else err.msg


def _first_breaking(result: FileResult, current: str, batch) -> Optional[Finding]:
    for f, hunks in batch:
        if _syntax_error(_apply(result, current, hunks), result) is not None:
            return f
    return None


# ----------------------------------------------------------------- files


@dataclass
class FileFix:
    path: Path
    shown: str
    outcome: Optional[FixOutcome] = None
    original_text: Optional[str] = None
    original_bytes: Optional[bytes] = None
    new_bytes: Optional[bytes] = None
    findings: list[Finding] = field(default_factory=list)  # remaining
    error: Optional[str] = None  # not fixed (or not written), and why
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.new_bytes is not None


def decode_with_encoding(data: bytes, is_notebook: bool) -> tuple[str, str]:
    """(text, encoding to write it back with); 'utf-8-sig' keeps a BOM."""
    if is_notebook:
        encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    else:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding), encoding


def fix_bytes(data: bytes, path: Path, shown: str, settings: Settings, unsafe: bool) -> FileFix:
    """Fix one file's content (nothing is written)."""
    result = FileFix(path, shown, original_bytes=data)
    try:
        text, encoding = decode_with_encoding(data, shown.endswith(".ipynb"))
    except (UnicodeDecodeError, SyntaxError, LookupError):
        # undecodable: nothing to fix, the linter reports it as KM901
        result.findings = lint_bytes(data, shown, settings).findings
        return result
    outcome = fix_source(text, shown, settings, unsafe=unsafe)
    result.outcome, result.original_text, result.findings = outcome, text, outcome.remaining
    if outcome.error:
        result.error = outcome.error
    elif outcome.text != text:
        try:
            result.new_bytes = outcome.text.encode(encoding)
        except UnicodeEncodeError as e:
            result.error = f"the fixed text cannot be encoded as {encoding} ({e.reason}); file left unchanged"
            result.findings = lint_text(text, shown, settings).findings
    return result


TMP_SUFFIX = ".kmlint-tmp"
LEFTOVER_AGE = 600  # seconds: a temporary file without a pid in its name is left over after this long


def _writable(st: os.stat_result, real: Path) -> bool:
    if getattr(os, "geteuid", lambda: -1)() == 0:
        # root may write anything: refuse what is read-only for everyone, as
        # for every other user (a 0444 file is a statement)
        return bool(st.st_mode & 0o222)
    return os.access(real, os.W_OK)


def write_atomic(path: Path, data: bytes, expected: bytes) -> Optional[str]:
    """Replace ``path`` with ``data`` unless its content is no longer
    ``expected``; a temporary file in the same directory is renamed over it, so
    a reader never sees half a file.  Mode, owner and group are kept.  Returns
    an error message or None."""
    real = Path(os.path.realpath(path))  # write through symlinks, keep the link
    try:
        if read_regular(real) != expected:
            return "changed on disk while kmlint was fixing it; not written (run kmlint again)"
        st = os.stat(real)
    except OSError as e:
        return f"cannot read it again before writing: {e.strerror or e}"
    if not _writable(st, real):
        return f"read-only (mode {stat.S_IMODE(st.st_mode):04o}); not fixed"
    if st.st_nlink > 1:
        return (f"has {st.st_nlink} hard links: replacing it would split them (the other names would keep the "
                f"old content); not fixed")
    try:
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.{os.getpid()}.", suffix=TMP_SUFFIX)
    except OSError as e:
        return f"cannot write in {printable(str(real.parent))}: {e.strerror or e} (kmlint writes a temporary file " \
               f"next to the file and renames it over it); not fixed"
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        if (st.st_uid, st.st_gid) != _owner(tmp):
            try:
                os.chown(tmp, st.st_uid, st.st_gid)  # root fixing another user's file: keep its owner
            except OSError as e:
                _unlink(tmp)
                return f"cannot keep its owner and group ({e.strerror or e}); not fixed"
        os.replace(tmp, real)
    except OSError as e:
        _unlink(tmp)
        return f"cannot write: {e.strerror or e}"
    except BaseException:
        _unlink(tmp)  # Ctrl-C, SIGTERM turned into an exception: leave nothing behind
        raise
    return None


def _owner(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_uid, st.st_gid


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def clean_leftovers(directory: Path) -> int:
    """Remove the temporary files of ``write_atomic`` that a killed kmlint left
    in ``directory`` (``.NAME.PID.XXXX.kmlint-tmp``): those whose process is
    gone, and old ones without a pid.  Returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TMP_SUFFIX)):
            continue
        pid = _pid_in(name)
        try:
            if pid is not None:
                if pid == os.getpid() or _alive(pid):
                    continue
            elif now - entry.stat(follow_symlinks=False).st_mtime < LEFTOVER_AGE:
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def _pid_in(name: str) -> Optional[int]:
    parts = name[: -len(TMP_SUFFIX)].split(".")
    # ".", name (may hold dots), pid, random part
    if len(parts) >= 4 and parts[-2].isdigit():
        return int(parts[-2])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fix_content(data: bytes, path: Path, shown: str, settings: Settings, unsafe: bool) -> FileFix:
    """``fix_bytes`` with picklable findings (it runs in the crash guard's child)."""
    result = fix_bytes(data, path, shown, settings, unsafe)
    result.findings = [f.detached() for f in result.findings]
    return result


def _lint_findings(text: str, shown: str, settings: Settings) -> list[Finding]:
    return [f.detached() for f in lint_text(text, shown, settings).findings]


def fix_guarded(data: bytes, path: Path, shown: str, settings: Settings, unsafe: bool) -> FileFix:
    """``fix_bytes`` in a forked child: a native crash while fixing one file is
    that file's KM000, and the run goes on fixing the others."""
    from kmlint.engine.runner import crashed_result, over_budget, too_large, warm_up

    size = over_budget(data, shown, settings)
    if size is not None:
        return FileFix(path, shown, original_bytes=data, findings=too_large(shown, settings, size, code_cells=shown.endswith(".ipynb")).findings)
    warm_up(settings, fixing=True)
    try:
        return guard.guarded(_fix_content, data, path, shown, settings, unsafe)
    except guard.Crashed as e:
        return FileFix(path, shown, original_bytes=data,  # stdin --fix echoes the source unchanged
                       findings=crashed_result(shown, f"kmlint crashed fixing this file: {e}").findings)


def fix_file(path: Path, shown: str, settings: Settings, *, unsafe: bool, write: bool) -> FileFix:
    from kmlint.engine.runner import read_limit

    try:
        data = read_regular(path, read_limit(path, settings))
    except TooLarge as e:
        from kmlint.engine.runner import too_large

        return FileFix(path, shown, findings=too_large(shown, settings, e.size).findings)
    except OSError as e:
        return FileFix(path, shown, error=f"cannot read: {e.strerror or e}")
    result = fix_guarded(data, path, shown, settings, unsafe)
    if write and result.changed:
        error = write_atomic(path, result.new_bytes, data)
        if error:
            result.error = error
            try:
                result.findings = guard.guarded(_lint_findings, result.original_text, shown, settings)
            except guard.Crashed:
                result.findings = list(result.outcome.remaining) if result.outcome else []
        else:
            result.written = True
    return result


# ----------------------------------------------------------------- diffs


def unified_diff(fix: FileFix) -> str:
    """The change as a unified diff; notebooks are diffed cell by cell."""
    if not fix.changed:
        return ""
    old, new = fix.original_text, fix.outcome.text
    if not fix.shown.endswith(".ipynb"):
        return _diff(old, new, printable(fix.shown))
    old_cells, new_cells = json.loads(old)["cells"], json.loads(new)["cells"]
    parts = []
    for i, (a, b) in enumerate(zip(old_cells, new_cells)):
        if a.get("cell_type") == "code" and cell_text(a) != cell_text(b):
            parts.append(_diff(cell_text(a), cell_text(b), f"{printable(fix.shown)}:cell {i + 1}"))
    return "".join(parts)


def _diff(old: str, new: str, name: str) -> str:
    out = []
    for line in difflib.unified_diff(split_lines(old), split_lines(new), f"a/{name}", f"b/{name}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# ----------------------------------------------------------------- a whole run


def fix_run(paths: list[str], resolver, *, unsafe: bool, write: bool, force_exclude: bool = False,
            use_cache: bool = True, jobs: Optional[int] = None):
    """Fix (or with ``write=False`` only compute the fixes of) every file the
    check would lint.  Returns the run's remaining findings and each file's fix.

    The files are first checked by the same runner as ``kmlint check`` (the
    worker pool and the result cache): a file whose findings offer no fix of
    the allowed applicability is done, so ``--fix`` on a large project costs
    what a check costs; only the files with fixes to apply are fixed (each in
    a guarded child, re-linted after every pass)."""
    from kmlint.engine.discovery import DiscoveryProblem
    from kmlint.engine.runner import RunResult, crashed_result, run as check_run

    checked = check_run(paths, resolver, force_exclude=force_exclude, use_cache=use_cache, jobs=jobs)
    allowed = _Allowed({SAFE, UNSAFE} if unsafe else {SAFE}, None)
    out = RunResult(problems=checked.problems)
    fixes: list[FileFix] = []
    cleaned: set[str] = set()
    for path, res in zip(checked.paths, checked.results):
        shown = res.path
        if write and str(path.parent) not in cleaned:
            cleaned.add(str(path.parent))
            clean_leftovers(path.parent)  # what a kmlint killed while writing left behind
        if not any(f in allowed for f in res.findings):
            fix = FileFix(path, shown, findings=list(res.findings))  # nothing to apply: the check's result
        else:
            try:
                fix = fix_file(path, shown, resolver.for_file(path), unsafe=unsafe, write=write)
            except Exception as e:  # an engine bug must cost one file, not the run
                fix = FileFix(path, shown, findings=crashed_result(shown, f"kmlint crashed fixing this file: "
                                                                          f"{type(e).__name__}: {e}").findings)
            if fix.outcome is None and fix.error:  # unreadable since the check
                out.problems.append(DiscoveryProblem(shown, fix.error))
                continue
        fixes.append(fix)
        out.files += 1
        out.findings.extend(fix.findings)
        out.internal_errors += sum(1 for f in fix.findings if f.code == "KM000")
        out.results.append(FileResult(shown, fix.findings))
        out.paths.append(path)
    out.findings.sort(key=lambda f: f.sort_key)
    return out, fixes
