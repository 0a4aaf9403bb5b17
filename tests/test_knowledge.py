"""The knowledge tables (kmlint/knowledge/*.json): they load without TensorFlow
or libcst, every entry cites a source, the figures are sane, and they agree
with the size tables of kmlint/semantics/sizes.py they were moved from."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from kmlint import knowledge
from kmlint.semantics import sizes as legacy


@pytest.mark.parametrize("table", knowledge.TABLES)
def test_every_entry_cites_a_source(table):
    items = list(knowledge.entries(table))
    assert items, table
    for key, entry in items:
        src = entry.get("source", "")
        assert src.startswith("https://"), (table, key, src)


def test_loader_needs_neither_tensorflow_nor_libcst():
    code = ("import sys; import kmlint.knowledge as k; "
            "[k.load(t) for t in k.TABLES]; "
            "bad = [m for m in ('tensorflow', 'libcst', 'numpy') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_unknown_table_is_an_error():
    with pytest.raises(KeyError):
        knowledge.load("no_such_table")


# ----------------------------------------------------------------------------- keras.datasets

KERAS_NAMES = {"mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing", "california_housing"}


def test_keras_datasets_cover_the_loaders():
    assert KERAS_NAMES <= set(dict(knowledge.entries("keras_datasets")))


@pytest.mark.parametrize("name", sorted(KERAS_NAMES))
def test_keras_dataset_arrays_are_consistent(name):
    entry = knowledge.keras_dataset(name)
    for part in ("x_train", "y_train", "x_test", "y_test"):
        spec = entry[part]
        assert spec["shape"] and all(isinstance(d, int) and d > 0 for d in spec["shape"]), (name, part)
        assert spec["dtype"] == "object" or knowledge.itemsize(spec["dtype"]), (name, part)
    # x and y agree on the number of examples
    assert entry["x_train"]["shape"][0] == entry["y_train"]["shape"][0]
    assert entry["x_test"]["shape"][0] == entry["y_test"]["shape"][0]


def test_keras_dataset_sizes_match_public_figures():
    # RULES.md: mnist = 60000x28x28 uint8 = 47 MB; cifar10 = 50000x32x32x3 uint8 = 154 MB
    assert knowledge.array_bytes(knowledge.keras_dataset("mnist")["x_train"]) == 47_040_000
    assert knowledge.array_bytes(knowledge.keras_dataset("cifar10")["x_train"]) == 153_600_000
    assert knowledge.array_bytes(knowledge.keras_dataset("imdb")["x_train"]) is None  # ragged


def test_keras_table_agrees_with_the_legacy_table():
    for name, ((xtr, ytr), (xte, yte)) in legacy.KERAS_DATASETS.items():
        entry = knowledge.keras_dataset(name)
        for part, info in (("x_train", xtr), ("y_train", ytr), ("x_test", xte), ("y_test", yte)):
            assert tuple(entry[part]["shape"]) == info.shape, (name, part)
            assert entry[part]["dtype"] == info.dtype, (name, part)
    for name in legacy.KERAS_DATASETS_UNKNOWN:
        assert knowledge.keras_dataset(name).get("ragged") is True


# ----------------------------------------------------------------------------- tfds

COMMON_TFDS = ["mnist", "cifar10", "cifar100", "fashion_mnist", "imagenet2012", "coco/2017", "imdb_reviews",
               "tf_flowers", "cats_vs_dogs", "svhn_cropped", "celeb_a", "oxford_flowers102", "oxford_iiit_pet",
               "food101", "caltech101", "stanford_dogs", "emnist", "kmnist", "eurosat", "glue/sst2", "glue/mnli",
               "squad", "wmt14_translate/de-en", "lm1b", "ag_news_subset", "speech_commands", "stl10",
               "horses_or_humans", "rock_paper_scissors", "beans", "patch_camelyon", "places365_small"]


def test_tfds_covers_at_least_30_common_data_sets():
    assert len(COMMON_TFDS) >= 30
    missing = [n for n in COMMON_TFDS if knowledge.tfds_dataset(n) is None]
    assert not missing


@pytest.mark.parametrize("name,entry", list(knowledge.entries("tfds")))
def test_tfds_entry_is_sane(name, entry):
    assert entry["source"].startswith("https://www.tensorflow.org/datasets/catalog/")
    assert entry["splits"] and all(isinstance(v, int) and v > 0 for v in entry["splits"].values())
    assert entry["features"]
    for fname, spec in entry["features"].items():
        assert isinstance(spec["shape"], list), (name, fname)
        assert spec["dtype"] in ("string",) or knowledge.itemsize(spec["dtype"]), (name, fname)
    if "decoded_bytes_approx" in entry:
        assert entry["decoded_bytes_approx"] > 0
        # fixed-shape image sets: decoded size at least the raw pixels of the listed splits
        images = [s for s in entry["features"].values() if s["dtype"] == "uint8" and None not in s["shape"]]
        if images and name not in legacy.TFDS_DECODED_BYTES:
            pixels = sum(math.prod(s["shape"]) for s in images)
            assert entry["decoded_bytes_approx"] == pixels * sum(entry["splits"].values())


def test_tfds_table_agrees_with_the_legacy_tables():
    for name, splits in legacy.TFDS_SPLITS.items():
        assert knowledge.tfds_dataset(name)["splits"] == splits, name
    for name, total in legacy.TFDS_DECODED_BYTES.items():
        if name in legacy.TFDS_SPLITS:
            assert knowledge.tfds_dataset(name)["decoded_bytes_approx"] == total, name


@pytest.mark.parametrize("name,split,expected", [
    ("mnist", "train", 60_000),
    ("mnist:3.0.1", "test", 10_000),
    ("cats_vs_dogs", "train[:80%]", 18_609),
    ("cats_vs_dogs", "train[80%:]", 4_653),
    ("cifar10", "train[:5000]", 5_000),
    ("cifar10", "train+test", 60_000),
    ("glue/sst2", "validation", 872),
    ("coco/2017", "validation", 5_000),
    ("mnist", "nope", None),
    ("not_a_dataset", "train", None),
])
def test_tfds_split_examples(name, split, expected):
    assert knowledge.tfds_split_examples(name, split) == expected
    if expected is not None and name in legacy.TFDS_SPLITS:
        assert legacy.tfds_split_examples(name, split) == expected


def test_tfds_example_bytes():
    # cifar10 decoded per example is a 32x32x3 image plus a label: about 3 KB
    assert 3_000 <= knowledge.tfds_example_bytes("cifar10") <= 3_200
    assert knowledge.tfds_example_bytes("glue/sst2") is None


# ----------------------------------------------------------------------------- dtypes and APIs


def test_float64_defaults():
    f64 = knowledge.float64_constructors()
    assert {"numpy.zeros", "numpy.ones", "numpy.empty", "numpy.random.rand", "numpy.random.randn"} <= f64
    assert "tensorflow.zeros" not in f64 and knowledge.default_dtype("tensorflow.zeros") == "float32"
    assert knowledge.default_dtype("numpy.full") == "fill_value"
    assert knowledge.default_dtype("numpy.nope") is None
    # the legacy constructor table says the same
    for q, (_, dtype, lib, _) in legacy.ARRAY_CONSTRUCTORS.items():
        if q in dict(knowledge.entries("numpy_dtypes")) and dtype is not None:
            assert knowledge.default_dtype(q) == dtype, q


def test_promotion_rules_name_float64_sources():
    rules = load_promotion()
    assert rules[("int_array / python_number", "uint8|int8|int16|uint16|int32|int64")] == "float64"
    assert rules[("int_array - python_float", "uint8|int*")] == "float64"
    assert rules[("float32_array / python_number", "float32")] == "float32"


def load_promotion():
    return {(r["expr"], r["operand"]): r["result"] for r in knowledge.load("numpy_dtypes")["promotion"]}


def test_itemsize():
    assert knowledge.itemsize("float32") == 4
    assert knowledge.itemsize("double") == 8
    assert knowledge.itemsize("uint8") == 1
    assert knowledge.itemsize("string") is None
    assert knowledge.load("numpy_dtypes")["itemsize"]["values"] == {k: v for k, v in legacy.ITEMSIZE.items()
                                                                     if k in knowledge.load("numpy_dtypes")["itemsize"]["values"]}


def test_api_shapes():
    assert knowledge.api_default("keras.utils.image_dataset_from_directory", "image_size") == [256, 256]
    assert knowledge.api_default("keras.utils.image_dataset_from_directory", "batch_size") == 32
    assert knowledge.api_default("keras.utils.image_dataset_from_directory", "color_mode") == "rgb"
    assert knowledge.api("keras.utils.image_dataset_from_directory")["element"]["images"]["dtype"] == "float32"
    modes = knowledge.api("keras.layers.TextVectorization")["output_by_mode"]
    assert modes["multi_hot"]["shape"][-1] == "vocabulary_size" and modes["multi_hot"]["dtype"] == "float32"
    assert modes["int"]["dtype"] == "int64"
    with pytest.raises(KeyError):
        knowledge.api_default("keras.utils.image_dataset_from_directory", "nope")
