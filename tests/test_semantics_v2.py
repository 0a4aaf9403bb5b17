"""The engine v2 semantic model (kmlint/semantics, built from CPython's ast):
the cases of tests/test_semantics.py and tests/test_model_facts.py on the new
model, and its additions (text, span, parent, statement_of, call arguments)."""

from __future__ import annotations

import ast

import pytest

from kmlint.semantics.model import CallSite, build_model, names_in
from kmlint.semantics.names import (
    call_name, canonical, dotted_name, get_arg, keras_synonym, keyword_names, literal_value,
)
from kmlint.syntax import Span, parse


def model_of(src: str):
    return build_model(parse(src), src)


def _call_qualname(src, name):
    m = model_of(src)
    return [m.qualname(c.node.func) for c in m.calls_by_name[name]]


def expr(src: str) -> ast.expr:
    return parse(src).body[0].value  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("src", [
    "import tensorflow as tf\ntf.keras.Sequential()\n",
    "import tensorflow\ntensorflow.keras.Sequential()\n",
    "import keras\nkeras.Sequential()\n",
    "from tensorflow import keras\nkeras.Sequential()\n",
    "from keras import models\nmodels.Sequential()\n",
    "from tensorflow.keras import models\nmodels.Sequential()\n",
    "from tensorflow.keras.models import Sequential\nSequential()\n",
    "from tensorflow.keras.models import Sequential as Seq\nSeq()\n",
    "import tensorflow.keras as K\nK.Sequential()\n",
    "import tf_keras\ntf_keras.Sequential()\n",
])
def test_keras_spellings_resolve_to_one_name(src):
    name = src.strip().splitlines()[-1].split("(")[0].split(".")[-1]
    m = model_of(src)
    call = m.calls_by_name[name][0]
    assert m.qualname(call.node.func) == "keras.Sequential"
    assert call.qualname == "keras.Sequential"
    # indexed under the real API name too
    assert call in m.calls_by_name["Sequential"]


def test_image_data_generator_paths():
    for src in [
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\nImageDataGenerator()\n",
        "import tensorflow as tf\ntf.keras.preprocessing.image.ImageDataGenerator()\n",
        "from keras.preprocessing import image\nimage.ImageDataGenerator()\n",
    ]:
        assert _call_qualname(src, "ImageDataGenerator") == ["keras.preprocessing.image.ImageDataGenerator"]


def test_local_names_shadow_imports():
    src = "from tensorflow.keras.models import Sequential\ndef f(Sequential):\n    return Sequential()\n"
    assert _call_qualname(src, "Sequential") == [None]


def test_bare_names_without_imports_stay_bare():
    assert _call_qualname("ImageDataGenerator()\n", "ImageDataGenerator") == ["ImageDataGenerator"]


def test_relative_and_star_imports():
    m = model_of("from . import sibling\nfrom ..pkg.mod import thing as t\nfrom os.path import *\n")
    assert m.module_scope.bindings["sibling"][0].imported == ".sibling"
    assert m.module_scope.bindings["t"][0].imported == "..pkg.mod.thing"
    assert m.imported_roots == {"os"} and "t" not in m.imports


def test_name_helpers():
    assert canonical("tensorflow.keras.layers.Dense") == "keras.layers.Dense"
    assert canonical("tf_keras") == "keras"
    assert keras_synonym("keras.models.load_model") == "keras.load_model"
    assert dotted_name(expr("a.b.c")) == "a.b.c"
    assert dotted_name(expr("a().b")) is None
    call = expr("model.fit(x, y, epochs=3, **kw)")
    assert call_name(call) == "fit"
    assert keyword_names(call) == ["epochs"]


@pytest.mark.parametrize("src,value", [
    ("3", 3), ("-2.5", -2.5), ("'s'", "s"), ("b'b'", "b"), ("'a' 'b'", "ab"), ("True", True), ("None", None),
    ("(1, [2, 'x'])", (1, (2, "x"))), ("0x10", 16), ("1_000", 1000),
])
def test_literal_value(src, value):
    assert literal_value(expr(src)) == value


@pytest.mark.parametrize("src", ["f'{x}'", "x", "1j", "...", "1 + 2", "{1: 2}"])
def test_literal_value_rejects_non_literals(src):
    with pytest.raises(ValueError):
        literal_value(expr(src))


def test_get_arg_returns_the_value_expression():
    call = expr("f(a, b, c=1, **kw)")
    assert get_arg(call, "c").value == 1  # type: ignore[union-attr]
    assert get_arg(call, "x", 1).id == "b"  # type: ignore[union-attr]
    assert get_arg(call, "x", 2) is None
    assert get_arg(call, "x") is None
    # no guessing through a star: what `*rest` holds is unknown
    starred = expr("f(*rest, b)")
    assert get_arg(starred, "x", 0) is None and get_arg(starred, "x", 1) is None
    assert get_arg(expr("f(a, *rest)"), "x", 0).id == "a"  # type: ignore[union-attr]


def test_call_site_arguments():
    m = model_of("model.fit(x, y, epochs=3, verbose=0)\nf(*a, **kw)\n")
    fit, f = m.calls
    assert isinstance(fit, CallSite) and fit.name == "fit" and m.text(fit.receiver) == "model"
    assert m.text(fit.arg("x", 0)) == "x" and m.text(fit.arg("epochs", 2)) == "3"
    assert fit.arg("batch_size") is None
    assert [m.text(a) for a in fit.positional] == ["x", "y"]
    assert {k: m.text(v) for k, v in fit.keywords.items()} == {"epochs": "3", "verbose": "0"}
    assert not fit.has_star and f.has_star
    assert f.arg("a", 0) is None and f.keywords == {}


# --------------------------------------------------------------------------- chains, loops, helpers


def test_tf_data_chain_across_assignments_and_cells():
    src = (
        "import tensorflow as tf\n"
        "ds = tf.data.Dataset.from_tensor_slices(x)\n"
        "ds = ds.map(f)\n"
        "ds = ds.shuffle(100).cache()\n"
        "final = ds.batch(32)\n"
    )
    m = model_of(src)
    chain = m.chain(m.calls_by_name["batch"][0].node)
    assert chain.origin_qualname == "tensorflow.data.Dataset.from_tensor_slices"
    assert chain.methods() == ["map", "shuffle", "cache", "batch"]
    assert [n.lineno for n in chain.names] == [5, 4, 3]
    assert m.is_dataset_chain(chain)
    assert m.is_dataset(m.calls_by_name["batch"][0].receiver)


def test_chain_through_helpers_and_their_parameters():
    src = (
        "import tensorflow as tf\n"
        "def pipeline(ds):\n"
        "    return ds.map(f).prefetch(2)\n"
        "def make():\n"
        "    return tf.data.TFRecordDataset(files)\n"
        "out = pipeline(make().cache())\n"
        "out.batch(8)\n"
    )
    m = model_of(src)
    chain = m.chain(m.calls_by_name["batch"][0].node)
    assert chain.origin_qualname == "tensorflow.data.TFRecordDataset"
    assert chain.methods() == ["cache", "map", "prefetch", "batch"]


def test_chain_steps_in_unrelated_branches_are_maybe():
    src = (
        "ds = make()\n"
        "if a:\n"
        "    ds = ds.repeat()\n"
        "if b:\n"
        "    ds.cache()\n"
        "ds.prefetch(1)\n"
    )
    m = model_of(src)
    [cache] = m.calls_by_name["cache"]
    assert [(s.method, s.maybe) for s in m.chain(cache.node).steps] == [("repeat", True), ("cache", False)]
    [prefetch] = m.calls_by_name["prefetch"]
    assert [(s.method, s.maybe) for s in m.chain(prefetch.node).steps] == [("repeat", False), ("prefetch", False)]


def test_tfds_info_element_is_no_dataset():
    src = ("import tensorflow_datasets as tfds\n"
           "ds, info = tfds.load('mnist', with_info=True)\n"
           "ds.map(f)\ninfo.features.shape\n")
    m = model_of(src)
    assert m.chain(m.calls_by_name["map"][0].node).origin_qualname == "tensorflow_datasets.load"
    assert not m.is_dataset(parse("info").body[0].value)


def test_loops_and_helpers():
    src = (
        "def helper(x):\n"
        "    return model.predict(x)\n"
        "for i in range(10):\n"
        "    item = data[i]\n"
        "    helper(item)\n"
        "for j in range(3):\n"
        "    pass\n"
    )
    m = model_of(src)
    predict = m.calls_by_name["predict"][0]
    assert predict.loops == ()
    [(loop, chain)] = m.loop_contexts(predict)
    assert chain[0].name == "helper" and loop.targets == {"i"}
    assert loop.variant_names == {"i", "item"}
    assert m.depends_on_loop(chain[0].node, loop)
    assert m.literal_iterations(loop) == 10
    assert m.literal_iterations(m.loops[1]) == 3
    assert m.executes_in(predict, loop) and not m.executes_in(predict, m.loops[1])
    assert m.callers(m.functions[0]) == [chain[0]]
    assert m.module_entry(predict) == ((1, chain[0].order), (0, predict.order))


@pytest.mark.parametrize("iterable,n", [
    ("range(2, 12, 5)", 2), ("[1, 2, 3]", 3), ("enumerate(range(4))", 4), ("zip(range(3), 'abcd')", 3),
    ("zip(range(3), [1, 2])", 2), ("ds.take(7)", 7), ("itertools.islice(it, 4)", 4), ("items[:5]", 5),
    ("range(n)", None), ("[*a, 1]", None), ("items[1:5]", None),
])
def test_literal_iterations(iterable, n):
    m = model_of(f"for x in {iterable}:\n    pass\n")
    assert m.literal_iterations(m.loops[0]) == n


def test_known_iterations_through_a_name():
    m = model_of("cases = [0, 1, 2]\nfor c in cases:\n    pass\n")
    assert m.literal_iterations(m.loops[0]) is None and m.known_iterations(m.loops[0]) == 3


def test_comprehension_is_a_loop():
    m = model_of("preds = [model.predict(x) for x in batches]\n")
    c = m.calls_by_name["predict"][0]
    assert [lp.kind for lp in c.loops] == ["comp"] and c.loops[0].targets == {"x"}
    assert c.loops[0].node is m.tree.body[0].value


def test_keras_model_evidence():
    src = (
        "import tensorflow as tf\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "net = tf.keras.models.load_model('m.keras')\n"
        "clf = RandomForestClassifier()\n"
        "def build():\n"
        "    return tf.keras.Sequential([])\n"
        "built = build()\n"
        "compiled = make()\n"
        "compiled.compile(optimizer='adam')\n"
        "net.predict(a); clf.predict(a); built.predict(a); compiled.predict(a)\n"
    )
    m = model_of(src)
    verdict = {c.receiver.id: m.is_keras_model(c.receiver) for c in m.calls_by_name["predict"]}
    assert verdict == {"net": True, "clf": False, "built": True, "compiled": True}


@pytest.mark.parametrize("loader", [
    "tf.keras.models.load_model('m.keras')",
    "keras.models.load_model('m.keras')",
    "load_model('m.keras')",
    "keras.saving.load_model('m.keras')",
])
def test_loaded_models_are_keras_models(loader):
    src = ("import tensorflow as tf\nimport keras\nfrom tensorflow.keras.models import load_model\n"
           f"model = {loader}\nmodel.predict(x)\n")
    m = model_of(src)
    assert m.is_keras_model(m.calls_by_name["predict"][0].receiver)


def test_sklearn_estimator_is_not_a_keras_model():
    m = model_of("from sklearn.linear_model import LogisticRegression\nclf = LogisticRegression()\nclf.fit(x, y)\n"
                 "clf.predict(x)\n")
    assert not m.is_keras_model(m.calls_by_name["predict"][0].receiver)


def test_an_imported_module_is_no_model():
    m = model_of("import tensorflow as tf\nimport re\nre.compile('x')\nre.summary()\n")
    assert not m.is_keras_model(m.calls_by_name["summary"][0].receiver)


def test_param_derived_names_follow_local_assignments():
    m = model_of("def classify(path, verbose=0):\n    raw = read(path)\n    x = raw[None] / 255\n    size = 3\n"
                 "    return model.predict(x)\n")
    fn = m.functions[0]
    assert m.param_derived_names(fn) == {"path", "verbose", "raw", "x"}
    call = m.calls_by_name["predict"][0]
    assert m.depends_on_params(fn, call.node.args[0])
    assert not m.depends_on_params(fn, expr("size + other"))


def test_function_for_lambdas_defs_and_others():
    m = model_of("def decode(p):\n    return p\nds.map(decode)\nds.map(lambda p: decode(p))\nds.map(imported_fn)\n")
    maps = m.calls_by_name["map"]
    assert m.function_for(maps[0].node.args[0]).name == "decode"
    assert m.function_for(maps[1].node.args[0]).name == "<lambda>"
    assert m.function_for(maps[2].node.args[0]) is None


def test_function_called_through_tf_function_and_self():
    src = (
        "import tensorflow as tf\n"
        "def step(x):\n    return x\n"
        "fast = tf.function(step)\n"
        "fast(1)\n"
        "class T:\n"
        "    def helper(self):\n        pass\n"
        "    def run(self):\n        self.helper()\n"
    )
    m = model_of(src)
    assert m.function_called(m.calls_by_name["fast"][0]).name == "step"
    helper = m.function_called(m.calls_by_name["helper"][0])
    assert helper.name == "helper" and helper.class_name == "T" and helper.params == ["self"]


@pytest.mark.parametrize("src,alias", [
    ("import numpy as np\n", "np"),
    ("import numpy\n", "numpy"),
    ("from numpy import zeros\n", None),
    ("import numpy as np\nnp = 3\n", None),
])
def test_alias_for(src, alias):
    assert model_of(src).alias_for("numpy") == alias


# --------------------------------------------------------------------------- bindings and order


def test_binding_order_for_self_reassignment():
    m = model_of("x = load()\nx = x / 255.0\n")
    second = m.module_scope.bindings["x"][1]
    inner = second.value.left
    assert m.binding_of(inner) is m.module_scope.bindings["x"][0]


def test_binding_kinds_and_paths():
    src = (
        "import os\n"
        "(a, (b, *c)), d = v\n"
        "e: int = 1\n"
        "e += 1\n"
        "with open(p) as (f, g):\n"
        "    pass\n"
        "try:\n    pass\nexcept OSError as err:\n    pass\n"
        "for i, j in pairs:\n    pass\n"
        "if (w := 3):\n    pass\n"
        "class K:\n    pass\n"
        "def fn(p1, /, p2=1, *args, k, **kw):\n    pass\n"
    )
    m = model_of(src)
    kinds = {name: [(b.kind, b.path) for b in bs] for name, bs in m.module_scope.bindings.items()}
    assert kinds == {
        "os": [("import", ())], "a": [("assign", (0, 0))], "b": [("assign", (0, 1, 0))],
        "c": [("assign", (0, 1, 1, -1))], "d": [("assign", (1,))], "e": [("annassign", ()), ("augassign", ())],
        "f": [("with", (0,))], "g": [("with", (1,))], "err": [("except", ())], "i": [("for", (0,))],
        "j": [("for", (1,))], "w": [("walrus", ())], "K": [("class", ())], "fn": [("def", ())],
    }
    assert isinstance(m.module_scope.bindings["err"][0].node, ast.ExceptHandler)
    fn = m.functions[0]
    assert fn.params == ["p1", "p2", "k", "args", "kw"]
    assert all(b.kind == "param" and isinstance(b.node, ast.arg) for bs in fn.scope.bindings.values() for b in bs)


def test_evaluation_order():
    src = (
        "@deco(arg)\n"
        "def f(x=default):\n"
        "    return body\n"
        "for item in source():\n"
        "    use(item)\n"
        "out = [elt(y) for y in outer(z) if cond(y)]\n"
        "r = after if test else other\n"
        "d = {key1: val1, **rest}\n"
    )
    m = model_of(src)
    order = {name: us[0].order for name, us in m.uses.items()}
    calls = {c.name: c.order for c in m.calls}
    fn = m.functions[0]
    # decorators and defaults before the function
    assert order["arg"] < order["default"] < fn.order < order["body"]
    # the iterable before the loop, the loop before its body
    loop = m.loops[0]
    assert calls["source"] < loop.order < order["item"] < calls["use"] < loop.end_order
    # comprehension generators (iterable, target, condition) before the element
    comp = m.loops[1]
    assert order["z"] < comp.order < calls["cond"] < calls["elt"] < comp.end_order
    # a call before its callee's names and arguments
    assert calls["use"] < m.uses["use"][0].order
    # source order for conditional expressions and dict displays
    assert order["after"] < order["test"] < order["other"]
    assert order["key1"] < order["val1"] < order["rest"]
    # the value of an assignment before its targets are bound
    assert calls["elt"] < m.module_scope.bindings["out"][0].order


def test_use_kinds():
    m = model_of("x = 1\nx += 1\nprint(x)\ndel x\nfor t in ts:\n    pass\n")
    assert [u.kind for u in m.uses["x"]] == ["store", "load", "load", "del"]
    assert [u.name for u in m.dels] == ["x"]
    assert m.uses["t"][0].kind == "store"


def test_lookup_rules():
    src = (
        "x = 1\n"
        "class C:\n"
        "    x = 2\n"
        "    def m(self):\n"
        "        return x\n"
        "def g():\n"
        "    global x\n"
        "    x = 3\n"
    )
    m = model_of(src)
    load = [u for u in m.uses["x"] if u.kind == "load"][0]
    # class scopes are skipped for nested functions
    assert m.binding_of(load.node).scope is m.module_scope
    # `global x` sends the function's look-ups to the module (as in the libcst model,
    # the assignment's binding stays recorded in the function's scope)
    g = m.functions[1]
    assert g.scope.globals == {"x"}
    assert m.lookup("x", g.scope) is m.module_scope.bindings["x"][0]
    assert [u.node.lineno for u in m.loads_of(m.module_scope.bindings["x"][0])] == [5]


def test_target_stores_and_with_items():
    src = ("import os\nos.environ['CUDA_VISIBLE_DEVICES'] = '0'\ncfg.gpu.allow_growth, y = True, 2\n"
           "with tf.device('/gpu:0') as dev:\n    pass\n")
    m = model_of(src)
    assert [(m.text(s.target), m.text(s.value)) for s in m.target_stores] == [
        ("os.environ['CUDA_VISIBLE_DEVICES']", "'0'"), ("cfg.gpu.allow_growth", "True")]
    [item] = m.with_items.values()
    assert isinstance(item, ast.withitem) and m.text(item.context_expr) == "tf.device('/gpu:0')"
    assert [s.node.value for s in m.strings] == ["CUDA_VISIBLE_DEVICES", "0", "/gpu:0"]


def test_strings_are_literals_not_fstring_parts():
    m = model_of("a = 'x' 'y'\nb = f'lit{v}'\nc = b'raw'\n")
    assert [s.node.value for s in m.strings] == ["xy", b"raw"]


def test_functions_record_returns_yields_decorators():
    src = ("import tensorflow as tf\n"
           "@tf.function(reduce_retracing=True)\n"
           "def gen(a):\n    yield a\n    yield from b\n"
           "@staticmethod\n"
           "def ret():\n    return 1\n")
    m = model_of(src)
    gen, ret = m.functions
    assert gen.decorators == ["tf.function"] and len(gen.decorator_calls) == 1
    assert [type(y).__name__ for y in gen.yields] == ["Yield", "YieldFrom"] and len(m.yields) == 2
    assert ret.decorators == ["staticmethod"] and [m.text(r) for r in ret.returns] == ["1"]
    assert m.function_of[id(gen.node)] is gen


# --------------------------------------------------------------------------- tree access


def test_name_use_knows_its_statement_and_parents():
    m = model_of("import tensorflow as tf\nds = tf.data.Dataset.from_tensor_slices((x, y))\nprint(x.shape)\n")
    first, second = [u for u in m.uses["x"] if u.kind == "load"]
    assert first.stmt is m.tree.body[1] and isinstance(first.stmt, ast.Assign)
    assert [type(p).__name__ for p in first.parents[:3]] == ["Tuple", "Call", "Assign"]
    assert isinstance(second.parents[0], ast.Attribute) and second.parents[0].attr == "shape"
    assert second.stmt is m.tree.body[2]


def test_text_span_parent_and_statement():
    src = "x = 1; y = f(a,\n      b=2)\nif z: g(\"é\", h)\n"
    m = model_of(src)
    f, g = m.calls
    assert m.text(f.node) == "f(a,\n      b=2)"
    assert m.span(f.node) == Span(1, 11, 2, 10)
    # columns are code points: "é" is two bytes in UTF-8
    h = m.uses["h"][0].node
    assert m.span(h) == Span(3, 13, 3, 14) and m.text(h) == "h"
    assert m.parent(h) is g.node and m.parent(g.node) is m.statement_of(g.node)
    assert m.statement_of(f.node) is m.tree.body[1] and f.stmt is m.tree.body[1]
    # `if z: g()`: the call has its own statement, inside the if
    assert isinstance(g.stmt, ast.Expr) and m.parent_stmt[id(g.stmt)] is m.tree.body[2]
    assert m.enclosing_body(g.stmt) == (m.tree.body[2], m.tree.body[2].body)
    assert m.parent(m.tree) is None
    assert [f.top_index, g.top_index] == [1, 2]


def test_every_node_has_its_parent():
    src = ("import a\n@d\ndef f(x: int = 1, *, k: 'T' = lambda q=2: q) -> R:\n"
           "    return [y async for y in x if y]\n"
           "match v:\n    case [1, *rest] if rest:\n        pass\n"
           "s = f'{x!r:>{w}}'\n")
    tree = parse(src)
    m = build_model(tree, src)
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)):
                continue
            assert m.parent(child) is node, (ast.dump(child), ast.dump(node)[:80])


def test_legacy_parent_table():
    m = model_of("a.b[c](d, k=e, *f)\n")
    call = m.calls[0].node
    for name in ("d", "e", "f"):
        assert m.parent_of[id(m.uses[name][0].node)] is call
    sub = call.func
    assert m.parent_of[id(sub.value)] is sub


def test_names_in():
    assert names_in(expr("a.b + f(c, k=d)[e]")) == {"a", "f", "c", "d", "e"}
    assert names_in(None) == set()


def test_top_level_await_and_deep_expressions():
    m = model_of("await fetch(x)\n")
    assert m.calls[0].name == "fetch"
    deep = "x = " + " + ".join(f"f{i}()" for i in range(2500)) + "\n"  # deeper than the default recursion limit
    m = model_of(deep)
    assert len(m.calls) == 2500


def test_no_libcst_needed():
    import sys
    import kmlint.semantics.model as model_module
    assert "libcst" not in model_module.__dict__
    assert all(not name.startswith("libcst") for name in vars(sys.modules["kmlint.semantics.names"]))


# --------------------------------------------------------------------------- equivalence with the libcst model

EQUIVALENCE_SAMPLE = '''
import os, sys as system
from a.b import (c as d, e)
from . import rel
import tensorflow as tf
from tensorflow.keras.models import load_model as lm
@decorator(arg=1)
async def f(a, /, b: int = 2, *args, c, d=3, **kw) -> "T":
    global g
    x = [i * 2 for i in range(10) if i % 2 if i > 1]
    y = {k: v for k, v in zip(a, b)}
    z = (lambda q, *r: q + 1)(x)
    async with ctx() as (m, n), other():
        await thing(m)
    async for item in stream:
        yield item
    if (n := len(x)) > 3: print(n); n += 1
    else: pass
    while cond(x):
        x = step(x)
        if x: break
    else:
        done()
    del x, y[0], z.attr
    return f"{x!r:>{w}} {y}" "tail" + 'a' 'b'

class K(Base, metaclass=Meta):
    attr: int = 5
    def method(self, v=None):
        self.helper(v)
        return self.model.predict(v)
    def helper(self, v):
        for i in range(3):
            self.method(i)

match command:
    case [x, *rest] if x:
        go(x, rest)
    case {"k": v, **others}:
        go(v)
    case Point(x=0, y=yy) as p:
        go(p, yy)

a = b = c = tf.data.Dataset.range(10)
(p, q), *r = a.batch(2), 3, 4
ds = lm("m.keras")
ds.predict(1); ds.fit(2)
for j in a.prefetch(1): ds.predict(j)
x[i] += 1
print(*args, sep="", **kw)
f(a=1, *b)
val = cond1 if x else cond2
s = {1, 2, *x}
lst[1:2, ::3] = 5
with open(p) as fh: data = fh.read()
e = [[y for y in row] for row in grid]
try:
    pass
except (OSError, ValueError) as err:
    log(err)
'''


_EQUIVALENCE: list = []


def _equivalence():
    if not _EQUIVALENCE:
        _EQUIVALENCE.append(_load_equivalence())
    return _EQUIVALENCE[0]


def _load_equivalence():
    """scripts/model_equivalence.py; the libcst model comes from the tree while
    it has kmlint/legacy, else from the last git revision that had it."""
    pytest.importorskip("libcst")
    import importlib.util
    import shutil
    import subprocess
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "scripts" / "model_equivalence.py"
    spec = importlib.util.spec_from_file_location("model_equivalence", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    if module.legacy_model is None:
        if shutil.which("git") is None:
            pytest.skip("no git to read the libcst model's revision from")
        try:
            module.legacy_revision()
        except (subprocess.CalledProcessError, RuntimeError):
            pytest.skip("no git history with the libcst model")
    return module


IMPROVED = "f(lambda x=default(): x)\ntry:\n    pass\nexcept* E as eg:\n    use(eg)\n"


def _equivalence_source(name: str) -> str:
    from pathlib import Path
    if name == "sample":
        return EQUIVALENCE_SAMPLE
    if name == "improved":
        return IMPROVED
    return (Path(__file__).resolve().parent / "prefilter_traps" / name).read_text(encoding="utf-8")


_LEGACY_FACTS: dict = {}


def _differences(name: str) -> dict:
    """The equivalence script's differences for one source; the libcst model's
    facts of all of them are computed at once (one worker process)."""
    eq = _equivalence()
    names = ["sample", "loop_helpers.py", "aliased_names.py", "improved"]
    if not _LEGACY_FACTS:
        _LEGACY_FACTS.update(zip(names, eq.legacy_facts_many([_equivalence_source(n) for n in names])))
    return eq._diff(_LEGACY_FACTS[name], eq.v2_facts(_equivalence_source(name)))


@pytest.mark.parametrize("name", ["sample", "loop_helpers.py", "aliased_names.py"])
def test_same_facts_as_the_libcst_model(name):
    assert _differences(name) == {}
    facts = _equivalence().v2_facts(_equivalence_source(name))
    assert sum(facts["calls"].values()) > 10 and sum(facts["resolution"].values()) > 10


def test_justified_differences_from_the_libcst_model():
    """Where the ast model knows better: a lambda's defaults are evaluated (the
    libcst model skipped them), and ``except* E as eg`` binds ``eg``."""
    diff = _differences("improved")
    only_old, only_new = diff["calls"]
    assert not only_old and [fact[0] for fact in only_new] == ["default"]
    only_old, only_new = diff["bindings"]
    assert not only_old and [fact[1:3] for fact in only_new] == [("eg", "except")]


def test_close_leaves_no_cycles_behind():
    import gc
    src = (EQUIVALENCE_SAMPLE + "def helper(x):\n    return helper(x)\nfor i in y:\n    helper(i)\n")
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        m = model_of(src)
        assert m.callers(m.functions[-1]) and m.calls[0].qualname is not None
        m._memo["cycle"] = m
        m.close()
        del m
        assert gc.collect() == 0  # everything was freed by reference counting
        m = model_of(src)
        del m
        assert gc.collect() > 0  # without close(), the collector has to find the cycles
    finally:
        if enabled:
            gc.enable()


def test_elif_is_a_clause_not_a_block_statement():
    src = "if a:\n    f()\nelif b:\n    g()\nelse:\n    if c:\n        h()\n"
    m = model_of(src)
    outer = m.tree.body[0]
    elif_, nested = outer.orelse[0], outer.orelse[0].orelse[0]
    assert m.enclosing_body(elif_) is None and m.parent_stmt[id(elif_)] is outer
    assert m.enclosing_body(nested) == (elif_, elif_.orelse)
    assert m.parent(elif_) is outer and m.statement_of(m.calls[1].node) is elif_.body[0]


def test_spans_of_nodes_without_positions_and_text_without_source():
    src = "def f(a, b=1):\n    with open(a) as fh, lock:\n        return [x for x in fh if x]\n"
    m = model_of(src)
    fn = m.tree.body[0]
    assert m.text(fn.args) == "a, b=1"
    with_ = fn.body[0]
    assert m.text(with_.items[0]) == "open(a) as fh"
    comp = with_.body[0].value
    assert m.text(comp.generators[0]) == "x in fh if x"
    assert m.span(comp.generators[0]) == Span(3, 22, 3, 34)
    bare = build_model(parse(src))
    assert bare.text(bare.calls[0].node) == "open(a)"


def test_handed_to_finds_the_calls_a_function_is_passed_to():
    import ast as _ast

    from kmlint.semantics.model import build_model
    from kmlint.syntax import parse

    text = ("def objective(trial):\n    return 1\n\n"
            "study.optimize(objective, n_trials=3)\n"
            "run(func=objective)\n"
            "objective(1)\n"
            "def other():\n    objective = 2\n    use(objective)\n")
    model = build_model(parse(text), text)
    fn = next(f for f in model.functions if f.name == "objective")
    found = [(cs.name, kw, cs.node.lineno) for cs, kw, passed in model.handed_to(fn)]
    assert found == [("optimize", None, 4), ("run", "func", 5)]  # not the call of it, nor a local of the same name
    assert all(isinstance(passed, _ast.Name) for _, _, passed in model.handed_to(fn))
