"""KM207: use_multiprocessing=True with several workers on a Sequence or
generator that holds large in-memory arrays (every worker gets a copy)."""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from kmlint.registry import Rule, register
from kmlint.legacy.semantics.model import CallSite, FunctionInfo, SemanticModel, names_in
from kmlint.legacy.semantics.names import get_arg, literal_value, source_text
from kmlint.legacy.semantics.sizes import ArrayInfo, describe_mb, estimate

FIT_METHODS = {"fit", "fit_generator", "evaluate", "evaluate_generator", "predict", "predict_generator"}
SEQUENCE_BASES = {"keras.utils.Sequence", "keras.utils.PyDataset", "keras.utils.data_utils.Sequence"}
# callees that read from disk: a Sequence calling one of them per batch loads lazily
FILE_READERS = {"open", "load", "imread", "load_img", "read_file", "read_csv", "read_parquet", "File", "decode_image",
                "decode_jpeg", "decode_png", "fromfile", "memmap", "loadtxt", "genfromtxt", "read", "load_wav"}


def _int(model: SemanticModel, expr: cst.BaseExpression, depth: int = 0) -> Optional[int]:
    try:
        v = literal_value(expr)
        return v if isinstance(v, int) and not isinstance(v, bool) else None
    except ValueError:
        pass
    if isinstance(expr, cst.Call) and (model.qualname(expr.func) or "").endswith("cpu_count"):
        return 2  # several workers on any real machine
    if isinstance(expr, cst.Name) and depth < 4:
        b = model.binding_of(expr)
        if b is not None and b.kind == "assign" and not b.path and b.value is not None:
            return _int(model, b.value, depth + 1)
    return None


def _is_true(arg: Optional[cst.Arg]) -> bool:
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "True"


def _class_def(model: SemanticModel, call: cst.Call) -> Optional[cst.ClassDef]:
    if not isinstance(call.func, cst.Name):
        return None
    cs = model.call_of.get(id(call))
    b = model.lookup(call.func.value, cs.scope, cs.order) if cs else None
    if b is not None and b.kind == "class" and isinstance(b.node, cst.ClassDef):
        return b.node
    return None


def _is_sequence_class(model: SemanticModel, cls: cst.ClassDef) -> bool:
    return any(model.qualname(base.value) in SEQUENCE_BASES for base in cls.bases)


def _methods(model: SemanticModel, cls: cst.ClassDef) -> list[FunctionInfo]:
    return [f for f in model.functions if f.class_name == cls.name.value and isinstance(f.node, cst.FunctionDef)
            and f.parent_scope.node is cls]


def _reads_files(model: SemanticModel, fns: list[FunctionInfo]) -> bool:
    return any(cs.name in FILE_READERS for fn in fns for cs in fn.calls)


def _bound_args(fn: FunctionInfo, call: cst.Call, skip_self: bool) -> Iterator[tuple[str, cst.BaseExpression]]:
    params = fn.params[1:] if skip_self else fn.params
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for name, a in zip(params, positional):
        yield name, a.value
    for a in call.args:
        if a.keyword is not None and a.keyword.value in params:
            yield a.keyword.value, a.value


def _large(model: SemanticModel, expr: cst.BaseExpression, threshold: int) -> Optional[tuple[str, ArrayInfo]]:
    info = estimate(model, expr)
    if info is None:
        return None
    if (info.nbytes is not None and info.nbytes >= threshold) or (info.nbytes is None and info.whole_dataset):
        return source_text(expr), info
    return None


@register
class MultiprocessingSequenceCopies(Rule):
    code = "KM207"
    name = "multiprocessing-sequence-copies"
    summary = "`use_multiprocessing=True` with several workers copies a Sequence's in-memory arrays into every worker"
    tokens = ("use_multiprocessing",)

    @classmethod
    def may_match_syntax(cls, facts) -> bool:
        return "use_multiprocessing" in facts.identifiers  # the keyword argument

    def check_module(self, model, ctx) -> None:
        for cs in model.calls:
            flag = get_arg(cs.node, "use_multiprocessing")
            if not _is_true(flag):
                continue
            workers_arg = get_arg(cs.node, "workers")
            workers = _int(model, workers_arg.value) if workers_arg is not None else None
            if workers is None or workers <= 1:
                continue
            for construction in self._data_objects(model, cs):
                held = self._held_array(model, construction, ctx.settings.large_tensor_bytes)
                if held is None:
                    continue
                (what, info), holder = held
                size = describe_mb(info.nbytes) if info.nbytes is not None else "a whole data set"
                workers_code = source_text(workers_arg.value)
                ctx.report(flag, f"`use_multiprocessing=True` with `workers={workers_code}`: `{holder}` holds `{what}` ({size}) in memory and every worker process gets its "
                           "own copy; keep file paths in it and load each batch from disk instead")
                break

    @staticmethod
    def _data_objects(model: SemanticModel, cs: CallSite) -> Iterator[cst.Call]:
        """Constructions of the Sequence/generator object that ``cs`` runs with workers."""
        node = cs.node
        if cs.name in FIT_METHODS and isinstance(node.func, cst.Attribute):
            data = get_arg(node, "x", 0) or get_arg(node, "generator")
            if data is not None:
                expr = data.value
                if isinstance(expr, cst.Name):
                    b = model.binding_of(expr)
                    expr = b.value if b is not None and b.kind == "assign" and not b.path else None
                if isinstance(expr, cst.Call):
                    yield expr
            return
        if _class_def(model, node) is not None:
            yield node  # Keras 3: MySequence(..., workers=4, use_multiprocessing=True)
            return
        fn = cs.function
        if (cs.name == "__init__" and fn is not None and fn.name == "__init__" and isinstance(node.func, cst.Attribute)
                and isinstance(node.func.value, cst.Call) and cs.scope.parent is not None
                and isinstance(fn.parent_scope.node, cst.ClassDef)):
            cls = fn.parent_scope.node
            for other in model.calls_by_name.get(cls.name.value, ()):
                if _class_def(model, other.node) is cls:
                    yield other.node

    @staticmethod
    def _held_array(model: SemanticModel, construction: cst.Call, threshold: int):
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
                        return found, cls.name.value
            return None
        cs = model.call_of.get(id(construction))
        fn = model.function_called(cs) if cs is not None else None
        if fn is None or not fn.yields or _reads_files(model, [fn]):
            return None
        for name, value in _bound_args(fn, construction, skip_self=False):
            found = _large(model, value, threshold)
            if found:
                return found, f"{fn.name}()"
        free = names_in(fn.node.body) - set(fn.params) - set(fn.scope.bindings)
        for use in model.uses.values():
            for u in use:
                if u.function is fn and u.node.value in free and u.kind == "load":
                    found = _large(model, u.node, threshold)
                    if found:
                        return found, f"{fn.name}()"
        return None


def _stored_on_self(model: SemanticModel, init: FunctionInfo, param: str) -> bool:
    for st in model.target_stores:
        if st.function is init and isinstance(st.target, cst.Attribute) and param in names_in(st.value):
            return True
    return False
