"""Runtime scenario for KM303 (tensor-accumulation-in-loop), run by `kmlint check --runtime`.

A custom training loop appends each step's gradients (tensors) to a list
that lives across steps, to log them later: every step keeps a model-sized
set of tensors alive.  The fixed variant appends a Python float (the
gradient norm) instead.  Scalar loss tensors cost only a few hundred bytes
each on the CPU, too little to measure in a few dozen steps, so the
scenario accumulates gradients (on a GPU every tensor also pins device
memory).
"""

KIND = "slope"
PARAMS = {"iterations": 30, "batch_size": 32, "features": 256}


def setup(p):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((p["features"],)), keras.layers.Dense(p["features"]), keras.layers.Dense(1)])
    x = rng.random((p["batch_size"], p["features"]), dtype=np.float32)
    y = rng.random((p["batch_size"], 1), dtype=np.float32)
    return model, keras.optimizers.SGD(0.01), x, y


def _steps(p, state, to_history):
    import tensorflow as tf

    model, optimizer, x, y = state
    history = []
    for _ in range(p["iterations"]):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        history.append(to_history(grads))
        yield


def bad(p, state):
    yield from _steps(p, state, lambda grads: grads)


def fixed(p, state):
    import tensorflow as tf

    yield from _steps(p, state, lambda grads: float(tf.linalg.global_norm(grads)))
