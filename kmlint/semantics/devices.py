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
GPU_TARGETING_CALLS = {"tensorflow.distribute.MirroredStrategy", "tensorflow.contrib.distribute.MirroredStrategy"}
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
    """The callee's canonical name with TF1 spellings folded (``tf.``/``K.``
    used without an import resolve in ``model.qualname``)."""
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

# calls whose result is about GPUs but which target nothing by themselves:
# they count only when their result configures or places work (RULES.md, 2026-12-04)
GPU_CHECKS = DEVICE_LISTING | {"tensorflow.test.is_gpu_available", "tensorflow.test.gpu_device_name"}
# calls that configure devices or place work on them: a GPU check whose result
# reaches one of their arguments targets GPUs
PLACING = {"device", "set_visible_devices", "set_memory_growth", "set_logical_device_configuration",
           "set_virtual_device_configuration", "MirroredStrategy", "OneDeviceStrategy", "CentralStorageStrategy",
           "MultiWorkerMirroredStrategy", "multi_gpu_model"}
# printf-style and str.format placeholders in a device string built by formatting
_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*[diuxs]|\{[^{}]*\}")


def gpu_targeting(model: SemanticModel) -> list[Evidence]:
    """Lines that clearly aim the script at GPUs: ``CUDA_VISIBLE_DEVICES`` set
    to devices (also by ``%env`` in a notebook), ``/gpu:N`` device strings (also
    built by formatting: ``'/gpu:%i' % i``, ``'/gpu:{}'.format(i)``,
    ``f'/gpu:{i}'``), ``MirroredStrategy``, ``multi_gpu_model``, and GPU checks
    (``list_physical_devices('GPU')``, ``tf.test.is_gpu_available()``...) whose
    result configures or places work.  A check that is only printed, counted
    for a log or decides a layer width targets nothing."""
    memo = model._memo.get("gpu_targeting")
    if memo is not None:
        return memo
    strong = strong_markers(model)
    marker_ids = {id(e.node) for e in strong}
    checks = [cs for cs in model.calls if _is_gpu_check(model, cs)]
    real: list[CallSite] = []
    for _ in range(3):  # a check deciding a branch that holds another real check is real too
        found = [cs for cs in checks if cs not in real and _check_targets(model, cs.node, marker_ids)]
        if not found:
            break
        real += found
        marker_ids |= {id(cs.node) for cs in found}
    out = strong + [Evidence(cs.node, cs.function, cs.top_index, cs.order) for cs in real]
    model._memo["gpu_targeting"] = out
    return out


def _cpu_devices_only(call: ast.Call) -> bool:
    """``MirroredStrategy(devices=["cpu:0", "cpu:1"])``: every device given is a
    CPU (virtual CPUs for a multi-device demo): no GPU is targeted."""
    devices = get_arg(call, "devices", 0)
    if not isinstance(devices, (ast.List, ast.Tuple)) or not devices.elts:
        return False
    names = [e.value for e in devices.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return len(names) == len(devices.elts) and all("cpu" in n.lower() and "gpu" not in n.lower() for n in names)


def strong_markers(model: SemanticModel) -> list[Evidence]:
    """GPU markers that target GPUs whatever is done with them."""
    out = [e for e, value in _env_settings(model, VISIBLE_ENV) if not _hides_gpus(value)]
    for cs in model.calls:
        q = _tf(model, cs.node)
        if (q in GPU_TARGETING_CALLS and not _cpu_devices_only(cs.node)) or _last(q) == "multi_gpu_model":
            out.append(Evidence(cs.node, cs.function, cs.top_index, cs.order))
        elif cs.name == "format" and isinstance(cs.node.func, ast.Attribute) and _gpu_device(
                _string(cs.node.func.value), formatted=True):
            out.append(Evidence(cs.node.func.value, cs.function, cs.top_index, cs.order))
    for s in model.strings:
        v = _string(s.node)
        if v is None:
            continue
        parent = model.parent(s.node)
        formatted = isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Mod) and parent.left is s.node
        if _gpu_device(v, formatted) and not _compared(model, s.node):
            out.append(Evidence(s.node, s.function, s.top_index, s.order))
    for node in _fstrings(model):
        text = "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
                       for v in node.values)
        if _gpu_device(text, formatted=True):
            where = _position_of(model, node)
            if where is not None:
                out.append(Evidence(node, *where))
    return out


_STRING_TESTS = {"endswith", "startswith", "find", "rfind", "index", "count", "__contains__"}


def _compared(model: SemanticModel, node: ast.AST) -> bool:
    """A device string only compared with a device name (``x.device.endswith('GPU:0')``,
    ``d.name == '/gpu:0'``, ``'GPU:0' in d``): a check, no placement."""
    parent = model.parent(node)
    if isinstance(parent, ast.Tuple):
        parent = model.parent(parent)
    if isinstance(parent, ast.Compare):
        return True
    return (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
            and parent.func.attr in _STRING_TESTS and node is not parent.func)


def _gpu_device(v: Optional[str], formatted: bool = False) -> bool:
    if v is None or len(v) >= 64:
        return False
    if formatted:
        v = _PLACEHOLDER.sub("0", v)
    v = v.strip()
    return ":" in v and bool(_GPU_DEVICE.match(v))


_GPU_FSTRING = re.compile(r"(?<![\w])[rRbB]?[fF][rR]?(['\"])(?=(?:(?!\1)[^\n])*\{)(?:(?!\1)[^\n])*gpu", re.IGNORECASE)


def _fstrings(model: SemanticModel) -> list[ast.JoinedStr]:
    memo = model._memo.get("fstrings")
    if memo is None:
        # only f-strings that can name a GPU device are wanted: one whose literal
        # text mentions gpu before a placeholder (a walk of the tree is the cost)
        wanted = "gpu" in model.source.lower() and _GPU_FSTRING.search(model.source)
        memo = [n for n in ast.walk(model.tree) if isinstance(n, ast.JoinedStr)] if wanted else []
        model._memo["fstrings"] = memo
    return memo


def _position_of(model: SemanticModel, node: ast.AST) -> Optional[tuple]:
    """(function, top_index, order) of an expression without a record of its
    own: from the innermost call holding it, else from a name inside it."""
    for up in [node, *model.ancestors(node)]:
        cs = model.call_of.get(id(up)) if isinstance(up, ast.Call) else None
        if cs is not None:
            return cs.function, cs.top_index, cs.order
        if isinstance(up, ast.stmt):
            break
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            use = model.use_of(n)
            if use is not None:
                return use.function, use.top_index, use.order
    return None


def _is_gpu_check(model: SemanticModel, cs: CallSite) -> bool:
    q = _tf(model, cs.node)
    if q in DEVICE_LISTING:
        return _lists_gpus(cs.node)
    return q in GPU_CHECKS


def _check_targets(model: SemanticModel, call: ast.Call, strong_ids: set[int], depth: int = 3) -> bool:
    """Whether the result of a GPU check configures or places work: it reaches
    an argument of a device/strategy call, or decides (as an ``if``/ternary
    test) between branches of which one places work on a GPU; followed through
    names it is bound to, loops over it and returns of the function holding it."""
    seen: set[int] = set()
    todo: list[tuple[ast.AST, int]] = [(call, depth)]
    while todo:
        node, d = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        child = node
        for up in model.ancestors(node):
            if isinstance(up, ast.Call) and child is not up.func and _placing(model, up):
                return True
            if isinstance(up, (ast.If, ast.While)) and child is up.test:
                if _branches_place(model, [*up.body, *up.orelse], strong_ids):
                    return True
                break
            if isinstance(up, ast.IfExp) and child is up.test:
                if _branches_place(model, [up.body, up.orelse], strong_ids):
                    return True
            if isinstance(up, ast.stmt):
                if d > 0:
                    todo.extend((n, d - 1) for n in _flows_to(model, up, child))
                break
            child = up
    return False


def _placing(model: SemanticModel, call: ast.Call) -> bool:
    q = _tf(model, call)
    if q is None:
        return False
    last = _last(q)
    if last == "multi_gpu_model":
        return True
    return last in PLACING and q.startswith("tensorflow.")


def _branches_place(model: SemanticModel, nodes: list, strong_ids: set[int]) -> bool:
    for top in nodes:
        for n in ast.walk(top):
            if id(n) in strong_ids:
                return True
            if isinstance(n, ast.Call) and _placing(model, n):
                return True
    return False


def _flows_to(model: SemanticModel, stmt: ast.stmt, value: ast.AST) -> list[ast.AST]:
    """Where the value computed by ``value`` (a child of ``stmt``) goes next:
    loads of the names it is bound to, or the calls of the function it is
    returned from."""
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign) and value is stmt.value:
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and value is stmt.value:
        targets = [stmt.target]
    elif isinstance(stmt, (ast.For, ast.AsyncFor)) and value is stmt.iter:
        targets = [stmt.target]
    elif isinstance(stmt, ast.Return):
        fn = model.function_of.get(id(_function_node(model, stmt)))
        return [c.node for c in model.callers(fn)] if fn is not None else []
    out: list[ast.AST] = []
    for t in targets:
        for name in ast.walk(t):
            if isinstance(name, ast.Name):
                b = next((b for b in model.scope_of(name).bindings.get(name.id, ()) if b.node is name), None)
                if b is None:
                    continue
                for use in model.uses.get(name.id, ()):
                    if use.kind != "load" or use.order <= b.order:
                        continue
                    # this binding, or one made later in the same scope that may
                    # not have run (`try: d = gpus[0]` / `except: d = "/cpu:0"`)
                    reached = model.binding_of(use.node)
                    if reached is b or (reached is not None and reached.scope is b.scope and reached.order > b.order):
                        out.append(use.node)
    return out


def _function_node(model: SemanticModel, node: ast.AST) -> Optional[ast.AST]:
    for up in model.ancestors(node):
        if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return up
    return None


def _lists_gpus(call: ast.Call) -> bool:
    arg = get_arg(call, "device_type", 0)
    return arg is not None and (_string(arg) or "").upper() == "GPU"


def _env_settings(model: SemanticModel, key: str) -> list[tuple[Evidence, Optional[ast.expr]]]:
    """Where this file sets environment variable ``key``, with the value
    expression, in source order: ``os.environ["KEY"] = v``,
    ``os.environ.setdefault("KEY", v)``, ``os.putenv("KEY", v)`` (a notebook's
    ``%env KEY=v`` reads as the first)."""
    out = [(Evidence(st.target, st.function, st.top_index, st.order), st.value)
           for st in model.target_stores if _env_key(st.target) == key]
    for cs in [*model.calls_by_name.get("setdefault", ()), *model.calls_by_name.get("putenv", ())]:
        args = argument_values(cs.node)
        if len(args) >= 2 and _string(args[0]) == key:
            out.append((Evidence(cs.node, cs.function, cs.top_index, cs.order), args[1]))
    return sorted(out, key=lambda setting: setting[0].position)


def hides_all_gpus(model: SemanticModel, before: Optional[tuple[int, int]] = None) -> bool:
    """``CUDA_VISIBLE_DEVICES`` set to ``""`` or ``"-1"``: the script runs on CPU.
    With ``before`` (the position of the first GPU marker), only a setting made
    before it at module level, or inside a function, counts: a later one (a
    notebook's last section preparing CPU-only worker processes) comes after
    the process already targeted its GPUs."""
    hides = [e for e, value in _env_settings(model, VISIBLE_ENV) if _hides_gpus(value)]
    if before is None:
        return bool(hides)
    return any(h.function is not None or h.position < before for h in hides)


def environment_setting(model: SemanticModel, key: str) -> Optional[str]:
    """The string this file first sets environment variable ``key`` to
    (see ``_env_settings``), or None."""
    return next((v for _, value in _env_settings(model, key) if (v := _string(value)) is not None), None)


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


# --------------------------------------------------------------------------- what runs, what is TensorFlow

# ``tf.app.run()`` / ``absl.app.run()`` without a function run the module's ``main``
_APP_RUN = {"tensorflow.app.run", "absl.app.run", "tensorflow.python.platform.app.run"}


def runs_as_script(model: SemanticModel, fn: Optional[FunctionInfo], depth: int = 5) -> bool:
    """Module-level code, or a function that runs when the file runs: called
    from code that runs, passed as a value to such a call (``app.run(main)``,
    ``Thread(target=worker)``), or the ``main`` that ``tf.app.run()`` runs."""
    if fn is None:
        return True
    if depth <= 0:
        return False
    for c in model.callers(fn):
        if c.function is not fn and runs_as_script(model, c.function, depth - 1):
            return True
    for cs, _, _ in model.handed_to(fn):
        if cs.function is not fn and runs_as_script(model, cs.function, depth - 1):
            return True
    if fn.name == "main" and fn.parent_scope is model.module_scope:
        return any(cs.function is None and not cs.node.args and not cs.node.keywords and _tf(model, cs.node) in _APP_RUN
                   for cs in model.calls_by_name.get("run", ()))
    return False


def uses_tensorflow(model: SemanticModel) -> bool:
    """The file imports TensorFlow, or uses ``tf.`` without binding ``tf``
    anywhere (a snippet or cell without its imports)."""
    if model.is_imported("tensorflow"):
        return True
    return model.unbound_alias("tf") is not None and any(u.kind == "load" for u in model.uses.get("tf", ()))


# --------------------------------------------------------------------------- project-level GPU use

def project_tensorflow(model: SemanticModel, path: str, index: Optional[project.ProjectIndex] = None,
                       depth: int = 2) -> Optional[bool]:
    """For a file that does not import TensorFlow itself: whether the project
    modules it imports do (its TensorFlow use lives there).  None when they do
    but one of them (or a module they import, ``depth`` levels) enables growth
    or a limit anywhere: then the project may well enable it for this script."""
    file = Path(path)
    if not file.is_file():
        return False
    found_tf = False
    todo = [(model, file, depth)]
    seen = {str(file.resolve())}
    while todo:
        m, f, d = todo.pop()
        for helper_file, _ in project.imported_project_modules(m, f, index).values():
            key = str(helper_file.resolve())
            if key in seen:
                continue
            seen.add(key)
            model.dependencies.add(key)
            helper = project.load(helper_file, index)
            if helper is None:
                continue
            if growth_evidence(helper):
                return None
            if helper.is_imported("tensorflow"):
                found_tf = True
            if d > 1:
                todo.append((helper, helper_file, d - 1))
    return found_tf


# --------------------------------------------------------------------------- runtime initialised by an import

def import_time_init(model: SemanticModel, path: str, index: Optional[project.ProjectIndex] = None
                     ) -> list[tuple[tuple[int, int], str, str, ast.AST]]:
    """Module-level imports of project modules that initialise the TF runtime
    when imported (a tensor, model or dataset created by their module-level
    code, or by a project module they import in turn): (position, what,
    module name, the import statement)."""
    file = Path(path)
    if not file.is_file():
        return []
    modules = project.imported_project_modules(model, file, index)
    if not modules:
        return []
    out = []
    for b in [b for bs in model.module_scope.bindings.values() for b in bs if b.kind == "import"]:
        stmt = b.node
        if not isinstance(stmt, (ast.Import, ast.ImportFrom)) or model.parent(stmt) is not model.tree:
            continue
        if isinstance(stmt, ast.Import):  # `import a.b, c as d`: the alias that binds this name
            target = next((a.name for a in stmt.names if (a.asname or a.name.split(".")[0]) == b.name), None)
        else:
            target = b.imported
        found = modules.get(target) if target else None
        if found is None:
            continue
        what = _initialises_at_import(found[0], index, {str(file.resolve())}, 2, model.dependencies)
        if what is not None:
            name = target.lstrip(".") or found[0].stem
            if found[1] and name.endswith("." + ".".join(found[1])):
                name = name[: -len(".".join(found[1])) - 1]  # `from data import x`: the module is `data`
            out.append(((b.top_index, b.order), what, name, stmt))
    return out


def _initialises_at_import(file: Path, index, seen: set, depth: int, deps: set[str]) -> Optional[str]:
    key = str(file.resolve())
    if key in seen or depth <= 0:
        return None
    seen.add(key)
    deps.add(key)
    helper = project.load(file, index)
    if helper is None:
        return None
    for cs in helper.calls:
        if _runs_at_import(helper, cs):
            what = initialises_runtime(helper, cs)
            if what is not None:
                return what
    for helper_file, _ in project.imported_project_modules(helper, file, index).values():
        what = _initialises_at_import(helper_file, index, seen, depth - 1, deps)
        if what is not None:
            return what
    return None


def _runs_at_import(model: SemanticModel, cs: CallSite, depth: int = 4) -> bool:
    """Module-level code outside ``if __name__ == "__main__":``, or a function
    that such code calls."""
    if cs.function is None:
        return not _under_main_guard(model, cs.node)
    if depth <= 0:
        return False
    return any(c.function is not cs.function and _runs_at_import(model, c, depth - 1) for c in model.callers(cs.function))


def _under_main_guard(model: SemanticModel, node: ast.AST) -> bool:
    """Inside ``if __name__ == "__main__":`` (does not run on import)."""
    for up in model.ancestors(node):
        if isinstance(up, ast.If) and isinstance(up.test, ast.Compare) and "__name__" in {
                n.id for n in ast.walk(up.test) if isinstance(n, ast.Name)}:
            return True
    return False
