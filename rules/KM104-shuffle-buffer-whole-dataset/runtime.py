"""Runtime scenario for KM104 (shuffle-buffer-whole-dataset), run by `kmlint check --runtime`.

Shuffling decoded examples with a buffer as large as the data set fills the
buffer with every decoded example before the first one comes out.  The fixed
variant shuffles the indices (file names in real code) and decodes after.
"""

from kmlint.runtime.scenario_data import decode_fn, decoded_bytes

KIND = "peak"
PARAMS = {"elements": 128, "height": 128, "width": 128, "channels": 3}


def data_bytes(p):
    return decoded_bytes(p, p["elements"])


def bad(p, state):
    import tensorflow as tf

    ds = tf.data.Dataset.range(p["elements"]).map(decode_fn(p)).shuffle(p["elements"], seed=0)
    for _ in ds:
        yield


def fixed(p, state):
    import tensorflow as tf

    ds = tf.data.Dataset.range(p["elements"]).shuffle(p["elements"], seed=0).map(decode_fn(p))
    for _ in ds:
        yield
