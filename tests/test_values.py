"""The abstract-value layer (kmlint.semantics.values, issue 16): shapes, dtypes,
counts, bytes and origins through names, one more name, unpacking, arithmetic,
NumPy/TF/Keras transforms, helpers, notebook cells and tf.data."""

import ast

import pytest

from kmlint.semantics.model import build_model
from kmlint.semantics.values import UNKNOWN, binding_value, promote, value_of
from kmlint.syntax import LineIndex, parse
from tests.helpers import lint, notebook


def _model(src: str):
    return build_model(parse(src), src, False, LineIndex(src))


def _last(src: str, name: str):
    """The value the last binding of a module-level name gives it."""
    m = _model(src)
    return binding_value(m, m.module_scope.bindings[name][-1])


def _expr(src: str):
    """The value of the last statement's expression."""
    m = _model(src)
    stmt = m.tree.body[-1]
    assert isinstance(stmt, ast.Expr)
    return value_of(m, stmt.value)


MNIST = "import tensorflow as tf\nimport numpy as np\n"


@pytest.mark.parametrize("src,name,shape,dtype", [
    # one more name: the loader module bound to a name
    (MNIST + "mnist = tf.keras.datasets.mnist\n(x, y), (xt, yt) = mnist.load_data()\n", "x", (60000, 28, 28), "uint8"),
    # the loader's result bound to a name, unpacked later
    (MNIST + "fm = tf.keras.datasets.fashion_mnist.load_data()\n(x, y), (xt, yt) = fm\n", "yt", (10000,), "uint8"),
    # tensorflow.compat.v1 is tensorflow
    ("import tensorflow.compat.v1 as tf\n(x, y), _ = tf.keras.datasets.cifar10.load_data()\n", "x",
     (50000, 32, 32, 3), "uint8"),
    # `from keras.datasets import cifar100` then cifar100.load_data()
    ("from keras.datasets import cifar100\n(x, y), _ = cifar100.load_data()\n", "y", (50000, 1), "int64"),
    # promotion: uint8 / 255 -> float64; (x - 127.5) / 127.5 -> float64
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x / 255\n", "x", (60000, 28, 28), "float64"),
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = (x - 127.5) / 127.5\n", "x", (60000, 28, 28),
     "float64"),
    # Python scalars are weak: float32 stays float32
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x.astype('float32') / 255.\n", "x",
     (60000, 28, 28), "float32"),
    # np.array(x, np.float32): the positional dtype
    (MNIST + "(x, y), _ = tf.keras.datasets.cifar10.load_data()\nx = np.array(x, np.float32) / 255.\n", "x",
     (50000, 32, 32, 3), "float32"),
    # augmented assignment
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x.reshape(-1, 784)\nx /= 255.0\n", "x",
     (60000, 784), "float64"),
    # reshape with x.shape[0], then astype
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x.reshape(x.shape[0], 28, 28, 1).astype('float32')\n",
     "x", (60000, 28, 28, 1), "float32"),
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = np.reshape(x, (-1, 784)) / 255.\n", "x",
     (60000, 784), "float64"),
    # slicing, newaxis, expand_dims
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x[:-5000]\n", "x", (55000, 28, 28), "uint8"),
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x[..., np.newaxis]\n", "x", (60000, 28, 28, 1),
     "uint8"),
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x[10000:, :, :]\n", "x", (50000, 28, 28), "uint8"),
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = np.expand_dims(x, axis=3)\n", "x",
     (60000, 28, 28, 1), "uint8"),
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x[0]\n", "x", (28, 28), "uint8"),
    # concatenate / stack
    (MNIST + "(x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()\nx = np.concatenate([x, xt])\n", "x",
     (70000, 28, 28), "uint8"),
    (MNIST + "a = np.zeros((4, 5), np.float32)\nb = tf.stack([a, a, a])\n", "b", (3, 4, 5), "float32"),
    # np.zeros((n, ...)) with n = len(x) of something known; no dtype: float64
    (MNIST + "(x, y), _ = tf.keras.datasets.imdb.load_data()\nn = len(x)\nz = np.zeros((n, 10000))\n", "z",
     (25000, 10000), "float64"),
    # np.array of a Python list of floats
    (MNIST + "a = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])\n", "a", (3, 2), "float64"),
    # to_categorical: float32 one-hot
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nz = tf.keras.utils.to_categorical(y, 10)\n", "z",
     (60000, 10), "float32"),
    # tf.cast
    (MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nz = tf.cast(x, tf.float16)\n", "z", (60000, 28, 28),
     "float16"),
])
def test_array_values(src, name, shape, dtype):
    v = _last(src, name)
    assert v.kind == "array" and v.shape == shape and v.dtype == dtype, v


def test_helper_returns_bind_the_call_site_arguments():
    src = MNIST + (
        "def normalize(a, b):\n"
        "    a = a / 255.\n"
        "    b = b / 255.\n"
        "    return a, b\n"
        "(x, y), (xt, yt) = tf.keras.datasets.cifar10.load_data()\n"
        "x, xt = normalize(x, xt)\n"
    )
    x, xt = _last(src, "x"), _last(src, "xt")
    assert (x.shape, x.dtype) == ((50000, 32, 32, 3), "float64")
    assert (xt.shape, xt.dtype) == ((10000, 32, 32, 3), "float64")
    assert x.made_at is not None and ast.unparse(x.made_at) == "a / 255.0"


def test_helper_defaults_and_len_of_an_argument():
    src = MNIST + (
        "def multi_hot(sequences, dimension=10000):\n"
        "    results = np.zeros((len(sequences), dimension))\n"
        "    return results\n"
        "(train, labels), _ = tf.keras.datasets.imdb.load_data(num_words=10000)\n"
        "x = multi_hot(train)\n"
    )
    x = _last(src, "x")
    assert (x.shape, x.dtype, x.nbytes) == ((25000, 10000), "float64", 25000 * 10000 * 8)


def test_parameter_value_from_every_caller():
    src = MNIST + (
        "def prep(images):\n"
        "    out = images / 255.\n"
        "    return out\n"
        "(x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()\n"
        "a = prep(x)\n"
    )
    m = _model(src)
    fn = m.functions[0]
    out = m.function_of[id(fn.node)].scope.bindings["out"][-1]
    v = binding_value(m, out)  # no call-site env: the parameter's only caller passes x
    assert v.dtype == "float64" and v.shape == (60000, 28, 28)


def test_notebook_cells_joined():
    """A loader module named in one cell, loaded in the next, divided in a third:
    KM302 sees the float64 through the joined cells and says what it assumed."""
    nb = notebook("import tensorflow as tf\nmnist = tf.keras.datasets.mnist",
                  "(x_train, y_train), (x_test, y_test) = mnist.load_data()",
                  "x_train = x_train / 255.0\nmodel = tf.keras.Sequential()\nmodel.compile('adam', 'mse')\n"
                  "model.fit(x_train, y_train)")
    found = [f for f in lint(nb, "nb.ipynb", select=["KM302"])]
    assert len(found) == 1 and "keras.datasets.mnist train images, 60000x28x28 uint8" in found[0].message


def test_describe_says_what_was_assumed():
    v = _last(MNIST + "(x, y), _ = tf.keras.datasets.cifar10.load_data()\nx = x / 255\n", "x")
    text = v.describe()
    assert "keras.datasets.cifar10 train images" in text and "50000x32x32x3 uint8" in text and "float64" in text
    assert v.nbytes == 50000 * 32 * 32 * 3 * 8 and v.whole_dataset


def test_unknown_is_first_class():
    assert _last("x = load_my_data()\n", "x") is UNKNOWN
    assert not _last("x = load_my_data()\n", "x").known
    v = _last(MNIST + "x = np.zeros((n, 3))\n", "x")
    assert v.kind == "array" and v.dtype == "float64" and v.nbytes is None
    v = _last(MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nx = x[:k]\n", "x")
    assert v.dtype == "uint8" and v.shape == (None, 28, 28) and v.nbytes is None
    # ragged loaders: shape known, bytes unknown
    v = _last(MNIST + "(x, y), _ = tf.keras.datasets.imdb.load_data()\n", "x")
    assert v.shape == (25000,) and v.nbytes is None


def test_rebinding_a_module_name_is_not_followed():
    src = MNIST + "mnist = tf.keras.datasets.mnist\nmnist = object()\n(x, y), _ = mnist.load_data()\n"
    assert _last(src, "x") is UNKNOWN


def test_int_values():
    v = _last(MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nn = x.shape[0] // 32 + 1\n", "n")
    assert v.kind == "int" and v.number == 60000 // 32 + 1


def test_promotion_table():
    assert promote("uint8", "float32") == "float32"
    assert promote("float32", "float64") == "float64"
    assert promote("int32", "int64") == "int64"
    assert promote(None, "float32") is None


def test_tf_data_from_tensor_slices_batch_take():
    src = MNIST + (
        "(x, y), _ = tf.keras.datasets.mnist.load_data()\n"
        "x = x.astype('float32') / 255.\n"
        "ds = tf.data.Dataset.from_tensor_slices((x, y))\n"
        "b = ds.shuffle(1000).batch(100)\n"
        "t = b.take(5)\n"
    )
    ds, b, t = _last(src, "ds"), _last(src, "b"), _last(src, "t")
    assert ds.kind == "dataset" and ds.count == 60000
    assert ds.element.items[0].shape == (28, 28) and ds.element.items[0].dtype == "float32"
    assert b.count == 600 and b.element.items[0].shape == (100, 28, 28) and b.batch == 100
    assert t.count == 5
    assert ds.nbytes == 60000 * (28 * 28 * 4 + 1)


def test_tf_data_map_return_shape():
    src = MNIST + (
        "def decode(path):\n"
        "    img = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)\n"
        "    return tf.image.resize(img, (224, 224))\n"
        "files = tf.data.Dataset.list_files('photos/*.jpg')\n"
        "ds = files.map(decode)\n"
    )
    ds = _last(src, "ds")
    assert ds.unbounded and ds.count is None
    assert ds.element.shape == (224, 224, 3) and ds.element.dtype == "float32"
    assert ds.element_bytes == 224 * 224 * 3 * 4


def test_tfds_split_lists_and_info():
    src = (
        "import tensorflow as tf\nimport tensorflow_datasets as tfds\n"
        "(train, val), info = tfds.load('cats_vs_dogs', split=['train[:80%]', 'train[80%:]'],\n"
        "                               with_info=True, as_supervised=True)\n"
        "n = info.splits['train'].num_examples\n"
        "small = train.map(lambda x, y: (tf.image.resize(x, (150, 150)), y))\n"
    )
    train, val, n, small = (_last(src, k) for k in ("train", "val", "n", "small"))
    assert train.kind == "dataset" and train.count == 18609 and val.count == 23262 - 18609
    assert train.nbytes is not None and train.nbytes > 2**30  # decoded size from the catalog
    assert n.number == 23262
    assert small.element.items[0].shape == (150, 150, 3) and small.nbytes == 18609 * (150 * 150 * 3 * 4 + 8)


def test_text_vectorization_width():
    src = (
        "from tensorflow import keras\nfrom tensorflow.keras.layers import TextVectorization\n"
        "train = keras.utils.text_dataset_from_directory('aclImdb/train', batch_size=32)\n"
        "tv = TextVectorization(max_tokens=20000, output_mode='multi_hot')\n"
        "ds = train.map(lambda x, y: (tv(x), y))\n"
        "tv = TextVectorization(max_tokens=20000, output_mode='int')\n"
        "ids = train.map(lambda x, y: (tv(x), y))\n"
    )
    ds, ids = _last(src, "ds"), _last(src, "ids")
    assert ds.element.items[0].shape == (32, 20000) and ds.element.items[0].dtype == "float32"
    assert ds.unbounded and ds.example_bytes == 20000 * 4 + 4
    assert ids.element.items[0].shape is None  # `int` mode: width unknown


def test_memoised_per_model():
    m = _model(MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nz = x / 255\nz\n")
    e = m.tree.body[-1].value
    first = value_of(m, e)
    assert value_of(m, e) is first and id(e) in m._memo["values"]


def test_image_dataset_from_directory_element():
    v = _expr("from tensorflow import keras\n"
              "keras.utils.image_dataset_from_directory('d', image_size=(180, 180), batch_size=64)\n")
    assert v.kind == "dataset" and v.unbounded and v.element.shape == (64, 180, 180, 3)
    assert v.example_bytes == 180 * 180 * 3 * 4


def test_tfds_splits_dict_and_map_through_helpers():
    src = (
        "import tensorflow as tf\nimport tensorflow_datasets as tfds\n"
        "def normalize(image, mask):\n"
        "    image = tf.cast(image, tf.float32) / 255.0\n"
        "    mask -= 1\n"
        "    return image, mask\n"
        "def load(example):\n"
        "    image = tf.image.resize(example['image'], (512, 512))\n"
        "    mask = tf.image.resize(example['segmentation_mask'], (128, 128))\n"
        "    image = tf.image.flip_left_right(image)\n"
        "    image, mask = normalize(image, mask)\n"
        "    return image, mask\n"
        "splits, info = tfds.load('oxford_iiit_pet:3.*.*', with_info=True)\n"
        "train = splits['train'].map(load)\n"
    )
    train = _last(src, "train")
    image, mask = train.element.items
    assert (image.shape, image.dtype) == ((512, 512, 3), "float32")
    assert (mask.shape, mask.dtype) == ((128, 128, 1), "float32")
    assert train.count == 3680 and train.nbytes == 3680 * (512 * 512 * 3 + 128 * 128) * 4


def test_numpy_scalars_are_strongly_typed():
    src = MNIST + "(x, y), _ = tf.keras.datasets.mnist.load_data()\nz = x / np.float32(255)\nw = x / np.float64(255)\n"
    assert _last(src, "z").dtype == "float32"
    assert _last(src, "w").dtype == "float64"


def test_lists_filled_in_loops():
    src = MNIST + (
        "frames = []\n"
        "for i in range(400):\n"
        "    frames.append(tf.image.resize(tf.io.decode_jpeg(tf.io.read_file(f'{i}.jpg'), channels=3), (256, 256)))\n"
        "stacked = tf.stack(frames)\n"
        "rows = []\n"
        "for p in paths:\n"
        "    rows.append(np.zeros((1, 10)))\n"
        "joined = np.concatenate(rows)\n"
        "arr = np.array(frames)\n"
    )
    stacked, joined, arr = (_last(src, k) for k in ("stacked", "joined", "arr"))
    assert (stacked.shape, stacked.dtype, stacked.nbytes) == ((400, 256, 256, 3), "float32", 400 * 256 * 256 * 3 * 4)
    assert joined.shape is None and joined.dtype == "float64"  # the loop's length is unknown
    assert arr.shape == (400, 256, 256, 3)
