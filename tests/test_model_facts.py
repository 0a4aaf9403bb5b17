"""Facts the semantic model records for the issue-3 rules, and the fix
building blocks they use."""

from __future__ import annotations

import libcst as cst
import pytest

from kmlint.fixes import del_without, rewrite, set_keyword_arg
from kmlint.legacy.semantics.model import build_model


def model_of(src: str):
    return build_model(cst.parse_module(src))


def test_name_use_knows_its_statement_and_parents():
    m = model_of("import tensorflow as tf\nds = tf.data.Dataset.from_tensor_slices((x, y))\nprint(x.shape)\n")
    first, second = [u for u in m.uses["x"] if u.kind == "load"]
    assert isinstance(first.stmt, cst.SimpleStatementLine) and first.stmt is m.module.body[1]
    assert [type(p).__name__ for p in first.parents[:4]] == ["Element", "Tuple", "Arg", "Call"]
    assert isinstance(second.parents[0], cst.Attribute) and second.parents[0].attr.value == "shape"
    assert second.stmt is m.module.body[2]


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
    call = m.calls_by_name["predict"][0]
    assert m.is_keras_model(call.receiver)


def test_sklearn_estimator_is_not_a_keras_model():
    m = model_of("from sklearn.linear_model import LogisticRegression\nclf = LogisticRegression()\nclf.fit(x, y)\nclf.predict(x)\n")
    assert not m.is_keras_model(m.calls_by_name["predict"][0].receiver)


def test_param_derived_names_follow_local_assignments():
    m = model_of("def classify(path, verbose=0):\n    raw = read(path)\n    x = raw[None] / 255\n    size = 3\n"
                 "    return model.predict(x)\n")
    fn = m.functions[0]
    assert m.param_derived_names(fn) == {"path", "verbose", "raw", "x"}
    call = m.calls_by_name["predict"][0]
    assert m.depends_on_params(fn, call.node.args[0].value)
    assert not m.depends_on_params(fn, cst.parse_expression("size + other"))


def test_function_for_lambdas_defs_and_others():
    m = model_of("def decode(p):\n    return p\nds.map(decode)\nds.map(lambda p: decode(p))\nds.map(imported_fn)\n")
    maps = m.calls_by_name["map"]
    assert m.function_for(maps[0].node.args[0].value).name == "decode"
    assert m.function_for(maps[1].node.args[0].value).name == "<lambda>"
    assert m.function_for(maps[2].node.args[0].value) is None


@pytest.mark.parametrize("src,alias", [
    ("import numpy as np\n", "np"),
    ("import numpy\n", "numpy"),
    ("from numpy import zeros\n", None),
    ("import numpy as np\nnp = 3\n", None),
])
def test_alias_for(src, alias):
    assert model_of(src).alias_for("numpy") == alias


@pytest.mark.parametrize("before,after", [
    ("f(a)", "f(a, shuffle=False)"),
    ("f()", "f(shuffle=False)"),
    ("f(a, b=1)", "f(a, shuffle=False, b=1)"),
    ("f(a, shuffle=True)", "f(a, shuffle=False)"),
    ("f(**kw)", "f(shuffle=False, **kw)"),
    ("f(\n    a,\n    b=1,\n)", "f(\n    a,\n    shuffle=False,\n    b=1,\n)"),
    ("f(\n    a,\n)", "f(\n    a,\n    shuffle=False,\n)"),
])
def test_set_keyword_arg_keeps_the_layout(before, after):
    call = cst.parse_expression(before)
    assert cst.Module([]).code_for_node(set_keyword_arg(call, "shuffle", cst.Name("False"))) == after


@pytest.mark.parametrize("src,out", [
    ("del x\nz = 1\n", "z = 1\n"),
    ("del a, x\n", "del a\n"),
    ("del x, a, b\n", "del a, b\n"),
])
def test_del_without(src, out):
    module = cst.parse_module(src)
    assert rewrite(module, {module.body[0]: lambda n: del_without(n, "x")}).code == out


def test_rewrite_applies_several_changes_in_one_pass():
    module = cst.parse_module("a = 1\nb = 2\ndel a\n")
    first, last = module.body[0], module.body[2]
    new = rewrite(module, {
        first: lambda n: cst.FlattenSentinel([n, cst.parse_statement("print(a)\n")]),
        last: lambda n: del_without(n, "a"),
    })
    assert new.code == "a = 1\nprint(a)\nb = 2\n"
