"""Code without its imports (issue 16, class 10): snippets, notebook cells and
half-written files that use ``tf.``, ``np.``, ``keras.``, ``K.``, ``tfds.`` or
``layers.`` without importing them.  The model's qualname resolution maps these
conventional aliases to their modules when the name is bound nowhere in the
file, so every rule sees ``tensorflow.*``/``numpy.*`` as it does with the
import line."""

from __future__ import annotations

import pytest

from kmlint.engine import prefilter
from kmlint.semantics.model import build_model
from kmlint.syntax import parse
from tests.helpers import codes, lint, notebook


def qualnames(src: str, name: str) -> list:
    m = build_model(parse(src), src)
    return [m.qualname(c.node.func) for c in m.calls_by_name[name]]


@pytest.mark.parametrize("src, name, expected", [
    ("x = np.zeros((4, 4))\n", "zeros", "numpy.zeros"),
    ("ds = tf.data.Dataset.from_tensor_slices(x)\n", "from_tensor_slices", "tensorflow.data.Dataset.from_tensor_slices"),
    ("m = tf.keras.Sequential()\n", "Sequential", "keras.Sequential"),
    ("K.clear_session()\n", "clear_session", "keras.backend.clear_session"),
    ("ds = tfds.load('mnist')\n", "load", "tensorflow_datasets.load"),
    ("d = layers.Dense(3)\n", "Dense", "keras.layers.Dense"),
    ("m = keras.Sequential()\n", "Sequential", "keras.Sequential"),
])
def test_unbound_conventional_alias_resolves_to_its_module(src, name, expected):
    assert qualnames(src, name) == [expected]


@pytest.mark.parametrize("src", [
    "np = load_plugin()\nx = np.zeros(3)\n",  # bound at module level
    "def f(np):\n    return np\nx = np.zeros(3)\n",  # bound anywhere (a parameter elsewhere)
    "from numpy_compat import *\nx = np.zeros(3)\n",  # a star import may bind it
])
def test_alias_bound_anywhere_is_not_guessed(src):
    assert qualnames(src, "zeros") != ["numpy.zeros"]


def test_imported_alias_still_wins():
    assert qualnames("import jax.numpy as np\nx = np.zeros(3)\n", "zeros") == ["jax.numpy.zeros"]


def test_unbound_tf_counts_as_using_tensorflow():
    m = build_model(parse("x = tf.ones(3)\n"), "x = tf.ones(3)\n")
    assert m.uses_tensorflow
    m = build_model(parse("tf = 1\nx = tf.ones(3)\n"), "tf = 1\nx = tf.ones(3)\n")
    assert not m.uses_tensorflow


def test_prefilter_lets_import_less_snippets_through():
    assert prefilter.has_evidence("tensorflow", "ds = tf.data.Dataset.range(3)\n")
    assert prefilter.has_evidence("numpy", "x = np.zeros(3)\n")


# rules that see the snippet as they see it with its imports

FROM_SLICES = """\
x_train = np.random.rand(60000, 784)
ds = tf.data.Dataset.from_tensor_slices(x_train)
"""


def test_snippet_without_imports_is_flagged_like_with_them():
    with_imports = "import numpy as np\nimport tensorflow as tf\n" + FROM_SLICES
    expected = [(line - 2, code) for line, code in codes(with_imports, select=["KM106"])]
    assert expected == [(2, "KM106")]
    assert codes(FROM_SLICES, select=["KM106"]) == expected


def test_notebook_cells_without_imports():
    text = notebook("x = np.random.rand(60000, 784)", "ds = tf.data.Dataset.from_tensor_slices(x).cache()")
    assert [(f.cell, f.code) for f in lint(text, "n.ipynb", select=["KM106"])] == [(1, "KM106")]


def test_float64_numpy_data_in_a_snippet():
    text = ("model = keras.Sequential([layers.Dense(1)])\nx = np.random.rand(60000, 784)\n"
            "model.fit(x, y, epochs=3)\n")
    assert codes(text, select=["KM302"]) == [(2, "KM302")]


def test_unbound_clear_session_counts_in_a_snippet():
    loop = "for trial in range(20):\n    {clear}model = tf.keras.Sequential([layers.Dense(8)])\n    model.fit(x, y)\n"
    assert codes(loop.format(clear=""), select=["KM204"]) == [(2, "KM204")]
    assert codes(loop.format(clear="K.clear_session()\n    "), select=["KM204"]) == []


def test_gpu_snippet_without_imports():
    text = "with tf.device('/gpu:0'):\n    model = tf.keras.Sequential()\n"
    assert codes(text, select=["KM501"]) == [(1, "KM501")]
