"""Runtime scenario for KM204 (model-in-loop-no-clear-session), run by `kmlint check --runtime`.

A new Keras model per trial (k-fold, bootstrap, hyper-parameter search) that
is compiled and trained: every trial adds a model, its optimizer and its
traced train function to the process, and memory grows trial after trial.

``keras.backend.clear_session()`` at the top of the trial does not stop that
growth on TensorFlow 2.21 / Keras 3.15 (measured on the CPU, 30 trials of a
small Dense model trained two epochs on NumPy arrays: about 5.1 MiB per trial
without it, 4.1 MiB with it, 4.1 MiB with ``gc.collect()`` and
``malloc_trim(0)`` added): it drops Keras' own bookkeeping, but the graphs
each new model traced for training stay alive and registered with
TensorFlow's runtime.  That is why KM204 offers its ``clear_session()`` fix
only for loops that do not train.

What does stop it: building and compiling the model ONCE, and starting each
trial from the same initial weights (``model.set_weights(initial)``) with a
fresh optimizer state, on a dataset built once (``fixed`` below; about
13 KiB per trial, measured the same way).  Feeding NumPy arrays to ``fit``
instead still costs 50-90 KiB per trial (a new input pipeline per call).
When the trials need different models (a hyper-parameter search over layer
sizes), run each trial in its own process (``ProcessPoolExecutor`` with
``max_tasks_per_child=1`` and the ``spawn`` context): the parent does not
grow.  ``compile(run_eagerly=True)`` with ``clear_session()`` stops it too
(about 4 KiB per trial), at the price of eager training.

``clear_session`` is measured too (the ``clear_session`` variant): it is
the advice that does not work for trials that train.
"""

KIND = "slope"
BACKENDS = ("tensorflow", "jax", "torch")  # plain Keras (tf.data only under TensorFlow)
PARAMS = {"iterations": 20, "rows": 256, "features": 16}


class _Arrays:
    """NumPy batches for the JAX and PyTorch backends (``fit`` takes a generator-free dataset there)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def take(self, n):
        return _Arrays(self.x[:64 * n], self.y[:64 * n])


def _fit(model, data):
    if isinstance(data, _Arrays):
        model.fit(data.x, data.y, batch_size=64, epochs=1, verbose=0)
    else:
        model.fit(data, epochs=1, verbose=0)


def setup(p):
    import keras
    import numpy as np

    x = np.random.default_rng(0).random((p["rows"], p["features"]), dtype=np.float32)
    y = x.sum(axis=1, keepdims=True)
    if keras.backend.backend() != "tensorflow":
        return _Arrays(x, y)
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(64)


def _build(p):
    import keras

    model = keras.Sequential([keras.Input((p["features"],)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def bad(p, data):
    for _ in range(p["iterations"]):
        model = _build(p)
        _fit(model, data)
        yield


def clear_session(p, data):
    import keras

    for _ in range(p["iterations"]):
        keras.backend.clear_session()
        model = _build(p)
        _fit(model, data)
        yield


def fixed(p, data):
    import keras

    model = _build(p)
    _fit(model, data.take(1))  # creates the optimizer's variables once
    initial = model.get_weights()
    for _ in range(p["iterations"]):
        model.set_weights(initial)  # every trial starts from the same initial weights
        for variable in model.optimizer.variables:  # and from a fresh optimizer state
            variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
        _fit(model, data)
        yield
