"""The Ruff-style extras of ``kmlint check``: ``--show-settings``,
``--show-files``, ``--watch`` and ``--add-noqa``."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

import click

from kmlint.config import CONFIG_FILES, ConfigResolver, Settings

# ----------------------------------------------------------------- --show-settings / --show-files


def _first_target(paths: list[str]) -> Path:
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            return p
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for found in _discovered([raw], None):
                return found
            return p
    return Path(paths[0]) if paths else Path(".")


def _discovered(paths: list[str], resolver: Optional[ConfigResolver], force_exclude: bool = False, problems=None):
    from kmlint.engine.discovery import discover

    return discover(paths, resolver or ConfigResolver(), problems if problems is not None else [], force_exclude)


def show_settings(resolver: ConfigResolver, paths: list[str]) -> str:
    """The effective settings for the first file (or directory) of ``paths``,
    like ``ruff check --show-settings``: where they come from, every key, and
    the rules they enable."""
    from kmlint.engine.linter import enabled_codes

    target = _first_target(paths)
    settings = resolver.for_file(target) if target.is_file() else resolver.for_dir(target)
    lines = [f"Resolved settings for: {target.resolve()}",
             f"Settings path: {settings.config_path if settings.config_path else '(none: defaults)'}",
             f"Project root: {settings.root}", ""]
    for f in fields(Settings):
        if f.name in ("config_path", "root", "sources"):
            continue
        value = getattr(settings, f.name)
        lines.append(f"{f.name.replace('_', '-')} = {_toml(value)}")
    probe = str(target) if target.is_file() else str(target / "file.py")
    codes = sorted(enabled_codes(settings, probe))
    lines.append(f"enabled-rules = {_toml(codes)}")
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return json.dumps(value)


def show_files(resolver: ConfigResolver, paths: list[str], force_exclude: bool) -> tuple[str, list]:
    """Every file ``kmlint check PATHS`` would lint, one per line, sorted."""
    from kmlint.engine.runner import display_path

    problems: list = []
    files = sorted({display_path(p) for p in _discovered(paths, resolver, force_exclude, problems)})
    return "".join(f + "\n" for f in files), problems


# ----------------------------------------------------------------- --watch

CLEAR = "\x1b[2J\x1b[3J\x1b[H"


def _snapshot(paths: list[str], resolver_factory: Callable[[], ConfigResolver]) -> dict[str, tuple[int, int]]:
    """What a change is seen by: size and mtime of each file that would be
    linted, and of the config files around the paths."""
    state: dict[str, tuple[int, int]] = {}
    try:
        resolver = resolver_factory()
    except Exception:  # a broken config file: still watch the config files themselves
        resolver = ConfigResolver()
    watched = list(_discovered(paths, resolver))
    for raw in paths:
        p = Path(raw).resolve()
        base = p if p.is_dir() else p.parent
        for d in (base, *base.parents):
            watched.extend(d / name for name in CONFIG_FILES)
            for git in (d / ".gitignore",):
                watched.append(git)
        if p.is_dir():
            try:
                for sub, dirs, _ in os.walk(p):
                    dirs[:] = [x for x in dirs if not x.startswith(".") and x not in ("__pycache__", "node_modules")]
                    watched.extend(Path(sub) / name for name in CONFIG_FILES + (".gitignore",))
            except OSError:
                pass
    for f in watched:
        try:
            st = f.stat()
        except OSError:
            continue
        state[str(f)] = (st.st_mtime_ns, st.st_size)
    return state


def watch(run_once: Callable[[], int], paths: list[str], resolver_factory: Callable[[], ConfigResolver],
          interval: float = 0.5, max_runs: Optional[int] = None) -> int:
    """Lint, then lint again each time a watched file changes (polling every
    ``interval`` seconds), clearing the screen first on a terminal.  Runs until
    interrupted (or ``max_runs`` runs, for tests)."""
    tty = sys.stdout.isatty()
    runs = 0
    state = _snapshot(paths, resolver_factory)
    message = "Starting linter in watch mode..."
    try:
        while True:
            if tty:
                click.echo(CLEAR, nl=False)
            click.echo(f"[{datetime.now():%H:%M:%S}] {message}")
            run_once()
            runs += 1
            click.echo(f"[{datetime.now():%H:%M:%S}] Watching for file changes.")
            sys.stdout.flush()
            if max_runs is not None and runs >= max_runs:
                return 0
            while True:
                time.sleep(interval)
                new = _snapshot(paths, resolver_factory)
                if new != state:
                    state = new
                    break
            message = "File change detected..."
    except KeyboardInterrupt:
        return 0


# ----------------------------------------------------------------- --add-noqa


def add_noqa(paths: list[str], resolver: ConfigResolver, force_exclude: bool) -> tuple[int, int, list]:
    """Suppress every current finding in place with ``# noqa: KMxxx`` at the end
    of its statement (where kmlint's suppressions look), merged into a
    directive already there.  Returns (directives added or extended, files
    changed, problems)."""
    from kmlint.engine.runner import run
    from kmlint.fixer import write_atomic

    result = run(paths, resolver, force_exclude=force_exclude, use_cache=False, jobs=1)
    by_path: dict[str, list] = {}
    for f in result.findings:
        if f.code in ("KM000", "KM901", "KM900"):
            continue  # internal and parse errors cannot be suppressed; KM900 is fixed by removing the comment
        by_path.setdefault(f.path, []).append(f)
    problems = list(result.problems)
    added = changed = 0
    for shown, findings in sorted(by_path.items()):
        path = Path(shown)
        try:
            data = path.read_bytes()
        except OSError as e:
            problems.append(_Problem(shown, f"cannot read: {e.strerror or e}"))
            continue
        new, n = noqa_bytes(data, shown, findings)
        if n and new != data:
            error = write_atomic(path, new, data)
            if error:
                problems.append(_Problem(shown, error))
                continue
            added += n
            changed += 1
    return added, changed, problems


class _Problem:
    def __init__(self, path: str, message: str):
        self.path, self.message = path, message


def noqa_bytes(data: bytes, shown: str, findings: list) -> tuple[bytes, int]:
    """The file's bytes with the findings' noqa directives added, and how many
    lines got one."""
    from kmlint.fixer import decode_with_encoding, dump_notebook

    notebook = shown.endswith(".ipynb")
    text, encoding = decode_with_encoding(data, notebook)
    if not notebook:
        new, n = noqa_text(text, [(f.line, f.code) for f in findings])
        return new.encode(encoding), n
    from kmlint.engine.notebooks import load_notebook, transform_lines

    nb = load_notebook(text)
    index = {pos: i + 1 for i, pos in enumerate(nb.line_map)}
    wanted = [(index[(f.cell, f.line)], f.code) for f in findings if (f.cell, f.line) in index]
    ends = _logical_ends(nb.source)
    per_cell: dict[int, dict[int, set[str]]] = {}
    for line, code in wanted:
        cell, cell_line = nb.line_map[ends.get(line, line) - 1]
        per_cell.setdefault(cell, {}).setdefault(cell_line, set()).add(code)
    data_json = json.loads(text)
    total = 0
    for cell, lines in per_cell.items():
        raw = nb.cell_sources[cell]
        # directives are read from the cell as kmlint reads it (magics made Python)
        cell_lines = raw.split("\n")
        if cell_lines and cell_lines[-1] == "":
            cell_lines.pop()
        read, shifts = transform_lines([line.rstrip("\r") for line in cell_lines])
        new, n = _add_to_lines(raw, lines, "".join(line + "\n" for line in read),
                               {k + 1: shift for k, shift in enumerate(shifts) if shift})
        total += n
        if new != raw:
            original = data_json["cells"][cell].get("source")
            data_json["cells"][cell]["source"] = new.splitlines(keepends=True) if isinstance(original, list) else new
    return dump_notebook(data_json, text).encode(encoding), total


def _logical_ends(source: str) -> dict[int, int]:
    from kmlint.engine.suppressions import parse_suppressions

    return parse_suppressions(source).logical_end


def noqa_text(text: str, wanted: list[tuple[int, str]]) -> tuple[str, int]:
    """``text`` with ``# noqa: CODE`` for each (line, code) on the last line of
    the statement holding that line."""
    ends = _logical_ends(text)
    lines: dict[int, set[str]] = {}
    for line, code in wanted:
        lines.setdefault(ends.get(line, line), set()).add(code)
    return _add_to_lines(text, lines, text, {})


def _add_to_lines(text: str, lines: dict[int, set[str]], read: str, shifts: dict[int, int]) -> tuple[str, int]:
    """Add the codes to the lines of ``text``; existing directives are found in
    ``read`` (the same lines as kmlint reads them, ``shifts`` columns to the left)."""
    from kmlint.engine.suppressions import has_directives, parse_suppressions, render_directive

    directives = parse_suppressions(read).by_line if has_directives(read) else {}
    parts = text.splitlines(keepends=True)
    count = 0
    for line, codes in sorted(lines.items()):
        if not 1 <= line <= len(parts):
            continue
        raw = parts[line - 1]
        body = raw.rstrip("\r\n")
        eol = raw[len(body):]
        existing = directives.get(line, [])
        if any(s.codes is None for s in existing):
            continue  # a blanket directive already covers it
        if existing:
            s = existing[0]
            merged = list(s.codes) + sorted(c for c in codes if c not in s.codes)
            if merged == list(s.codes):
                continue
            start, end = s.column + shifts.get(line, 0), s.end_column + shifts.get(line, 0)
            body = body[:start] + render_directive(s.kind, merged) + body[end:]
        else:
            body = body.rstrip() + "  " + render_directive("noqa", sorted(codes))
        parts[line - 1] = body + eol
        count += 1
    return "".join(parts), count
