"""The v2 size estimator (kmlint.semantics.sizes, ast nodes): the legacy
tests/test_sizes.py cases, plus reshapes, concatenation, casts, conditional
shapes and the tfds split arithmetic."""

import ast

import pytest

from kmlint.semantics.model import build_model
from kmlint.semantics.sizes import (
    arg_values, dtype_name, estimate, loader_info, tfds_example_bytes, tfds_split_examples, unpack_value,
)
from kmlint.syntax import LineIndex, parse


def _model(src: str):
    return build_model(parse(src), src, False, LineIndex(src))


def _info(src: str, name: str):
    m = _model(src)
    b = m.module_scope.bindings[name][-1]
    if b.path and isinstance(b.value, ast.Call):
        return loader_info(m, b.value, b.path)
    if b.path:
        return estimate(m, unpack_value(b.value, b.path))
    return estimate(m, b.value)


@pytest.mark.parametrize("src,name,nbytes,dtype", [
    ("import tensorflow as tf\nt = tf.random.normal((10000, 10000))\n", "t", 400_000_000, "float32"),
    ("import numpy as np\nN = 1000\na = np.zeros((N, N))\n", "a", 8_000_000, "float64"),
    ("import numpy as np\na = np.zeros((1000, 1000), dtype=np.float32)\n", "a", 4_000_000, "float32"),
    ("import numpy as np\na = np.random.rand(10, 20)\n", "a", 1600, "float64"),
    ("from tensorflow import keras\n(x, y), _ = keras.datasets.mnist.load_data()\n", "x", 47_040_000, "uint8"),
    ("from keras.datasets import cifar10\n(x, y), _ = cifar10.load_data()\nx = x / 255.0\n", "x", 1_228_800_000, "float64"),
    ("from keras.datasets import cifar10\n(x, y), _ = cifar10.load_data()\nx = x.astype('float32') / 255.0\n", "x", 614_400_000, "float32"),
    # beyond the legacy cases
    ("import numpy as np\nK = 2 ** 10\na = np.ones((K * 4, K // 2 + 1), 'f4')\n", "a", 4096 * 513 * 8, "float64"),
    ("import numpy as np\na = np.ones((100, 10), dtype='f4').reshape(-1, 50)\n", "a", 4000, "float32"),
    ("import numpy as np\na = np.reshape(np.zeros((4, 6)), (3, 8))\n", "a", 192, "float64"),
    ("import numpy as np\na = np.concatenate([np.zeros((2, 3)), np.zeros((5, 3))], axis=0)\n", "a", 7 * 3 * 8, "float64"),
    ("import tensorflow as tf\nimport numpy as np\na = tf.cast(np.zeros((10, 10), np.uint8), tf.float16)\n", "a", 200, "float16"),
    ("import numpy as np\na = np.random.randint(0, 10, size=(10, 10))\n", "a", 800, "int64"),
    ("import numpy as np\na = np.zeros((2, 7, 3) if conv else (2, 3))\n", "a", 2 * 7 * 3 * 8, "float64"),
    ("import numpy as np\nx, y = np.zeros((10, 2), np.uint8) / 255.0, 3\n", "x", 160, "float64"),
    ("import numpy as np\na = np.asarray(np.zeros((10,), np.int8), dtype=np.int32)\n", "a", 40, "int32"),
    ("import numpy as np\na = np.zeros((10,), np.uint8) * 2.0\n", "a", 80, "float64"),
])
def test_estimates(src, name, nbytes, dtype):
    info = _info(src, name)
    assert info is not None and info.nbytes == nbytes and info.dtype == dtype


def test_unknown_shape_gives_no_size():
    info = _info("import numpy as np\na = np.zeros((n, 3))\n", "a")
    assert info is not None and info.nbytes is None
    assert _info("a = load_my_data()\n", "a") is None
    assert _info("import numpy as np\na = np.zeros((10, 3))[:5]\n", "a") is None  # slicing: unknown


def test_loader_paths_and_whole_dataset_flag():
    src = "import keras\n(x, y), (xt, yt) = keras.datasets.cifar100.load_data()\n"
    x, yt = _info(src, "x"), _info(src, "yt")
    assert x.whole_dataset and x.shape == (50000, 32, 32, 3)
    assert yt.dtype == "int64" and yt.shape == (10000, 1)
    assert _info("import keras\n(x, y), _ = keras.datasets.imdb.load_data()\n", "x") is None


@pytest.mark.parametrize("expr,name", [
    ("np.float32", "float32"), ("tf.bfloat16", "bfloat16"), ("'f4'", "float32"), ("'<f8'", "float64"),
    ("float", "float64"), ("int", "int64"), ("bool", "bool"), ("'uint8'", "uint8"), ("np.weird", None),
    ("True", None), ("3", None),
])
def test_dtype_names(expr, name):
    assert dtype_name(ast.parse(expr, mode="eval").body) == name


def test_arguments_in_source_order():
    call = ast.parse("f(a, *b, c=1, **d)", mode="eval").body
    assert [ast.unparse(v) for v in arg_values(call)] == ["a", "b", "1", "d"]
    call = ast.parse("f(c=1, *b)", mode="eval").body
    assert [ast.unparse(v) for v in arg_values(call)] == ["1", "b"]


def test_tfds_split_arithmetic():
    assert tfds_split_examples("mnist", "train") == 60_000
    assert tfds_split_examples("mnist:3.0.1", "train[:10%]+test") == 16_000
    assert tfds_split_examples("cifar10", "train[-1000:]") == 1000
    assert tfds_split_examples("cifar10", "validation") is None
    assert tfds_split_examples("unknown_set", "train") is None
    assert tfds_example_bytes("mnist") == 55 * 10**6 // 70_000


def test_tables_are_the_legacy_ones_while_both_engines_run():
    """Legacy rules still read kmlint/legacy/semantics/sizes.py: the two copies
    of the tables must not drift apart until that module goes."""
    import dataclasses

    from kmlint.legacy.semantics import sizes as legacy
    from kmlint.semantics import sizes

    def plain(value):  # ArrayInfo is a class of each module
        if dataclasses.is_dataclass(value):
            return dataclasses.astuple(value)
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    for table in ("ITEMSIZE", "FLOAT_DTYPES", "INT_DTYPES", "KERAS_DATASETS", "KERAS_DATASETS_UNKNOWN",
                  "TFDS_DECODED_BYTES", "TFDS_SPLITS", "ARRAY_CONSTRUCTORS", "NUMPY_FLOAT64_DEFAULT",
                  "SHAPE_PRESERVING"):
        assert plain(getattr(sizes, table)) == plain(getattr(legacy, table)), table
