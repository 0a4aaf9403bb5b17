"""Runtime scenario for KM301 (large-tensor-undeleted), run by `kmlint check --runtime`.

A large raw array stays bound while the heavy work (training) runs on a
smaller array derived from it: the process holds both.  The fixed variant
deletes the raw array after its last use.  The measured phase is the heavy
work; the baseline is the process before the raw array existed.
"""

KIND = "peak"
PARAMS = {"rows": 16384, "features": 256}


def data_bytes(p):
    return p["rows"] * p["features"] * 8


def _prepare(p):
    import numpy as np

    raw = np.random.default_rng(0).random((p["rows"], p["features"]))  # float64, like real loaders
    x = raw[:, :8].astype("float32")
    y = raw[:, 8:9].astype("float32")
    return raw, x, y


def _train(x, y):
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=1024, verbose=0)


def bad(p, state):
    raw, x, y = _prepare(p)
    yield "start"
    _train(x, y)
    yield


def fixed(p, state):
    raw, x, y = _prepare(p)
    del raw
    yield "start"
    _train(x, y)
    yield
