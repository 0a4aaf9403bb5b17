"""The semantic model: everything rules need to know about one file, built in a
single walk of the libcst tree.

What it records:

* scopes (module, class, function, lambda, comprehension) and, per scope, every
  binding of a name in source order (assignments, tuple unpacking with the
  element path, for/with/except targets, imports, defs, params);
* import aliases, so ``qualname(expr)`` resolves ``tf.keras.Model``,
  ``keras.Model`` and ``from tensorflow.keras.models import Model`` to the same
  canonical ``keras.Model``;
* every call site with its enclosing function, statement, module-level
  statement index and the stack of loops around it (comprehensions count);
* every name use (load/store/del) with its position in evaluation order;
* functions defined in the file: their calls, returns, yields, decorators; and
  which of them are called from loops (so a helper that calls ``predict`` counts);
* helpers to follow ``tf.data`` method chains across assignments and to decide
  whether an expression is a Keras model or a dataset.

Rules read this model; none of them walks the tree again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional, Union

import libcst as cst

from kmlint.legacy.semantics.names import canonical, dotted_name, keras_synonym, literal_value
from kmlint.legacy.semantics.walk import FastVisitor, subclasses_of

STATEMENT_TYPES = subclasses_of(cst.SimpleStatementLine, cst.BaseCompoundStatement)

# --------------------------------------------------------------------------- records


@dataclass(eq=False, repr=False)
class Scope:
    kind: str  # module | class | function | lambda | comprehension
    node: cst.CSTNode
    parent: Optional["Scope"]
    name: str = ""
    bindings: dict[str, list["Binding"]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    function: Optional["FunctionInfo"] = None


@dataclass(eq=False, repr=False)
class Binding:
    name: str
    scope: Scope
    kind: str  # assign | augassign | annassign | for | with | except | import | def | class | param | comp | walrus
    order: int
    node: Optional[cst.CSTNode]  # the Name node bound (or the def/import node)
    value: Optional[cst.BaseExpression] = None  # the assigned expression, when known
    path: tuple[int, ...] = ()  # element path when unpacking: (a, (b, c)) = v -> c has (1, 1)
    stmt: Optional[cst.CSTNode] = None
    top_index: int = -1
    imported: Optional[str] = None  # canonical dotted name for imports
    loops: tuple["Loop", ...] = ()
    function: Optional["FunctionInfo"] = None  # for kind == "def"


@dataclass(eq=False, repr=False)
class Loop:
    node: cst.CSTNode  # For, While or a comprehension
    kind: str  # for | while | comp
    scope: Scope
    parent: Optional["Loop"]
    function: Optional["FunctionInfo"]
    order: int
    iter: Optional[cst.BaseExpression] = None
    targets: set[str] = field(default_factory=set)
    body_bound: set[str] = field(default_factory=set)
    calls: list["CallSite"] = field(default_factory=list)  # direct and nested
    top_index: int = -1
    end_order: int = 0

    @property
    def variant_names(self) -> set[str]:
        return self.targets | self.body_bound


@dataclass(eq=False, repr=False)
class CallSite:
    node: cst.Call
    name: Optional[str]  # last part of the callee
    qualname: Optional[str]  # canonical resolved dotted name, when resolvable
    receiver: Optional[cst.BaseExpression]  # ``model`` in ``model.fit()``
    scope: Scope
    function: Optional["FunctionInfo"]
    loops: tuple[Loop, ...]
    stmt: Optional[cst.CSTNode]
    top_index: int
    order: int

    @property
    def args(self) -> Sequence:
        return self.node.args


Sequence = tuple  # alias for readability in annotations above


@dataclass(eq=False, repr=False)
class NameUse:
    name: str
    node: cst.Name
    scope: Scope
    order: int
    top_index: int
    kind: str  # load | store | del
    function: Optional["FunctionInfo"]
    loops: tuple[Loop, ...]
    stmt: Optional[cst.CSTNode] = None  # innermost statement holding the use
    parents: tuple[cst.CSTNode, ...] = ()  # nearest ancestors, innermost first (at most PARENT_DEPTH)


PARENT_DEPTH = 6


@dataclass(eq=False, repr=False)
class FunctionInfo:
    name: str
    node: Union[cst.FunctionDef, cst.Lambda]
    scope: Scope  # the function's own scope
    parent_scope: Scope
    order: int
    params: list[str] = field(default_factory=list)
    decorators: list[Optional[str]] = field(default_factory=list)  # qualnames
    decorator_calls: list[cst.Call] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)  # direct calls in the body
    returns: list[cst.BaseExpression] = field(default_factory=list)
    yields: list[cst.Yield] = field(default_factory=list)
    class_name: Optional[str] = None
    top_index: int = -1


@dataclass(eq=False, repr=False)
class TargetStore:
    """An assignment to an attribute or subscript target (``cfg.gpu_options.allow_growth
    = True``, ``os.environ["X"] = "1"``, ``self.x = np.load(p)``)."""

    target: cst.BaseExpression
    value: Optional[cst.BaseExpression]
    scope: Scope
    function: Optional["FunctionInfo"]
    loops: tuple[Loop, ...]
    stmt: Optional[cst.CSTNode]
    top_index: int
    order: int


@dataclass(eq=False, repr=False)
class StringLiteral:
    node: cst.SimpleString
    function: Optional["FunctionInfo"]
    top_index: int
    order: int


@dataclass
class ChainStep:
    method: str
    call: cst.Call
    order: int
    # bound in a conditional block unrelated to the chain end's block (``if a:
    # ds = ds.repeat()`` ... ``if b: ds.cache()``, neither holds the other): it
    # may or may not run before the end, so rules take it as possibly absent
    # and possibly present
    maybe: bool = False


@dataclass
class Chain:
    """A ``tf.data``-style method chain followed back through assignments.

    ``steps`` go from the origin outwards; ``origin`` is the expression the chain
    starts from (a constructor call, a parameter name, ...)."""

    origin: Optional[cst.BaseExpression]
    origin_qualname: Optional[str]
    steps: list[ChainStep]
    names: list[cst.Name] = field(default_factory=list)  # names followed through assignments

    def methods(self) -> list[str]:
        return [s.method for s in self.steps]


# --------------------------------------------------------------------------- API tables

DATASET_CONSTRUCTORS = {
    "tensorflow.data.Dataset.from_tensor_slices",
    "tensorflow.data.Dataset.from_tensors",
    "tensorflow.data.Dataset.from_generator",
    "tensorflow.data.Dataset.range",
    "tensorflow.data.Dataset.list_files",
    "tensorflow.data.Dataset.zip",
    "tensorflow.data.Dataset.sample_from_datasets",
    "tensorflow.data.Dataset.load",
    "tensorflow.data.TFRecordDataset",
    "tensorflow.data.TextLineDataset",
    "tensorflow.data.FixedLengthRecordDataset",
    "tensorflow.data.experimental.make_csv_dataset",
    "tensorflow.data.experimental.CsvDataset",
    "keras.utils.image_dataset_from_directory",
    "keras.preprocessing.image_dataset_from_directory",
    "keras.utils.text_dataset_from_directory",
    "keras.preprocessing.text_dataset_from_directory",
    "keras.utils.audio_dataset_from_directory",
    "keras.utils.timeseries_dataset_from_array",
    "keras.preprocessing.timeseries_dataset_from_array",
    "tensorflow_datasets.load",
}
# Method names that exist on tf.data.Dataset and (practically) nowhere else.
DATASET_ONLY_METHODS = {
    "prefetch", "padded_batch", "interleave", "unbatch", "with_options", "take_while",
    "rebatch", "ragged_batch", "cardinality", "bucket_by_sequence_length", "shard",
    "flat_map", "snapshot", "from_tensor_slices", "from_generator",
}
DATASET_METHODS = DATASET_ONLY_METHODS | {
    "map", "batch", "shuffle", "cache", "repeat", "take", "skip", "filter", "enumerate",
    "concatenate", "apply", "window", "zip", "unique", "group_by_window", "options",
}

MODEL_CONSTRUCTORS = {keras_synonym(q) for q in (
    "keras.Sequential", "keras.Model", "keras.models.load_model", "keras.models.clone_model",
    "keras.models.model_from_json", "keras.models.Sequential", "keras.models.Model",
    "keras.saving.load_model",
)}
DATASET_CONSTRUCTORS = {keras_synonym(q) for q in DATASET_CONSTRUCTORS}
MODEL_EVIDENCE_METHODS = {
    "compile", "fit_generator", "predict_generator", "evaluate_generator", "train_on_batch",
    "predict_on_batch", "test_on_batch", "summary", "save_weights", "load_weights",
    "get_layer", "add_loss", "add_metric",
}
# qualname() answers in keras_synonym() form (keras.models.load_model -> keras.load_model)
_MODEL_CONSTRUCTORS = {keras_synonym(c) for c in MODEL_CONSTRUCTORS}
NON_KERAS_ML_MODULES = ("sklearn", "xgboost", "lightgbm", "catboost", "torch", "statsmodels", "jax", "flax")


# --------------------------------------------------------------------------- helpers


def names_in(expr: Optional[cst.CSTNode]) -> set[str]:
    """Names loaded anywhere in an expression (attribute names excluded)."""
    out: set[str] = set()
    if expr is None:
        return out
    stack: list[cst.CSTNode] = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.add(n.value)
            continue
        if isinstance(n, cst.Attribute):
            stack.append(n.value)
            continue
        if isinstance(n, cst.Arg):
            stack.append(n.value)
            continue
        stack.extend(n.children)
    return out


def _target_names(target: cst.CSTNode, path: tuple[int, ...] = ()) -> Iterator[tuple[cst.Name, tuple[int, ...]]]:
    if isinstance(target, cst.Name):
        yield target, path
    elif isinstance(target, (cst.Tuple, cst.List)):
        for i, el in enumerate(target.elements):
            yield from _target_names(el.value, path + (i,))
    elif isinstance(target, cst.StarredElement):
        yield from _target_names(target.value, path + (-1,))


def unpack_value(value: Optional[cst.BaseExpression], path: tuple[int, ...]) -> Optional[cst.BaseExpression]:
    """The sub-expression of a literal tuple that a path designates, if visible."""
    for i in path:
        if isinstance(value, (cst.Tuple, cst.List)) and 0 <= i < len(value.elements):
            value = value.elements[i].value
        else:
            return None
    return value


def _is_info_element(call: cst.Call, qualname: str, path: tuple[int, ...]) -> bool:
    """``ds, info = tfds.load(..., with_info=True)``: the last element is the info."""
    if qualname != "tensorflow_datasets.load" or not path:
        return False
    for a in call.args:
        if a.keyword is not None and a.keyword.value == "with_info":
            return not (isinstance(a.value, cst.Name) and a.value.value == "False") and path[0] != 0
    return False


# --------------------------------------------------------------------------- the model


class SemanticModel:
    def __init__(self, module: cst.Module, source: str = "", is_notebook: bool = False):
        self.module = module
        self.source = source
        self.is_notebook = is_notebook
        self.module_scope = Scope("module", module, None)
        self.scopes: list[Scope] = [self.module_scope]
        self.calls: list[CallSite] = []
        self.calls_by_name: dict[str, list[CallSite]] = {}
        self.uses: dict[str, list[NameUse]] = {}
        self.functions: list[FunctionInfo] = []
        self.loops: list[Loop] = []
        self.imports: dict[str, str] = {}  # local alias -> canonical dotted (module scope)
        self.imported_roots: set[str] = set()
        self.order_of: dict[int, int] = {}  # id(node) -> evaluation order, for Names and Calls
        self.call_of: dict[int, CallSite] = {}  # id(Call node) -> CallSite
        self.attribute_loads: dict[str, list[tuple[cst.Attribute, int]]] = {}  # attr -> (node, order)
        self.yields: list[tuple[cst.Yield, Optional[FunctionInfo], int]] = []
        self.dels: list[NameUse] = []
        self.statements: list[cst.CSTNode] = list(module.body)
        self.parent_stmt: dict[int, cst.CSTNode] = {}  # id(stmt) -> enclosing compound stmt
        self.stmt_body: dict[int, tuple[cst.CSTNode, Sequence]] = {}  # id(stmt) -> (owner, body list)
        self._callers_cache: dict[int, list[CallSite]] = {}
        self._dataset_receivers: Optional[set[tuple[int, str]]] = None
        # id(expr) -> where its value goes: ("receiver", CallSite), ("arg", CallSite),
        # ("iter", Loop), ("bound", Binding), ("return", FunctionInfo)
        self.value_uses: dict[int, list[tuple[str, object]]] = {}
        self.function_of: dict[int, FunctionInfo] = {}  # id(FunctionDef or Lambda node) -> its FunctionInfo
        self.target_stores: list[TargetStore] = []  # attribute/subscript assignment targets
        self.strings: list[StringLiteral] = []
        # id(child) -> parent for the value of a Subscript/Attribute and the arguments of a Call
        self.parent_of: dict[int, cst.CSTNode] = {}
        self.with_items: dict[int, cst.WithItem] = {}  # id(item expression) -> WithItem
        # other project files whose content influenced this file's findings (project-scope rules)
        self.dependencies: set[str] = set()
        self._memo: dict = {}  # per-file caches of derived analyses (semantics.* modules)

    # ---------------------------------------------------------------- imports
    @property
    def uses_tensorflow(self) -> bool:
        return bool(self.imported_roots & {"tensorflow", "keras", "tensorflow_datasets", "tf_keras"})

    @property
    def uses_non_keras_ml(self) -> bool:
        return any(r in self.imported_roots for r in NON_KERAS_ML_MODULES)

    # ---------------------------------------------------------------- lookups
    def lookup(self, name: str, scope: Scope, order: Optional[int] = None) -> Optional[Binding]:
        """The binding a name refers to at ``order`` in ``scope`` (Python's LEGB,
        class scopes skipped for nested functions)."""
        s: Optional[Scope] = scope
        first = True
        while s is not None:
            if name in s.globals:
                s = self.module_scope
                first = False
                continue
            if s.kind != "class" or first:
                bs = s.bindings.get(name)
                if bs:
                    if order is None:
                        return bs[-1]
                    before = [b for b in bs if b.order < order]
                    if before:
                        return before[-1]
                    if s is not scope:
                        return bs[-1]
                    # used before any binding in this scope: a loop-carried or
                    # later binding; Python would raise, we return the first
                    return bs[0] if s.kind != "module" else None
            first = False
            s = s.parent
        return None

    def binding_of(self, expr: cst.BaseExpression, scope: Optional[Scope] = None) -> Optional[Binding]:
        if not isinstance(expr, cst.Name):
            return None
        use = self._use_of.get(id(expr))
        if use is not None:
            return self.lookup(expr.value, use.scope, use.order)
        return self.lookup(expr.value, scope or self.module_scope, None)

    def scope_of(self, node: cst.CSTNode) -> Scope:
        use = self._use_of.get(id(node))
        if use is not None:
            return use.scope
        cs = self.call_of.get(id(node))
        if cs is not None:
            return cs.scope
        return self.module_scope

    def order(self, node: cst.CSTNode) -> Optional[int]:
        return self.order_of.get(id(node))

    def qualname(self, expr: Optional[cst.BaseExpression], order: Optional[int] = None) -> Optional[str]:
        """Canonical dotted name of an expression with import aliases resolved.
        Unresolved bare names are returned as they are (fragments without imports);
        names bound locally to something other than an import return None."""
        if expr is None:
            return None
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        b = self.binding_of(root) if isinstance(root, cst.Name) else None
        if b is None:
            b = self.lookup(head, self.module_scope, order)
        if b is not None:
            if b.kind == "import" and b.imported:
                full = b.imported + ("." + rest if rest else "")
                return keras_synonym(canonical(full))
            return None
        return keras_synonym(canonical(dotted))

    def resolves_to(self, expr: Optional[cst.BaseExpression], candidates: Iterable[str]) -> bool:
        q = self.qualname(expr)
        if q is None:
            return False
        cands = {keras_synonym(canonical(c)) for c in candidates}
        if q in cands:
            return True
        if "." not in q:  # a bare unresolved name: accept a distinctive last part
            return any(c.rsplit(".", 1)[-1] == q for c in cands)
        return False

    def is_imported(self, root: str) -> bool:
        return root in self.imported_roots

    # ---------------------------------------------------------------- functions & loops
    def function_called(self, call: CallSite) -> Optional[FunctionInfo]:
        """The function defined in this file that a call site calls, if any."""
        func = call.node.func
        if isinstance(func, cst.Name):
            b = self.lookup(func.value, call.scope, call.order)
            if b is not None and b.kind == "def" and b.function is not None:
                return b.function
            if b is not None and b.kind == "assign" and b.value is not None:
                # f = tf.function(g) / f = g
                inner = b.value
                if isinstance(inner, cst.Call) and inner.args:
                    inner = inner.args[0].value
                if isinstance(inner, cst.Name):
                    b2 = self.lookup(inner.value, b.scope, b.order)
                    if b2 is not None and b2.kind == "def":
                        return b2.function
            return None
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == "self":
            cls = call.function.class_name if call.function else None
            if cls:
                for f in self.functions:
                    if f.class_name == cls and f.name == func.attr.value:
                        return f
        return None

    def callers(self, fn: FunctionInfo) -> list[CallSite]:
        key = id(fn)
        if key not in self._callers_cache:
            self._callers_cache[key] = [c for c in self.calls_by_name.get(fn.name, ()) if self.function_called(c) is fn]
        return self._callers_cache[key]

    def loop_contexts(self, call: CallSite, depth: int = 3) -> list[tuple[Loop, list[CallSite]]]:
        """Loops that execute ``call``: its own loops, or loops around calls of the
        helper function that contains it (transitively, ``depth`` levels).  Each
        entry is (innermost loop, chain of helper call sites from the loop inwards)."""
        out: list[tuple[Loop, list[CallSite]]] = []
        if call.loops:
            out.append((call.loops[-1], []))
            return out
        if depth <= 0 or call.function is None:
            return out
        for caller in self.callers(call.function):
            if caller.function is call.function:
                continue  # recursion
            for loop, chain in self.loop_contexts(caller, depth - 1):
                out.append((loop, chain + [caller]))
        return out

    def executes_in(self, call: CallSite, loop: Loop, depth: int = 3) -> bool:
        """Whether ``call`` runs on every iteration of ``loop``: it is inside the
        loop, or inside a helper called (transitively) from inside it."""
        if loop in call.loops:
            return True
        if depth <= 0 or call.function is None:
            return False
        return any(self.executes_in(c, loop, depth - 1) for c in self.callers(call.function) if c.function is not call.function)

    def module_entry(self, call: CallSite, depth: int = 4) -> Optional[tuple[tuple[int, int], ...]]:
        """Execution position of ``call`` when the file runs as a script: the
        (top statement, order) of the module-level call that reaches it, followed
        by the orders inside each helper; None when no module-level code reaches it.
        Tuples compare in execution order (first reaching caller wins)."""
        if call.function is None:
            return ((call.top_index, call.order),)
        if depth <= 0:
            return None
        best = None
        for c in self.callers(call.function):
            if c.function is call.function:
                continue
            outer = self.module_entry(c, depth - 1)
            if outer is not None and (best is None or outer < best):
                best = outer
        return None if best is None else best + ((0, call.order),)

    def depends_on_loop(self, expr: Optional[cst.CSTNode], loop: Loop) -> bool:
        return bool(names_in(expr) & loop.variant_names)

    def param_derived_names(self, fn: FunctionInfo) -> set[str]:
        """The parameters of ``fn`` and the local names computed from them
        (``img = load(path); x = img[None]`` -> path, img, x)."""
        derived = set(fn.params)
        changed = True
        while changed:
            changed = False
            for name, bindings in fn.scope.bindings.items():
                if name in derived:
                    continue
                if any(b.value is not None and names_in(b.value) & derived for b in bindings):
                    derived.add(name)
                    changed = True
        return derived

    def depends_on_params(self, fn: FunctionInfo, expr: Optional[cst.CSTNode]) -> bool:
        return bool(names_in(expr) & self.param_derived_names(fn))

    def function_for(self, expr: Optional[cst.BaseExpression]) -> Optional[FunctionInfo]:
        """The local function an expression denotes: a lambda, or a name bound
        by a ``def`` in this file."""
        if isinstance(expr, cst.Lambda):
            return self.function_of.get(id(expr))
        if isinstance(expr, cst.Name):
            b = self.binding_of(expr)
            if b is not None and b.kind == "def":
                return b.function
        return None

    def alias_for(self, module: str) -> Optional[str]:
        """The module-level name under which ``module`` is imported
        (``import numpy as np`` -> ``np``), if any."""
        for local, target in self.imports.items():
            if target == module:
                bs = self.module_scope.bindings.get(local)
                if bs and bs[-1].kind == "import":
                    return local
        return None

    @staticmethod
    def literal_iterations(loop: Loop) -> Optional[int]:
        """Number of iterations for ``range(<literal>)`` or literal sequences."""
        it = loop.iter
        if it is None:
            return None
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value in ("enumerate", "reversed", "zip"):
            counts = []
            for a in it.args:
                if a.keyword is None:
                    counts.append(SemanticModel.literal_iterations(Loop(loop.node, loop.kind, loop.scope, None, None, 0, a.value)))
                    if it.func.value != "zip":
                        break
            known = [c for c in counts if c is not None]
            return min(known) if known else None
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range":
            try:
                vals = [literal_value(a.value) for a in it.args]
            except ValueError:
                return None
            if not all(isinstance(v, int) for v in vals):
                return None
            r = range(*vals) if vals else range(0)
            return len(r)
        if isinstance(it, (cst.List, cst.Tuple, cst.Set)):
            if any(isinstance(e, cst.StarredElement) for e in it.elements):
                return None
            return len(it.elements)
        # upper bounds: `ds.take(3)`, `itertools.islice(it, 3)`, `items[:3]`
        bound = None
        if isinstance(it, cst.Call) and isinstance(it.func, cst.Attribute) and it.func.attr.value == "take" and len(it.args) == 1:
            bound = it.args[0].value
        elif isinstance(it, cst.Call) and dotted_name(it.func) in ("islice", "itertools.islice") and len(it.args) == 2:
            bound = it.args[1].value
        elif (isinstance(it, cst.Subscript) and len(it.slice) == 1 and isinstance(it.slice[0].slice, cst.Slice)
              and it.slice[0].slice.lower is None and it.slice[0].slice.step is None):
            bound = it.slice[0].slice.upper
        if bound is not None:
            try:
                n = literal_value(bound)
            except ValueError:
                return None
            return n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None
        return None

    def known_iterations(self, loop: Loop) -> Optional[int]:
        """``literal_iterations``, also through a name bound once to a literal
        sequence (``cases = [0, 1, 2]; for c in cases:``)."""
        n = self.literal_iterations(loop)
        if n is None and isinstance(loop.iter, cst.Name):
            b = self.binding_of(loop.iter)
            if (b is not None and b.kind == "assign" and not b.path and isinstance(b.value, (cst.List, cst.Tuple))
                    and len(b.scope.bindings.get(b.name, ())) == 1):
                n = self.literal_iterations(Loop(loop.node, loop.kind, loop.scope, None, None, 0, b.value))
        return n

    # ---------------------------------------------------------------- chains
    def chain(self, expr: Optional[cst.BaseExpression], max_depth: int = 40) -> Chain:
        """Follow ``a.b(..).c(..)`` and names assigned from such chains back to the
        origin.  ``ds = ds.map(f); ds = ds.cache()`` yields steps [map, cache].
        Calls of helpers defined in the file continue into what they return
        (``ds = make_dataset().cache()``); unpacked ``tfds.load``/``subset="both"``
        results count as constructor origins."""
        steps: list[ChainStep] = []
        names: list[cst.Name] = []
        entered: list[CallSite] = []  # helper calls whose return we followed
        depth = 0
        start = self.call_of.get(id(expr)) if isinstance(expr, cst.Call) else None
        end_branches = self._branches(start.stmt) if start is not None else None
        maybe = False

        def done(origin, q=None) -> Chain:
            return Chain(origin, q, list(reversed(steps)), names)

        while expr is not None and depth < max_depth:
            depth += 1
            if isinstance(expr, cst.Call):
                q = self.qualname(expr.func) if isinstance(expr.func, (cst.Name, cst.Attribute)) else None
                if q is not None and q in DATASET_CONSTRUCTORS:
                    return done(expr, q)
                returned = self._helper_return(expr)
                if returned is not None:
                    entered.append(self.call_of[id(expr)])
                    expr = returned
                    continue
                if isinstance(expr.func, cst.Attribute):
                    steps.append(ChainStep(expr.func.attr.value, expr, self.order_of.get(id(expr), -1), maybe))
                    expr = expr.func.value
                    continue
                return done(expr, q)
            if isinstance(expr, cst.Name):
                names.append(expr)
                b = self.binding_of(expr)
                if b is not None and b.kind == "param" and entered:
                    # a parameter of the helper we came through: continue with the argument
                    site = entered[-1]
                    fn = self.function_called(site)
                    if fn is not None and b.scope is fn.scope and expr.value in fn.params:
                        entered.pop()
                        arg = self._argument_for(site, fn, expr.value)
                        if arg is not None:
                            expr = arg
                            continue
                if b is not None and b.kind in ("assign", "annassign", "walrus") and b.value is not None:
                    if not b.path:
                        if end_branches is not None and b.stmt is not None:
                            bound = self._branches(b.stmt)
                            maybe = bool(end_branches - bound) and bool(bound - end_branches)
                        expr = b.value
                        continue
                    if isinstance(b.value, cst.Call):
                        q = self.qualname(b.value.func)
                        if q in DATASET_CONSTRUCTORS and not _is_info_element(b.value, q, b.path):
                            return done(b.value, q)
                return done(expr)
            break
        return done(expr)

    def _branches(self, stmt: Optional[cst.CSTNode]) -> frozenset[tuple[int, int]]:
        """The conditional blocks around a statement, as (compound statement,
        block) pairs: an ``if`` body and its ``else`` are different blocks.  A
        ``try`` body counts as always run."""
        out: set[tuple[int, int]] = set()
        s = stmt
        while s is not None:
            parent = self.parent_stmt.get(id(s))
            if isinstance(parent, (cst.If, cst.For, cst.While, cst.Try, cst.TryStar, cst.Match)):
                owner = self.stmt_body.get(id(s))
                block = owner[0] if owner is not None else s  # an `elif` sits in `orelse` directly
                if not (isinstance(parent, (cst.Try, cst.TryStar)) and block is parent.body):
                    out.add((id(parent), id(block)))
            s = parent
        return frozenset(out)

    def _helper_return(self, call: cst.Call) -> Optional[cst.BaseExpression]:
        """What a call of a (non-recursive) helper defined in this file returns:
        its last ``return`` expression."""
        cs = self.call_of.get(id(call))
        fn = self.function_called(cs) if cs is not None else None
        if fn is None or not fn.returns or fn.yields or cs.function is fn:
            return None
        return fn.returns[-1]

    def is_dataset_chain(self, chain: Chain, _depth: int = 0) -> bool:
        if chain.origin_qualname and chain.origin_qualname in DATASET_CONSTRUCTORS:
            return True
        methods = set(chain.methods())
        if methods & DATASET_ONLY_METHODS:
            return True
        if chain.origin_qualname and chain.origin_qualname.startswith("tensorflow.data."):
            return True
        # a name of the chain is also used with a dataset-only method
        for n in chain.names:
            b = self.binding_of(n)
            if b is not None and (id(b.scope), n.value) in self._dataset_only_receivers():
                return True
        # a parameter: every caller in the file passes a dataset
        origin = chain.origin
        if isinstance(origin, cst.Name) and _depth < 3:
            b = self.binding_of(origin)
            fn = b.scope.function if b is not None and b.kind == "param" else None
            if fn is not None and origin.value in fn.params:
                args = [self._argument_for(c, fn, origin.value) for c in self.callers(fn)]
                if args and all(a is not None and self.is_dataset_chain(self.chain(a), _depth + 1) for a in args):
                    return True
        return False

    def _argument_for(self, call: CallSite, fn: FunctionInfo, param: str) -> Optional[cst.BaseExpression]:
        for a in call.node.args:
            if a.keyword is not None and a.keyword.value == param:
                return a.value
        index = fn.params.index(param) - (1 if fn.class_name and fn.params[:1] == ["self"] else 0)
        positional = [a for a in call.node.args if a.keyword is None and not a.star]
        return positional[index].value if 0 <= index < len(positional) else None

    def _dataset_only_receivers(self) -> set[tuple[int, str]]:
        """(scope id, name) of names called with a dataset-only method."""
        if self._dataset_receivers is None:
            found: set[tuple[int, str]] = set()
            for method in DATASET_ONLY_METHODS:
                for cs in self.calls_by_name.get(method, ()):
                    if isinstance(cs.receiver, cst.Name):
                        b = self.binding_of(cs.receiver)
                        if b is not None:
                            found.add((id(b.scope), cs.receiver.value))
            self._dataset_receivers = found
        return self._dataset_receivers

    def loads_of(self, binding: Binding) -> list[NameUse]:
        """The loads of a name that read this binding."""
        return [u for u in self.uses.get(binding.name, ()) if u.kind == "load"
                and self.lookup(binding.name, u.scope, u.order) is binding]

    # ---------------------------------------------------------------- kinds
    def is_keras_model(self, expr: Optional[cst.BaseExpression], _depth: int = 0) -> bool:
        """Evidence that ``expr`` is a Keras model: bound by a Keras constructor or
        loader, returned by a local builder, compiled, or (in fragments) named
        and used like one in a file that imports Keras/TensorFlow."""
        if expr is None or _depth > 6:
            return False
        if isinstance(expr, cst.Call):
            q = self.qualname(expr.func)
            if q is not None and (q in _MODEL_CONSTRUCTORS or q.startswith("keras.applications.")):
                return True
            if q is not None and q.rsplit(".", 1)[-1] in ("Sequential", "load_model") and "." not in q:
                return True
            cs = self.call_of.get(id(expr))
            fn = self.function_called(cs) if cs is not None else None
            if fn is not None:
                return any(self.is_keras_model(r, _depth + 1) for r in fn.returns)
            return False
        if isinstance(expr, cst.Attribute):
            # self.model / trainer.model in a Keras file
            return expr.attr.value in ("model", "keras_model") and self.uses_tensorflow and not self.uses_non_keras_ml
        if not isinstance(expr, cst.Name):
            return False
        b = self.binding_of(expr)
        if b is not None and b.kind == "import" and isinstance(b.node, cst.Import):
            return False  # a module (`import re`) is no model, whatever methods it has (`re.compile`)
        if b is not None and b.value is not None and not b.path and b.kind in ("assign", "annassign", "with"):
            if self.is_keras_model(b.value, _depth + 1):
                return True
        # usage evidence on the same name
        for m in MODEL_EVIDENCE_METHODS:
            for cs in self.calls_by_name.get(m, ()):
                r = cs.receiver
                if isinstance(r, cst.Name) and r.value == expr.value:
                    if m == "compile" and self.uses_non_keras_ml and not self.uses_tensorflow:
                        continue
                    return True
        if b is None or b.kind == "param" or (b.value is not None and isinstance(b.value, cst.Ellipsis)):
            # fragment or parameter: accept conventional names in a TF/Keras file
            if self.uses_tensorflow and not self.uses_non_keras_ml and "model" in expr.value.lower():
                return True
        return False

    def is_dataset(self, expr: Optional[cst.BaseExpression]) -> bool:
        if expr is None:
            return False
        return self.is_dataset_chain(self.chain(expr))

    # ---------------------------------------------------------------- statements
    def enclosing_body(self, stmt: cst.CSTNode) -> Optional[tuple[cst.CSTNode, Sequence]]:
        """(owner, body sequence) holding a statement; owner is the Module or the
        IndentedBlock."""
        return self.stmt_body.get(id(stmt))

    def top_statement_index(self, node: cst.CSTNode) -> int:
        cs = self.call_of.get(id(node))
        if cs is not None:
            return cs.top_index
        use = self._use_of.get(id(node))
        if use is not None:
            return use.top_index
        return -1

    # filled by the builder
    _use_of: dict[int, NameUse]


# --------------------------------------------------------------------------- builder


class _Builder(FastVisitor):
    def __init__(self, model: SemanticModel):
        super().__init__()
        self.m = model
        model._use_of = {}
        self.order = 0
        self.scope = model.module_scope
        self.function: Optional[FunctionInfo] = None
        self.loops: list[Loop] = []
        self.loop_stack_saves: list[list[Loop]] = []
        self.stmt_stack: list[cst.CSTNode] = []
        self.top_index = -1
        self.class_stack: list[str] = []
        self.store: dict[int, tuple[str, object]] = {}  # id(Name) -> (kind, info)
        self.ignore: set[int] = set()
        self.pending: list[list[tuple]] = []  # bindings recorded when leaving statements
        self.body_owner: list[cst.CSTNode] = [model.module]
        self.ancestors: list[cst.CSTNode] = []  # nodes being visited, outermost first

    def _next(self) -> int:
        self.order += 1
        return self.order

    # ------------------------------------------------------------ statements
    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in STATEMENT_TYPES:  # a set lookup: isinstance on libcst's ABCs is slow
            if not self.stmt_stack:
                self.top_index += 1
            if self.stmt_stack:
                self.m.parent_stmt[id(node)] = self.stmt_stack[-1]
            self.stmt_stack.append(node)
        elif type(node) is cst.IndentedBlock or type(node) is cst.Module:  # no subclasses: no isinstance needed
            for s in node.body:
                self.m.stmt_body[id(s)] = (node, node.body)
        self.ancestors.append(node)
        return FastVisitor.on_visit(self, node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        FastVisitor.on_leave(self, original_node)
        self.ancestors.pop()
        if self.stmt_stack and self.stmt_stack[-1] is original_node:
            self.stmt_stack.pop()

    # ------------------------------------------------------------ binding helpers
    def _bind(self, name: str, kind: str, node, value=None, path=(), imported=None, function=None, scope=None):
        scope = scope or self.scope
        b = Binding(
            name, scope, kind, self._next(), node, value, path,
            self.stmt_stack[-1] if self.stmt_stack else None, self.top_index, imported,
            tuple(self.loops), function,
        )
        scope.bindings.setdefault(name, []).append(b)
        for loop in self.loops:
            loop.body_bound.add(name)
        if value is not None and not path and kind in ("assign", "annassign", "walrus"):
            self.m.value_uses.setdefault(id(value), []).append(("bound", b))
        return b

    def _mark_targets(self, target: cst.CSTNode, kind: str, value=None) -> list[tuple[cst.Name, tuple]]:
        """Mark Name nodes in an assignment target as stores; attribute and
        subscript targets stay loads of their base."""
        names = list(_target_names(target))
        for n, p in names:
            self.store[id(n)] = (kind, (value, p))
        return names

    # ------------------------------------------------------------ imports
    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            root = full.split(".")[0]
            self.m.imported_roots.add(root)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
                target = full
            else:
                local = root
                target = root
            self._bind(local, "import", node, imported=canonical(target))
            if self.scope is self.m.module_scope:
                self.m.imports[local] = canonical(target)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        base = (dotted_name(node.module) if node.module is not None else "") or ""
        dots = "." * len(node.relative)
        if base and not dots:
            self.m.imported_roots.add(base.split(".")[0])
        if isinstance(node.names, cst.ImportStar):
            return False
        for alias in node.names:
            name = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
            full = f"{base}.{name}" if base else name
            if dots:
                # relative: kept as ".pkg.name" for project-module resolution
                self._bind(local, "import", node, imported=dots + full)
                continue
            self._bind(local, "import", node, imported=canonical(full) if base else None)
            if self.scope is self.m.module_scope and base:
                self.m.imports[local] = canonical(full)
        return False

    def visit_Global(self, node: cst.Global) -> bool:
        for n in node.names:
            self.scope.globals.add(n.name.value)
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        return False

    # ------------------------------------------------------------ assignments
    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._mark_targets(t.target, "assign", node.value)
            self._store_target(t.target, node.value)

    def leave_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            for n, p in _target_names(t.target):
                self._bind(n.value, "assign", n, node.value, p)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._mark_targets(node.target, "annassign", node.value)
        self._store_target(node.target, node.value)

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        for n, p in _target_names(node.target):
            self._bind(n.value, "annassign", n, node.value, p)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, "augassign", node.target, None)

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self.store[id(node.target)] = ("walrus", None)
            self._bind(node.target.value, "walrus", node.target, node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self.store[id(node.target)] = ("walrus", None)

    def visit_Del(self, node: cst.Del) -> None:
        for n, _ in _target_names(node.target):
            self.store[id(n)] = ("del", None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        self.m.with_items[id(node.item)] = node
        if node.asname is not None:
            self._mark_targets(node.asname.name, "with", node.item)

    def leave_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            for n, p in _target_names(node.asname.name):
                self._bind(n.value, "with", n, node.item, p)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self.store[id(node.name.name)] = ("except", None)
            self._bind(node.name.name.value, "except", node.name.name)

    # ------------------------------------------------------------ names
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.ignore.add(id(node.attr))
        self.m.parent_of[id(node.value)] = node
        self.m.attribute_loads.setdefault(node.attr.value, []).append((node, self._next()))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.m.parent_of[id(node.value)] = node

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.m.strings.append(StringLiteral(node, self.function, self.top_index, self._next()))

    def _store_target(self, target: cst.BaseExpression, value) -> None:
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            self.m.target_stores.append(TargetStore(
                target, value, self.scope, self.function, tuple(self.loops),
                self.stmt_stack[-1] if self.stmt_stack else None, self.top_index, self._next()))
        elif isinstance(target, (cst.Tuple, cst.List)):
            for i, el in enumerate(target.elements):
                self._store_target(el.value, unpack_value(value, (i,)))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.ignore.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        key = id(node)
        if key in self.ignore:
            return
        st = self.store.get(key)
        kind = "load" if st is None else ("del" if st[0] == "del" else "store")
        order = self._next()
        self.m.order_of[key] = order
        use = NameUse(node.value, node, self.scope, order, self.top_index, kind, self.function, tuple(self.loops),
                      self.stmt_stack[-1] if self.stmt_stack else None,
                      tuple(reversed(self.ancestors[-PARENT_DEPTH - 1:-1])))
        self.m._use_of[key] = use
        self.m.uses.setdefault(node.value, []).append(use)
        if kind == "del":
            self.m.dels.append(use)
            bs = self.scope.bindings.get(node.value)
            _ = bs

    # ------------------------------------------------------------ calls
    def visit_Call(self, node: cst.Call) -> None:
        order = self._next()
        self.m.order_of[id(node)] = order
        func = node.func
        if isinstance(func, cst.Attribute):
            name, receiver = func.attr.value, func.value
        elif isinstance(func, cst.Name):
            name, receiver = func.value, None
        else:
            name, receiver = None, None
        cs = CallSite(
            node, name, None, receiver, self.scope, self.function, tuple(self.loops),
            self.stmt_stack[-1] if self.stmt_stack else None, self.top_index, order,
        )
        self.m.calls.append(cs)
        self.m.call_of[id(node)] = cs
        if receiver is not None:
            self.m.value_uses.setdefault(id(receiver), []).append(("receiver", cs))
        for a in node.args:
            self.m.value_uses.setdefault(id(a.value), []).append(("arg", cs))
        for a in node.args:
            self.m.parent_of[id(a.value)] = node
        if name is not None:
            self.m.calls_by_name.setdefault(name, []).append(cs)
            # `from x import ImageDataGenerator as IDG; IDG()` is also indexed
            # under the imported name, so rules subscribe to real API names
            if isinstance(func, cst.Name):
                b = self.m.lookup(name, self.scope, order)
                if b is not None and b.kind == "import" and b.imported:
                    real = b.imported.rsplit(".", 1)[-1]
                    if real != name:
                        self.m.calls_by_name.setdefault(real, []).append(cs)
        if self.function is not None:
            self.function.calls.append(cs)
        for loop in self.loops:
            loop.calls.append(cs)

    # ------------------------------------------------------------ functions
    def _enter_function(self, node, name: str, params: cst.Parameters, decorators=()) -> None:
        scope = Scope("function" if isinstance(node, cst.FunctionDef) else "lambda", node, self.scope, name)
        fn = FunctionInfo(name, node, scope, self.scope, self._next(), class_name=self.class_stack[-1] if self.class_stack else None, top_index=self.top_index)
        scope.function = fn
        self.m.function_of[id(node)] = fn
        for d in decorators:
            expr = d.decorator
            if isinstance(expr, cst.Call):
                fn.decorator_calls.append(expr)
                expr = expr.func
            fn.decorators.append(dotted_name(expr))
        self.m.functions.append(fn)
        self.m.scopes.append(scope)
        if isinstance(node, cst.FunctionDef):
            self._bind(name, "def", node, function=fn)
        self.pending.append([self.scope, self.function, self.loops])
        self.scope, self.function, self.loops = scope, fn, []
        all_params = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
        if isinstance(params.star_arg, cst.Param):
            all_params.append(params.star_arg)
        if params.star_kwarg is not None:
            all_params.append(params.star_kwarg)
        for p in all_params:
            self.ignore.add(id(p.name))
            fn.params.append(p.name.value)
            self._bind(p.name.value, "param", p.name)

    def _leave_function(self) -> None:
        self.scope, self.function, self.loops = self.pending.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.ignore.add(id(node.name))
        # decorators and defaults are evaluated in the enclosing scope: visit them first
        for d in node.decorators:
            self.walk(d)
        for p in list(node.params.params) + list(node.params.kwonly_params) + list(node.params.posonly_params):
            if p.default is not None:
                self.walk(p.default)
        self._enter_function(node, node.name.value, node.params, node.decorators)
        self.walk(node.body)
        self._leave_function()
        return False  # children were visited by hand, in evaluation order

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self._enter_function(node, "<lambda>", node.params)
        self.walk(node.body)
        fn = self.function
        if fn is not None:
            fn.returns.append(node.body)
            self.m.value_uses.setdefault(id(node.body), []).append(("return", fn))
        self._leave_function()
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.ignore.add(id(node.name))
        for d in node.decorators:
            self.walk(d)
        for a in node.bases:
            self.walk(a)
        for a in node.keywords:
            self.walk(a)
        self._bind(node.name.value, "class", node)
        scope = Scope("class", node, self.scope, node.name.value)
        self.m.scopes.append(scope)
        saved = self.scope
        self.scope = scope
        self.class_stack.append(node.name.value)
        self.walk(node.body)
        self.class_stack.pop()
        self.scope = saved
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if self.function is not None and node.value is not None:
            self.function.returns.append(node.value)
            self.m.value_uses.setdefault(id(node.value), []).append(("return", self.function))

    def visit_Yield(self, node: cst.Yield) -> None:
        if self.function is not None:
            self.function.yields.append(node)
        self.m.yields.append((node, self.function, self._next()))

    # ------------------------------------------------------------ loops
    def _push_loop(self, node, kind, iter_expr, target) -> Loop:
        loop = Loop(node, kind, self.scope, self.loops[-1] if self.loops else None, self.function, self._next(), iter_expr, top_index=self.top_index)
        if target is not None:
            for n, _ in _target_names(target):
                loop.targets.add(n.value)
        self.m.loops.append(loop)
        self.loops.append(loop)
        if iter_expr is not None:
            self.m.value_uses.setdefault(id(iter_expr), []).append(("iter", loop))
        return loop

    def visit_For(self, node: cst.For) -> bool:
        # the iterable is evaluated once, outside the loop
        self.walk(node.iter)
        loop = self._push_loop(node, "for", node.iter, node.target)
        for n, p in self._mark_targets(node.target, "for"):
            pass
        self.walk(node.target)
        for n, p in _target_names(node.target):
            self._bind(n.value, "for", n, node.iter, p)
        self.walk(node.body)
        loop.end_order = self._next()
        self.loops.pop()
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def visit_While(self, node: cst.While) -> bool:
        loop = self._push_loop(node, "while", None, None)
        self.walk(node.test)
        self.walk(node.body)
        loop.end_order = self._next()
        self.loops.pop()
        if node.orelse is not None:
            self.walk(node.orelse)
        return False

    def _visit_comp(self, node, elts: list[cst.CSTNode]) -> bool:
        scope = Scope("comprehension", node, self.scope)
        self.m.scopes.append(scope)
        comp_for = node.for_in
        first = True
        pushed = 0
        saved = self.scope
        while comp_for is not None:
            # the first iterable is evaluated in the enclosing scope
            if not first:
                self.scope = scope
            self.walk(comp_for.iter)
            self.scope = scope
            first = False
            loop = self._push_loop(node, "comp", comp_for.iter, comp_for.target)
            pushed += 1
            self._mark_targets(comp_for.target, "comp")
            self.walk(comp_for.target)
            for n, p in _target_names(comp_for.target):
                self._bind(n.value, "comp", n, comp_for.iter, p, scope=scope)
            for cond in comp_for.ifs:
                self.walk(cond)
            comp_for = comp_for.inner_for_in
        for e in elts:
            self.walk(e)
        for _ in range(pushed):
            self.loops[-1].end_order = self._next()
            self.loops.pop()
        self.scope = saved
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._visit_comp(node, [node.elt])

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._visit_comp(node, [node.elt])

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._visit_comp(node, [node.elt])

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._visit_comp(node, [node.key, node.value])


def build_model(module: cst.Module, source: str = "", is_notebook: bool = False) -> SemanticModel:
    model = SemanticModel(module, source, is_notebook)
    _Builder(model).walk(module)
    return model
