"""Baselines: record today's findings, report only new ones tomorrow.

A finding's fingerprint must survive unrelated edits (code inserted above,
lines moved), so it never uses line numbers.  It hashes the rule code, the
file path (relative to the baseline file), the flagged statement's source
with whitespace and comments normalised away, and the occurrence index among
findings with that same key in the file (two identical flagged statements stay
two entries).  The GitLab and SARIF reports use the same fingerprints.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import json
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Optional

from kmlint.engine.paths import path_bytes
from kmlint.findings import Finding

FORMAT_VERSION = 1
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


class BaselineError(Exception):
    pass


# ----------------------------------------------------------------- statements


class Statements:
    """The logical lines (statements; a compound statement's header alone) of
    one file, whitespace-normalised: tokens joined by single spaces, comments
    and line continuations dropped."""

    def __init__(self, text: str, is_notebook: bool = False):
        self.cell_line: dict[tuple[int, int], int] = {}
        if is_notebook:
            from kmlint.engine.notebooks import NotebookError, load_notebook

            try:
                nb = load_notebook(text)
            except NotebookError:
                nb = None
            text = nb.source if nb else ""
            if nb:
                self.cell_line = {pos: i + 1 for i, pos in enumerate(nb.line_map)}
        self.lines = text.split("\n")
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.texts: list[str] = []
        self._tokenize(text)

    def _tokenize(self, text: str) -> None:
        parts: list[str] = []
        start = 0
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type in _SKIP:
                    if tok.type == tokenize.NEWLINE and parts:
                        self._add(start, tok.start[0], " ".join(parts))
                        parts = []
                    continue
                if not parts:
                    start = tok.start[0]
                parts.append(tok.string)
            if parts:
                self._add(start, len(self.lines), " ".join(parts))
        except (tokenize.TokenError, SyntaxError):
            pass  # lines after the error fall back to their own text

    def _add(self, start: int, end: int, text: str) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.texts.append(text)

    def at(self, line: int) -> str:
        """The normalised statement containing 1-based ``line``."""
        i = bisect.bisect_right(self.starts, line) - 1
        if i >= 0 and self.starts[i] <= line <= self.ends[i]:
            return self.texts[i]
        raw = self.lines[line - 1] if 1 <= line <= len(self.lines) else ""
        return " ".join(raw.split())

    def of(self, f: Finding) -> str:
        line = f.line
        if f.cell is not None:
            line = self.cell_line.get((f.cell, f.line), 0)
        return self.at(line)


# ----------------------------------------------------------------- fingerprints


def read_source(path: str) -> Optional[str]:
    """A file's text as the linter sees it (None when it cannot be read)."""
    from kmlint.engine.linter import decode

    try:
        data = Path(path).read_bytes()
        return data.decode("utf-8-sig") if path.endswith(".ipynb") else decode(data)
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
        return None


def key_path(path: str, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX form), whatever the working directory."""
    try:
        return PurePosixPath(Path(os.path.relpath(Path(path).resolve(), root.resolve()))).as_posix()
    except (OSError, ValueError):  # another drive on Windows
        return Path(path).as_posix()


def fingerprints(findings: list[Finding], root: Path,
                 source: Callable[[str], Optional[str]] = read_source) -> list[str]:
    """One fingerprint per finding (same order)."""
    statements: dict[str, Statements] = {}
    counts: dict[tuple, int] = {}
    order = sorted(range(len(findings)), key=lambda i: findings[i].sort_key)
    out = [""] * len(findings)
    for i in order:
        f = findings[i]
        if f.path not in statements:
            statements[f.path] = Statements(source(f.path) or "", f.path.endswith(".ipynb"))
        key = (f.code, key_path(f.path, root), statements[f.path].of(f))
        n = counts.get(key, 0)
        counts[key] = n + 1
        raw = "\0".join([*key, str(n)])
        out[i] = hashlib.sha256(path_bytes(raw)).hexdigest()[:32]  # names may hold surrogate escapes
    return out


# ----------------------------------------------------------------- baseline files


@dataclass
class Entry:
    fingerprint: str
    code: str
    path: str  # relative to the baseline file
    line: int
    message: str

    def to_json(self) -> dict:
        return {"fingerprint": self.fingerprint, "code": self.code, "path": self.path, "line": self.line,
                "message": self.message}


def write_baseline(path: Path, findings: list[Finding], source: Callable[[str], Optional[str]] = read_source) -> int:
    root = path.resolve().parent
    kept = [f for f in findings if f.code != "KM000"]  # internal errors are no debt to keep
    prints = fingerprints(kept, root, source)
    entries = [Entry(fp, f.code, key_path(f.path, root), f.line, f.message) for f, fp in zip(kept, prints)]
    entries.sort(key=lambda e: (e.path, e.line, e.code, e.fingerprint))
    data = {"kmlint-baseline": FORMAT_VERSION, "findings": [e.to_json() for e in entries]}
    try:
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as e:
        raise BaselineError(f"cannot write baseline {path}: {e.strerror or e}") from None
    return len(entries)


def load_baseline(path: Path) -> list[Entry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline file {path} not found (create it with `kmlint check --write-baseline {path}`)") from None
    except OSError as e:
        raise BaselineError(f"cannot read baseline {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BaselineError(f"baseline {path} is not valid JSON: {e}") from None
    if not isinstance(data, dict) or data.get("kmlint-baseline") != FORMAT_VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{path} is not a kmlint baseline (version {FORMAT_VERSION})")
    try:
        return [Entry(str(e["fingerprint"]), str(e["code"]), str(e["path"]), int(e.get("line", 0)), str(e.get("message", "")))
                for e in data["findings"]]
    except (KeyError, TypeError, ValueError) as e:
        raise BaselineError(f"baseline {path} has a malformed entry: {e}") from None


def filter_baseline(findings: list[Finding], path: Path, checked: Iterable[tuple[str, set[str]]],
                    source: Callable[[str], Optional[str]] = read_source) -> tuple[list[Finding], list[Entry]]:
    """(findings not in the baseline, baseline entries that no longer match).

    ``checked`` gives each linted file with its enabled rule codes: an entry is
    only called stale when its file was linted with its rule on in this run."""
    entries = load_baseline(path)
    root = path.resolve().parent
    known = {e.fingerprint for e in entries}
    prints = fingerprints(findings, root, source)
    new = [f for f, fp in zip(findings, prints) if fp not in known]
    seen = set(prints)
    scope = {key_path(p, root): codes for p, codes in checked}
    stale = [e for e in entries if e.fingerprint not in seen and e.code in scope.get(e.path, ())]
    return new, stale
