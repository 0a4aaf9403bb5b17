"""Runtime confirmation of findings: plan the runs, execute them in sandboxed
children (in parallel), fall back to scenarios, rerun inconclusive ones once,
and attach the result to ``finding.extra["runtime"]``.

Per finding:

1. The user's own file, instrumented (``instrument.py``), run from its folder:
   the flagged variant, and beside it the fixed variant: the rule's autofix
   applied to the file, the pipeline without the flagged step (``tf.data``
   rules), or, with neither, the rule's fixed scenario.
2. When the user's code cannot run or does not reach the flagged code (a
   missing data file, an undefined name, the time limit), the rule's scenario
   (``rules/<CODE>-*/runtime.py``) runs instead, parameterised from the
   flagged code where possible; the report says which one ran.
3. An ``inconclusive`` result is measured once more, with twice the
   iterations.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from kmlint.findings import Finding
from kmlint.runtime import instrument as ins
from kmlint.runtime.sandbox import Limits, run_child
from kmlint.runtime.specs import SPECS, Spec, scenario_file, scenario_params
from kmlint.runtime.verdict import (
    INCONCLUSIVE, NOT_REACHED, THRESHOLDS, Measurement, choose_metric, metric_label, peak_ratio, peak_verdict,
    slope_ratio, slope_verdict, summarise,
)

YOUR_CODE, SCENARIO = "your code", "scenario"


def default_memory_limit(jobs: int) -> int:
    """Per child: 60% of the machine's memory shared by the parallel children, at most 8 GiB."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        total = 8 << 30
    return max(1 << 30, min(8 << 30, int(total * 0.6 / max(jobs, 1))))


@dataclass
class Options:
    iterations: int = 30
    device: str = "auto"  # auto | cpu | gpu
    jobs: int = 0  # 0: the number of cores
    timeout_s: float = 120.0
    memory_limit: int = 0  # bytes per child; 0: default_memory_limit
    plots_dir: Optional[Path] = None
    user_code: bool = True  # False: scenarios only
    report_path: Optional[Path] = None  # --runtime-report: the HTML report
    backend: str = ""  # Keras backend of the runs ("" = the project's, see backends.project_backend)

    def resolved(self) -> "Options":
        jobs = self.jobs or os.cpu_count() or 1
        return dataclasses.replace(self, jobs=jobs, memory_limit=self.memory_limit or default_memory_limit(jobs))


@dataclass
class Source:
    """What runtime mode needs from the static run for one file."""

    path: Path  # on disk
    code: str
    notebook: bool = False


@dataclass
class _Variant:
    job: dict
    ran: str
    label: str  # how the variant was made, for the report
    cwd: Optional[str] = None


@dataclass
class _Plan:
    finding: Finding
    spec: Spec
    scenario: Optional[Path]
    flagged: Optional[_Variant] = None
    fixed: Optional[_Variant] = None
    region: str = ""
    notes: list[str] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    param_notes: list[str] = field(default_factory=list)  # where scenario parameters came from


class Progress:
    """Progress on stderr.  On a terminal: one live line, redrawn every half
    second with the runs in flight and the time spent, from the first second
    on; elsewhere (CI logs, pipes): one plain line per finished run."""

    def __init__(self, stream=None, enabled: bool = True, live: Optional[bool] = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and (live if live is not None else bool(getattr(self.stream, "isatty", lambda: False)()))
        self.done = 0
        self.total = 0
        self.running: list[str] = []
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self._ticker: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._width = 0

    def _bar(self) -> str:
        width = 20
        filled = int(width * self.done / max(self.total, 1))
        return "#" * filled + "-" * (width - filled)

    def _draw(self) -> None:
        """Redraw the live line (caller holds the lock)."""
        elapsed = time.monotonic() - self.started
        now = f" running: {self.running[-1]}" if self.running else ""
        text = f"kmlint runtime: [{self._bar()}] {self.done}/{self.total} {elapsed:5.0f} s{now}"
        columns = shutil.get_terminal_size((100, 20)).columns - 1
        text = text[:columns]
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            with self.lock:
                self._draw()

    def start_live(self) -> None:
        if self.live and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, daemon=True, name="kmlint-progress")
            self._ticker.start()

    def stop_live(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join(timeout=1)
            self._ticker = None
            with self.lock:
                self._draw()
                self.stream.write("\n")
                self._width = 0

    def add(self, n: int) -> None:
        with self.lock:
            self.total += n

    def begun(self, what: str) -> None:
        with self.lock:
            self.running.append(what)

    def finished(self, what: str, m: Measurement) -> None:
        with self.lock:
            self.done += 1
            if what in self.running:
                self.running.remove(what)
            if not self.enabled:
                return
            state = m.status if m.status != "ok" else "measured"
            if self.live:
                self._draw()
                return
            print(f"kmlint runtime: [{self._bar()}] {self.done}/{self.total} {what}: {state} ({m.wall_s:.1f} s)",
                  file=self.stream, flush=True)

    def say(self, text: str) -> None:
        if not self.enabled:
            return
        with self.lock:
            if self.live and self._width:
                self.stream.write("\r" + " " * self._width + "\r")
                self._width = 0
            print(f"kmlint runtime: {text}", file=self.stream, flush=True)


def confirmable(finding: Finding) -> bool:
    return finding.code in SPECS


def confirm(findings: list[Finding], sources: dict[str, Source], options: Options,
            progress: Optional[Progress] = None) -> list[Finding]:
    """Measure every confirmable finding; results go to ``finding.extra["runtime"]``.
    Returns the findings that were measured."""
    from kmlint.runtime.backends import project_backend

    options = options.resolved()
    backend, origin = project_backend(options.backend)
    options = dataclasses.replace(options, backend=backend)
    progress = progress or Progress()
    if backend != "tensorflow" or origin != "default":
        progress.say(f"Keras backend: {backend} (from {origin})")
    targets = [f for f in findings if confirmable(f)]
    if not targets:
        progress.say("no runtime-confirmable findings")
        return []
    plans = [_plan(f, sources.get(f.path), options) for f in targets]
    for plan in plans:
        _announce(plan, progress)
    limits = Limits(timeout_s=options.timeout_s, rss_bytes=options.memory_limit)
    children = ThreadPoolExecutor(max_workers=options.jobs, thread_name_prefix="kmlint-child")

    def measure(variant: _Variant, spec: Spec, what: str):
        progress.begun(what)
        outcome = run_child(variant.job, limits, options.device, variant.cwd)
        progress.finished(what, summarise(outcome, spec.kind))
        return outcome

    def judge(spec: Spec, variant: _Variant, outcome, metric: str) -> Measurement:
        m = summarise(outcome, spec.kind, spec.compare if variant.ran == YOUR_CODE else "peak", metric)
        if outcome.status not in ("ok",) and outcome.log_tail and m.status != "not reached":
            m.notes.append("child output: " + outcome.log_tail.strip().splitlines()[-1][:300])
        return m

    def run_pair(plan: _Plan, flagged: _Variant, fixed: Optional[_Variant]) -> tuple[Measurement, Optional[Measurement]]:
        where = f"{plan.finding.code} {plan.finding.path}:{plan.finding.line}"
        progress.add(1 + (fixed is not None))
        a = children.submit(measure, flagged, plan.spec, f"{where} flagged ({flagged.ran})")
        b = children.submit(measure, fixed, plan.spec, f"{where} fixed ({fixed.ran})") if fixed else None
        flagged_outcome, fixed_outcome = a.result(), (b.result() if b else None)
        # both variants are judged on the metric the flagged run calls for (see verdict.choose_metric)
        metric, why = choose_metric(flagged_outcome, plan.spec.metric)
        if why and why not in plan.notes:
            plan.notes.append(why)
        return (judge(plan.spec, flagged, flagged_outcome, metric),
                judge(plan.spec, fixed, fixed_outcome, metric) if fixed is not None else None)

    progress.start_live()
    try:
        with ThreadPoolExecutor(max_workers=min(len(plans), 64), thread_name_prefix="kmlint-finding") as pool:
            list(pool.map(lambda p: _confirm_one(p, options, run_pair), plans))
    finally:
        children.shutdown(wait=True)
        progress.stop_live()
    if options.plots_dir is not None:
        from kmlint.runtime.plots import write_plots

        for path in write_plots(targets, options.plots_dir, progress):
            progress.say(f"wrote {path}")
    if options.report_path is not None:
        from kmlint.runtime.html import write_html

        progress.say(f"wrote {write_html(options.report_path, [_entry(p) for p in plans])}")
    return targets


def _code_of(variant: Optional[_Variant]) -> tuple[str, str]:
    if variant is None:
        return "", ""
    if variant.ran == YOUR_CODE:
        return variant.job.get("code", ""), f"your code, {variant.label} (instrumented: the probes are the __kmlint_probe__ lines)"
    path = Path(variant.job["file"])
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    return text, f"scenario {_shown(path)}, function {variant.job.get('variant')}() ({variant.label})"


def _entry(plan: "_Plan"):
    from kmlint.runtime.html import Entry

    flagged_code, flagged_title = _code_of(plan.flagged)
    fixed_code, fixed_title = _code_of(plan.fixed)
    if plan.fixed is not None and plan.flagged is not None and plan.fixed.job.get("file") == plan.flagged.job.get("file") \
            and plan.fixed.ran == SCENARIO and plan.flagged.ran == SCENARIO:
        fixed_code = ""  # one scenario file holds both variants
        flagged_title = f"scenario {_shown(Path(plan.flagged.job['file']))}: bad() is the flagged variant, fixed() the fixed one"
    return Entry(plan.finding, flagged_code, flagged_title, fixed_code, fixed_title)


# ----------------------------------------------------------------- planning


def _scenario_job(scenario: Path, variant: str, params: dict, iterations: int, backend: str = "tensorflow") -> dict:
    return {"kind": "scenario", "file": str(scenario), "variant": variant, "params": params, "cap": iterations,
            "backend": backend}


def _scenario_backend(plan: "_Plan", options: Options) -> str:
    from kmlint.runtime.backends import scenario_backends

    supported = scenario_backends(plan.scenario)
    if options.backend in supported:
        return options.backend
    note = (f"the scenario uses TensorFlow's own APIs: measured under tensorflow, not your backend "
            f"({options.backend})")
    if note not in plan.notes:
        plan.notes.append(note)
    return supported[0]


def _plan(finding: Finding, source: Optional[Source], options: Options) -> _Plan:
    spec = SPECS[finding.code]
    plan = _Plan(finding, spec, scenario_file(finding.code))
    plan.params = {"iterations": options.iterations}
    if source is not None:
        plan.params, plan.param_notes = scenario_params(spec, source.code, finding.line, finding.column,
                                                        options.iterations)
    if not options.user_code:
        plan.notes.append("--runtime-scenarios-only: your code was not run")
    elif source is None or source.notebook:
        plan.notes.append("your code was not run: notebooks and standard input are measured with the scenario")
    else:
        try:
            _plan_user(plan, source, options)
        except ins.NotInstrumentable as e:
            plan.notes.append(f"your code was not run: {e}")
            plan.flagged = plan.fixed = None
    if plan.flagged is None and plan.scenario is not None:
        _plan_scenario(plan, options)
    return plan


def _plan_scenario(plan: _Plan, options: Options) -> None:
    assert plan.scenario is not None
    backend = _scenario_backend(plan, options)
    plan.flagged = _Variant(_scenario_job(plan.scenario, "bad", plan.params, options.iterations, backend), SCENARIO,
                            "bad")
    plan.fixed = _Variant(_scenario_job(plan.scenario, "fixed", plan.params, options.iterations, backend), SCENARIO,
                          "fixed scenario")
    plan.region = f"scenario {_shown(plan.scenario)}"
    plan.notes.extend(f"scenario parameter {n}" for n in plan.param_notes)


def _user_job(source: Source, code: str, options: Options) -> dict:
    return {"kind": "user", "file": str(source.path.resolve()), "code": code, "cap": options.iterations,
            "drain_seconds": max(5.0, options.timeout_s / 2), "backend": options.backend}


def _plan_user(plan: _Plan, source: Source, options: Options) -> None:
    f, spec = plan.finding, plan.spec
    region = ins.find_region(source.code, spec.mode, f.line, f.column, spec.method)
    cwd = str(source.path.resolve().parent)
    flagged_code = ins.instrument(source.code, region, record_data=spec.data_reference)
    plan.flagged = _Variant(_user_job(source, flagged_code, options), YOUR_CODE, "as written", cwd)
    plan.region = f"{_shown(source.path)}: {region.description}"
    if spec.mode == "drain":
        reference = ins.instrument(source.code, region, reference=True)
        plan.fixed = _Variant(_user_job(source, reference, options), YOUR_CODE,
                              f"the same pipeline without .{spec.method}()", cwd)
        return
    if spec.data_reference:
        return  # judged against the flagged array's own size
    fixed_code = _autofix(f, source)
    if fixed_code is not None:
        moved = dataclasses.replace(region, anchor_line=ins.map_line(source.code, fixed_code, region.anchor_line))
        try:
            plan.fixed = _Variant(_user_job(source, ins.instrument(fixed_code, moved), options), YOUR_CODE,
                                  f"autofix: {f.fix.description}" if f.fix else "autofix", cwd)
            return
        except ins.NotInstrumentable as e:
            plan.notes.append(f"the autofix could not be measured: {e}")
    if spec.kind == "peak" or plan.scenario is None:
        # a peak is only meaningful against the same program: measure the scenario pair instead
        raise ins.NotInstrumentable("no fixed variant of your code to compare the peak with")
    plan.fixed = _Variant(_scenario_job(plan.scenario, "fixed", plan.params, options.iterations,
                                        _scenario_backend(plan, options)), SCENARIO,
                          "fixed scenario (no autofix for this finding)")


def _autofix(finding: Finding, source: Source) -> Optional[str]:
    """The file with this one finding's fix applied (its located text edits)."""
    fix = finding.fix
    if fix is None or not fix.edits or finding.cell is not None:
        return None
    return fix.apply(source.code)


def _shown(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _announce(plan: _Plan, progress: Progress) -> None:
    f = plan.finding
    if plan.flagged is None:
        progress.say(f"{f.code} {f.path}:{f.line}: nothing to run (no scenario found)")
        return
    if plan.flagged.ran == YOUR_CODE:
        cap = f", at most {plan.flagged.job['cap']} iterations" if plan.spec.mode == "loop" else ""
        fixed = plan.fixed.label if plan.fixed else "none (judged against the array's own size)"
        text = (f"{f.code} {f.path}:{f.line}: will run your code {plan.region}{cap}, "
                f"from {plan.flagged.cwd}; fixed variant: {fixed}")
    else:
        text = f"{f.code} {f.path}:{f.line}: will run the {plan.region} (bad and fixed variants)"
    progress.say(text)


# ----------------------------------------------------------------- measuring


def _reached_failure(m: Measurement) -> bool:
    """A failure the user's program had before it reached the flagged code."""
    return m.status != "ok" and not m.reached


def _confirm_one(plan: _Plan, options: Options, run_pair: Callable) -> None:
    f = plan.finding
    if plan.flagged is None:
        f.extra["runtime"] = {"verdict": NOT_REACHED, "ran": None, "notes": plan.notes + ["no runtime scenario"]}
        return
    flagged, fixed = run_pair(plan, plan.flagged, plan.fixed)
    if plan.flagged.ran == YOUR_CODE and (flagged.status == "not reached" or _reached_failure(flagged)):
        reason = "did not reach the flagged code" if flagged.status == "not reached" else flagged.detail
        plan.notes.append(f"your code: {reason}; the scenario ran instead")
        if plan.scenario is not None:
            _plan_scenario(plan, options)
            flagged, fixed = run_pair(plan, plan.flagged, plan.fixed)
    verdict = _verdict(plan.spec, flagged, fixed)
    reruns = 0
    if verdict == INCONCLUSIVE:
        reruns = 1
        plan.notes.append("inconclusive at first: measured again with twice the iterations")
        for variant in (plan.flagged, plan.fixed):
            if variant is not None:
                variant.job = dict(variant.job, cap=variant.job["cap"] * 2,
                                   params=dict(variant.job.get("params") or {}, iterations=variant.job["cap"] * 2))
        flagged, fixed = run_pair(plan, plan.flagged, plan.fixed)
        verdict = _verdict(plan.spec, flagged, fixed)
    f.extra["runtime"] = _report(plan, verdict, flagged, fixed, reruns)


def _verdict(spec: Spec, flagged: Measurement, fixed: Optional[Measurement]) -> str:
    if spec.kind == "slope":
        return slope_verdict(flagged)
    return peak_verdict(flagged, fixed, spec.confirm_ratio)


def _report(plan: _Plan, verdict: str, flagged: Measurement, fixed: Optional[Measurement], reruns: int) -> dict:
    spec = plan.spec
    out: dict = {
        "verdict": verdict,
        "ran": plan.flagged.ran if plan.flagged else None,
        "kind": spec.kind,
        "device": flagged.device,
        "backend": (plan.flagged.job.get("backend") if plan.flagged else None) or "tensorflow",
        "metric": flagged.metric,
        "metric_label": metric_label(flagged.metric),
        "region": plan.region,
        "flagged": flagged.to_json(),
        "reruns": reruns,
        "thresholds": THRESHOLDS,
    }
    if plan.flagged and plan.flagged.ran == SCENARIO:
        out["params"] = plan.flagged.job.get("params")
    if fixed is not None and plan.fixed is not None:
        out["fixed"] = dict(fixed.to_json(), variant=plan.fixed.label, ran=plan.fixed.ran)
        if spec.kind == "slope":
            out["fixed"]["verdict"] = slope_verdict(fixed)
            ratio = slope_ratio(flagged, fixed)
        else:
            ratio = peak_ratio(flagged, fixed) if flagged.growth is not None and fixed.growth is not None else None
            # the fixed variant judged like a flagged one against itself: does its peak stand out? never
            out["fixed"]["verdict"] = "reference"
        if ratio is not None:
            out["ratio"] = round(ratio, 2)
    elif spec.data_reference and flagged.data_bytes and flagged.growth is not None:
        out["ratio_to_data"] = round(flagged.growth / flagged.data_bytes, 2)
    if flagged.detail:
        out["error"] = flagged.detail
    notes = plan.notes + flagged.notes
    if notes:
        out["notes"] = notes
    from kmlint.runtime.report import fix_effect, location, summary

    out["location"] = location(plan.finding)
    out["fix_effect"] = fix_effect(out)
    out["summary"] = summary(out)
    return out
