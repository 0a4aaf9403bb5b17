"""GPU knowledge on top of the semantic model: where a file targets GPUs, where
it enables memory growth (or a memory limit), and which calls initialise the
TensorFlow runtime (after which device configuration raises ``RuntimeError``).

Like the rest of the semantic layer this only reads the model's records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import ast

from kmlint.semantics import project
from kmlint.semantics.model import DATASET_CONSTRUCTORS, CallSite, FunctionInfo, SemanticModel
from kmlint.semantics.names import argument_values, get_arg, literal_value
from kmlint.semantics.tensors import builds_keras_model, tf1_name, tf_op_name

GROWTH_ENV = "TF_FORCE_GPU_ALLOW_GROWTH"
VISIBLE_ENV = "CUDA_VISIBLE_DEVICES"
# substrings whose absence proves a file enables no growth (cheap pre-check)
GROWTH_TOKENS = ("set_memory_growth", "allow_growth", GROWTH_ENV, "memory_limit", "per_process_gpu_memory_fraction")
DEVICE_CONFIG_FUNCTIONS = {"set_memory_growth", "set_visible_devices", "set_logical_device_configuration",
                           "set_virtual_device_configuration"}
_GPU_DEVICE = re.compile(r"^(/job:[^/]*(/replica:\d+)?(/task:\d+)?)?/?(device:)?gpu(:\d+)?$", re.IGNORECASE)
# calls that initialise the TF runtime (devices listed, tensors placed)
RUNTIME_INIT = {"tensorflow.config.list_logical_devices", "tensorflow.config.experimental.list_logical_devices",
                "tensorflow.test.is_gpu_available", "tensorflow.test.gpu_device_name",
                "tensorflow.distribute.MirroredStrategy", "tensorflow.distribute.MultiWorkerMirroredStrategy",
                "tensorflow.distribute.OneDeviceStrategy", "tensorflow.distribute.experimental.CentralStorageStrategy"}
GPU_TARGETING_CALLS = {"tensorflow.distribute.MirroredStrategy"}
DEVICE_LISTING = {"tensorflow.config.list_physical_devices", "tensorflow.config.experimental.list_physical_devices",
                  "tensorflow.config.list_logical_devices", "tensorflow.config.experimental.list_logical_devices"}


@dataclass
class Evidence:
    node: ast.AST
    function: Optional[FunctionInfo]
    top_index: int
    order: int

    @property
    def position(self) -> tuple[int, int]:
        return (self.top_index, self.order)


def _string(expr: Optional[ast.expr]) -> Optional[str]:
    try:
        v = literal_value(expr)
    except ValueError:
        return None
    return v if isinstance(v, str) else None


def _falsy_literal(arg: Optional[ast.expr]) -> bool:
    if arg is None:
        return True
    try:
        return not literal_value(arg)
    except ValueError:
        return False


def _tf(model: SemanticModel, call: ast.Call) -> Optional[str]:
    return tf1_name(model.qualname(call.func))


def _last(q: Optional[str]) -> str:
    return q.rsplit(".", 1)[-1] if q else ""


# --------------------------------------------------------------------------- memory growth

def growth_evidence(model: SemanticModel) -> list[Evidence]:
    """Places that enable memory growth or cap GPU memory."""
    memo = model._memo.get("growth")
    if memo is not None:
        return memo
    out: list[Evidence] = []
    if any(t in model.source for t in GROWTH_TOKENS) or not model.source:
        for cs in model.calls:
            q = _tf(model, cs.node)
            last = _last(q)
            if last == "set_memory_growth" and not _falsy_literal(get_arg(cs.node, "enable", 1)):
                out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
            elif last in ("LogicalDeviceConfiguration", "VirtualDeviceConfiguration") and get_arg(cs.node, "memory_limit", 0):
                out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
            elif last == "GPUOptions" and (not _falsy_literal(get_arg(cs.node, "allow_growth"))
                                           or get_arg(cs.node, "per_process_gpu_memory_fraction") is not None):
                out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
        for st in model.target_stores:
            t = st.target
            if isinstance(t, ast.Attribute) and t.attr in ("allow_growth", "per_process_gpu_memory_fraction"):
                try:
                    off = literal_value(st.value) in (False, None, 0)
                except ValueError:
                    off = False
                if not off:
                    out.append(Evidence(t, st.function, st.top_index, st.order))
        for s in model.strings:
            if _string(s.node) == GROWTH_ENV:
                out.append(Evidence(s.node, s.function, s.top_index, s.order))
    model._memo["growth"] = out
    return out


# --------------------------------------------------------------------------- GPU targeting

def gpu_targeting(model: SemanticModel) -> list[Evidence]:
    """Lines that clearly aim the script at GPUs: ``CUDA_VISIBLE_DEVICES`` set
    to devices, ``/gpu:N`` device strings, ``MirroredStrategy``,
    ``list_physical_devices('GPU')``."""
    out: list[Evidence] = []
    for st in model.target_stores:
        key = _env_key(st.target)
        if key == VISIBLE_ENV and not _hides_gpus(st.value):
            out.append(Evidence(st.target, st.function, st.top_index, st.order))
    for cs in model.calls:
        q = _tf(model, cs.node)
        if q in GPU_TARGETING_CALLS:
            out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
        elif q in DEVICE_LISTING and _lists_gpus(cs.node):
            out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
        elif cs.name in ("setdefault", "putenv") and _env_call(cs.node):
            if not _hides_gpus(argument_values(cs.node)[1]):
                out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
    for s in model.strings:
        v = _string(s.node)
        if v is not None and len(v) < 64 and _GPU_DEVICE.match(v.strip()) and ":" in v:
            out.append(Evidence(s.node, s.function, s.top_index, s.order))
    return out


def _lists_gpus(call: ast.Call) -> bool:
    arg = get_arg(call, "device_type", 0)
    return arg is not None and (_string(arg) or "").upper() == "GPU"


def _env_call(call: ast.Call) -> bool:
    """``os.environ.setdefault("CUDA_VISIBLE_DEVICES", v)`` / ``os.putenv(...)``."""
    args = argument_values(call)
    return len(args) >= 2 and _string(args[0]) == VISIBLE_ENV


def hides_all_gpus(model: SemanticModel) -> bool:
    """``CUDA_VISIBLE_DEVICES`` set to ``""`` or ``"-1"``: the script runs on CPU."""
    for st in model.target_stores:
        if _env_key(st.target) == VISIBLE_ENV and _hides_gpus(st.value):
            return True
    for cs in [*model.calls_by_name.get("setdefault", ()), *model.calls_by_name.get("putenv", ())]:
        if _env_call(cs.node) and _hides_gpus(argument_values(cs.node)[1]):
            return True
    return False


def _env_key(target: ast.expr) -> Optional[str]:
    """``os.environ["KEY"]`` -> ``"KEY"``."""
    if not isinstance(target, ast.Subscript):
        return None
    base = target.value
    if not (isinstance(base, ast.Attribute) and base.attr == "environ"):
        return None
    s = target.slice
    return None if isinstance(s, (ast.Slice, ast.Tuple)) else _string(s)


def _hides_gpus(value: Optional[ast.expr]) -> bool:
    v = _string(value)
    return v is not None and v.strip() in ("", "-1")


# --------------------------------------------------------------------------- runtime initialisation

def initialises_runtime(model: SemanticModel, cs: CallSite) -> Optional[str]:
    """What a call creates that initialises the TF runtime (a tensor, a model,
    a dataset, logical devices), or None."""
    q = _tf(model, cs.node)
    if q is None:
        return None
    if q in RUNTIME_INIT:
        return f"`{q.replace('tensorflow.', 'tf.', 1)}()`"
    if q in DATASET_CONSTRUCTORS and q.startswith("tensorflow."):
        return "a dataset"
    if builds_keras_model(model, cs) is not None:
        return "a model"
    op = tf_op_name(q)
    if op is not None and not q.startswith("tensorflow.compat."):
        return f"a tensor (`tf.{op}`)"
    return None


def device_config_calls(model: SemanticModel) -> list[CallSite]:
    out = []
    for name in sorted(DEVICE_CONFIG_FUNCTIONS):
        for cs in model.calls_by_name.get(name, ()):
            q = _tf(model, cs.node)
            if q and q.startswith("tensorflow.config."):
                out.append(cs)
    return out


# --------------------------------------------------------------------------- across project files

def _function_enables(model: SemanticModel, fn: FunctionInfo, file: Path, seen: set, deps: set[str], depth: int,
                      index: Optional[project.ProjectIndex] = None) -> bool:
    """Whether calling ``fn`` enables growth: evidence in its body, or in a
    function it calls (defined in the same file or in another project file)."""
    key = (str(file), id(fn))
    if key in seen or depth > 4:
        return False
    seen.add(key)
    evidence = growth_evidence(model)
    if any(_inside(e.function, fn) for e in evidence):
        return True
    for cs in fn.calls:
        callee = model.function_called(cs)
        if callee is not None:
            if _function_enables(model, callee, file, seen, deps, depth + 1, index):
                return True
            continue
        if _calls_project_helper(model, cs, file, seen, deps, depth + 1, index):
            return True
    return False


def _inside(fn: Optional[FunctionInfo], outer: FunctionInfo) -> bool:
    while fn is not None:
        if fn is outer:
            return True
        fn = fn.parent_scope.function if fn.parent_scope is not None else None
    return False


def _calls_project_helper(model: SemanticModel, cs: CallSite, file: Path, seen: set, deps: set[str], depth: int,
                         index: Optional[project.ProjectIndex] = None) -> bool:
    found = project.called_function(model, file, cs, deps, index=index)
    return found is not None and _function_enables(found[0], found[1], found[2], seen, deps, depth, index)


def project_helpers_enable_growth(model: SemanticModel, path: str, index: Optional[project.ProjectIndex] = None) -> bool:
    """Growth enabled by another file of the project that this one imports:
    at import time (module-level code) or by a helper this file calls.
    ``index`` is the run's project index (``project.default_index()`` when None)."""
    file = Path(path)
    if not file.is_file():
        return False
    deps = model.dependencies
    seen: set = set()
    for target, (helper_file, rest) in project.imported_project_modules(model, file, index).items():
        helper = project.load(helper_file, index)
        if helper is not None and not rest and any(e.function is None for e in growth_evidence(helper)):
            return True
    for cs in model.calls:
        if _calls_project_helper(model, cs, file, seen, deps, 0, index):
            return True
    return False
