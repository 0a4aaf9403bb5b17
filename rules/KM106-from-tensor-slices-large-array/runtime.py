"""Runtime scenario for KM106 (from-tensor-slices-large-array), run by `kmlint check --runtime`.

``from_tensor_slices`` on an in-memory float array copies the whole array
into a tensor (and, in graph mode, into the graph), so the process holds the
array several times at the peak.  The fixed variant streams rows from the
array with ``from_generator``: no copy of the whole array is made.
"""

KIND = "peak"
PARAMS = {"rows": 8192, "features": 1024}


def data_bytes(p):
    return p["rows"] * p["features"] * 4


def setup(p):
    import numpy as np

    return np.random.default_rng(0).random((p["rows"], p["features"]), dtype=np.float32)


def bad(p, x):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(x).batch(256)
    for _ in ds.take(4):
        yield


def fixed(p, x):
    import tensorflow as tf

    ds = tf.data.Dataset.from_generator(
        lambda: iter(x), output_signature=tf.TensorSpec((p["features"],), tf.float32)).batch(256)
    for _ in ds.take(4):
        yield
