"""KM207: use_multiprocessing=True with several workers on a Sequence or
generator that holds large in-memory arrays (every worker gets a copy)."""

from __future__ import annotations

import ast
from typing import Iterator, Optional

from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, FunctionInfo, SemanticModel, names_in
from kmlint.semantics.names import get_arg, literal_value
from kmlint.semantics.sizes import ArrayInfo, describe_mb, estimate

FIT_METHODS = {"fit", "fit_generator", "evaluate", "evaluate_generator", "predict", "predict_generator"}
SEQUENCE_BASES = {"keras.utils.Sequence", "keras.utils.PyDataset", "keras.utils.data_utils.Sequence"}
# callees that read from disk: a Sequence calling one of them per batch loads lazily
FILE_READERS = {"open", "load", "imread", "load_img", "read_file", "read_csv", "read_parquet", "File", "decode_image",
                "decode_jpeg", "decode_png", "fromfile", "memmap", "loadtxt", "genfromtxt", "read", "load_wav"}


def _int(model: SemanticModel, expr: ast.expr, depth: int = 0) -> Optional[int]:
    try:
        v = literal_value(expr)
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    except ValueError:
        pass
    if isinstance(expr, ast.Call) and (model.qualname(expr.func) or "").endswith("cpu_count"):
        return 2  # several workers on any real machine
    if isinstance(expr, ast.Name) and depth < 4:
        b = model.binding_of(expr)
        if b is not None and b.kind == "assign" and not b.path and b.value is not None:
            return _int(model, b.value, depth + 1)
    return None


def _is_true(value: Optional[ast.expr]) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


def _keyword(call: ast.Call, name: str) -> Optional[ast.keyword]:
    return next((k for k in call.keywords if k.arg == name), None)


def _class_def(model: SemanticModel, call: ast.Call) -> Optional[ast.ClassDef]:
    if not isinstance(call.func, ast.Name):
        return None
    cs = model.call_of.get(id(call))
    b = model.lookup(call.func.id, cs.scope, cs.order) if cs else None
    if b is not None and b.kind == "class" and isinstance(b.node, ast.ClassDef):
        return b.node
    return None


def _is_sequence_class(model: SemanticModel, cls: ast.ClassDef) -> bool:
    return any(model.qualname(base) in SEQUENCE_BASES for base in cls.bases)


def _methods(model: SemanticModel, cls: ast.ClassDef) -> list[FunctionInfo]:
    return [f for f in model.functions if f.class_name == cls.name and isinstance(f.node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and f.parent_scope.node is cls]


def _reads_files(model: SemanticModel, fns: list[FunctionInfo]) -> bool:
    return any(cs.name in FILE_READERS for fn in fns for cs in fn.calls)


def _bound_args(fn: FunctionInfo, call: ast.Call, skip_self: bool) -> Iterator[tuple[str, ast.expr]]:
    params = fn.params[1:] if skip_self else fn.params
    positional = [a.value if isinstance(a, ast.Starred) else a for a in call.args]
    for name, a in zip(params, positional):
        yield name, a
    for k in call.keywords:
        if k.arg is not None and k.arg in params:
            yield k.arg, k.value


def _large(model: SemanticModel, expr: ast.expr, threshold: int) -> Optional[tuple[str, ArrayInfo]]:
    info = estimate(model, expr)
    if info is None:
        return None
    if (info.nbytes is not None and info.nbytes >= threshold) or (info.nbytes is None and info.whole_dataset):
        return model.text(expr), info
    return None


@register
class MultiprocessingSequenceCopies(Rule):
    code = "KM207"
    name = "multiprocessing-sequence-copies"
    summary = "`use_multiprocessing=True` with several workers copies a Sequence's in-memory arrays into every worker"
    tokens = ("use_multiprocessing",)

    def check_module(self, model, ctx) -> None:
        for cs in model.calls:
            flag = _keyword(cs.node, "use_multiprocessing")
            if flag is None or not _is_true(flag.value):
                continue
            workers_arg = get_arg(cs.node, "workers")
            workers = _int(model, workers_arg) if workers_arg is not None else None
            if workers is None or workers <= 1:
                continue
            for construction in self._data_objects(model, cs):
                held = self._held_array(model, construction, ctx.settings.large_tensor_bytes)
                if held is None:
                    continue
                (what, info), holder = held
                size = describe_mb(info.nbytes) if info.nbytes is not None else "a whole data set"
                workers_code = model.text(workers_arg)
                ctx.report(flag, f"`use_multiprocessing=True` with `workers={workers_code}`: `{holder}` holds `{what}` ({size}) in memory and every worker process gets its "
                           "own copy; keep file paths in it and load each batch from disk instead")
                break

    @staticmethod
    def _data_objects(model: SemanticModel, cs: CallSite) -> Iterator[ast.Call]:
        """Constructions of the Sequence/generator object that ``cs`` runs with workers."""
        node = cs.node
        if cs.name in FIT_METHODS and isinstance(node.func, ast.Attribute):
            expr = get_arg(node, "x", 0) or get_arg(node, "generator")
            if expr is not None:
                if isinstance(expr, ast.Name):
                    b = model.binding_of(expr)
                    expr = b.value if b is not None and b.kind == "assign" and not b.path else None
                if isinstance(expr, ast.Call):
                    yield expr
            return
        if _class_def(model, node) is not None:
            yield node  # Keras 3: MySequence(..., workers=4, use_multiprocessing=True)
            return
        fn = cs.function
        if (cs.name == "__init__" and fn is not None and fn.name == "__init__" and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Call) and cs.scope.parent is not None
                and isinstance(fn.parent_scope.node, ast.ClassDef)):
            cls = fn.parent_scope.node
            for other in model.calls_by_name.get(cls.name, ()):
                if _class_def(model, other.node) is cls:
                    yield other.node

    @staticmethod
    def _held_array(model: SemanticModel, construction: ast.Call, threshold: int):
        cls = _class_def(model, construction)
        if cls is not None:
            if not _is_sequence_class(model, cls):
                return None
            methods = _methods(model, cls)
            init = next((m for m in methods if m.name == "__init__"), None)
            if init is None or _reads_files(model, [m for m in methods if m.name != "__init__"]):
                return None
            for name, value in _bound_args(init, construction, skip_self=True):
                if _stored_on_self(model, init, name):
                    found = _large(model, value, threshold)
                    if found:
                        return found, cls.name
            return None
        cs = model.call_of.get(id(construction))
        fn = model.function_called(cs) if cs is not None else None
        if fn is None or not fn.yields or _reads_files(model, [fn]):
            return None
        for name, value in _bound_args(fn, construction, skip_self=False):
            found = _large(model, value, threshold)
            if found:
                return found, f"{fn.name}()"
        body = fn.node.body
        free = set().union(*(names_in(s) for s in body)) if isinstance(body, list) else names_in(body)
        free -= set(fn.params) | set(fn.scope.bindings)
        for use in model.uses.values():
            for u in use:
                if u.function is fn and u.node.id in free and u.kind == "load":
                    found = _large(model, u.node, threshold)
                    if found:
                        return found, f"{fn.name}()"
        return None


def _stored_on_self(model: SemanticModel, init: FunctionInfo, param: str) -> bool:
    for st in model.target_stores:
        if st.function is init and isinstance(st.target, ast.Attribute) and param in names_in(st.value):
            return True
    return False
