"""KM304: np.load of an array that is then only read in slices or batches."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from kmlint.findings import UNSAFE, Fix
from kmlint.fixes import replace_node
from kmlint.registry import Rule, register
from kmlint.legacy.semantics.model import CallSite, SemanticModel
from kmlint.legacy.semantics.names import get_arg, literal_value, source_text

METADATA_ATTRIBUTES = {"shape", "dtype", "ndim", "size", "nbytes"}
BATCH_METHODS = {"__getitem__", "on_epoch_end"}


class _Uses:
    def __init__(self) -> None:
        self.batched = 0  # slices read in a loop or in a batch-producing function
        self.whole = False


def _classify(model: SemanticModel, node: cst.BaseExpression, loops, function, uses: _Uses, written: set[int]) -> None:
    """One read of the loaded array: a slice, metadata, or a use of the whole array."""
    parent = model.parent_of.get(id(node))
    if isinstance(parent, cst.Subscript) and parent.value is node:
        if id(parent) in written or any(_is_string_key(model, el.slice) for el in parent.slice):
            uses.whole = True  # written in place (mmap is read-only) or an .npz archive
        elif loops or function is not None:
            uses.batched += 1
        else:
            uses.whole = True  # a one-off split at top level reads everything
        return
    if isinstance(parent, cst.Attribute) and parent.value is node and parent.attr.value in METADATA_ATTRIBUTES:
        return
    # anything else, including an archive's `.files`, reads the object as a whole
    if isinstance(parent, cst.Call) and isinstance(parent.func, cst.Name) and parent.func.value == "len":
        return
    uses.whole = True


def _is_string_key(model: SemanticModel, s: cst.BaseSlice) -> bool:
    """An ``.npz`` member access: a string key, or a loop variable over string literals."""
    if not isinstance(s, cst.Index):
        return False
    value = s.value
    if isinstance(value, cst.Name):
        b = model.binding_of(value)
        if b is not None and b.kind == "for" and not b.path and isinstance(b.value, (cst.List, cst.Tuple)):
            return any(isinstance(e.value, (cst.SimpleString, cst.ConcatenatedString)) for e in b.value.elements)
        return False
    return isinstance(value, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString))


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
        if path is None or _is_npz(path.value) or _is_file_handle(model, path.value):
            return
        stmt = call.stmt
        if not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Assign)
                and stmt.body[0].value is node and len(stmt.body[0].targets) == 1):
            return
        target = stmt.body[0].targets[0].target
        written = {id(st.target) for st in model.target_stores if isinstance(st.target, cst.Subscript)}
        uses = _Uses()
        if isinstance(target, cst.Name):
            self._name_uses(model, call, target.value, uses, written)
        elif (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value == "self"
              and call.function is not None and call.function.class_name):
            self._attribute_uses(model, call.function.class_name, target.attr.value, uses, written)
        else:
            return
        if uses.whole or not uses.batched:
            return
        ctx.report(node, f"`np.load` reads the whole array into memory, but `{source_text(target)}` is only read in slices or "
                   "batches: `np.load(..., mmap_mode=\"r\")` maps the file and reads just the parts used",
                   self._fix(node))

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
        assigned = [st for st in model.target_stores if isinstance(st.target, cst.Attribute) and st.target.attr.value == attr
                    and st.function is not None and st.function.class_name == class_name]
        if len(assigned) > 1:
            uses.whole = True  # reassigned (shuffled, reloaded) elsewhere in the class
            return
        for node, order in model.attribute_loads.get(attr, ()):
            if id(node) in stored or not (isinstance(node.value, cst.Name) and node.value.value == "self"):
                continue
            fn = _function_at(model, node)
            if fn is None or fn.class_name != class_name:
                continue
            batch_fn = fn if fn.name in BATCH_METHODS or fn.yields or model.callers(fn) else None
            _classify(model, node, (), batch_fn, uses, written)

    @staticmethod
    def _fix(node: cst.Call) -> Fix:
        def transform(module: cst.Module) -> cst.Module:
            args = list(node.args)
            if args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            new_arg = cst.Arg(cst.SimpleString('"r"'), keyword=cst.Name("mmap_mode"),
                              equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            return replace_node(module, node, node.with_changes(args=[*args, new_arg]))

        return Fix(UNSAFE, 'Add `mmap_mode="r"`', transform)


def _function_at(model: SemanticModel, node: cst.CSTNode):
    """The function whose body holds an attribute load (via its receiver's name use)."""
    use = model._use_of.get(id(node.value))
    return use.function if use is not None else None


def _truthy(arg: Optional[cst.Arg]) -> bool:
    return arg is not None and not (isinstance(arg.value, cst.Name) and arg.value.value in ("False", "None"))


def _is_npz(expr: cst.BaseExpression) -> bool:
    try:
        v = literal_value(expr)
    except ValueError:
        return False
    return isinstance(v, str) and v.lower().endswith(".npz")


FILE_OPENERS = {"open", "BytesIO", "GFile"}


def _is_file_handle(model: SemanticModel, expr: cst.BaseExpression) -> bool:
    """An open file object: numpy can only memory-map a file given by its path."""
    if isinstance(expr, cst.Name):
        b = model.binding_of(expr)
        if b is None:
            return False
        if b.kind == "with":
            return True
        expr = b.value if b.kind == "assign" and not b.path else None
    if isinstance(expr, cst.Call):
        func = expr.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        return name in FILE_OPENERS
    return False
