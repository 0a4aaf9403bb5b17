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
                 help="Execute the flagged code of runtime-confirmable rules in a sandboxed subprocess "
                      "and measure the memory growth (needs the `runtime` extra: TensorFlow)."),
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
]
RUNTIME_KEYS = ("runtime", "runtime_iterations", "device", "runtime_plots", "runtime_timeout",
                "runtime_memory_limit", "runtime_scenarios_only", "runtime_report", "backend")


def runtime_options(command):
    for option in reversed(RUNTIME_OPTIONS):
        command = option(command)
    return command


def runtime_requested(kw: dict) -> bool:
    """Validate the runtime options; True when runtime mode is on."""
    if not kw.get("runtime"):
        given = [k for k in RUNTIME_KEYS[1:] if kw.get(k) not in (None, False)]
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


def run_runtime(result, findings, kw: dict) -> None:
    """Measure the confirmable ``findings`` of a static run (``RunResult`` built with keep_tree)."""
    from kmlint.runtime.confirm import Source, confirm

    options = options_from(kw)
    sources = {}
    for res in result.results:
        if res.text is None:
            continue
        sources[res.path] = Source(Path(res.path), res.text, res.module, res.notebook is not None)
    confirm(findings, sources, options)
