"""The ``kmlint`` command line (click), shaped like Ruff's.

Exit codes: 0 no findings, 1 findings, 2 usage/config/internal error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import click

from kmlint import __version__
from kmlint.config import ConfigError, ConfigResolver
from kmlint.registry import SelectorError, all_meta, expand_selector, rule_meta
from kmlint.runtime.cli_options import runtime_options, runtime_requested

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(s.strip() for s in v.split(",") if s.strip())
    return out


def _check_selectors(values: list[str], option: str) -> None:
    for v in values:
        try:
            expand_selector(v)
        except SelectorError:
            raise click.UsageError(f"unknown rule code or name {v!r} in {option}") from None


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.ClickException as e:
            e.exit_code = EXIT_ERROR
            raise
        except Exception:  # noqa: BLE001 - a traceback exits 1, which CI reads as "findings"
            import traceback

            traceback.print_exc()
            click.echo("kmlint: internal error (a bug in kmlint; the traceback is above): exiting 2", err=True)
            sys.exit(EXIT_ERROR)


def package_version() -> str:
    """kmlint's version from the installed package's metadata, when that
    installation is the code running (an installed wheel, or an editable install
    of this checkout); otherwise (a source checkout on PYTHONPATH, next to some
    other installed copy) ``kmlint.__version__``."""
    import json
    from importlib.metadata import PackageNotFoundError, distribution

    import kmlint

    try:
        dist = distribution("kmlint")
        here = Path(kmlint.__file__).resolve()
        if Path(str(dist.locate_file("kmlint/__init__.py"))).resolve() == here:
            return dist.version
        direct = json.loads(dist.read_text("direct_url.json") or "{}")
        url = direct.get("url", "")
        if direct.get("dir_info", {}).get("editable") and url.startswith("file://"):
            from urllib.parse import unquote, urlparse

            if Path(unquote(urlparse(url).path)).resolve() == here.parent.parent:
                return dist.version
    except (PackageNotFoundError, OSError, ValueError, TypeError, AttributeError):
        pass
    return __version__


def _print_version(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"kmlint {package_version()}")
    ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version (from the installed package's metadata) and exit.")
def main() -> None:
    """kmlint: find memory anti-patterns in TensorFlow/Keras code."""


@main.command()
@click.argument("paths", nargs=-1, type=str)
@click.option("--select", multiple=True, help="Rule codes, prefixes (KM2) or names to enable (comma-separated).")
@click.option("--ignore", multiple=True, help="Rules to disable.")
@click.option("--extend-select", multiple=True, help="Rules to enable on top of the selection.")
@click.option("--preview", is_flag=True, default=None, help="Enable preview rules and behaviour.")
@click.option("--output-format", type=str, default=None,
              help="full (default on a terminal: with code frames), text/concise (default otherwise), json, "
                   "json-lines, sarif, github, gitlab or junit.")
@click.option("--output-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of stdout.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Use this config file instead of discovering one.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=None,
              help="Worker processes (default: config `jobs`, else the number of cores; 0 = cores).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Print counts per rule instead of findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--stdin-filename", type=str, default=None, help="The name to report for source read from '-'.")
@click.option("--extend-exclude", multiple=True, help="Extra glob patterns to exclude.")
@click.option("--force-exclude", is_flag=True, help="Apply exclusions to files named explicitly too (for pre-commit).")
@click.option("--fix", is_flag=True, help="Apply safe fixes.")
@click.option("--unsafe-fixes", is_flag=True, help="Apply unsafe fixes as well (implies --fix unless --diff).")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing; exit 1 if there are any.")
@click.option("--show-fixes", is_flag=True, help="List every fix applied.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Report only findings not recorded in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Record the current findings in this baseline file and exit 0.")
@click.option("--watch", is_flag=True, help="Lint again whenever a file changes (clears the screen on a terminal).")
@click.option("--show-settings", is_flag=True, help="Print the settings used for the first file of PATHS and exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be linted and exit.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: KMxxx` to every line with a finding (merged with "
              "existing directives) and exit.")
@runtime_options
@click.pass_context
def check(ctx, paths, select, ignore, extend_select, preview, output_format, output_file, config_path, no_cache, jobs,
          exit_zero, statistics, quiet, stdin_filename, extend_exclude, force_exclude, fix, unsafe_fixes, diff,
          show_fixes, baseline_path, write_baseline, watch, show_settings, show_files, add_noqa, **runtime_kw) -> None:
    """Lint PATHS (files or directories; default: current directory; '-' reads stdin)."""
    if watch:
        _watch(ctx, paths, config_path)
        return
    from kmlint.output import FORMATS

    runtime = runtime_requested(runtime_kw)
    # a plain report may be recorded for the next identical run (kmlint.engine.manifest)
    recording = (ctx.find_root().obj or {}).get("recording")
    witness = None
    if recording is not None and not (no_cache or fix or unsafe_fixes or diff or output_file or baseline_path
                                      or write_baseline or runtime or show_settings or show_files or add_noqa
                                      or "-" in paths):
        from kmlint.engine.manifest import Witness

        witness = Witness()

    overrides: dict = {}
    if select:
        overrides["select"] = _split(select)
        _check_selectors(overrides["select"], "--select")
    if ignore:
        overrides["ignore"] = _split(ignore)
        _check_selectors(overrides["ignore"], "--ignore")
    if extend_select:
        overrides["extend_select"] = _split(extend_select)
        _check_selectors(overrides["extend_select"], "--extend-select")
    if preview is not None:
        overrides["preview"] = preview
    if extend_exclude:
        overrides["extend_exclude"] = _split(extend_exclude)
    try:
        resolver = ConfigResolver(config_path, overrides, witness=witness)
        base = resolver.for_dir(Path.cwd())
    except ConfigError as e:
        click.echo(f"kmlint: error: {e}", err=True)
        sys.exit(EXIT_ERROR)
    if show_settings or show_files or add_noqa:
        _show_or_add_noqa(resolver, list(paths) or ["."], show_settings, show_files, add_noqa, force_exclude)
    fmt = output_format or base.output_format or ("full" if output_file is None and sys.stdout.isatty() else "text")
    if fmt not in FORMATS:
        click.echo(f"kmlint: error: unknown output format {fmt!r} (choose from {', '.join(sorted(FORMATS))})", err=True)
        sys.exit(EXIT_ERROR)

    paths = list(paths) or ["."]
    from kmlint import reporting
    from kmlint.engine.paths import printable
    from kmlint.engine.runner import run

    fixing = fix or unsafe_fixes or diff
    if runtime and fixing:
        raise click.UsageError("--runtime cannot be combined with --fix, --unsafe-fixes or --diff")
    stdin = paths == ["-"]
    fixes: list = []
    try:
        if stdin:
            name = stdin_filename or "-"
            settings = resolver.for_file(Path(name)) if stdin_filename else base
            result, fixes = reporting.check_stdin(sys.stdin.buffer.read(), name, settings, fixing, unsafe_fixes)
        else:
            if "-" in paths:
                raise click.UsageError("'-' (stdin) cannot be combined with other paths")
            if fixing:
                from kmlint.fixer import fix_run

                result, fixes = fix_run(paths, resolver, unsafe=unsafe_fixes, write=not diff, force_exclude=force_exclude,
                                        use_cache=not no_cache, jobs=jobs if jobs is not None else base.jobs)
            else:
                result = run(paths, resolver, force_exclude=force_exclude, use_cache=not no_cache,
                             jobs=jobs if jobs is not None else base.jobs, witness=witness)
    except ConfigError as e:
        click.echo(f"kmlint: error: {e}", err=True)
        sys.exit(EXIT_ERROR)

    for p in result.problems:
        click.echo(f"kmlint: error: {printable(p.path)}: {p.message}", err=True)
    failed = reporting.fix_problems(fixes)
    if diff:
        code = reporting.show_diff(fixes, quiet)
        sys.exit(EXIT_ERROR if failed or result.problems or result.internal_errors else code)
    source = reporting.source_reader(fixes if stdin else [])
    if write_baseline is not None:
        ok = reporting.write_baseline_file(write_baseline, result.findings, source)
        sys.exit(EXIT_OK if ok and not failed else EXIT_ERROR)
    findings = result.findings
    baseline_file = baseline_path or (base.root / base.baseline if base.baseline else None)
    if baseline_file is not None:
        findings = reporting.apply_baseline(findings, baseline_file, result, resolver, source)
        if findings is None:
            sys.exit(EXIT_ERROR)
    if stdin and fixing:  # like Ruff: the fixed source on stdout, the report on stderr
        out = sys.stdout.buffer  # click.get_binary_stream is deprecated (Click 9 removes it)
        sys.stdout.flush()
        out.write(fixes[0].new_bytes or fixes[0].original_bytes or b"")
        out.flush()
    if runtime:
        from kmlint.runtime.cli_options import run_runtime

        run_runtime(result, findings, dict(runtime_kw, jobs=jobs))
    info = {"files": result.files, "quiet": quiet, "statistics": statistics, "source": source,
            "problems": len(result.problems)}
    out = FORMATS[fmt](findings, info)
    if runtime and fmt in HUMAN_FORMATS:
        from kmlint.runtime.report import render_runtime

        out += render_runtime(findings)
    if not reporting.emit(out, output_file, err=stdin and fixing):
        sys.exit(EXIT_ERROR)
    if fixing:
        reporting.fix_summary(fixes, show_fixes, quiet, err=fmt not in HUMAN_FORMATS or output_file is not None or stdin)
    crashed = False
    for f in findings:
        if f.code == "KM000":
            crashed = True
            click.echo(f"kmlint: internal error: {printable(f.path)}: {f.message}", err=True)
    if result.internal_errors or result.problems or failed:
        sys.exit(EXIT_ERROR)
    code = EXIT_FINDINGS if findings and not exit_zero else EXIT_OK
    if witness is not None and baseline_file is None and not crashed:
        _record_manifest(recording, witness, base, resolver, result, out, code)
    sys.exit(code)


def _record_manifest(recording, witness, base, resolver: ConfigResolver, result, out: str, code: int) -> None:
    from kmlint.engine.cache import cache_dir_for
    from kmlint.engine.manifest import record

    deps = sorted({d for r in result.results for d in r.dependencies})
    record(recording, witness, str(cache_dir_for(base)), stdout=out, exit_code=code,
           files=[str(p) for p in result.paths], dependencies=deps,
           configs=[str(p) for p in resolver.config_files()])


HUMAN_FORMATS = ("text", "full", "concise")


def _watch(ctx: click.Context, paths: tuple[str, ...], config_path: Optional[Path]) -> None:
    """--watch: run this same command (without --watch) now and after every change."""
    from kmlint.cli_tools import watch

    if list(paths) == ["-"]:
        raise click.UsageError("--watch cannot read stdin ('-')")
    params = dict(ctx.params, watch=False)

    def once() -> int:
        try:
            ctx.invoke(check, **params)
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else 0
        except click.ClickException as e:
            e.show()
            return EXIT_ERROR
        except (KeyboardInterrupt, click.exceptions.Abort):
            raise
        except Exception:  # a bug in one run: say so and keep watching
            import traceback

            traceback.print_exc()
            click.echo("kmlint: internal error (a bug in kmlint; the traceback is above)", err=True)
            return EXIT_ERROR
        return EXIT_OK

    def resolver() -> ConfigResolver:
        return ConfigResolver(config_path)

    sys.exit(watch(once, list(paths) or ["."], resolver))


def _show_or_add_noqa(resolver: ConfigResolver, paths: list[str], show_settings: bool, show_files: bool,
                      add_noqa: bool, force_exclude: bool) -> None:
    from kmlint import cli_tools

    if "-" in paths:
        raise click.UsageError("--show-settings, --show-files and --add-noqa take paths, not stdin ('-')")
    try:
        if show_settings:
            click.echo(cli_tools.show_settings(resolver, paths), nl=False)
            sys.exit(EXIT_OK)
        if show_files:
            listing, problems = cli_tools.show_files(resolver, paths, force_exclude)
            click.echo(listing, nl=False)
        else:
            added, changed, problems = cli_tools.add_noqa(paths, resolver, force_exclude)
            click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''} in {changed} "
                       f"file{'s' if changed != 1 else ''}.")
    except ConfigError as e:
        click.echo(f"kmlint: error: {e}", err=True)
        sys.exit(EXIT_ERROR)
    from kmlint.engine.paths import printable

    for p in problems:
        click.echo(f"kmlint: error: {printable(p.path)}: {p.message}", err=True)
    sys.exit(EXIT_ERROR if problems else EXIT_OK)


@main.command("rules")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text")
def rules_cmd(output_format: str) -> None:
    """List every rule: code, name, summary, fixability, runtime confirmation."""
    rules = all_meta()
    if output_format == "markdown":
        from kmlint.docs import rules_table

        click.echo(rules_table(), nl=False)
        return
    if output_format == "json":
        import json

        click.echo(json.dumps([
            {"code": r.code, "name": r.name, "summary": r.summary, "fixable": r.fixable,
             "confirmable": r.confirmable, "preview": r.preview} for r in rules], indent=2))
        return
    click.echo(f"{'code':<7} {'name':<36} {'fix':<8} {'runtime':<8} summary")
    for r in rules:
        fix = r.fixable or "-"
        rt = "yes" if r.confirmable else "-"
        click.echo(f"{r.code:<7} {r.name:<36} {fix:<8} {rt:<8} {r.summary}")


@main.command("rule")
@click.argument("code")
def rule_cmd(code: str) -> None:
    """Print a rule's documentation (its dossier README)."""
    from kmlint.docs import rule_readme

    rule = rule_meta(code)
    if rule is None:
        click.echo(f"kmlint: error: unknown rule {code!r}", err=True)
        sys.exit(EXIT_ERROR)
    text = rule_readme(rule)
    if text is None:
        click.echo(f"kmlint: error: no documentation found for {rule.code}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(text)


@main.command("server")
def server_cmd() -> None:
    """Run the language server for editors (LSP over stdio)."""
    try:
        from kmlint.lsp.server import main as serve
    except ImportError as e:
        if e.name not in ("pygls", "lsprotocol") and not (e.name or "").startswith(("pygls.", "lsprotocol.")):
            raise
        click.echo(f"kmlint: error: `kmlint server` needs pygls: pip install 'kmlint[lsp]' ({e})", err=True)
        sys.exit(EXIT_ERROR)
    serve()


if __name__ == "__main__":  # pragma: no cover
    main()
