"""The semantic model (engine v2): everything rules need to know about one
file, built in a single walk of CPython's ``ast``.

It records the same facts, in the same records, as the libcst model it
replaces (``kmlint.legacy.semantics.model``), with ``ast`` nodes:

* scopes (module, class, function, lambda, comprehension) and, per scope, every
  binding of a name in evaluation order (assignments, tuple unpacking with the
  element path, for/with/except targets, imports, defs, params);
* import aliases, so ``qualname(expr)`` resolves ``tf.keras.Model``,
  ``keras.Model`` and ``from tensorflow.keras.models import Model`` to the same
  canonical ``keras.Model``;
* every call site with its enclosing function, statement, module-level
  statement index and the stack of loops around it (comprehensions count);
* every name use (load/store/del) with its position in evaluation order;
* functions defined in the file: their calls, returns, yields, decorators; and
  which of them are called from loops (so a helper that calls ``predict`` counts);
* the parent of every node and the statement holding it;
* helpers to follow ``tf.data`` method chains across assignments and to decide
  whether an expression is a Keras model or a dataset.

Evaluation order ("order" counters) follows Python: the iterable of a ``for``
before the loop, comprehension generators before the element, decorators and
defaults before the function body, a call before its callee's names, the value
of an assignment before its targets are bound.

Differences from the libcst model (all follow from the tree, none is a choice
of a rule): statements are ``ast.stmt`` nodes, so ``a = 1; b = 2`` are two
statements and ``if x: f()`` has ``f()``'s own statement (libcst gave the whole
line, or the ``if``); ``True``/``False``/``None`` are constants, not name uses;
implicitly concatenated strings are one ``StringLiteral``; an ``except ... as e``
binding's node is the ``ExceptHandler`` (the name is a string in ``ast``);
lambda defaults are evaluated (libcst's model skipped them).

Rules read this model; none of them walks the tree again.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional, Union

from kmlint.semantics.names import (
    argument_values, canonical, dotted_name, keras_synonym, literal_value,
)
from kmlint.syntax import LineIndex, Span

_Name = ast.Name
_Attribute = ast.Attribute
_Call = ast.Call
_Starred = ast.Starred
_Tuple = ast.Tuple
_List = ast.List
_Constant = ast.Constant
_arg = ast.arg
_CTX_KIND = {ast.Load: "load", ast.Store: "store", ast.Del: "del"}

STATEMENT_TYPES = frozenset(
    c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, ast.stmt) and c is not ast.stmt
)
FUNCTION_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPREHENSION_TYPES = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)

# --------------------------------------------------------------------------- records


@dataclass(eq=False, repr=False)
class Scope:
    """A module, class, function, lambda or comprehension scope and its bindings."""

    kind: str  # module | class | function | lambda | comprehension
    node: ast.AST
    parent: Optional["Scope"]
    name: str = ""
    bindings: dict[str, list["Binding"]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    function: Optional["FunctionInfo"] = None

    def __repr__(self) -> str:
        return f"<Scope {self.kind} {self.name}>"


@dataclass(eq=False, repr=False, slots=True)
class Binding:
    """One binding of a name in a scope, in evaluation order."""

    name: str
    scope: Scope
    kind: str  # assign | augassign | annassign | for | with | except | import | def | class | param | comp | walrus
    order: int
    # the Name bound; the Import/ImportFrom, FunctionDef/AsyncFunctionDef, ClassDef;
    # the ``ast.arg`` of a parameter; the ExceptHandler of ``except E as name``
    node: Optional[ast.AST]
    value: Optional[ast.expr] = None  # the assigned expression, when known
    path: tuple[int, ...] = ()  # element path when unpacking: (a, (b, c)) = v -> c has (1, 1)
    stmt: Optional[ast.stmt] = None
    top_index: int = -1
    imported: Optional[str] = None  # canonical dotted name for imports
    loops: tuple["Loop", ...] = ()
    function: Optional["FunctionInfo"] = None  # for kind == "def"

    def __repr__(self) -> str:
        return f"<Binding {self.kind} {self.name} @{self.order}>"


@dataclass(eq=False, repr=False)
class Loop:
    """A for/while loop or one generator of a comprehension."""

    node: ast.AST  # For, AsyncFor, While or a comprehension (ListComp, ...: one Loop per generator)
    kind: str  # for | while | comp
    scope: Scope
    parent: Optional["Loop"]
    function: Optional["FunctionInfo"]
    order: int
    iter: Optional[ast.expr] = None
    targets: set[str] = field(default_factory=set)
    body_bound: set[str] = field(default_factory=set)
    calls: list["CallSite"] = field(default_factory=list)  # direct and nested
    top_index: int = -1
    end_order: int = 0

    @property
    def variant_names(self) -> set[str]:
        return self.targets | self.body_bound

    def __repr__(self) -> str:
        return f"<Loop {self.kind} line {getattr(self.node, 'lineno', '?')}>"


class CallSite:
    """A call: ``node`` (ast.Call), the callee's last ``name``, its ``receiver``
    (``model`` in ``model.fit()``) and where it runs."""

    __slots__ = ("node", "name", "receiver", "scope", "function", "loops", "stmt", "top_index", "order",
                 "_model", "_qualname")

    def __init__(self, node: ast.Call, name: Optional[str], receiver: Optional[ast.expr], scope: Scope,
                 function: Optional["FunctionInfo"], loops: tuple["Loop", ...], stmt: Optional[ast.stmt],
                 top_index: int, order: int, model: Optional["SemanticModel"] = None):
        self.node = node
        self.name = name
        self.receiver = receiver
        self.scope = scope
        self.function = function
        self.loops = loops
        self.stmt = stmt
        self.top_index = top_index
        self.order = order
        self._model = model
        self._qualname: Union[str, None, bool] = False

    @property
    def qualname(self) -> Optional[str]:
        """Canonical dotted name of the callee (``model.qualname(call.node.func)``)."""
        if self._qualname is False:
            self._qualname = self._model.qualname(self.node.func) if self._model is not None else None
        return self._qualname  # type: ignore[return-value]

    @property
    def args(self) -> list:
        """The ast Call's positional arguments (``node.args``, ``Starred`` for ``*a``)."""
        return self.node.args

    @property
    def positional(self) -> list:
        """The positional argument expressions (``Starred`` for ``*a``)."""
        return self.node.args

    @property
    def keywords(self) -> dict[str, ast.expr]:
        """Keyword name -> value expression (``**kw`` excluded)."""
        return {k.arg: k.value for k in self.node.keywords if k.arg is not None}

    @property
    def has_star(self) -> bool:
        """Whether the call passes ``*args`` or ``**kwargs``."""
        node = self.node
        return any(type(a) is _Starred for a in node.args) or any(k.arg is None for k in node.keywords)

    def arg(self, keyword: str, position: Optional[int] = None) -> Optional[ast.expr]:
        """The value given as ``keyword=`` or at ``position`` (None when a ``*a``
        comes at or before that position: no guessing)."""
        for k in self.node.keywords:
            if k.arg == keyword:
                return k.value
        args = self.node.args
        if position is not None and 0 <= position < len(args):
            for a in args[: position + 1]:
                if type(a) is _Starred:
                    return None
            return args[position]
        return None

    def __repr__(self) -> str:
        return f"<CallSite {self.name} line {self.node.lineno}>"


Sequence = tuple  # alias for readability in annotations


PARENT_DEPTH = 6


@dataclass(eq=False, repr=False, slots=True)
class NameUse:
    """A load, store or del of a name."""

    name: str
    node: ast.Name
    scope: Scope
    order: int
    top_index: int
    kind: str  # load | store | del
    function: Optional["FunctionInfo"]
    loops: tuple[Loop, ...]
    stmt: Optional[ast.stmt] = None  # innermost statement holding the use
    _up: Optional[dict] = None  # the model's parent map

    @property
    def parents(self) -> tuple[ast.AST, ...]:
        """Nearest ancestors, innermost first (at most PARENT_DEPTH)."""
        up = self._up
        if up is None:
            return ()
        out = []
        n: Optional[ast.AST] = self.node
        for _ in range(PARENT_DEPTH):
            n = up.get(id(n))
            if n is None:
                break
            out.append(n)
        return tuple(out)

    def __repr__(self) -> str:
        return f"<NameUse {self.kind} {self.name} @{self.order}>"


@dataclass(eq=False, repr=False)
class FunctionInfo:
    """A function or lambda defined in the file."""

    name: str
    node: Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
    scope: Scope  # the function's own scope
    parent_scope: Scope
    order: int
    params: list[str] = field(default_factory=list)
    decorators: list[Optional[str]] = field(default_factory=list)  # dotted names
    decorator_calls: list[ast.Call] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)  # direct calls in the body
    returns: list[ast.expr] = field(default_factory=list)
    yields: list[Union[ast.Yield, ast.YieldFrom]] = field(default_factory=list)
    class_name: Optional[str] = None
    top_index: int = -1

    def __repr__(self) -> str:
        return f"<FunctionInfo {self.name}>"


@dataclass(eq=False, repr=False)
class TargetStore:
    """An assignment to an attribute or subscript target (``cfg.gpu_options.allow_growth
    = True``, ``os.environ["X"] = "1"``, ``self.x = np.load(p)``)."""

    target: ast.expr
    value: Optional[ast.expr]
    scope: Scope
    function: Optional["FunctionInfo"]
    loops: tuple[Loop, ...]
    stmt: Optional[ast.stmt]
    top_index: int
    order: int


@dataclass(eq=False, repr=False)
class StringLiteral:
    """A str or bytes literal of the source."""

    node: ast.Constant  # a str or bytes constant (not a part of an f-string)
    function: Optional["FunctionInfo"]
    top_index: int
    order: int


@dataclass
class ChainStep:
    """One method call of a chain."""

    method: str
    call: ast.Call
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

    origin: Optional[ast.expr]
    origin_qualname: Optional[str]
    steps: list[ChainStep]
    names: list[ast.Name] = field(default_factory=list)  # names followed through assignments

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
# A method other libraries' objects have too (``re``/SQLAlchemy/Django
# ``compile``): evidence of a model only in a file that uses TensorFlow/Keras,
# in a fragment with no ``import`` at all (a snippet from a bug report), or
# when the call passes one of Keras' own ``compile`` keywords (``loss=``,
# ``optimizer=`` ...).  In the mixed benchmark corpus ``compile`` alone made
# 112 of 1,262 non-TensorFlow files look like Keras code.
GENERIC_MODEL_METHODS = frozenset({"compile"})
KERAS_COMPILE_KEYWORDS = frozenset({
    "optimizer", "loss", "metrics", "loss_weights", "weighted_metrics", "run_eagerly",
    "steps_per_execution", "jit_compile", "auto_scale_loss",
})  # keras.Model.compile's parameters (Keras 3 API reference)
_IMPORT_WORD = re.compile(r"\bimport\b")
# qualname() answers in keras_synonym() form (keras.models.load_model -> keras.load_model)
_MODEL_CONSTRUCTORS = {keras_synonym(c) for c in MODEL_CONSTRUCTORS}
# conventional aliases that resolve to their modules where the code uses them
# without importing them (SemanticModel.unbound_alias)
_STAR_IMPORT = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+\(?[ \t]*\*", re.MULTILINE)
UNBOUND_ALIASES = {"tf": "tensorflow", "np": "numpy", "keras": "keras", "K": "keras.backend",
                   "tfds": "tensorflow_datasets", "layers": "keras.layers"}
NON_KERAS_ML_MODULES = ("sklearn", "xgboost", "lightgbm", "catboost", "torch", "statsmodels", "jax", "flax")


# --------------------------------------------------------------------------- tree tables

# fields that never hold nodes (identifiers, flags, operator/context singletons)
_SCALAR_FIELDS = frozenset({
    "ctx", "op", "ops", "id", "attr", "arg", "asname", "module", "level", "type_comment",
    "conversion", "is_async", "simple", "kind", "kwd_attrs", "rest", "lineno", "tag",
})
_BODY_FIELDS = frozenset({"body", "orelse", "finalbody"})


def _child_fields(t: type) -> tuple[tuple[str, bool], ...]:
    """(field, holds a statement list) for the node-bearing fields of an ast class."""
    out = []
    for f in getattr(t, "_fields", ()):
        if f in _SCALAR_FIELDS:
            continue
        if f == "name" and t.__name__ != "TypeAlias":  # a str except in ``type X = ...``
            continue
        if f == "names" and t in (ast.Global, ast.Nonlocal):
            continue
        if f == "value" and t in (ast.Constant, getattr(ast, "MatchSingleton", ast.Constant)):
            continue
        out.append((f, f in _BODY_FIELDS and (issubclass(t, (ast.stmt, ast.mod, ast.excepthandler))
                                              or t is ast.match_case)))
    return tuple(out)


class _ChildFields(dict):
    def __missing__(self, t: type) -> tuple[tuple[str, bool], ...]:
        fields = self[t] = _child_fields(t)
        return fields


# node type -> (field, holds statements) of its node-bearing fields, filled on first use
CHILD_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = _ChildFields()


def iter_children(node: ast.AST) -> Iterator[ast.AST]:
    """The child nodes of a node (``ast.iter_child_nodes`` without contexts and operators)."""
    for f, _ in CHILD_FIELDS[type(node)]:
        v = getattr(node, f, None)
        if v is None:
            continue
        if type(v) is list:
            for c in v:
                if c is not None and type(c) is not str:
                    yield c
        else:
            yield v


# --------------------------------------------------------------------------- helpers


def names_in(expr: Optional[ast.AST]) -> set[str]:
    """Names used anywhere in an expression (attribute names excluded)."""
    out: set[str] = set()
    if expr is None:
        return out
    stack: list[ast.AST] = [expr]
    pop, push = stack.pop, stack.append
    fields_of = CHILD_FIELDS
    while stack:
        n = pop()
        t = type(n)
        if t is _Name:
            out.add(n.id)  # type: ignore[attr-defined]
            continue
        if t is _Attribute:
            push(n.value)  # type: ignore[attr-defined]
            continue
        if t is _arg:  # a lambda's parameter names count (as in the libcst model)
            out.add(n.arg)  # type: ignore[attr-defined]
        for f, _ in fields_of[t]:
            v = getattr(n, f, None)
            if v is None:
                continue
            if type(v) is list:
                for c in v:
                    if c is not None and type(c) is not str:
                        push(c)
            else:
                push(v)
    return out


def _target_names(target: ast.AST, path: tuple[int, ...] = ()) -> Iterator[tuple[ast.Name, tuple[int, ...]]]:
    t = type(target)
    if t is _Name:
        yield target, path  # type: ignore[misc]
    elif t is _Tuple or t is _List:
        for i, el in enumerate(target.elts):  # type: ignore[attr-defined]
            yield from _target_names(el, path + (i,))
    elif t is _Starred:
        yield from _target_names(target.value, path + (-1,))  # type: ignore[attr-defined]


def unpack_value(value: Optional[ast.expr], path: tuple[int, ...]) -> Optional[ast.expr]:
    """The sub-expression of a literal tuple that a path designates, if visible."""
    for i in path:
        if type(value) in (_Tuple, _List) and 0 <= i < len(value.elts):  # type: ignore[union-attr]
            value = value.elts[i]  # type: ignore[union-attr]
            if type(value) is _Starred:
                value = value.value  # type: ignore[union-attr]
        else:
            return None
    return value


def _is_info_element(call: ast.Call, qualname: str, path: tuple[int, ...]) -> bool:
    """``ds, info = tfds.load(..., with_info=True)``: the last element is the info."""
    if qualname != "tensorflow_datasets.load" or not path:
        return False
    for k in call.keywords:
        if k.arg == "with_info":
            v = k.value
            return not (type(v) is _Constant and v.value is False) and path[0] != 0
    return False


def _all_args(call: ast.Call) -> list[ast.expr]:
    return argument_values(call)


# --------------------------------------------------------------------------- the model


class SemanticModel:
    def __init__(self, tree: ast.Module, source: str = "", is_notebook: bool = False,
                 index: Optional[LineIndex] = None):
        self.tree = tree
        self.module = tree  # the legacy name
        self.source = source
        self.is_notebook = is_notebook
        self._index = index
        self.module_scope = Scope("module", tree, None)
        self.scopes: list[Scope] = [self.module_scope]
        self.calls: list[CallSite] = []
        self.calls_by_name: dict[str, list[CallSite]] = {}
        self.uses: dict[str, list[NameUse]] = {}
        self.functions: list[FunctionInfo] = []
        self.loops: list[Loop] = []
        self.imports: dict[str, str] = {}  # local alias -> canonical dotted (module scope)
        self.imported_roots: set[str] = set()
        self.call_of: dict[int, CallSite] = {}  # id(Call node) -> CallSite
        self.attribute_loads: dict[str, list[tuple[ast.Attribute, int]]] = {}  # attr -> (node, order)
        self.yields: list[tuple[ast.expr, Optional[FunctionInfo], int]] = []
        self.dels: list[NameUse] = []
        self.statements: list[ast.stmt] = list(tree.body)
        self.parent_stmt: dict[int, ast.stmt] = {}  # id(stmt) -> enclosing compound stmt
        # id(stmt) -> (owner, statement list): owner is the Module, the compound
        # statement, the ExceptHandler or match_case whose list holds it
        self.stmt_body: dict[int, tuple[ast.AST, list]] = {}
        self._callers_cache: dict[int, list[CallSite]] = {}
        self._called_cache: dict[int, Optional[FunctionInfo]] = {}
        self._dataset_receivers: Optional[set[tuple[int, str]]] = None
        # id(expr) -> where its value goes: ("receiver", CallSite), ("arg", CallSite),
        # ("iter", Loop), ("bound", Binding), ("return", FunctionInfo)
        self.value_uses: dict[int, list[tuple[str, object]]] = {}
        self.function_of: dict[int, FunctionInfo] = {}  # id(FunctionDef or Lambda node) -> its FunctionInfo
        self.target_stores: list[TargetStore] = []  # attribute/subscript assignment targets
        self.strings: list[StringLiteral] = []
        # id(child) -> parent for the value of a Subscript/Attribute and the argument
        # values of a Call (keyword values and starred values included): the legacy
        # table; ``parent(node)`` gives the real parent of any node
        self.parent_of: dict[int, ast.AST] = {}
        self.with_items: dict[int, ast.withitem] = {}  # id(item expression) -> withitem
        # other project files whose content influenced this file's findings (project-scope rules)
        self.dependencies: set[str] = set()
        self._memo: dict = {}  # per-file caches of derived analyses (semantics.* modules)
        self._up: dict[int, Optional[ast.AST]] = {}  # id(node) -> parent node, every node
        self._use_of: dict[int, NameUse] = {}

    def close(self) -> None:
        """Break the model's reference cycles (scope <-> bindings, scope <->
        function, loop <-> calls, function <-> calls, call -> model) and drop
        derived caches, so that reference counting frees the model and its tree
        as soon as the last reference goes, instead of a garbage collection
        (which would traverse every node of the tree: about 0.6x the parse time
        on Keras' sources; after close() the free costs 0.2x).  The model must
        not be used afterwards."""
        for s in self.scopes:
            s.bindings = {}
            s.function = None
        for lp in self.loops:
            lp.calls = []
        for fn in self.functions:
            fn.calls = []
        for cs in self.calls:
            cs._model = None
        self._memo.clear()
        self._callers_cache.clear()
        self._called_cache.clear()
        self._dataset_receivers = None

    # ---------------------------------------------------------------- source
    @property
    def index(self) -> LineIndex:
        if self._index is None:
            self._index = LineIndex(self.source)
        return self._index

    def text(self, node: ast.AST) -> str:
        """The exact source text of a node (``ast.unparse`` when the model was
        built without its source)."""
        if not self.source:
            return ast.unparse(node)
        if getattr(node, "end_col_offset", None) is None:
            return self.index.text(self.span(node))
        return self.index.segment(node)

    def span(self, node: ast.AST) -> Span:
        """1-based lines, 0-based code point columns, end exclusive.  Nodes
        CPython gives no position (``arguments``, ``comprehension``, ``withitem``,
        ``match_case``) span their first to their last positioned descendant."""
        if getattr(node, "end_col_offset", None) is not None:
            return self.index.span(node)
        first = last = None
        stack = [node]
        while stack:  # depth first, children in source order
            n = stack.pop()
            if getattr(n, "end_col_offset", None) is not None:
                sp = self.index.span(n)
                if first is None or sp[:2] < first[:2]:
                    first = sp
                if last is None or sp[2:] > last[2:]:
                    last = sp
                continue
            stack.extend(iter_children(n))
        if first is None or last is None:
            raise ValueError(f"{type(node).__name__} has no position")
        return Span(first.line, first.col, last.end_line, last.end_col)

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        """The parent node of any node of the tree (None for the module)."""
        return self._up.get(id(node))

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        """Parents of a node, innermost first."""
        up = self._up
        n = up.get(id(node))
        while n is not None:
            yield n
            n = up.get(id(n))

    def statement_of(self, node: ast.AST) -> Optional[ast.stmt]:
        """The innermost statement holding a node (the node itself if it is one)."""
        up = self._up
        n: Optional[ast.AST] = node
        while n is not None:
            if type(n) in STATEMENT_TYPES:
                return n  # type: ignore[return-value]
            n = up.get(id(n))
        return None

    # ---------------------------------------------------------------- imports
    @property
    def uses_tensorflow(self) -> bool:
        """The file imports TensorFlow/Keras/TFDS, or (a snippet, a cell without
        its imports) uses ``tf.``, ``keras.``, ``K.`` or ``tfds.`` unbound."""
        if self.imported_roots & {"tensorflow", "keras", "tensorflow_datasets", "tf_keras"}:
            return True
        memo = self._memo.get("unbound_tensorflow")
        if memo is None:
            memo = self._memo["unbound_tensorflow"] = any(
                (UNBOUND_ALIASES[alias].split(".")[0] in ("tensorflow", "keras", "tensorflow_datasets")
                 and any(u.kind == "load" for u in self.uses.get(alias, ()))
                 and self.unbound_alias(alias) is not None)
                for alias in UNBOUND_ALIASES)
        return memo

    @property
    def is_import_free(self) -> bool:
        """No word ``import`` anywhere in the text: a fragment (the prefilter
        reads the same fact from the same text)."""
        v = self._memo.get("import_free")
        if v is None:
            v = self._memo["import_free"] = _IMPORT_WORD.search(self.source) is None
        return v

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
                    before = None
                    for b in bs:
                        if b.order < order:
                            before = b
                    if before is not None:
                        return before
                    if s is not scope:
                        return bs[-1]
                    # used before any binding in this scope: a loop-carried or
                    # later binding; Python would raise, we return the first
                    return bs[0] if s.kind != "module" else None
            first = False
            s = s.parent
        return None

    def binding_of(self, expr: Optional[ast.AST], scope: Optional[Scope] = None) -> Optional[Binding]:
        if type(expr) is not _Name:
            return None
        use = self._use_of.get(id(expr))
        if use is not None:
            return self.lookup(expr.id, use.scope, use.order)  # type: ignore[union-attr]
        return self.lookup(expr.id, scope or self.module_scope, None)  # type: ignore[union-attr]

    def scope_of(self, node: ast.AST) -> Scope:
        use = self._use_of.get(id(node))
        if use is not None:
            return use.scope
        cs = self.call_of.get(id(node))
        if cs is not None:
            return cs.scope
        return self.module_scope

    def order(self, node: ast.AST) -> Optional[int]:
        """The evaluation order of a Name or Call node (None for other nodes)."""
        use = self._use_of.get(id(node))
        if use is not None:
            return use.order
        cs = self.call_of.get(id(node))
        return cs.order if cs is not None else None

    def _call_order(self, call: ast.AST) -> int:
        cs = self.call_of.get(id(call))
        return cs.order if cs is not None else -1

    def use_of(self, name: ast.Name) -> Optional[NameUse]:
        """The NameUse record of a Name node."""
        return self._use_of.get(id(name))

    def unbound_alias(self, name: str) -> Optional[str]:
        """The module a conventional alias (``tf``, ``np``, ``keras``, ``K``,
        ``tfds``, ``layers``) stands for in code that uses it without importing
        it (snippets, cells and half-written files; issue 16, class 10): only
        when the name is bound nowhere in the file or notebook and no star
        import could bind it."""
        target = UNBOUND_ALIASES.get(name)
        if target is None:
            return None
        bound = self._memo.get("bound_names")
        if bound is None:
            bound = {n for sc in self.scopes for n in sc.bindings}
            if "import" in self.source and _STAR_IMPORT.search(self.source):
                bound = set(UNBOUND_ALIASES)  # a star import may bind any of them
            self._memo["bound_names"] = bound
        return None if name in bound else target

    def qualname(self, expr: Optional[ast.AST], order: Optional[int] = None) -> Optional[str]:
        """Canonical dotted name of an expression with import aliases resolved.
        Conventional aliases used without an import resolve to their modules
        (``unbound_alias``); other unresolved bare names are returned as they
        are (fragments without imports); names bound locally to something other
        than an import return None."""
        if expr is None:
            return None
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        root = expr
        while type(root) is _Attribute:
            root = root.value  # type: ignore[attr-defined]
        b = self.binding_of(root)
        if b is None:
            b = self.lookup(head, self.module_scope, order)
        if b is not None:
            if b.kind == "import" and b.imported:
                full = b.imported + ("." + rest if rest else "")
                return keras_synonym(canonical(full))
            return None
        if head in UNBOUND_ALIASES:
            module = self.unbound_alias(head)
            if module is not None:
                dotted = module + ("." + rest if rest else "")
        return keras_synonym(canonical(dotted))

    def resolves_to(self, expr: Optional[ast.AST], candidates: Iterable[str]) -> bool:
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
        """The function defined in this file that a call site calls, if any
        (remembered per call site: rules ask it of every call)."""
        key = id(call)
        try:
            return self._called_cache[key]
        except KeyError:
            found = self._called_cache[key] = self._function_called(call)
            return found

    def _function_called(self, call: CallSite) -> Optional[FunctionInfo]:
        func = call.node.func
        if type(func) is _Name:
            b = self.lookup(func.id, call.scope, call.order)
            if b is not None and b.kind == "def" and b.function is not None:
                return b.function
            if b is not None and b.kind == "assign" and b.value is not None:
                # f = tf.function(g) / f = g
                inner = b.value
                if type(inner) is _Call:
                    first = _all_args(inner)  # type: ignore[arg-type]
                    if first:
                        inner = first[0]
                if type(inner) is _Name:
                    b2 = self.lookup(inner.id, b.scope, b.order)  # type: ignore[attr-defined]
                    if b2 is not None and b2.kind == "def":
                        return b2.function
            return None
        if type(func) is _Attribute and type(func.value) is _Name and func.value.id == "self":
            cls = call.function.class_name if call.function else None
            if cls:
                for f in self.functions:
                    if f.class_name == cls and f.name == func.attr:
                        return f
        return None

    def callers(self, fn: FunctionInfo) -> list[CallSite]:
        key = id(fn)
        if key not in self._callers_cache:
            self._callers_cache[key] = [c for c in self.calls_by_name.get(fn.name, ()) if self.function_called(c) is fn]
        return self._callers_cache[key]

    def handed_to(self, fn: FunctionInfo) -> list[tuple[CallSite, Optional[str], ast.Name]]:
        """Calls of this file that receive the function ``fn`` itself as an
        argument (``minimize(objective)``, ``run(trial, n=3)``, an optimizer's
        objective, a helper that calls its parameter): (call site, the keyword
        or None when positional, the Name passed)."""
        out = []
        for use in self.uses.get(fn.name, ()):
            if use.kind != "load":
                continue
            b = self.binding_of(use.node)
            if b is None or b.kind != "def" or b.function is not fn:
                continue
            parent = self.parent(use.node)
            keyword = parent.arg if isinstance(parent, ast.keyword) else None
            holder = self.parent(parent) if isinstance(parent, ast.keyword) else parent
            if not isinstance(holder, ast.Call) or holder.func is use.node:
                continue
            cs = self.call_of.get(id(holder))
            if cs is not None:
                out.append((cs, keyword, use.node))
        return out

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

    def depends_on_loop(self, expr: Optional[ast.AST], loop: Loop) -> bool:
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

    def depends_on_params(self, fn: FunctionInfo, expr: Optional[ast.AST]) -> bool:
        return bool(names_in(expr) & self.param_derived_names(fn))

    def function_for(self, expr: Optional[ast.AST]) -> Optional[FunctionInfo]:
        """The local function an expression denotes: a lambda, or a name bound
        by a ``def`` in this file."""
        if type(expr) is ast.Lambda:
            return self.function_of.get(id(expr))
        if type(expr) is _Name:
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
        return _literal_iterations(loop.iter)

    def known_iterations(self, loop: Loop) -> Optional[int]:
        """``literal_iterations``, also through a name bound once to a literal
        sequence (``cases = [0, 1, 2]; for c in cases:``)."""
        n = self.literal_iterations(loop)
        if n is None and type(loop.iter) is _Name:
            b = self.binding_of(loop.iter)
            if (b is not None and b.kind == "assign" and not b.path and type(b.value) in (_List, _Tuple)
                    and len(b.scope.bindings.get(b.name, ())) == 1):
                n = _literal_iterations(b.value)
        return n

    # ---------------------------------------------------------------- chains
    def chain(self, expr: Optional[ast.AST], max_depth: int = 40) -> Chain:
        """Follow ``a.b(..).c(..)`` and names assigned from such chains back to the
        origin.  ``ds = ds.map(f); ds = ds.cache()`` yields steps [map, cache].
        Calls of helpers defined in the file continue into what they return
        (``ds = make_dataset().cache()``); unpacked ``tfds.load``/``subset="both"``
        results count as constructor origins."""
        steps: list[ChainStep] = []
        names: list[ast.Name] = []
        entered: list[CallSite] = []  # helper calls whose return we followed
        depth = 0
        start = self.call_of.get(id(expr)) if type(expr) is _Call else None
        end_branches = self._branches(start.stmt) if start is not None else None
        maybe = False

        def done(origin, q=None) -> Chain:
            return Chain(origin, q, list(reversed(steps)), names)

        while expr is not None and depth < max_depth:
            depth += 1
            if type(expr) is _Call:
                func = expr.func  # type: ignore[attr-defined]
                q = self.qualname(func) if type(func) in (_Name, _Attribute) else None
                if q is not None and q in DATASET_CONSTRUCTORS:
                    return done(expr, q)
                returned = self._helper_return(expr)  # type: ignore[arg-type]
                if returned is not None:
                    entered.append(self.call_of[id(expr)])
                    expr = returned
                    continue
                if type(func) is _Attribute:
                    steps.append(ChainStep(func.attr, expr, self._call_order(expr), maybe))  # type: ignore[arg-type]
                    expr = func.value
                    continue
                return done(expr, q)
            if type(expr) is _Name:
                names.append(expr)  # type: ignore[arg-type]
                b = self.binding_of(expr)
                if b is not None and b.kind == "param" and entered:
                    # a parameter of the helper we came through: continue with the argument
                    site = entered[-1]
                    fn = self.function_called(site)
                    if fn is not None and b.scope is fn.scope and expr.id in fn.params:  # type: ignore[attr-defined]
                        entered.pop()
                        arg = self._argument_for(site, fn, expr.id)  # type: ignore[attr-defined]
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
                    if type(b.value) is _Call:
                        q = self.qualname(b.value.func)  # type: ignore[attr-defined]
                        if q in DATASET_CONSTRUCTORS and not _is_info_element(b.value, q, b.path):  # type: ignore[arg-type]
                            return done(b.value, q)
                return done(expr)
            if type(expr) is ast.Subscript and type(expr.value) is _Name:  # type: ignore[attr-defined]
                # `ds, info = tfds.load(name, with_info=True)` then `ds["train"]`:
                # one split of the dict of datasets the constructor returns
                b = self.binding_of(expr.value)  # type: ignore[attr-defined]
                if b is not None and b.kind == "assign" and type(b.value) is _Call:
                    q = self.qualname(b.value.func)  # type: ignore[attr-defined]
                    if q in DATASET_CONSTRUCTORS and not _is_info_element(b.value, q, b.path):  # type: ignore[arg-type]
                        return done(b.value, q)
                return done(expr)
            break
        return done(expr)

    def _branches(self, stmt: Optional[ast.AST]) -> frozenset[tuple[int, int]]:
        """The conditional blocks around a statement, as (compound statement,
        block) pairs: an ``if`` body and its ``else`` are different blocks.  A
        ``try`` body counts as always run."""
        out: set[tuple[int, int]] = set()
        s = stmt
        while s is not None:
            parent = self.parent_stmt.get(id(s))
            if type(parent) in _BRANCHING:
                owner = self.stmt_body.get(id(s))
                block = owner[1] if owner is not None else s
                if not (type(parent) in _TRY_TYPES and block is parent.body):  # type: ignore[union-attr]
                    out.add((id(parent), id(block)))
            s = parent
        return frozenset(out)

    def _helper_return(self, call: ast.Call) -> Optional[ast.expr]:
        """What a call of a (non-recursive) helper defined in this file returns:
        its last ``return`` expression."""
        cs = self.call_of.get(id(call))
        fn = self.function_called(cs) if cs is not None else None
        if fn is None or not fn.returns or fn.yields or cs.function is fn:  # type: ignore[union-attr]
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
            if b is not None and (id(b.scope), n.id) in self._dataset_only_receivers():
                return True
        # a parameter: every caller in the file passes a dataset
        origin = chain.origin
        if type(origin) is _Name and _depth < 3:
            b = self.binding_of(origin)
            fn = b.scope.function if b is not None and b.kind == "param" else None
            if fn is not None and origin.id in fn.params:  # type: ignore[union-attr]
                args = [self._argument_for(c, fn, origin.id) for c in self.callers(fn)]  # type: ignore[union-attr]
                if args and all(a is not None and self.is_dataset_chain(self.chain(a), _depth + 1) for a in args):
                    return True
        return False

    def _argument_for(self, call: CallSite, fn: FunctionInfo, param: str) -> Optional[ast.expr]:
        node = call.node
        for k in node.keywords:
            if k.arg == param:
                return k.value
        index = fn.params.index(param) - (1 if fn.class_name and fn.params[:1] == ["self"] else 0)
        positional = [a for a in node.args if type(a) is not _Starred]
        return positional[index] if 0 <= index < len(positional) else None

    def _dataset_only_receivers(self) -> set[tuple[int, str]]:
        """(scope id, name) of names called with a dataset-only method."""
        if self._dataset_receivers is None:
            found: set[tuple[int, str]] = set()
            for method in DATASET_ONLY_METHODS:
                for cs in self.calls_by_name.get(method, ()):
                    if type(cs.receiver) is _Name:
                        b = self.binding_of(cs.receiver)
                        if b is not None:
                            found.add((id(b.scope), cs.receiver.id))  # type: ignore[union-attr]
            self._dataset_receivers = found
        return self._dataset_receivers

    def loads_of(self, binding: Binding) -> list[NameUse]:
        """The loads of a name that read this binding."""
        return [u for u in self.uses.get(binding.name, ()) if u.kind == "load"
                and self.lookup(binding.name, u.scope, u.order) is binding]

    # ---------------------------------------------------------------- kinds
    def is_keras_model(self, expr: Optional[ast.AST], _depth: int = 0) -> bool:
        """Evidence that ``expr`` is a Keras model: bound by a Keras constructor or
        loader, returned by a local builder, compiled, or (in fragments) named
        and used like one in a file that imports Keras/TensorFlow."""
        if expr is None or _depth > 6:
            return False
        t = type(expr)
        if t is _Call:
            q = self.qualname(expr.func)  # type: ignore[attr-defined]
            if q is not None and (q in _MODEL_CONSTRUCTORS or q.startswith("keras.applications.")):
                return True
            if q is not None and q.rsplit(".", 1)[-1] in ("Sequential", "load_model") and "." not in q:
                return True
            cs = self.call_of.get(id(expr))
            fn = self.function_called(cs) if cs is not None else None
            if fn is not None:
                return any(self.is_keras_model(r, _depth + 1) for r in fn.returns)
            return False
        if t is _Attribute:
            # self.model / trainer.model in a Keras file
            return expr.attr in ("model", "keras_model") and self.uses_tensorflow and not self.uses_non_keras_ml  # type: ignore[attr-defined]
        if t is not _Name:
            return False
        name = expr.id  # type: ignore[attr-defined]
        b = self.binding_of(expr)
        if b is not None and b.kind == "import" and type(b.node) is ast.Import:
            return False  # a module (`import re`) is no model, whatever methods it has (`re.compile`)
        if b is not None and b.value is not None and not b.path and b.kind in ("assign", "annassign", "with"):
            if self.is_keras_model(b.value, _depth + 1):
                return True
        # usage evidence on the same name
        for m in MODEL_EVIDENCE_METHODS:
            for cs in self.calls_by_name.get(m, ()):
                r = cs.receiver
                if type(r) is _Name and r.id == name:  # type: ignore[union-attr]
                    if m in GENERIC_MODEL_METHODS and not self.uses_tensorflow and (
                            self.uses_non_keras_ml or not (self.is_import_free or any(
                                k.arg in KERAS_COMPILE_KEYWORDS for k in cs.node.keywords))):
                        continue
                    return True
        if b is None or b.kind == "param" or (b.value is not None and type(b.value) is _Constant
                                              and b.value.value is Ellipsis):  # type: ignore[attr-defined]
            # fragment or parameter: accept conventional names in a TF/Keras file
            if self.uses_tensorflow and not self.uses_non_keras_ml and "model" in name.lower():
                return True
        return False

    def is_dataset(self, expr: Optional[ast.AST]) -> bool:
        if expr is None:
            return False
        return self.is_dataset_chain(self.chain(expr))

    # ---------------------------------------------------------------- statements
    def enclosing_body(self, stmt: ast.AST) -> Optional[tuple[ast.AST, list]]:
        """(owner, statement list) holding a statement; owner is the Module, the
        compound statement, ExceptHandler or match_case whose list it is."""
        return self.stmt_body.get(id(stmt))

    def top_statement_index(self, node: ast.AST) -> int:
        cs = self.call_of.get(id(node))
        if cs is not None:
            return cs.top_index
        use = self._use_of.get(id(node))
        if use is not None:
            return use.top_index
        return -1


_BRANCHING = frozenset(t for t in (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try,
                                   getattr(ast, "TryStar", None), getattr(ast, "Match", None)) if t is not None)
_TRY_TYPES = frozenset(t for t in (ast.Try, getattr(ast, "TryStar", None)) if t is not None)


def _literal_iterations(it: Optional[ast.AST]) -> Optional[int]:
    if it is None:
        return None
    t = type(it)
    if t is _Call:
        func = it.func  # type: ignore[attr-defined]
        if type(func) is _Name and func.id in ("enumerate", "reversed", "zip"):
            counts = []
            for a in it.args:  # type: ignore[attr-defined]
                counts.append(_literal_iterations(a.value if type(a) is _Starred else a))
                if func.id != "zip":
                    break
            known = [c for c in counts if c is not None]
            return min(known) if known else None
        if type(func) is _Name and func.id == "range":
            try:
                vals = [literal_value(a) for a in _all_args(it)]  # type: ignore[arg-type]
            except ValueError:
                return None
            if not all(isinstance(v, int) for v in vals):
                return None
            try:
                r = range(*vals) if vals else range(0)
            except (TypeError, ValueError):
                return None
            return len(r)
    if t in (_List, _Tuple, ast.Set):
        if any(type(e) is _Starred for e in it.elts):  # type: ignore[attr-defined]
            return None
        return len(it.elts)  # type: ignore[attr-defined]
    # upper bounds: `ds.take(3)`, `itertools.islice(it, 3)`, `items[:3]`
    bound = None
    if t is _Call:
        func = it.func  # type: ignore[attr-defined]
        args = _all_args(it)  # type: ignore[arg-type]
        if type(func) is _Attribute and func.attr == "take" and len(args) == 1:
            bound = args[0]
        elif dotted_name(func) in ("islice", "itertools.islice") and len(args) == 2:
            bound = args[1]
    elif t is ast.Subscript:
        sl = it.slice  # type: ignore[attr-defined]
        if type(sl) is ast.Slice and sl.lower is None and sl.step is None:
            bound = sl.upper
    if bound is not None:
        try:
            n = literal_value(bound)
        except ValueError:
            return None
        return n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else None
    return None


# --------------------------------------------------------------------------- builder


class _Builder:
    """One recursive walk over the tree.  Each node's parent is recorded and the
    node dispatched on its type (one dict lookup, ``_DISPATCH``); the handlers
    below visit children in evaluation order, every other type goes through a
    generic handler made for it (``_generic_for``)."""

    def __init__(self, model: SemanticModel):
        self.m = model
        self.up = model._up
        self.order = 0
        self.scope = model.module_scope
        self.function: Optional[FunctionInfo] = None
        self.loops: list[Loop] = []
        self.loops_t: tuple[Loop, ...] = ()
        self.stmt_stack: list[ast.stmt] = []
        self.stmt: Optional[ast.stmt] = None
        self.parent_stmt = model.parent_stmt
        self.top_index = -1
        self.class_stack: list[str] = []
        self.pending: list[tuple] = []

    # ------------------------------------------------------------ traversal
    def walk(self, node: ast.AST, parent: Optional[ast.AST]) -> None:
        self.up[id(node)] = parent
        _DISPATCH[type(node)](self, node)

    def parents_only(self, node: ast.AST, parent: Optional[ast.AST]) -> None:
        """Record parents in a subtree the model does not evaluate (annotations)."""
        up = self.up
        up[id(node)] = parent
        stack = [node]
        while stack:
            n = stack.pop()
            for c in iter_children(n):
                up[id(c)] = n
                stack.append(c)

    def body(self, owner: ast.AST, stmts: list) -> None:
        sb = self.m.stmt_body
        entry = (owner, stmts)
        up = self.up
        for s in stmts:
            k = id(s)
            sb[k] = entry
            up[k] = owner
        dispatch = _DISPATCH
        for s in stmts:
            dispatch[type(s)](self, s)

    def _next(self) -> int:
        self.order += 1
        return self.order

    def _set_loops(self, loops: list[Loop]) -> None:
        self.loops = loops
        self.loops_t = tuple(loops)

    # ------------------------------------------------------------ binding helpers
    def _bind(self, name: str, kind: str, node, value=None, path=(), imported=None, function=None, scope=None):
        scope = scope or self.scope
        self.order += 1
        b = Binding(name, scope, kind, self.order, node, value, path, self.stmt, self.top_index, imported,
                    self.loops_t, function)
        bs = scope.bindings.get(name)
        if bs is None:
            scope.bindings[name] = [b]
        else:
            bs.append(b)
        for loop in self.loops:
            loop.body_bound.add(name)
        if value is not None and not path and kind in ("assign", "annassign", "walrus"):
            self.m.value_uses.setdefault(id(value), []).append(("bound", b))
        return b

    def _store_target(self, target: ast.expr, value) -> None:
        t = type(target)
        if t is _Attribute or t is ast.Subscript:
            self.order += 1
            self.m.target_stores.append(TargetStore(
                target, value, self.scope, self.function, self.loops_t, self.stmt, self.top_index, self.order))
        elif t is _Tuple or t is _List:
            for i, el in enumerate(target.elts):  # type: ignore[attr-defined]
                self._store_target(el.value if type(el) is _Starred else el, unpack_value(value, (i,)))

    # ------------------------------------------------------------ names
    def Name(self, node: ast.Name, kind: Optional[str] = None) -> None:
        if kind is None:
            kind = _CTX_KIND[type(node.ctx)]
        self.order += 1
        order = self.order
        key = id(node)
        m = self.m
        use = NameUse(node.id, node, self.scope, order, self.top_index, kind, self.function, self.loops_t,
                      self.stmt, self.up)
        m._use_of[key] = use
        us = m.uses.get(node.id)
        if us is None:
            m.uses[node.id] = [use]
        else:
            us.append(use)
        if kind == "del":
            m.dels.append(use)

    def Attribute(self, node: ast.Attribute) -> None:
        m = self.m
        value = node.value
        m.parent_of[id(value)] = node
        self.order += 1
        al = m.attribute_loads.get(node.attr)
        if al is None:
            m.attribute_loads[node.attr] = [(node, self.order)]
        else:
            al.append((node, self.order))
        self.up[id(value)] = node
        _DISPATCH[type(value)](self, value)

    def Subscript(self, node: ast.Subscript) -> None:
        self.m.parent_of[id(node.value)] = node
        self.walk(node.value, node)
        self.walk(node.slice, node)

    def Constant(self, node: ast.Constant) -> None:
        v = node.value
        if type(v) is str or type(v) is bytes:
            self.order += 1
            self.m.strings.append(StringLiteral(node, self.function, self.top_index, self.order))

    def JoinedStr(self, node: ast.JoinedStr) -> None:
        # the literal parts of an f-string are no string literals of their own
        up, walk = self.up, self.walk
        for v in node.values:
            if type(v) is _Constant:
                up[id(v)] = node
            else:
                walk(v, node)

    def IfExp(self, node: ast.IfExp) -> None:
        self.walk(node.body, node)
        self.walk(node.test, node)
        self.walk(node.orelse, node)

    def Dict(self, node: ast.Dict) -> None:
        walk = self.walk
        for k, v in zip(node.keys, node.values):
            if k is not None:
                walk(k, node)
            walk(v, node)

    # ------------------------------------------------------------ calls
    def Call(self, node: ast.Call) -> None:
        self.order += 1
        order = self.order
        m = self.m
        key = id(node)
        func = node.func
        ft = type(func)
        if ft is _Attribute:
            name, receiver = func.attr, func.value  # type: ignore[attr-defined]
        elif ft is _Name:
            name, receiver = func.id, None  # type: ignore[attr-defined]
        else:
            name, receiver = None, None
        cs = CallSite(node, name, receiver, self.scope, self.function, self.loops_t, self.stmt, self.top_index,
                      order, m)
        m.calls.append(cs)
        m.call_of[key] = cs
        value_uses = m.value_uses
        if receiver is not None:
            value_uses.setdefault(id(receiver), []).append(("receiver", cs))
        args, keywords = node.args, node.keywords
        if args or keywords:
            values = argument_values(node) if keywords or any(type(a) is _Starred for a in args) else args
            arg_use = ("arg", cs)
            parent_of = m.parent_of
            for v in values:
                vk = id(v)
                vu = value_uses.get(vk)
                if vu is None:
                    value_uses[vk] = [arg_use]
                else:
                    vu.append(arg_use)
                parent_of[vk] = node
        if name is not None:
            cbn = m.calls_by_name
            lst = cbn.get(name)
            if lst is None:
                cbn[name] = [cs]
            else:
                lst.append(cs)
            # `from x import ImageDataGenerator as IDG; IDG()` is also indexed
            # under the imported name, so rules subscribe to real API names
            if ft is _Name:
                b = m.lookup(name, self.scope, order)
                if b is not None and b.kind == "import" and b.imported:
                    real = b.imported.rsplit(".", 1)[-1]
                    if real != name:
                        cbn.setdefault(real, []).append(cs)
        if self.function is not None:
            self.function.calls.append(cs)
        for loop in self.loops:
            loop.calls.append(cs)
        up = self.up
        dispatch = _DISPATCH
        up[id(func)] = node
        dispatch[ft](self, func)
        if keywords and args and (keywords[0].lineno, keywords[0].col_offset) < (args[-1].lineno, args[-1].col_offset):
            children = sorted(list(args) + list(keywords), key=lambda c: (c.lineno, c.col_offset))
        elif keywords:
            children = args + keywords if args else keywords
        else:
            children = args
        for c in children:
            up[id(c)] = node
            dispatch[type(c)](self, c)

    # ------------------------------------------------------------ imports
    def Import(self, node: ast.Import) -> None:
        m = self.m
        for alias in node.names:
            self.up[id(alias)] = node
            full = alias.name
            root = full.split(".")[0]
            m.imported_roots.add(root)
            if alias.asname is not None:
                local, target = alias.asname, full
            else:
                local = target = root
            self._bind(local, "import", node, imported=canonical(target))
            if self.scope is m.module_scope:
                m.imports[local] = canonical(target)

    def ImportFrom(self, node: ast.ImportFrom) -> None:
        m = self.m
        base = node.module or ""
        dots = "." * (node.level or 0)
        if base and not dots:
            m.imported_roots.add(base.split(".")[0])
        for alias in node.names:
            self.up[id(alias)] = node
        if len(node.names) == 1 and node.names[0].name == "*":
            return
        for alias in node.names:
            name = alias.name
            local = alias.asname if alias.asname is not None else name
            full = f"{base}.{name}" if base else name
            if dots:
                # relative: kept as ".pkg.name" for project-module resolution
                self._bind(local, "import", node, imported=dots + full)
                continue
            self._bind(local, "import", node, imported=canonical(full) if base else None)
            if self.scope is m.module_scope and base:
                m.imports[local] = canonical(full)

    def Global(self, node: ast.Global) -> None:
        self.scope.globals.update(node.names)

    def Nonlocal(self, node: ast.Nonlocal) -> None:
        pass

    # ------------------------------------------------------------ assignments
    def Assign(self, node: ast.Assign) -> None:
        value = node.value
        for t in node.targets:
            self._store_target(t, value)
        walk = self.walk
        for t in node.targets:
            walk(t, node)
        walk(value, node)
        for t in node.targets:
            if type(t) is _Name:
                self._bind(t.id, "assign", t, value)
            else:
                for n, p in _target_names(t):
                    self._bind(n.id, "assign", n, value, p)

    def AnnAssign(self, node: ast.AnnAssign) -> None:
        self._store_target(node.target, node.value)
        walk = self.walk
        walk(node.target, node)
        walk(node.annotation, node)
        if node.value is not None:
            walk(node.value, node)
        for n, p in _target_names(node.target):
            self._bind(n.id, "annassign", n, node.value, p)

    def AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if type(target) is _Name:
            self.up[id(target)] = node
            self.Name(target, "load")  # the libcst model's reading: an augmented target is read first
        else:
            self.walk(target, node)
        self.walk(node.value, node)
        if type(target) is _Name:
            self._bind(target.id, "augassign", target, None)

    def NamedExpr(self, node: ast.NamedExpr) -> None:
        self.walk(node.target, node)
        self.walk(node.value, node)
        if type(node.target) is _Name:
            self._bind(node.target.id, "walrus", node.target, node.value)

    def withitem(self, node: ast.withitem) -> None:
        self.m.with_items[id(node.context_expr)] = node
        self.walk(node.context_expr, node)
        if node.optional_vars is not None:
            self.walk(node.optional_vars, node)
            for n, p in _target_names(node.optional_vars):
                self._bind(n.id, "with", n, node.context_expr, p)

    def ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name, "except", node)
        if node.type is not None:
            self.walk(node.type, node)
        self.body(node, node.body)

    # ------------------------------------------------------------ functions
    def _enter_function(self, node, name: str, args: ast.arguments, decorators=()) -> None:
        is_def = type(node) is not ast.Lambda
        scope = Scope("function" if is_def else "lambda", node, self.scope, name)
        self.order += 1
        fn = FunctionInfo(name, node, scope, self.scope, self.order,
                          class_name=self.class_stack[-1] if self.class_stack else None, top_index=self.top_index)
        scope.function = fn
        self.m.function_of[id(node)] = fn
        for expr in decorators:
            if type(expr) is _Call:
                fn.decorator_calls.append(expr)
                expr = expr.func
            fn.decorators.append(dotted_name(expr))
        self.m.functions.append(fn)
        self.m.scopes.append(scope)
        if is_def:
            self._bind(name, "def", node, function=fn)
        self.pending.append((self.scope, self.function, self.loops, self.loops_t))
        self.scope, self.function = scope, fn
        self._set_loops([])
        params = list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)
        if args.vararg is not None:
            params.append(args.vararg)
        if args.kwarg is not None:
            params.append(args.kwarg)
        for p in params:
            fn.params.append(p.arg)
            self._bind(p.arg, "param", p)

    def _leave_function(self) -> None:
        self.scope, self.function, self.loops, self.loops_t = self.pending.pop()

    def _defaults(self, node, args: ast.arguments) -> None:
        """Evaluate defaults in the enclosing scope: regular, keyword-only, then
        positional-only parameters (the libcst model's order)."""
        walk = self.walk
        n_pos = len(args.posonlyargs)
        offset = n_pos + len(args.args) - len(args.defaults)
        pos_defaults = [(offset + i, d) for i, d in enumerate(args.defaults)]
        for i, d in pos_defaults:
            if i >= n_pos:
                walk(d, args)
        for d in args.kw_defaults:
            if d is not None:
                walk(d, args)
        for i, d in pos_defaults:
            if i < n_pos:
                walk(d, args)

    def _arguments_parents(self, node, args: ast.arguments) -> None:
        # parameters and annotations are not evaluated by the model; record their parents
        up = self.up
        up[id(args)] = node
        for p in args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a is not None]:
            self.parents_only(p, args)

    def FunctionDef(self, node) -> None:
        walk = self.walk
        for d in node.decorator_list:
            walk(d, node)
        args = node.args
        self._arguments_parents(node, args)
        self._defaults(node, args)
        if node.returns is not None:
            self.parents_only(node.returns, node)
        for tp in getattr(node, "type_params", ()) or ():
            self.parents_only(tp, node)
        self._enter_function(node, node.name, args, node.decorator_list)
        self.body(node, node.body)
        self._leave_function()

    AsyncFunctionDef = FunctionDef

    def Lambda(self, node: ast.Lambda) -> None:
        args = node.args
        self._arguments_parents(node, args)
        self._defaults(node, args)
        self._enter_function(node, "<lambda>", args)
        self.walk(node.body, node)
        fn = self.function
        if fn is not None:
            fn.returns.append(node.body)
            self.m.value_uses.setdefault(id(node.body), []).append(("return", fn))
        self._leave_function()

    def ClassDef(self, node: ast.ClassDef) -> None:
        walk = self.walk
        for d in node.decorator_list:
            walk(d, node)
        for a in node.bases:
            walk(a, node)
        for k in node.keywords:
            walk(k, node)
        for tp in getattr(node, "type_params", ()) or ():
            self.parents_only(tp, node)
        self._bind(node.name, "class", node)
        scope = Scope("class", node, self.scope, node.name)
        self.m.scopes.append(scope)
        saved = self.scope
        self.scope = scope
        self.class_stack.append(node.name)
        self.body(node, node.body)
        self.class_stack.pop()
        self.scope = saved

    def Return(self, node: ast.Return) -> None:
        if node.value is not None:
            if self.function is not None:
                self.function.returns.append(node.value)
                self.m.value_uses.setdefault(id(node.value), []).append(("return", self.function))
            self.walk(node.value, node)

    def Yield(self, node) -> None:
        if self.function is not None:
            self.function.yields.append(node)
        self.order += 1
        self.m.yields.append((node, self.function, self.order))
        if node.value is not None:
            self.walk(node.value, node)

    YieldFrom = Yield

    def If(self, node: ast.If) -> None:
        self.up[id(node.test)] = node
        _DISPATCH[type(node.test)](self, node.test)
        self.body(node, node.body)
        orelse = node.orelse
        if len(orelse) == 1 and type(orelse[0]) is ast.If and orelse[0].col_offset == node.col_offset:
            # an `elif`: a clause of this statement, not a statement of a block
            # (no enclosing body; the libcst model's reading too)
            self.up[id(orelse[0])] = node
            _DISPATCH[ast.If](self, orelse[0])
        elif orelse:
            self.body(node, orelse)

    # ------------------------------------------------------------ loops
    def _push_loop(self, node, kind, iter_expr, target) -> Loop:
        self.order += 1
        loop = Loop(node, kind, self.scope, self.loops[-1] if self.loops else None, self.function, self.order,
                    iter_expr, top_index=self.top_index)
        if target is not None:
            for n, _ in _target_names(target):
                loop.targets.add(n.id)
        self.m.loops.append(loop)
        self._set_loops(self.loops + [loop])
        if iter_expr is not None:
            self.m.value_uses.setdefault(id(iter_expr), []).append(("iter", loop))
        return loop

    def _pop_loop(self, loop: Loop) -> None:
        self.order += 1
        loop.end_order = self.order
        self._set_loops(self.loops[:-1])

    def For(self, node) -> None:
        # the iterable is evaluated once, outside the loop
        self.walk(node.iter, node)
        loop = self._push_loop(node, "for", node.iter, node.target)
        self.walk(node.target, node)
        for n, p in _target_names(node.target):
            self._bind(n.id, "for", n, node.iter, p)
        self.body(node, node.body)
        self._pop_loop(loop)
        if node.orelse:
            self.body(node, node.orelse)

    AsyncFor = For

    def While(self, node: ast.While) -> None:
        loop = self._push_loop(node, "while", None, None)
        self.walk(node.test, node)
        self.body(node, node.body)
        self._pop_loop(loop)
        if node.orelse:
            self.body(node, node.orelse)

    def _comp(self, node, elts: list) -> None:
        scope = Scope("comprehension", node, self.scope)
        self.m.scopes.append(scope)
        saved = self.scope
        pushed = 0
        walk = self.walk
        for i, gen in enumerate(node.generators):
            self.up[id(gen)] = node
            # the first iterable is evaluated in the enclosing scope
            if i:
                self.scope = scope
            walk(gen.iter, gen)
            self.scope = scope
            self._push_loop(node, "comp", gen.iter, gen.target)
            pushed += 1
            walk(gen.target, gen)
            for n, p in _target_names(gen.target):
                self._bind(n.id, "comp", n, gen.iter, p, scope=scope)
            for cond in gen.ifs:
                walk(cond, gen)
        for e in elts:
            walk(e, node)
        for _ in range(pushed):
            self._pop_loop(self.loops[-1])
        self.scope = saved

    def ListComp(self, node: ast.ListComp) -> None:
        self._comp(node, [node.elt])

    SetComp = GeneratorExp = ListComp

    def DictComp(self, node: ast.DictComp) -> None:
        self._comp(node, [node.key, node.value])


_HANDLED = (
    "Name", "Attribute", "Subscript", "Constant", "JoinedStr", "IfExp", "Dict", "Call", "Import", "ImportFrom",
    "Global", "Nonlocal", "Assign", "AnnAssign", "AugAssign", "NamedExpr", "withitem", "ExceptHandler",
    "FunctionDef", "AsyncFunctionDef", "Lambda", "ClassDef", "Return", "Yield", "YieldFrom", "For", "AsyncFor",
    "While", "ListComp", "SetComp", "GeneratorExp", "DictComp", "If",
)

def _generic_for(t: type):
    """The handler of a node type the model has nothing to record about: its
    children, in field order (source order for these types)."""
    fields = CHILD_FIELDS[t]
    plain = tuple(f for f, body in fields)
    if not plain:
        def leaf(self, node):
            pass
        return leaf
    if not any(body for _, body in fields):
        def generic(self, node, _fields=plain):
            up = self.up
            dispatch = _DISPATCH
            for f in _fields:
                v = getattr(node, f)
                if v is None:
                    continue
                if type(v) is list:
                    for c in v:
                        if c is not None and type(c) is not str:
                            up[id(c)] = node
                            dispatch[type(c)](self, c)
                else:
                    up[id(v)] = node
                    dispatch[type(v)](self, v)
        return generic

    def generic_with_bodies(self, node, _fields=fields):
        up = self.up
        dispatch = _DISPATCH
        for f, body in _fields:
            v = getattr(node, f)
            if v is None:
                continue
            if body:
                self.body(node, v)
            elif type(v) is list:
                for c in v:
                    if c is not None and type(c) is not str:
                        up[id(c)] = node
                        dispatch[type(c)](self, c)
            else:
                up[id(v)] = node
                dispatch[type(v)](self, v)
    return generic_with_bodies


def _statement(inner):
    """Wrap a statement's handler: the statement stack, parent statements and
    top-level statement indexes."""
    def handler(self, node):
        stack = self.stmt_stack
        if stack:
            self.parent_stmt[id(node)] = stack[-1]
        else:
            self.top_index += 1
        stack.append(node)
        self.stmt = node
        inner(self, node)
        stack.pop()
        self.stmt = stack[-1] if stack else None
    return handler


class _Dispatch(dict):
    def __missing__(self, t: type):
        return _dispatch_for(t)


_DISPATCH: dict = _Dispatch()


def _dispatch_for(t: type):
    """The handler of a node type: its own method or a generic one, wrapped for statements."""
    inner = getattr(_Builder, t.__name__, None) if t.__name__ in _HANDLED else None
    if inner is None:
        inner = _generic_for(t)
    handler = _statement(inner) if isinstance(t, type) and issubclass(t, ast.stmt) else inner
    _DISPATCH[t] = handler
    return handler


def build_model(tree: ast.Module, source: str = "", is_notebook: bool = False,
                index: Optional[LineIndex] = None) -> SemanticModel:
    """The semantic model of a parsed module (``kmlint.syntax.parse``)."""
    model = SemanticModel(tree, source, is_notebook, index)
    builder = _Builder(model)
    model._up[id(tree)] = None
    limit = sys.getrecursionlimit()
    if limit < 20000:
        sys.setrecursionlimit(20000)  # deep expressions (long `a + b + ...` chains)
    try:
        builder.body(tree, tree.body)
    finally:
        if limit < 20000:
            sys.setrecursionlimit(limit)
    return model
