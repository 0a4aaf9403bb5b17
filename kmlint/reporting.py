"""The parts of ``kmlint check`` around linting: fixes, diffs, baselines and
where the report goes.  Kept out of cli.py so the command stays readable."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import click

from kmlint.baseline import BaselineError, filter_baseline, read_source, write_baseline
from kmlint.engine.linter import FileResult, enabled_codes
from kmlint.engine.runner import RunResult, lint_data_guarded
from kmlint.engine.paths import printable
from kmlint.findings import Finding

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def check_stdin(data: bytes, name: str, settings, fixing: bool, unsafe: bool):
    """Lint (or fix) source read from stdin; returns (RunResult, fixes)."""
    if not fixing:
        res = lint_data_guarded(data, name, settings)
        return RunResult(res.findings, 1, [], res.internal_errors, [res]), []
    from kmlint.fixer import fix_guarded

    fix = fix_guarded(data, Path(name), name, settings, unsafe)
    internal = sum(1 for f in fix.findings if f.code == "KM000")
    return RunResult(list(fix.findings), 1, [], internal, [FileResult(name, fix.findings)]), [fix]


def source_reader(stdin_fixes: list) -> Callable[[str], Optional[str]]:
    """Reads a linted file's text for fingerprints; stdin's text is in memory."""
    texts = {}
    for fix in stdin_fixes:
        if fix.outcome is not None:
            texts[fix.shown] = fix.outcome.text
    return lambda path: texts[path] if path in texts else read_source(path)


def fix_problems(fixes: list) -> bool:
    """Print why files were not fixed (and fixer warnings); True if any was not."""
    failed = False
    for fix in fixes:
        if fix.outcome is not None:
            for w in fix.outcome.warnings:
                click.echo(f"kmlint: warning: {printable(fix.shown)}: {w}", err=True)
        if fix.error:
            click.echo(f"kmlint: error: {printable(fix.shown)}: {fix.error}", err=True)
            failed = True
    return failed


def show_diff(fixes: list, quiet: bool) -> int:
    from kmlint.fixer import unified_diff

    changed = [f for f in fixes if f.changed]
    for fix in changed:
        click.echo(unified_diff(fix), nl=False)
    if not quiet:
        n = sum(len(f.outcome.applied) for f in changed)
        if n:
            click.echo(f"Would fix {_plural(n, 'finding')} in {_plural(len(changed), 'file')}.", err=True)
        else:
            click.echo("No fixes available.", err=True)
    return EXIT_FINDINGS if changed else EXIT_OK


def fix_summary(fixes: list, show: bool, quiet: bool, err: bool) -> None:
    applied = [(fix, f) for fix in fixes if fix.changed and fix.error is None for f in fix.outcome.applied]
    if show and applied:
        click.echo(f"Fixed {_plural(len(applied), 'finding')}:", err=err)
        for fix, f in applied:
            where = f"cell {f.cell + 1}:line {f.line}:col {f.column}" if f.cell is not None else f"{f.line}:{f.column}"
            click.echo(f"  {printable(fix.shown)}:{where}: {f.code} {f.fix.description if f.fix else ''}", err=err)
    elif applied and not quiet:
        files = len({fix.shown for fix, _ in applied})
        click.echo(f"Fixed {_plural(len(applied), 'finding')} in {_plural(files, 'file')}.", err=err)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def write_baseline_file(path: Path, findings: list[Finding], source) -> bool:
    try:
        n = write_baseline(path, findings, source)
    except BaselineError as e:
        click.echo(f"kmlint: error: {e}", err=True)
        return False
    click.echo(f"kmlint: wrote {_plural(n, 'finding')} to baseline {path}", err=True)
    return True


def apply_baseline(findings: list[Finding], path: Path, result: RunResult, resolver, source) -> Optional[list[Finding]]:
    """The findings not in the baseline (None after an error).  Entries that
    match nothing any more are reported as fixed, with a hint."""
    checked = [(r.path, enabled_codes(resolver.for_file(Path(r.path)), r.path)) for r in result.results]
    try:
        new, stale = filter_baseline(findings, path, checked, source)
    except BaselineError as e:
        click.echo(f"kmlint: error: {e}", err=True)
        return None
    if stale:
        one = len(stale) == 1
        click.echo(f"kmlint: {len(stale)} baseline {'entry' if one else 'entries'} no longer "
                   f"match{'es' if one else ''} any finding (fixed, or the code changed):", err=True)
        for e in stale:
            click.echo(f"  {printable(e.path)}: {e.code} (line {e.line} when recorded) {e.message}", err=True)
        click.echo(f"hint: rewrite the baseline with `kmlint check --write-baseline {path}`", err=True)
    return new


def emit(report: str, output_file: Optional[Path], err: bool = False) -> bool:
    if output_file is None:
        click.echo(report, nl=False, err=err)
        return True
    try:
        output_file.write_text(report, encoding="utf-8")
    except OSError as e:
        click.echo(f"kmlint: error: cannot write {output_file}: {e.strerror or e}", err=True)
        return False
    return True
