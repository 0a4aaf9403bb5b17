"""Runtime scenario for KM204 (model-in-loop-no-clear-session), run by `kmlint check --runtime`.

A new Keras model per trial (k-fold, hyper-parameter search) without
``keras.backend.clear_session()`` keeps every earlier model's graph state
alive.  The fixed variant clears the session at the top of each trial.

Measured on TensorFlow 2.21 / Keras 3 (CPU): building and calling a
9-layer model per trial grows about 780 KiB per trial, about 16 KiB with
``clear_session()``.  Trials that also ``compile`` and train grow by several
MiB per trial with or without ``clear_session()`` (traced train functions
are not released by it), so the scenario measures building and calling.
"""

KIND = "slope"
PARAMS = {"iterations": 10, "rows": 64, "features": 16, "layers": 8}


def setup(p):
    import numpy as np

    return np.random.default_rng(0).random((p["rows"], p["features"]), dtype=np.float32)


def _trial(p, x):
    import keras

    hidden = [keras.layers.Dense(64, activation="relu") for _ in range(p["layers"])]
    model = keras.Sequential([keras.Input((p["features"],)), *hidden, keras.layers.Dense(1)])
    model(x)


def bad(p, x):
    for _ in range(p["iterations"]):
        _trial(p, x)
        yield


def fixed(p, x):
    import keras

    for _ in range(p["iterations"]):
        keras.backend.clear_session()
        _trial(p, x)
        yield
