import libcst as cst
import pytest

from kmlint.legacy.semantics.model import build_model
from kmlint.legacy.semantics.sizes import estimate, loader_info


def _info(src: str, name: str):
    m = build_model(cst.parse_module(src))
    b = m.module_scope.bindings[name][-1]
    if b.path:
        return loader_info(m, b.value, b.path)
    return estimate(m, b.value)


@pytest.mark.parametrize("src,name,nbytes,dtype", [
    ("import tensorflow as tf\nt = tf.random.normal((10000, 10000))\n", "t", 400_000_000, "float32"),
    ("import numpy as np\nN = 1000\na = np.zeros((N, N))\n", "a", 8_000_000, "float64"),
    ("import numpy as np\na = np.zeros((1000, 1000), dtype=np.float32)\n", "a", 4_000_000, "float32"),
    ("import numpy as np\na = np.random.rand(10, 20)\n", "a", 1600, "float64"),
    ("from tensorflow import keras\n(x, y), _ = keras.datasets.mnist.load_data()\n", "x", 47_040_000, "uint8"),
    ("from keras.datasets import cifar10\n(x, y), _ = cifar10.load_data()\nx = x / 255.0\n", "x", 1_228_800_000, "float64"),
    ("from keras.datasets import cifar10\n(x, y), _ = cifar10.load_data()\nx = x.astype('float32') / 255.0\n", "x", 614_400_000, "float32"),
])
def test_estimates(src, name, nbytes, dtype):
    info = _info(src, name)
    assert info is not None and info.nbytes == nbytes and info.dtype == dtype


def test_unknown_shape_gives_no_size():
    info = _info("import numpy as np\na = np.zeros((n, 3))\n", "a")
    assert info is not None and info.nbytes is None
    assert _info("a = load_my_data()\n", "a") is None
