"""How each runtime-confirmable rule is measured.

``kind`` decides the verdict: ``slope`` rules leak a bit on every iteration
(bytes per iteration), ``peak`` rules raise the peak (compared with the fixed
variant).  ``mode`` is the region instrumented in the user's own code (see
``instrument.py``).  The scenario of each rule lives in its dossier:
``rules/<CODE>-<name>/runtime.py`` with ``KIND``, ``PARAMS``, optional
``setup(params)``, and the generator functions ``bad`` and ``fixed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import libcst as cst

from kmlint.docs import dossier_root


@dataclass(frozen=True)
class Spec:
    kind: str  # slope | peak
    mode: str  # loop | statement | drain | checkpoint
    method: str = ""  # drain: the flagged tf.data method
    # parameters of the scenario read from literal arguments of the flagged call: {param: argument index}
    call_params: tuple[tuple[str, int], ...] = ()
    data_reference: bool = False  # peak judged against the flagged argument's own size (no fixed run)
    # in the user's code, compare what the statement leaves held ("held") instead of its peak: a fix
    # such as `.astype(np.float32)` lowers the memory kept, not the statement's own transient peak
    compare: str = "peak"
    # "tensor": judged on the framework allocator's bytes of live tensors (the rule is about tensors
    # kept alive), "host": on the process's memory; see verdict.choose_metric
    metric: str = "host"
    # peak rules: how many times the fixed variant's growth the flagged one must reach to be confirmed
    # (``verdict.PEAK_CONFIRM_RATIO`` unless the rule's own arithmetic bounds the ratio lower)
    confirm_ratio: Optional[float] = None


SPECS: dict[str, Spec] = {
    "KM101": Spec("peak", "drain", "cache"),
    "KM104": Spec("peak", "drain", "shuffle", call_params=(("elements", 0),)),
    "KM105": Spec("peak", "drain", "prefetch", call_params=(("buffer", 0),)),
    "KM106": Spec("peak", "statement", data_reference=True, metric="tensor"),
    "KM109": Spec("slope", "loop"),
    "KM203": Spec("slope", "loop"),
    "KM204": Spec("slope", "loop"),
    "KM301": Spec("peak", "checkpoint", compare="held", metric="tensor"),
    # KM302: the fix halves the input array (float32 instead of float64), but what consumes it (Keras's
    # own float32 tensor copy, the batches) grows with the data the same way in both variants, so the
    # peak ratio is bounded near 1.6x however large the data; measured 1.43x-1.66x (CI and local).
    # The 8 MiB excess is still required; a fixed variant against itself stays near 1.0x.
    "KM302": Spec("peak", "statement", compare="held", confirm_ratio=1.3),
    "KM303": Spec("slope", "loop", metric="tensor"),
    "KM401": Spec("slope", "loop"),
    "KM402": Spec("slope", "loop"),
    "KM405": Spec("slope", "loop"),
}

#: scenario parameters are clamped so a scenario stays a few seconds and a few dozen MiB
PARAM_LIMITS = {"elements": (8, 512), "buffer": (8, 256), "batch_size": (1, 256)}


def scenario_file(code: str) -> Optional[Path]:
    """The rule's scenario (``rules/<CODE>-*/runtime.py``), found by code alone so a
    scenario works as soon as its dossier exists."""
    root = dossier_root()
    for folder in sorted(root.glob(f"{code}-*")):
        candidate = folder / "runtime.py"
        if candidate.is_file():
            return candidate
    return None


def _int_literal(node: cst.BaseExpression) -> Optional[int]:
    if isinstance(node, cst.Integer):
        try:
            return int(node.value.replace("_", ""), 0)
        except ValueError:
            return None
    return None


def scenario_params(spec: Spec, code: str, line: int, column: int, iterations: int) -> tuple[dict, list[str]]:
    """Scenario parameters taken from the flagged code: literal arguments of the
    flagged call (buffer sizes) and ``batch_size=`` / ``.batch(n)`` literals on
    the flagged line, each clamped to ``PARAM_LIMITS``; the number of
    iterations is ``--runtime-iterations``.  Returns the parameters and where each came from."""
    params: dict = {"iterations": iterations}
    notes: list[str] = []
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError:
        return params, notes
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(module)
    positions = wrapper.resolve(PositionProvider)
    calls = [n for n in positions if isinstance(n, cst.Call) and positions[n].start.line == line]
    for call in calls:
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name == spec.method:
            for param, index in spec.call_params:
                if index < len(call.args) and call.args[index].keyword is None:
                    value = _int_literal(call.args[index].value)
                    if value is not None:
                        params[param] = value
                        notes.append(f"{param}={value} from .{name}()")
        if name == "batch" and call.args and _int_literal(call.args[0].value) is not None:
            params["batch_size"] = _int_literal(call.args[0].value)
            notes.append(f"batch_size={params['batch_size']} from .batch()")
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "batch_size" and _int_literal(arg.value) is not None:
                params["batch_size"] = _int_literal(arg.value)
                notes.append(f"batch_size={params['batch_size']} from batch_size=")
    for key, (low, high) in PARAM_LIMITS.items():
        if key in params and not low <= params[key] <= high:
            clamped = min(max(params[key], low), high)
            notes.append(f"{key} scaled from {params[key]} to {clamped}")
            params[key] = clamped
    return params, notes
