"""The tf.data rules KM102-KM109 on realistic code: chains split over
assignments, notebook cells and helpers; evidence that a receiver is a
dataset; thresholds from the configuration; and the fixes, applied."""

from __future__ import annotations

import json
import textwrap

import pytest

from kmlint.config import Settings
from kmlint.docs import dossier_dir
from kmlint.engine.linter import lint_text
from kmlint.registry import get_rule
from kmlint.semantics.sizes import tfds_example_bytes, tfds_split_examples
from tests.fixing import apply_fixes
from tests.helpers import lint


def found(source: str, code: str, path: str = "snippet.py", **settings) -> list:
    return [f for f in lint(textwrap.dedent(source), path, select=[code], **settings) if f.code == code]


def lines(source: str, code: str, **settings) -> list[int]:
    return [f.line for f in found(source, code, **settings)]


def fix_once(source: str, code: str) -> str:
    """The code after the first fix the rule offers."""
    res = lint_text(textwrap.dedent(source), "snippet.py", Settings(select=[code]), keep_tree=True)
    fixes = [f.fix for f in res.findings if f.code == code and f.fix is not None]
    assert fixes, "no fix offered"
    return fixes[0].apply(res.text)


# --------------------------------------------------------------------------- dossier fixes


@pytest.mark.parametrize("code", ["KM102", "KM103", "KM105", "KM107", "KM108"])
def test_fixed_py_is_exactly_what_the_fixes_make_of_bad_py(code):
    folder = dossier_dir(get_rule(code))
    bad = (folder / "bad.py").read_text(encoding="utf-8")
    assert apply_fixes(bad, code) == (folder / "fixed.py").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- KM102


def test_km102_subset_of_cached_pipeline_fed_to_fit():
    src = """
        import tensorflow as tf
        ds = tf.data.TFRecordDataset(files).map(parse).cache()
        train = ds.take(1000)
        val = ds.skip(1000)
        model.fit(train, validation_data=val, epochs=EPOCHS)
    """
    [f] = found(src, "KM102")
    assert f.line == 4 and "every epoch" in f.message
    assert f.fix is None  # `ds` is also read by `skip`: moving the take would change `val`


def test_km102_peeks_and_single_passes_are_not_flagged():
    src = """
        import tensorflow as tf
        ds = tf.data.TFRecordDataset(files).map(parse).cache()
        for record in ds.take(3):
            print(record)
        sample = ds.take(5)
        for x in sample:
            show(x)
        model.evaluate(ds.take(100).batch(10))
        model.fit(ds.take(100).batch(10))  # epochs defaults to 1: one pass
    """
    assert lines(src, "KM102") == []


def test_km102_custom_epoch_loop_and_fix():
    src = """
        import tensorflow as tf
        warm = tf.data.Dataset.from_tensor_slices(x).map(f).cache().take(64)
        for epoch in range(10):
            for batch in warm:
                step(batch)
    """
    assert lines(src, "KM102") == [3]
    assert "from_tensor_slices(x).map(f).take(64).cache()" in fix_once(src, "KM102")


# --------------------------------------------------------------------------- KM103


def test_km103_split_over_assignments_fix_merges_them():
    src = """
        import tensorflow as tf
        ds = tf.data.Dataset.from_tensor_slices(x)
        ds = ds.repeat()
        ds = ds.cache()
        ds = ds.batch(8)
    """
    assert lines(src, "KM103") == [5]
    fixed = fix_once(src, "KM103")
    assert "ds = ds.cache().repeat()\nds = ds.batch(8)\n" in fixed
    assert found(fixed, "KM103") == []


def test_km103_no_fix_when_steps_between_or_name_shared():
    src = """
        import tensorflow as tf
        a = tf.data.Dataset.from_tensor_slices(x).repeat(None).batch(64).cache()
        looped = tf.data.Dataset.from_tensor_slices(x).repeat()
        other = looped.map(f)
        b = looped.cache()
    """
    fs = found(src, "KM103")
    assert [f.line for f in fs] == [3, 6]
    assert all(f.fix is None for f in fs)


def test_km103_bounded_repeat_or_take_is_fine():
    src = """
        import tensorflow as tf
        a = tf.data.Dataset.from_tensor_slices(x).repeat(2).cache()
        b = tf.data.Dataset.from_tensor_slices(x).repeat().take(100).cache()
        c = tf.data.Dataset.from_tensor_slices(x).repeat(n_epochs).cache()
    """
    assert lines(src, "KM103") == []


# --------------------------------------------------------------------------- KM104


IMAGES = """
    import glob
    import tensorflow as tf
    paths = glob.glob("img/*.jpg")
    def load(p):
        img = tf.io.decode_jpeg(tf.io.read_file(p), channels=3)
        return tf.image.resize(img, [128, 128])
"""


def test_km104_whole_dataset_buffer_after_decoding_in_a_helper_pipeline():
    src = IMAGES + """
    def make(paths):
        ds = tf.data.Dataset.from_tensor_slices(paths)
        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        return ds.shuffle(ds.cardinality())
    train = make(paths)
    """
    [f] = found(src, "KM104")
    assert "whole data set" in f.message


def test_km104_size_threshold_is_configurable():
    # 4000 x 128x128x3 float32 = 786 MB: under the default 1 GiB, over 500 MB
    src = IMAGES + """
    ds = tf.data.Dataset.from_tensor_slices(paths).map(load).shuffle(4000)
    """
    assert lines(src, "KM104") == []
    assert len(found(src, "KM104", shuffle_buffer_bytes=500 * 10**6)) == 1


def test_km104_shuffling_paths_before_decoding_is_fine():
    src = IMAGES + """
    ds = tf.data.Dataset.from_tensor_slices(paths).shuffle(len(paths)).map(load).shuffle(256)
    """
    assert lines(src, "KM104") == []


def test_km104_py_function_loader_counts_as_decoding():
    src = """
        import numpy as np
        import tensorflow as tf
        files = sorted(glob.glob("*.npy"))
        def read(path):
            return np.load(path.numpy().decode())
        ds = tf.data.Dataset.from_tensor_slices(files)
        ds = ds.map(lambda p: tf.py_function(read, [p], tf.float32))
        ds = ds.shuffle(len(files))
    """
    assert len(found(src, "KM104")) == 1


def test_km104_small_tfds_whole_shuffle_is_fine_large_is_not():
    src = """
        import tensorflow_datasets as tfds
        a = tfds.load("cifar10", split="train").shuffle(50_000)
        b = tfds.load("food101", split="train[:50%]").shuffle(50_000)
    """
    [f] = found(src, "KM104")
    assert f.line == 4 and "food101" in f.message


# --------------------------------------------------------------------------- KM105


def test_km105_fix_uses_the_files_alias_or_adds_an_import():
    src = """
        import tensorflow_datasets as tfds
        ds = tfds.load("mnist", split="train", batch_size=32).prefetch(100)
    """
    fixed = fix_once(src, "KM105")
    assert "import tensorflow\n" in fixed and ".prefetch(tensorflow.data.AUTOTUNE)" in fixed
    src2 = """
        import tensorflow as tfx
        from tensorflow.data import AUTOTUNE
        ds = tfx.data.Dataset.range(10).batch(2).prefetch(buffer_size=80)
    """
    assert ".prefetch(buffer_size=tfx.data.AUTOTUNE)" in fix_once(src2, "KM105")
    src3 = """
        from tensorflow.data import AUTOTUNE, Dataset
        ds = Dataset.range(10).batch(2).prefetch(80)
    """
    assert ".prefetch(AUTOTUNE)" in fix_once(src3, "KM105")


def test_km105_threshold_and_batching():
    src = """
        import tensorflow as tf
        N = 100
        a = tf.data.Dataset.range(10).batch(2).prefetch(N)
        b = tf.data.Dataset.range(10).prefetch(N)
    """
    assert lines(src, "KM105") == [4]
    assert lines(src, "KM105", prefetch_batches=200) == []


# --------------------------------------------------------------------------- KM106


def test_km106_sizes_from_loaders_and_constructors():
    src = """
        import numpy as np
        import tensorflow as tf
        from tensorflow.keras.datasets import fashion_mnist
        (x, y), (xt, yt) = fashion_mnist.load_data()
        x = x.astype("float32") / 255.0
        a = tf.data.Dataset.from_tensor_slices((x, y))
        b = tf.data.Dataset.from_tensor_slices((fashion_mnist.load_data()[0][0], y))
        c = tf.data.Dataset.from_tensor_slices(tf.random.normal((20000, 2000)))
    """
    fs = found(src, "KM106")
    assert [f.line for f in fs] == [7, 9]
    assert "188 MB float32" in fs[0].message
    assert lines(src, "KM106", from_tensor_slices_bytes=10**9) == []


# --------------------------------------------------------------------------- KM107


def test_km107_random_through_partial_py_function_and_layers():
    src = """
        import functools
        import numpy as np
        import tensorflow as tf
        def jitter(img, scale):
            return img + tf.random.uniform(tf.shape(img)) * scale
        a = tf.data.Dataset.from_tensor_slices(x).map(functools.partial(jitter, scale=0.1)).cache()
        def np_aug(img):
            return img * np.random.uniform(0.9, 1.1)
        b = tf.data.Dataset.from_tensor_slices(x).map(lambda i: tf.numpy_function(np_aug, [i], tf.float32)).cache()
        crop = tf.keras.layers.experimental.preprocessing.RandomCrop(24, 24)
        c = tf.data.Dataset.from_tensor_slices(x).map(lambda i: crop(i)).cache()
        d = tf.data.Dataset.from_tensor_slices(x).map(lambda i: i + np.random.uniform()).cache()
    """
    assert lines(src, "KM107") == [7, 10, 12]


def test_km107_notebook_cells_split_the_chain():
    cells = [
        "import tensorflow as tf\n",
        "ds = tf.data.Dataset.list_files('x/*.png')\n",
        "def aug(p):\n    return tf.image.random_flip_up_down(tf.io.decode_png(tf.io.read_file(p)))\n",
        "ds = ds.map(aug)\n",
        "ds = ds.cache()\n",
    ]
    nb = {"cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
                    for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    fs = [f for f in lint(json.dumps(nb), "explore.ipynb", select=["KM107"])]
    assert [(f.cell, f.line) for f in fs] == [(4, 1)]


# --------------------------------------------------------------------------- KM108


def test_km108_through_helper_and_parameter_evidence():
    src = """
        import tensorflow as tf
        def make():
            return tf.data.Dataset.from_tensor_slices(x).shuffle(100)
        a = make().cache()

        def configure(ds):
            ds = ds.shuffle(1000)
            return ds.cache()
        b = configure(tf.data.Dataset.from_tensor_slices(x))

        def unrelated(table):
            return table.shuffle(5).cache()
    """
    fs = found(src, "KM108")
    assert [f.line for f in fs] == [5, 9]
    assert fs[0].fix is None  # the shuffle is inside the helper: no cross-function move


# --------------------------------------------------------------------------- KM109


def test_km109_serving_loop_and_helper_chain():
    src = """
        import tensorflow as tf
        from tensorflow import keras
        model = keras.models.load_model("m.keras")
        def to_dataset(batch):
            return tf.data.Dataset.from_tensor_slices(batch).batch(32)
        def score(batch):
            return model.predict(to_dataset(batch))
        while True:
            request = queue.get()
            print(score(request))
    """
    [f] = found(src, "KM109")
    assert f.line == 11 and "`score()` -> `to_dataset()`" in f.message


def test_km109_chunks_of_a_stream_for_training_are_fine():
    src = """
        import pandas as pd
        import tensorflow as tf
        for chunk in pd.read_csv("big.csv", chunksize=100_000):
            ds = tf.data.Dataset.from_tensor_slices(dict(chunk)).batch(256)
            model.fit(ds, epochs=1)
    """
    assert lines(src, "KM109") == []


# --------------------------------------------------------------------------- sizes


def test_tfds_split_table():
    assert tfds_split_examples("cifar10", "train[:80%]") == 40_000
    assert tfds_split_examples("mnist", "train+test") == 70_000
    assert tfds_split_examples("mnist:3.*.*", "test[1000:]") == 9_000
    assert tfds_split_examples("unknown_ds", "train") is None
    assert tfds_split_examples("mnist", "train[a:b]") is None
    assert 400_000 < tfds_example_bytes("imagenet2012") < 600_000


def test_chain_follows_helper_returns_and_tfds_unpacking():
    from kmlint.semantics.model import build_model

    src = textwrap.dedent("""
        import tensorflow_datasets as tfds
        (train, test), info = tfds.load("mnist", split=["train", "test"], with_info=True)
        def prep(d):
            return d.map(f).batch(8)
        out = prep(train).cache()
    """)
    from kmlint.syntax import parse

    m = build_model(parse(src), src)
    out = m.module_scope.bindings["out"][-1].value
    chain = m.chain(out)
    assert chain.origin_qualname == "tensorflow_datasets.load"
    assert chain.methods() == ["map", "batch", "cache"]
    info = m.module_scope.bindings["info"][-1]
    assert not m.is_dataset(info.node)


def test_km106_follows_concatenate_and_reshape():
    # the shape of keras.io's DCGAN example: train and test digits joined, scaled, reshaped
    src = """
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras
        (x_train, _), (x_test, _) = keras.datasets.mnist.load_data()
        all_digits = np.concatenate([x_train, x_test])
        all_digits = all_digits.astype("float32") / 255
        all_digits = np.reshape(all_digits, (-1, 28, 28, 1))
        dataset = tf.data.Dataset.from_tensor_slices(all_digits)
        side = all_digits.reshape(70000, 784)
        flat = tf.data.Dataset.from_tensor_slices(side[:1000])
        odd = tf.data.Dataset.from_tensor_slices(np.concatenate([x_train, x_test], axis=1).astype("float32"))
    """
    [f] = found(src, "KM106")
    assert f.line == 9 and "220 MB float32" in f.message


def test_steps_in_unrelated_branches_neither_count_nor_clear():
    # tf-models' synthetic ranking data: the repeat may sit between cache and take
    src = """
        import tensorflow as tf
        def make(elements, is_training, use_cached_data):
            dataset = tf.data.Dataset.from_tensor_slices(elements)
            dataset = dataset.cache()
            if is_training:
                dataset = dataset.repeat()
            if use_cached_data:
                dataset = dataset.take(1).cache().repeat()
            return dataset.batch(8)
    """
    assert lines(src, "KM102") == []
    # an exclusive repeat is not taken as present either
    src2 = """
        import tensorflow as tf
        def make(dataset, is_training, cache):
            if is_training and not cache:
                dataset = dataset.repeat()
            if cache:
                dataset = dataset.cache()
            return dataset.prefetch(2)
    """
    assert lines(src2, "KM103") == []
    # a conditional step before an unconditional end is on a real path
    src3 = """
        import tensorflow as tf
        ds = tf.data.TFRecordDataset(files)
        if training:
            ds = ds.shuffle(1000)
        ds = ds.cache()
    """
    assert lines(src3, "KM108") == [6]


def test_km102_cache_after_the_take_reads_upstream_once():
    src = """
        import tensorflow as tf
        ds = tf.data.TFRecordDataset(files).map(parse).cache()
        one = ds.take(1).cache().repeat()
        model.fit(one, steps_per_epoch=10, epochs=5)
    """
    assert lines(src, "KM102") == []
