"""The issue-3 rules (KM101, KM202, KM203, KM205, KM301, KM302) on realistic
code: the demo project's script and notebook through the CLI, helpers and
notebook cells, thresholds from the settings, and the fixes, applied.
(fixed.py == fixes(bad.py) for every dossier is tests/test_dossier_fixes.py.)"""

from __future__ import annotations

import json
import textwrap


from kmlint.config import Settings
from kmlint.engine.linter import lint_text
from tests.fixing import apply_fixes
from tests.helpers import FIXTURES, codes, lint, notebook, run_cli


def found(source: str, code: str, path: str = "snippet.py", **settings) -> list:
    return [f for f in lint(textwrap.dedent(source), path, select=[code], **settings) if f.code == code]


def lines(source: str, code: str, **settings) -> list[int]:
    return [f.line for f in found(source, code, **settings)]


def fixes_of(source: str, code: str, path: str = "snippet.py") -> list:
    res = lint_text(textwrap.dedent(source), path, Settings(select=[code]), keep_tree=True)
    return [(f.fix, res) for f in res.findings if f.code == code]


# --------------------------------------------------------------------------- the demo project


def cli_findings(*paths: str) -> list[dict]:
    proc = run_cli("check", "--output-format", "json", "--no-cache", *paths, cwd=FIXTURES / "demo")
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def test_demo_inference_script():
    findings = cli_findings("predict_images.py")
    got = [(f["line"], f["code"], f["fix"]["applicability"] if f["fix"] else None) for f in findings]
    assert got == [(30, "KM203", "unsafe"), (40, "KM206", None), (41, "KM202", "safe"), (42, "KM205", "safe")]
    km203 = findings[0]
    assert "`classify()`" in km203["message"]  # the call in the loop names the helper


def test_demo_notebook_findings_are_located_in_cells():
    findings = [f for f in cli_findings("digits_training.ipynb") if f["code"] in ("KM203", "KM301", "KM302")]
    got = [(f["cell"], f["line"], f["code"]) for f in findings]
    # cells count the markdown ones; lines are within the cell
    assert got == [(2, 2, "KM302"), (4, 1, "KM301"), (7, 1, "KM203")]
    km301 = findings[1]
    assert "~123 MB" in km301["message"] and km301["fix"]["applicability"] == "unsafe"  # notebooks: unsafe
    assert "`predict_digit()`" in findings[2]["message"]


# --------------------------------------------------------------------------- KM101


def test_km101_threshold_comes_from_the_settings():
    src = """
        import numpy as np
        import tensorflow as tf
        x = np.zeros((1000, 1000), dtype=np.float32)  # 4 MB
        ds = tf.data.Dataset.from_tensor_slices(x).cache()
    """
    assert lines(src, "KM101") == []
    assert lines(src, "KM101", cache_bytes=1_000_000) == [5]


def test_km101_tfds_sizes_follow_the_split():
    src = """
        import tensorflow_datasets as tfds
        big = tfds.load("cats_vs_dogs", split="train").cache()
        tenth = tfds.load("cats_vs_dogs", split="train[:10%]").cache()
        (tr, te), info = tfds.load("food101", split=["train", "validation"], with_info=True)
        whole = tr.cache()
    """
    # big: the whole cats_vs_dogs train split; tenth: ~10% of it, small enough;
    # whole: food101's train split, known through the split list (issue 16, class 1)
    assert lines(src, "KM101") == [3, 6]


def test_km101_decoding_helper_across_notebook_cells():
    text = notebook(
        "import tensorflow as tf\n",
        "def load(path):\n    return tf.image.decode_png(tf.io.read_file(path))\n",
        "files = tf.data.Dataset.list_files('scans/*.png')\n",
        "ds = files.map(load)\n",
        "ds = ds.batch(16).cache()\n",
    )
    assert [(f.cell, f.line) for f in lint(text, "scan.ipynb", select=["KM101"])] == [(4, 1)]


def test_km101_short_file_list_is_small():
    src = """
        import tensorflow as tf
        def load(p):
            return tf.io.decode_jpeg(tf.io.read_file(p))
        ds = tf.data.Dataset.from_tensor_slices(["a.jpg", "b.jpg", "c.jpg"]).map(load).cache()
    """
    assert lines(src, "KM101") == []


# --------------------------------------------------------------------------- KM202


def test_km202_fix_is_unsafe_with_validation_split_or_training_use():
    src = """
        import numpy as np
        from tensorflow import keras
        model = keras.models.load_model("m.keras")
        val_ds = keras.utils.image_dataset_from_directory("d", validation_split=0.2, subset="validation", seed=1)
        preds = model.predict(val_ds)
        y = np.concatenate([labels for _, labels in val_ds])
    """
    [(fix, _)] = fixes_of(src, "KM202")
    assert fix.applicability == "unsafe" and "validation_split" in fix.description


def test_km202_positional_shuffle_true_is_turned_off():
    src = """
        gen = datagen.flow_from_directory("d", (224, 224), "rgb", None, "categorical", 32, True)
        probs = model.predict(gen)
        names = gen.filenames
    """
    [(fix, module)] = fixes_of(src, "KM202")
    assert '32, False)' in fix.apply(module.text) and fix.applicability == "safe"


def test_km202_indexing_or_next_is_a_second_pass():
    src = """
        gen = datagen.flow_from_directory("d")
        probs = model.predict(gen)
        first_labels = next(gen)[1]
    """
    assert lines(src, "KM202") == [2]
    indexed = src.replace("next(gen)[1]", "gen[0][1]")
    assert lines(indexed, "KM202") == [2]


# --------------------------------------------------------------------------- KM203


def test_km203_tiny_loop_threshold_comes_from_the_settings():
    src = """
        from tensorflow import keras
        model = keras.models.load_model("m.keras")
        for i in range(8):
            model.predict(x[i:i + 1])
    """
    assert lines(src, "KM203") == [5]
    assert lines(src, "KM203", tiny_loop_iterations=10) == []


def test_km203_helper_two_levels_deep_points_at_the_loop_call():
    src = """
        from tensorflow import keras
        model = keras.models.load_model("m.keras")

        def score(batch):
            return model.predict(batch)

        def score_file(path):
            return score(load(path))

        for path in paths:
            score_file(path)
        score_file("one.png")
    """
    fs = found(src, "KM203")
    assert [f.line for f in fs] == [12] and "`score_file()`" in fs[0].message


def test_km203_helper_that_ignores_its_argument_is_not_per_item():
    src = """
        from tensorflow import keras
        model = keras.models.load_model("m.keras")

        def refresh(epoch):
            print(epoch)
            return model.predict(x_val)

        for epoch in range(50):
            refresh(epoch)
    """
    assert lines(src, "KM203") == []


def test_km203_no_fix_for_callbacks_or_datasets():
    src = """
        import tensorflow as tf
        from tensorflow import keras
        model = keras.models.load_model("m.keras")
        for x in items:
            model.predict(x, callbacks=[cb])
        for path in paths:
            model.predict(tf.data.Dataset.from_tensors(path).batch(1))
    """
    assert [fix for fix, _ in fixes_of(src, "KM203")] == [None, None]


def test_km203_needs_keras_evidence():
    src = """
        import joblib
        clf = joblib.load("forest.pkl")
        for row in rows:
            clf.predict(row)
    """
    assert lines(src, "KM203") == []


# --------------------------------------------------------------------------- KM205


def test_km205_shared_name_makes_the_fix_unsafe():
    src = """
        import math
        from tensorflow import keras
        model = keras.models.load_model("m.keras")
        steps = n // bs
        model.fit(train, steps_per_epoch=steps, validation_data=val, validation_steps=steps)
    """
    [(fix, module)] = fixes_of(src, "KM205")
    assert fix.applicability == "unsafe"
    fixed = fix.apply(module.text)
    assert "steps = math.ceil(n / bs)" in fixed and fixed.count("import math") == 1


def test_km205_fix_adds_import_math_once():
    src = "from tensorflow import keras\nmodel = keras.Sequential()\nmodel.predict(g, steps=n // 32)\nmodel.evaluate(g, steps=n // 32)\n"
    fixed = apply_fixes(src, "KM205")
    assert fixed == ("from tensorflow import keras\nimport math\nmodel = keras.Sequential()\n"
                     "model.predict(g, steps=math.ceil(n / 32))\nmodel.evaluate(g, steps=math.ceil(n / 32))\n")


# --------------------------------------------------------------------------- KM301


def test_km301_threshold_and_message_size():
    src = """
        import numpy as np
        from tensorflow import keras
        model = keras.Sequential([keras.layers.Dense(1)])
        scratch = np.zeros((1000, 1000), dtype=np.float32)
        model.fit(x, y)
    """
    assert lines(src, "KM301") == []
    [f] = found(src, "KM301", large_tensor_bytes=1_000_000)
    assert f.line == 5 and "~4 MB" in f.message


def test_km301_fix_moves_a_later_del_and_is_safe_in_py():
    src = textwrap.dedent("""
        import tensorflow as tf
        from tensorflow import keras
        model = keras.Sequential([keras.layers.Dense(1)])
        big = tf.random.normal((10000, 10000))
        total = tf.reduce_sum(big)
        model.fit(x, y)
        del big, model
    """)
    [(fix, module)] = fixes_of(src, "KM301")
    assert fix.applicability == "safe"
    assert fix.apply(module.text) == src.replace("total = tf.reduce_sum(big)\n", "total = tf.reduce_sum(big)\ndel big\n") \
        .replace("del big, model", "del model")


def test_km301_dynamic_globals_make_the_fix_unsafe():
    src = """
        import tensorflow as tf
        from tensorflow import keras
        model = keras.Sequential([keras.layers.Dense(1)])
        big = tf.random.normal((10000, 10000))
        model.fit(x, y)
        print(globals()["big"])
    """
    [(fix, _)] = fixes_of(src, "KM301")
    assert fix.applicability == "unsafe"


def test_km301_training_step_in_a_helper_called_in_a_loop_is_heavy_work():
    src = """
        import tensorflow as tf
        from tensorflow import keras
        model = keras.Sequential([keras.layers.Dense(1)])
        opt = keras.optimizers.Adam()
        table = tf.random.normal((40000, 1000))
        norms = tf.norm(table, axis=1)

        @tf.function
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((model(x) - y) ** 2)
            opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

        for x, y in ds:
            train_step(x, y)
    """
    fs = found(src, "KM301")
    assert [f.line for f in fs] == [6] and "train_step(...)" in fs[0].message


def test_km301_rebinding_in_a_later_cell_ends_the_old_array():
    text = notebook(
        "import numpy as np\nfrom tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(1)])\n",
        "x = np.zeros((20000, 2000))\n",
        "x = None\n",
        "model.fit(a, b)\n",
    )
    assert [f for f in lint(text, "n.ipynb", select=["KM301"])] == []


# --------------------------------------------------------------------------- KM302


def test_km302_fix_uses_the_numpy_alias_or_a_string():
    plain = "import numpy\nfrom tensorflow import keras\nmodel = keras.Sequential()\nmodel.fit(numpy.zeros((n, 2)), y)\n"
    assert "numpy.zeros((n, 2), dtype=numpy.float32)" in apply_fixes(plain, "KM302")
    imported = "from numpy import zeros\nfrom tensorflow import keras\nmodel = keras.Sequential()\nmodel.fit(zeros((n, 2)), y)\n"
    assert 'zeros((n, 2), dtype="float32")' in apply_fixes(imported, "KM302")


def test_km302_division_of_a_slice_and_a_reshape_of_uint8_data():
    src = """
        from tensorflow import keras
        (x_train, y_train), _ = keras.datasets.cifar10.load_data()
        model = keras.Sequential()
        model.fit(x_train[:10000] / 255, y_train[:10000])  # 246 MB as float64
    """
    fs = found(src, "KM302")
    assert [f.line for f in fs] == [5] and "fed to `model.fit`" in fs[0].message


def test_km302_generator_handed_to_from_generator():
    src = """
        import numpy as np
        import tensorflow as tf

        def samples():
            for _ in range(100):
                yield np.random.randn(256, 1024)

        ds = tf.data.Dataset.from_generator(samples, output_signature=tf.TensorSpec((256, 1024), tf.float64))
    """
    fs = found(src, "KM302")
    assert [f.line for f in fs] == [7] and "`samples()`" in fs[0].message


def test_km302_known_tiny_arrays_are_noise_unknown_sizes_count():
    src = """
        import numpy as np
        from tensorflow import keras
        model = keras.Sequential()
        model.fit(np.ones((4, 3)), y)
        model.fit(np.ones((n, 3)), y)
        model.fit(np.ones((10000, 1000)), y)
    """
    assert lines(src, "KM302") == [6, 7]  # 80 MB: over float64-min-bytes (64 MiB)


def test_km302_numpy_only_helper_generator_is_not_a_batch_generator():
    src = """
        import numpy as np

        def chunks(n):
            for i in range(n):
                yield np.random.rand(10)
    """
    assert lines(src, "KM302") == []


def test_km101_take_bounds_even_a_large_array():
    src = """
        import numpy as np
        import tensorflow as tf
        x = np.zeros((20000, 128, 128, 3), dtype=np.float32)
        preview = tf.data.Dataset.from_tensor_slices(x).batch(32).take(10).cache()
        whole = tf.data.Dataset.from_tensor_slices(x).batch(32).cache()
    """
    assert lines(src, "KM101") == [6]


# --------------------------------------------------------------------------- KM900


def test_km900_judges_only_codes_of_rules_that_ran_and_unknown_codes():
    src = "x = 1  # noqa: KM203\ny = 2  # noqa: KM999\n"
    only_some = [(f.line, f.message) for f in lint(src, "s.py", select=["KM900", "KM201"])]
    assert only_some == [(2, "Unused suppression for KM999")]
    everything = [(f.line, f.message) for f in lint(src, "s.py") if f.code == "KM900"]
    assert everything == [(1, "Unused suppression for KM203"), (2, "Unused suppression for KM999")]


def test_km203_bounded_iteration_is_a_tiny_loop():
    """Audit false positive (tf-docs notebooks): peeking at a couple of batches."""
    src = (
        "import tensorflow as tf\n"
        "import itertools\n"
        "model = tf.keras.models.load_model('m.keras')\n"
        "for images, labels in test_ds.take(1):\n"
        "    preds = model.predict(images)\n"
        "for x in itertools.islice(stream, 3):\n"
        "    model.predict(x)\n"
        "for img in x_test[:5]:\n"
        "    model.predict(img[None])\n"
        "for img in x_test[:500]:\n"
        "    model.predict(img[None])\n"
        "for batch in test_ds.take(n):\n"
        "    model.predict(batch)\n"
    )
    assert [(line, code) for line, code in codes(src) if code == "KM203"] == [(11, "KM203"), (13, "KM203")]
