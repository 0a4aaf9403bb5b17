"""KM304: np.load of an array that is then only read in slices or batches."""

from __future__ import annotations

import ast
from typing import Optional

from kmlint import edits
from kmlint.semantics.names import is_argument_of, is_string
from kmlint.semantics.blocks import call_parent
from kmlint.findings import UNSAFE, Fix
from kmlint.registry import Rule, register
from kmlint.semantics.model import CallSite, SemanticModel
from kmlint.semantics.names import get_arg, literal_value

METADATA_ATTRIBUTES = {"shape", "dtype", "ndim", "size", "nbytes"}
BATCH_METHODS = {"__getitem__", "on_epoch_end"}
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


class _Uses:
    def __init__(self) -> None:
        self.batched = 0  # slices read in a loop or in a batch-producing function
        self.whole = False


def _classify(model: SemanticModel, node: ast.expr, loops, function, uses: _Uses, written: set[int]) -> None:
    """One read of the loaded array: a slice, metadata, or a use of the whole array."""
    parent = model.parent(node)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        keys = parent.slice.elts if isinstance(parent.slice, ast.Tuple) else [parent.slice]
        if id(parent) in written or any(_is_string_key(model, k) for k in keys):
            uses.whole = True  # written in place (mmap is read-only) or an .npz archive
        elif loops or function is not None:
            uses.batched += 1
        else:
            uses.whole = True  # a one-off split at top level reads everything
        return
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr in METADATA_ATTRIBUTES:
        return
    # anything else, including an archive's `.files`, reads the object as a whole
    holder = call_parent(model, node)
    if isinstance(holder, ast.Call) and isinstance(holder.func, ast.Name) and holder.func.id == "len" \
            and is_argument_of(node, holder):
        return
    uses.whole = True


def _is_string_key(model: SemanticModel, value: ast.expr) -> bool:
    """An ``.npz`` member access: a string key, or a loop variable over string literals."""
    if isinstance(value, ast.Slice):
        return False
    if isinstance(value, ast.Name):
        b = model.binding_of(value)
        if b is not None and b.kind == "for" and not b.path and isinstance(b.value, (ast.List, ast.Tuple)):
            return any(is_string(e) or isinstance(e, ast.JoinedStr) for e in b.value.elts)
        return False
    return is_string(value) or isinstance(value, ast.JoinedStr)


@register
class NpLoadWithoutMmap(Rule):
    code = "KM304"
    name = "np-load-without-mmap"
    summary = "`np.load` reads the whole array into memory although it is only read in slices or batches"
    fixable = "unsafe"
    tokens = ("load(",)
    requires = ("numpy",)
    calls = frozenset({"load"})

    def check_call(self, call: CallSite, ctx) -> None:
        model = ctx.model
        node = call.node
        if model.qualname(node.func) != "numpy.load":
            return
        if get_arg(node, "mmap_mode", 1) is not None or _truthy(get_arg(node, "allow_pickle", 2)):
            return
        path = get_arg(node, "file", 0)
        if path is None or _is_npz(path) or _is_file_handle(model, path):
            return
        stmt = call.stmt
        if not (isinstance(stmt, ast.Assign) and stmt.value is node and len(stmt.targets) == 1):
            return
        target = stmt.targets[0]
        written = {id(st.target) for st in model.target_stores if isinstance(st.target, ast.Subscript)}
        uses = _Uses()
        if isinstance(target, ast.Name):
            self._name_uses(model, call, target.id, uses, written)
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"
              and call.function is not None and call.function.class_name):
            self._attribute_uses(model, call.function.class_name, target.attr, uses, written)
        else:
            return
        if uses.whole or not uses.batched:
            return
        ctx.report(node, f"`np.load` reads the whole array into memory, but `{model.text(target)}` is only read in slices or "
                   "batches: `np.load(..., mmap_mode=\"r\")` maps the file and reads just the parts used",
                   Fix(UNSAFE, 'Add `mmap_mode="r"`', edits=edits.flatten([edits.set_keyword(model, node, "mmap_mode", '"r"')])))

    @staticmethod
    def _name_uses(model: SemanticModel, call: CallSite, name: str, uses: _Uses, written: set[int]) -> None:
        binding = next((b for b in call.scope.bindings.get(name, ()) if b.value is call.node), None)
        if binding is None or call.scope.bindings[name][-1] is not binding:
            uses.whole = True  # rebound later (x = x[perm]): not a read-only array
            return
        for u in model.uses.get(name, ()):
            if u.kind != "load" or u.order <= binding.order:
                continue
            if model.lookup(name, u.scope, u.order) is not binding:
                continue
            _classify(model, u.node, u.loops, u.function, uses, written)

    @staticmethod
    def _attribute_uses(model: SemanticModel, class_name: str, attr: str, uses: _Uses, written: set[int]) -> None:
        """``self.x = np.load(p)`` in ``__init__``, read as ``self.x[...]`` by the class's methods."""
        stored = {id(st.target) for st in model.target_stores}
        assigned = [st for st in model.target_stores if isinstance(st.target, ast.Attribute) and st.target.attr == attr
                    and st.function is not None and st.function.class_name == class_name]
        if len(assigned) > 1:
            uses.whole = True  # reassigned (shuffled, reloaded) elsewhere in the class
            return
        for node, order in model.attribute_loads.get(attr, ()):
            if id(node) in stored or not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                continue
            fn = _function_at(model, node)
            if fn is None or fn.class_name != class_name:
                continue
            batch_fn = fn if fn.name in BATCH_METHODS or fn.yields or model.callers(fn) else None
            _classify(model, node, (), batch_fn, uses, written)


def _function_at(model: SemanticModel, node: ast.AST):
    """The innermost function (or lambda) whose body holds a node."""
    n = model.parent(node)
    while n is not None:
        if isinstance(n, FUNCTION_NODES):
            return model.function_of.get(id(n))
        n = model.parent(n)
    return None


def _truthy(value: Optional[ast.expr]) -> bool:
    return value is not None and not (isinstance(value, ast.Constant) and (value.value is False or value.value is None))


def _is_npz(expr: ast.expr) -> bool:
    try:
        v = literal_value(expr)
    except ValueError:
        return False
    return isinstance(v, str) and v.lower().endswith(".npz")


FILE_OPENERS = {"open", "BytesIO", "GFile"}


def _is_file_handle(model: SemanticModel, expr: ast.expr) -> bool:
    """An open file object: numpy can only memory-map a file given by its path."""
    if isinstance(expr, ast.Name):
        b = model.binding_of(expr)
        if b is None:
            return False
        if b.kind == "with":
            return True
        expr = b.value if b.kind == "assign" and not b.path else None
    if isinstance(expr, ast.Call):
        func = expr.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in FILE_OPENERS
    return False
