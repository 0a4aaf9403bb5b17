"""The ``kmlint check`` options of runtime mode, and the glue from a static
run's result to ``confirm``.  ``--jobs`` (shared with static linting) also
sets how many measurements run in parallel.  Importing this module never imports TensorFlow
(only the child processes do)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from kmlint.config import parse_size

RUNTIME_OPTIONS = [
    click.option("--runtime", is_flag=True,
                 help="EXECUTE your code: the module-level statements of each flagged file up to the flagged "
                      "code, at least twice (as written and fixed), in a subprocess with resource limits, a "
                      "timeout and a scrubbed environment, and measure the memory growth. Not a security "
                      "sandbox: the code runs as you and can read and write what you can (needs the `runtime` "
                      "extra: TensorFlow)."),
    click.option("--runtime-iterations", type=click.IntRange(4, 10000), default=None,
                 help="Iterations measured per flagged loop (default 30)."),
    click.option("--device", type=click.Choice(["auto", "cpu", "gpu"]), default=None,
                 help="Where runtime mode runs TensorFlow (auto: the GPU when TensorFlow sees one)."),
    click.option("--runtime-plots", type=click.Path(file_okay=False, path_type=Path), default=None,
                 help="Write one PNG per measured finding into this folder (needs matplotlib)."),
    click.option("--runtime-timeout", type=click.FloatRange(5, 86400), default=None,
                 help="Wall-clock limit per measurement run in seconds (default 120)."),
    click.option("--runtime-memory-limit", type=str, default=None,
                 help="Resident memory limit per measurement run, e.g. '4GiB' (default: 60% of RAM / jobs, at most 8 GiB)."),
    click.option("--runtime-scenarios-only", is_flag=True,
                 help="Never run your code: measure the rules' own scenarios."),
    click.option("--runtime-report", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help="Write an HTML report (table, plots, the code that ran) to this file."),
    click.option("--backend", type=click.Choice(["tensorflow", "jax", "torch"]), default=None,
                 help="Keras backend runtime mode runs your code under (default: KERAS_BACKEND, "
                      "~/.keras/keras.json, else tensorflow)."),
    click.option("--runtime-pass-env", multiple=True, metavar="NAME",
                 help="Pass this environment variable (or glob, e.g. 'WANDB_*') to the measured runs; by default "
                      "they get an allow-list only (PATH, HOME, locale, Python, CUDA/TF/XLA/KERAS settings)."),
]
RUNTIME_KEYS = ("runtime", "runtime_iterations", "device", "runtime_plots", "runtime_timeout",
                "runtime_memory_limit", "runtime_scenarios_only", "runtime_report", "backend", "runtime_pass_env")


def runtime_options(command):
    for option in reversed(RUNTIME_OPTIONS):
        command = option(command)
    return command


def runtime_requested(kw: dict) -> bool:
    """Validate the runtime options; True when runtime mode is on."""
    if not kw.get("runtime"):
        given = [k for k in RUNTIME_KEYS[1:] if kw.get(k) not in (None, False, ())]
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} needs --runtime")
        return False
    if os.environ.get("PRE_COMMIT") == "1":
        raise click.UsageError("runtime mode executes code and never runs from pre-commit; run `kmlint check --runtime` by hand")
    return True


def options_from(kw: dict):
    from kmlint.runtime.confirm import Options

    memory = 0
    if kw.get("runtime_memory_limit"):
        try:
            memory = parse_size(kw["runtime_memory_limit"])
        except ValueError as e:
            raise click.UsageError(f"--runtime-memory-limit: {e}") from None
    return Options(
        iterations=kw.get("runtime_iterations") or 30,
        device=kw.get("device") or "auto",
        jobs=kw.get("jobs") or 0,
        timeout_s=kw.get("runtime_timeout") or 120.0,
        memory_limit=memory,
        plots_dir=kw.get("runtime_plots"),
        user_code=not kw.get("runtime_scenarios_only"),
        report_path=kw.get("runtime_report"),
        backend=kw.get("backend") or "",
    )


def announce_execution(findings, options, stream=None) -> None:
    """Say what will run before anything runs: runtime mode executes the
    user's files, and everything at module level before the measured code
    (imports, data loading, side effects) runs with it, more than once."""
    import sys

    from kmlint.runtime import sandbox
    from kmlint.runtime.confirm import confirmable

    stream = stream or sys.stderr
    lines: dict[str, int] = {}
    for f in findings:
        if confirmable(f) and not f.path.endswith(".ipynb") and f.path != "-":
            lines[f.path] = max(lines.get(f.path, 0), f.line)
    if not lines:
        return
    names = sorted(sandbox.scrubbed_environ())
    print("kmlint runtime: this EXECUTES your code, as you (not a security sandbox). For each file below, "
          "every module-level statement before the measured code runs (imports, data loading, any side "
          "effect), at least twice per finding (as written and with the fix; inconclusive results run again), "
          "from the file's folder:", file=stream)
    for path, line in sorted(lines.items()):
        print(f"  {path} (up to line {line} and the flagged code)", file=stream)
    print(f"kmlint runtime: environment of the runs: {len(names)} variables of yours ({', '.join(names)}) plus "
          f"kmlint's thread and logging settings; pass more with --runtime-pass-env NAME", file=stream, flush=True)


def run_runtime(result, findings, kw: dict) -> None:
    """Measure the confirmable ``findings`` of a static run (through the
    cache and the pool like any run: the findings carry their positions and
    fix edits, and the code is read from the files)."""
    from kmlint.runtime.confirm import confirm

    from kmlint.runtime import sandbox

    options = options_from(kw)
    sandbox.PASS_ENV[:] = list(kw.get("runtime_pass_env") or ())
    sandbox.install_stop_handler()  # SIGTERM of kmlint ends every measured run's process tree
    if options.user_code:
        announce_execution(findings, options)
    sources = {}
    wanted = {f.path for f in findings}
    for res in result.results:
        if res.path in wanted:
            source = _source_of(res.path)
            if source is not None:
                sources[res.path] = source
    confirm(findings, sources, options)


def _source_of(path: str):
    """The code runtime mode instruments: the file's text (a notebook's code
    cells as kmlint joins them); None when it cannot be read."""
    from kmlint.engine.linter import decode
    from kmlint.engine.notebooks import NotebookError, load_notebook
    from kmlint.runtime.confirm import Source

    try:
        data = Path(path).read_bytes()
        if path.endswith(".ipynb"):
            return Source(Path(path), load_notebook(data.decode("utf-8-sig")).source, True)
        return Source(Path(path), decode(data), False)
    except (OSError, UnicodeDecodeError, SyntaxError, NotebookError):
        return None
