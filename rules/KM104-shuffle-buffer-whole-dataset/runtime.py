"""Runtime scenario for KM104 (shuffle-buffer-whole-dataset), run by `kmlint check --runtime`.

Shuffling decoded examples with a buffer as large as the data set fills the
buffer with every decoded example before the first one comes out.  The fixed
variant shuffles the indices (file names in real code) and decodes after.
"""

KIND = "peak"
PARAMS = {"elements": 128, "height": 128, "width": 128, "channels": 3}


def data_bytes(p):
    return p["elements"] * p["height"] * p["width"] * p["channels"] * 4


def _decode_fn(p):
    import tensorflow as tf

    shape = (p["height"], p["width"], p["channels"])
    return lambda i: tf.random.stateless_uniform(shape, seed=tf.stack([i, i]))


def bad(p, state):
    import tensorflow as tf

    ds = tf.data.Dataset.range(p["elements"]).map(_decode_fn(p)).shuffle(p["elements"], seed=0)
    for _ in ds:
        yield


def fixed(p, state):
    import tensorflow as tf

    ds = tf.data.Dataset.range(p["elements"]).shuffle(p["elements"], seed=0).map(_decode_fn(p))
    for _ in ds:
        yield
