"""Runtime scenario for KM109 (dataset-built-in-loop), run by `kmlint check --runtime`.

Building the ``tf.data`` pipeline inside the loop (here ``from_generator``,
which registers a new Python function with the runtime on every call)
creates new functions and buffers every iteration.  The fixed variant builds
the pipeline once and iterates it in the loop.
"""

KIND = "slope"
PARAMS = {"iterations": 30, "rows": 256, "features": 16, "batch_size": 64}


def setup(p):
    import numpy as np

    return np.random.default_rng(0).random((p["rows"], p["features"]), dtype=np.float32)


def _pipeline(p, x):
    import tensorflow as tf

    def rows():
        yield from x

    signature = tf.TensorSpec((p["features"],), tf.float32)
    return tf.data.Dataset.from_generator(rows, output_signature=signature).batch(p["batch_size"])


def bad(p, x):
    for _ in range(p["iterations"]):
        for _batch in _pipeline(p, x):
            pass
        yield


def fixed(p, x):
    # built once, and read through one iterator: a fresh iterator per epoch
    # costs a few KiB of its own, which made this variant's slope noisy on a
    # loaded machine (inconclusive instead of not confirmed)
    batches = iter(_pipeline(p, x).repeat())
    per_epoch = -(-p["rows"] // p["batch_size"])
    for _ in range(p["iterations"]):
        for _ in range(per_epoch):
            next(batches)
        yield
