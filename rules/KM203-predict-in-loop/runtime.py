"""Runtime scenario for KM203 (predict-in-loop), run by `kmlint check --runtime`.

``model.predict`` called per batch in a Python loop builds a new data adapter
and dataset every call, and memory keeps growing.  The fixed variant calls the
model directly (``model(x, training=False)``).
"""

KIND = "slope"
BACKENDS = ("tensorflow", "jax", "torch")  # plain Keras: runs under the project's backend
PARAMS = {"iterations": 30, "batch_size": 32, "features": 64}


def setup(p):
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((p["features"],)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10)])
    batch = np.random.default_rng(0).random((p["batch_size"], p["features"]), dtype=np.float32)
    return model, batch


def bad(p, state):
    model, batch = state
    for _ in range(p["iterations"]):
        model.predict(batch, verbose=0)
        yield


def fixed(p, state):
    model, batch = state
    for _ in range(p["iterations"]):
        model(batch, training=False)
        yield
