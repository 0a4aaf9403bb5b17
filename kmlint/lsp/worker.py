"""The lint worker of ``kmlint server``: a separate process.

It holds the config lookup and, per open document, the tree of its latest lint
(fix edits are computed from it only when the editor asks for one).  Being a
process, it keeps the server's event loop free of the GIL while a long file is
linted, and a native crash (libcst's parser overflows its stack on absurdly
nested code) costs the worker, not the server, which starts a new one.

The functions here run in the worker; they take and return picklable values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from lsprotocol import types
from pygls.workspace import PositionCodec

from kmlint.config import CONFIG_FILES, ConfigResolver, Settings
from kmlint.engine.linter import INTERNAL_ERROR, FileResult, lint_text
from kmlint.engine.notebooks import cell_text
from kmlint.engine.runner import PAUSE_COLLECTOR_BELOW, collector_paused
from kmlint.findings import Finding
from kmlint.fixer import fix_source
from kmlint.lsp import convert

Edits = dict[str, list[types.TextEdit]]  # document uri -> its edits


@dataclass(frozen=True)
class Snapshot:
    """Everything one lint reads, copied from the workspace on the event loop."""

    uri: str  # the text document, or the notebook
    version: Optional[int]
    path: str  # for config lookup and per-file-ignores; ends in .ipynb for notebooks
    source: str  # Python source, or the notebook as .ipynb JSON
    documents: tuple[tuple[str, str, Optional[int]], ...]  # (uri, text, version): the document, or every cell
    encoding: str = types.PositionEncodingKind.Utf16

    @property
    def versions(self) -> dict[str, Optional[int]]:
        return {uri: version for uri, _, version in self.documents}


@dataclass
class Entry:
    uri: str  # where the finding is shown (the document or a cell)
    range: types.Range
    finding: Finding  # detached: no libcst nodes, fix edits possibly not computed yet
    diagnostic: types.Diagnostic


@dataclass
class Linted:
    snapshot: Snapshot
    entries: list[Entry] = field(default_factory=list)
    diagnostics: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    indexes: dict[str, convert.TextIndex] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)  # rule crashes (KM000): logged, not shown
    config_changed: bool = False


@dataclass
class _Kept:
    linted: Linted
    result: FileResult  # with its tree, for fix edits
    findings: list[Finding]  # attached, in the order of linted.entries


class _State:
    def __init__(self) -> None:
        self.resolver = ConfigResolver()
        self.config_stamps: dict[Path, Optional[tuple[int, int]]] = {}
        self.kept: dict[str, _Kept] = {}


_state = _State()


def settings_for(path: Path) -> tuple[Settings, bool]:
    """The settings for a file, and whether a config file appeared, changed or
    went away since the last lint (then every cached lookup is dropped).  This
    is how editors without file watching still see config changes."""
    directory = path.parent.absolute()
    for d in (directory, *directory.parents):
        for name in CONFIG_FILES:
            _state.config_stamps.setdefault(d / name, _stamp(d / name))
    now = {p: _stamp(p) for p in _state.config_stamps}
    changed = now != _state.config_stamps
    if changed:
        _state.config_stamps = now
        _state.resolver = ConfigResolver()
    return _state.resolver.for_file(path), changed


def _stamp(path: Path) -> Optional[tuple[int, int]]:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def reset_config() -> None:
    _state.resolver = ConfigResolver()
    _state.config_stamps.clear()


def forget(target: str) -> None:
    _state.kept.pop(target, None)


def die_with_parent(parent: int) -> None:
    """The worker's initializer: it dies with the server (SIGTERM or SIGKILL of
    ``kmlint server`` left it, and multiprocessing's resource tracker that
    waits for it, running)."""
    from kmlint.engine import guard

    guard.die_with_parent(parent)


def ready() -> bool:
    """Run by the server at start, so the worker imports while the editor opens
    files; what it imported then lives as long as the worker, out of the
    garbage collector's sight."""
    import gc

    gc.freeze()
    return True


def lint(snap: Snapshot) -> Linted:
    """Lint a snapshot (raises ConfigError for a broken config)."""
    settings, changed = settings_for(Path(snap.path))
    # the tree is kept for the fixes' edits, computed when one is asked for
    with collector_paused(len(snap.source) < PAUSE_COLLECTOR_BELOW):  # as the CLI does (engine/runner.py)
        result = lint_text(snap.source, snap.path, settings, keep_tree=True)
    codec = PositionCodec(snap.encoding)
    linted = Linted(snap, config_changed=changed)
    findings = []
    for uri, text, _ in snap.documents:
        linted.indexes[uri] = convert.TextIndex(text, codec)
        linted.diagnostics[uri] = []
    for f in result.findings:
        if f.code == INTERNAL_ERROR:
            linted.crashes.append(f"{snap.path}: {f.message}")
            continue
        cell = f.cell if f.cell is not None and f.cell < len(snap.documents) else 0
        uri = snap.documents[cell][0]
        rng = linted.indexes[uri].range(f.line, f.column, f.end_line, f.end_column)
        entry = Entry(uri, rng, f.detached(), convert.diagnostic(f, rng))
        linted.entries.append(entry)
        linted.diagnostics[uri].append(entry.diagnostic)
        findings.append(f)
    _state.kept[snap.uri] = _Kept(linted, result, findings)
    return linted


def _kept(target: str, version: Optional[int]) -> Optional[_Kept]:
    kept = _state.kept.get(target)
    return kept if kept is not None and kept.linted.snapshot.version == version else None


def fix_edits(target: str, version: Optional[int], entry: int) -> Optional[Edits]:
    """The edits of one finding's fix (None when that lint is gone)."""
    kept = _kept(target, version)
    if kept is None or not 0 <= entry < len(kept.findings):
        return None
    linted = kept.linted
    documents = linted.snapshot.documents
    edits: Edits = {}
    fix = kept.findings[entry].fix
    for e in fix.edits if fix is not None else ():
        uri = documents[e.cell][0] if e.cell is not None and e.cell < len(documents) else linted.entries[entry].uri
        edits.setdefault(uri, []).append(convert.text_edit(linted.indexes[uri], e))
    return edits or None


class FixAllError(Exception):
    pass


def fix_all_edits(target: str, version: Optional[int]) -> Optional[Edits]:
    """Every safe fix of the document (or notebook) at once, by the fixer the
    CLI's ``--fix`` uses.  Raises FixAllError when the fixer gives up."""
    kept = _kept(target, version)
    if kept is None:
        return None
    snap = kept.linted.snapshot
    outcome = fix_source(snap.source, snap.path, settings_for(Path(snap.path))[0])
    if outcome.error is not None:
        raise FixAllError(outcome.error)
    if snap.path.endswith(".ipynb"):
        new_texts = [cell_text(c) for c in json.loads(outcome.text)["cells"]]
    else:
        new_texts = [outcome.text]
    edits: Edits = {}
    for (uri, _, _), new_text in zip(snap.documents, new_texts):
        text_edits = convert.edits_between(kept.linted.indexes[uri], new_text)
        if text_edits:
            edits[uri] = text_edits
    return edits or None
