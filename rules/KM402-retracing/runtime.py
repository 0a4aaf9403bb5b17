"""Runtime scenario for KM402 (retracing), run by `kmlint check --runtime`.

A ``tf.function`` training step called with a changing Python number (the
step counter, a learning rate) traces a new graph for every value and keeps
them all.  The fixed variant passes the number as a tensor
(``tf.constant``), so one graph serves every call.
"""

KIND = "slope"
PARAMS = {"iterations": 30, "batch_size": 32, "features": 16}


def setup(p):
    import keras
    import numpy as np
    import tensorflow as tf

    model = keras.Sequential([keras.Input((p["features"],)), keras.layers.Dense(32), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.01)

    @tf.function
    def train_step(x, step):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True))) / tf.cast(step + 1, tf.float32)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    x = np.random.default_rng(0).random((p["batch_size"], p["features"]), dtype=np.float32)
    return train_step, x


def bad(p, state):
    train_step, x = state
    for step in range(p["iterations"]):
        train_step(x, step)
        yield


def fixed(p, state):
    import tensorflow as tf

    train_step, x = state
    for step in range(p["iterations"]):
        train_step(x, tf.constant(step))
        yield
