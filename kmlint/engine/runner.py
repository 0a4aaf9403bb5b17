"""Running a whole check: discovery, per-file linting, ordering of results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from kmlint.config import ConfigResolver
from kmlint.engine.discovery import DiscoveryProblem, discover
from kmlint.engine.linter import FileResult, lint_bytes
from kmlint.findings import Finding


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    problems: list[DiscoveryProblem] = field(default_factory=list)
    internal_errors: int = 0
    results: list[FileResult] = field(default_factory=list)


def display_path(path: Path) -> str:
    """Paths as given, relative to the working directory when possible."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def lint_path(path: Path, resolver: ConfigResolver, display: Optional[str] = None, keep_tree: bool = False) -> FileResult:
    shown = display or display_path(path)
    settings = resolver.for_file(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        return FileResult(shown, error=f"cannot read: {e.strerror or e}")
    return lint_bytes(data, shown, settings, keep_tree=keep_tree)


def run(paths: list[str], resolver: ConfigResolver, keep_tree: bool = False, force_exclude: bool = False) -> RunResult:
    result = RunResult()
    files = list(discover(paths, resolver, result.problems, force_exclude))
    for p in files:
        res = lint_path(p, resolver, keep_tree=keep_tree)
        if res.error:
            result.problems.append(DiscoveryProblem(res.path, res.error))
            continue
        result.files += 1
        result.findings.extend(res.findings)
        result.internal_errors += res.internal_errors
        result.results.append(res)
    result.findings.sort(key=lambda f: f.sort_key)
    return result
