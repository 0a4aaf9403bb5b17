"""KM204 (models built per iteration) and KM207 (multiprocessing copies) on
realistic training code."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.fixing import apply_fixes
from tests.helpers import codes, lint


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


KFOLD = src("""
    import numpy as np
    from sklearn.model_selection import KFold
    from tensorflow import keras

    x = np.random.rand(500, 10).astype("float32")
    y = np.random.randint(0, 2, 500)


    def make_classifier(hidden):
        inputs = keras.Input((10,))
        h = keras.layers.Dense(hidden, activation="relu")(inputs)
        outputs = keras.layers.Dense(1, activation="sigmoid")(h)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        return model


    scores = []
    keras.backend.clear_session()
    for train_idx, val_idx in KFold(n_splits=10).split(x):
        clf = make_classifier(64)
        clf.fit(x[train_idx], y[train_idx], epochs=3, verbose=0)
        scores.append(clf.evaluate(x[val_idx], y[val_idx], verbose=0)[1])
    print(np.mean(scores))
""")


def test_kfold_with_clear_session_only_before_the_loop_is_flagged_at_the_helper_call():
    found = lint(KFOLD, select=["KM204"])
    assert [(f.line, f.code) for f in found] == [(21, "KM204")]
    assert "`make_classifier()`" in found[0].message and "`Model`" in found[0].message


def test_kfold_that_trains_gets_advice_and_no_clear_session_fix():
    """Each fold trains: clear_session() was measured not to stop that growth (issue 12), so it is not offered."""
    (found,) = lint(KFOLD, select=["KM204"])
    assert found.fix is None
    assert apply_fixes(KFOLD, "KM204") == KFOLD
    assert "does not stop the growth" in found.message and "no fix is offered" in found.message


def test_clear_session_spelled_with_the_files_alias():
    text = src("""
        import tensorflow as tf
        from tensorflow.keras import backend as K

        for lr in [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]:
            m = tf.keras.Sequential([tf.keras.layers.Dense(1)])
            m.compile(optimizer=tf.keras.optimizers.Adam(lr), loss="mse")
    """)
    assert codes(text, select=["KM204"]) == [(5, "KM204")]
    assert "    K.clear_session()\n    m = tf.keras" in apply_fixes(text, "KM204")


def test_per_trial_function_clearing_at_its_end_is_clean_and_without_it_is_flagged():
    trial = src("""
        import keras

        def objective(units):
            model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])
            model.compile("adam", "mse")
            loss = model.evaluate(X, Y, verbose=0)
            {cleanup}
            return loss

        results = {{}}
        for units in range(8, 512, 8):
            results[units] = objective(units)
    """)
    assert codes(trial.format(cleanup="keras.backend.clear_session()"), select=["KM204"]) == []
    assert codes(trial.format(cleanup="keras.utils.clear_session()"), select=["KM204"]) == []
    assert codes(trial.format(cleanup="del model"), select=["KM204"]) == [(12, "KM204")]


def test_subclassed_models_and_applications_count_as_new_models():
    text = src("""
        import tensorflow as tf

        class Net(tf.keras.Model):
            def call(self, x):
                return x

        for seed in range(10):
            net = Net()
        for name in range(10):
            base = tf.keras.applications.MobileNetV2(weights=None)
    """)
    assert codes(text, select=["KM204"]) == [(8, "KM204"), (10, "KM204")]


def test_torch_and_sklearn_models_in_loops_are_not_keras_models():
    text = src("""
        import torch.nn as nn
        from sklearn.linear_model import LogisticRegression

        for fold in range(10):
            net = nn.Sequential(nn.Linear(4, 1))
            clf = LogisticRegression()
    """)
    assert codes(text, select=["KM204"]) == []


# ------------------------------------------------------------------ KM207

SEQUENCE = src("""
    import numpy as np
    import tensorflow as tf

    (x_train, y_train), _ = tf.keras.datasets.cifar100.load_data()
    x_train = x_train.astype("float32") / 255.0


    class Batches(tf.keras.utils.Sequence):
        def __init__(self, images, labels, batch_size):
            self.images = images
            self.labels = labels
            self.batch_size = batch_size

        def __len__(self):
            return len(self.images) // self.batch_size

        def __getitem__(self, idx):
            lo = idx * self.batch_size
            return self.images[lo:lo + self.batch_size], self.labels[lo:lo + self.batch_size]


    model = tf.keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=100)
    model.compile("sgd", "sparse_categorical_crossentropy")
    N_WORKERS = 6
    model.fit(Batches(x_train, y_train, 128), epochs=5, workers=N_WORKERS, use_multiprocessing=True)
""")


def test_sequence_over_a_large_array_with_process_workers_is_flagged():
    found = lint(SEQUENCE, select=["KM207"])
    assert [(f.line, f.code) for f in found] == [(25, "KM207")]
    assert "`Batches`" in found[0].message and "x_train" in found[0].message and "614 MB" in found[0].message


def test_threads_or_one_worker_or_small_data_are_not_flagged():
    assert codes(SEQUENCE.replace("use_multiprocessing=True", "use_multiprocessing=False"), select=["KM207"]) == []
    assert codes(SEQUENCE.replace("N_WORKERS = 6", "N_WORKERS = 1"), select=["KM207"]) == []
    small = SEQUENCE.replace("Batches(x_train, y_train, 128)", "Batches(x_train[:100], y_train[:100], 128)")
    assert codes(small, select=["KM207"]) == []  # a slice of unknown size: no size-based finding


def test_sequence_reading_files_per_batch_is_not_flagged():
    lazy = SEQUENCE.replace(
        "return self.images[lo:lo + self.batch_size], self.labels[lo:lo + self.batch_size]",
        "return np.stack([np.load(p) for p in self.images[lo:lo + self.batch_size]]), self.labels[lo:lo + 8]")
    assert codes(lazy, select=["KM207"]) == []


def test_builder_imported_from_another_project_file_is_followed(tmp_path):
    from kmlint.config import Settings
    from kmlint.engine.linter import lint_text

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "nets.py").write_text(src("""
        from tensorflow import keras

        def make_model(units):
            net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units)])
            net.compile("adam", "mse")
            return net

        def describe(units):
            return f"dense-{units}"
    """))
    script = tmp_path / "search.py"
    script.write_text(src("""
        from nets import make_model, describe

        for units in range(8, 256, 8):
            net = make_model(units)
            print(describe(units))
    """))
    result = lint_text(script.read_text(), str(script), Settings(select=["KM204"]))
    assert [(f.line, f.code) for f in result.findings] == [(4, "KM204")]
    assert "`make_model()` of nets.py" in result.findings[0].message
    assert str((tmp_path / "nets.py").resolve()) in result.dependencies
    # the others are where a missing import would appear as a project module
    assert all(not Path(d).exists() for d in result.dependencies if d != str((tmp_path / "nets.py").resolve()))


def test_km204_advice_depends_on_whether_each_iteration_trains():
    """Issue 12, measured on TF 2.21 CPU: clear_session() slows the growth of a
    loop that builds *and trains* a model (~5.1 -> ~4.1 MiB/trial) but does not
    stop it; reusing one model does (~13 KiB/trial).  The message says so for
    training loops and offers no fix there; build-only loops keep the
    clear_session() advice and fix."""
    trains = textwrap.dedent("""
        import keras
        for units in range(2, 40):
            m = keras.Sequential([keras.layers.Dense(units)])
            m.fit(x, y)
    """)
    builds = textwrap.dedent("""
        import keras
        for units in range(2, 40):
            m = keras.Sequential([keras.layers.Dense(units)])
            print(m(x))
    """)
    (trained,) = lint(trains, select=["KM204"])
    (built,) = lint(builds, select=["KM204"])
    assert "does not stop the growth" in trained.message and "set_weights" in trained.message
    assert "max_tasks_per_child=1" in trained.message and trained.fix is None
    assert "does not stop" not in built.message and "call `clear_session()` at the top" in built.message
    assert built.fix is not None and "clear_session()" in built.fix.description


def test_km204_training_through_a_per_trial_helper_gets_no_fix():
    text = textwrap.dedent("""
        import keras

        def trial(units):
            m = keras.Sequential([keras.layers.Dense(units)])
            m.compile("adam", "mse")
            m.fit(x, y, verbose=0)
            return m.evaluate(x, y, verbose=0)

        for units in range(2, 40):
            print(trial(units))
    """)
    (found,) = lint(text, select=["KM204"])
    assert found.fix is None and "`trial()`" in found.message and "trains it" in found.message


def test_km203_model_class_imported_from_another_project_file(tmp_path):
    """``model = VGG16(...)`` with ``class VGG16(keras.Model)`` in the
    project's network.py: a Keras model, so predict per batch is KM203
    (issue 16, class 4); a class there that is no Keras model is not."""
    from kmlint.config import Settings
    from kmlint.engine.linter import lint_text

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "network.py").write_text(src("""
        from tensorflow import keras

        class VGG16(keras.Model):
            def call(self, x):
                return x

        class Scorer:
            def predict(self, x):
                return x
    """))
    script = tmp_path / "main.py"
    script.write_text(src("""
        import tensorflow as tf
        from network import VGG16, Scorer

        model = VGG16([32, 32, 3])
        scorer = Scorer()
        test_loader = tf.data.Dataset.range(100).batch(4)
        for x in test_loader:
            logits = model.predict(x)
            scores = scorer.predict(x)
    """))
    result = lint_text(script.read_text(), str(script), Settings(select=["KM203"]))
    assert [(f.line, f.code) for f in result.findings] == [(8, "KM203")]
    assert str((tmp_path / "network.py").resolve()) in result.dependencies


def test_km203_message_says_the_growth_is_the_tensorflow_backend_s():
    """Issue 12: `predict` in a loop did not grow memory on the JAX and PyTorch backends (measured on a
    GPU and on the CPU): a file that selects one is still told about the time, not about a leak."""
    loop = textwrap.dedent("""
        import os
        {setting}
        import keras
        model = keras.models.load_model("m.keras")
        for x in batches:
            model.predict(x)
    """)
    cases = {'os.environ["KERAS_BACKEND"] = "jax"': "on the JAX backend this file selects that costs time, not memory",
             'os.environ.setdefault("KERAS_BACKEND", "torch")': "on the PyTorch backend",
             'os.environ["KERAS_BACKEND"] = "tensorflow"': "and memory grows",
             "pass": "and memory grows"}
    for setting, expected in cases.items():
        [finding] = lint(loop.format(setting=setting), select=["KM203"])
        assert expected in finding.message, (setting, finding.message)
        assert ("memory grows" in finding.message) == (expected == "and memory grows")
