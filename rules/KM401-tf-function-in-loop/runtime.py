"""Runtime scenario for KM401 (tf-function-in-loop), run by `kmlint check --runtime`.

A ``@tf.function`` training step defined inside the loop is a new function
every iteration, and each one traces a new graph; the old graphs are only
freed by a full garbage collection, so memory keeps growing.  The fixed
variant defines the step once before the loop.
"""

KIND = "slope"
PARAMS = {"iterations": 30, "batch_size": 32, "features": 16}


def setup(p):
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((p["features"],)), keras.layers.Dense(32), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.01)
    x = np.random.default_rng(0).random((p["batch_size"], p["features"]), dtype=np.float32)
    return model, optimizer, x


def _make_step(model, optimizer):
    import tensorflow as tf

    @tf.function
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True)))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return train_step


def bad(p, state):
    model, optimizer, x = state
    for _ in range(p["iterations"]):
        train_step = _make_step(model, optimizer)
        train_step(x)
        yield


def fixed(p, state):
    model, optimizer, x = state
    train_step = _make_step(model, optimizer)
    for _ in range(p["iterations"]):
        train_step(x)
        yield
