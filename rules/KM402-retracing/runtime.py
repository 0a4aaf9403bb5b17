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


# A step function that multiplies a float32 tensor by the Python number.  With
# a Python int TensorFlow converts the number to the tensor's dtype while
# tracing; ``tf.constant(step)`` is an int32 tensor instead, and the fixed
# program fails: "TypeError: Input 'y' of 'Mul' Op has type int32 that does
# not match type float32" (issue 12).  The fix that keeps the program working
# passes the tensor in the dtype the function uses it with.
# Measured (TF 2.21, CPU, 30 calls): Python int 30 traces, ~717 KiB/iter;
# ``tf.constant(step)`` TypeError; ``tf.constant(step, tf.float32)`` 1 trace,
# ~0 KiB/iter; ``@tf.function(reduce_retracing=True)`` with the Python int
# still 30 traces, ~719 KiB/iter (it generalises shapes, not Python values).


def _scaled_setup(p):
    import keras
    import numpy as np
    import tensorflow as tf

    model = keras.Sequential([keras.Input((p["features"],)), keras.layers.Dense(32), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.01)

    @tf.function
    def scaled_step(x, step):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x, training=True))) * step  # float32 tensor times the step
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    x = np.random.default_rng(0).random((p["batch_size"], p["features"]), dtype=np.float32)
    return scaled_step, x


def bad_scaled(p, state):
    scaled_step, x = _scaled_setup(p)
    for step in range(p["iterations"]):
        scaled_step(x, step)
        yield


def autofix_scaled(p, state):
    """What kmlint's current autofix makes of ``bad_scaled``: breaks the program."""
    import tensorflow as tf

    scaled_step, x = _scaled_setup(p)
    for step in range(p["iterations"]):
        scaled_step(x, tf.constant(step))
        yield


def fixed_scaled(p, state):
    """The fix that keeps the program's dtypes: the tensor in the dtype the function multiplies it with."""
    import tensorflow as tf

    scaled_step, x = _scaled_setup(p)
    for step in range(p["iterations"]):
        scaled_step(x, tf.constant(step, tf.float32))
        yield


def reduce_retracing_scaled(p, state):
    """``reduce_retracing=True`` keeps the Python int: it does not stop the retracing."""
    import tensorflow as tf

    scaled_step, x = _scaled_setup(p)
    relaxed = tf.function(scaled_step.python_function, reduce_retracing=True)
    for step in range(p["iterations"]):
        relaxed(x, step)
        yield
