"""Runtime scenario for KM105 (prefetch-oversized), run by `kmlint check --runtime`.

``prefetch(n)`` with a large literal keeps up to n batches ready; while the
consumer is busy (the training step in real code, a pause here) the
producer fills the whole buffer.  ``prefetch(tf.data.AUTOTUNE)`` keeps the
buffer as small as the consumer needs.
"""

from kmlint.runtime.probe import settle
from kmlint.runtime.scenario_data import decode_fn, decoded_bytes

KIND = "peak"
PARAMS = {"buffer": 64, "batch_size": 8, "height": 64, "width": 64, "channels": 3}


def data_bytes(p):
    return decoded_bytes(p, p["buffer"] * p["batch_size"])


def _consume(p, buffer):
    import tensorflow as tf

    elements = (p["buffer"] + 4) * p["batch_size"]
    ds = (tf.data.Dataset.range(elements)
          .map(decode_fn(p))
          .batch(p["batch_size"])
          .prefetch(buffer))
    iterator = iter(ds)
    next(iterator)
    settle()  # a slow training step: the producer runs ahead
    yield
    for _ in iterator:
        yield


def bad(p, state):
    yield from _consume(p, p["buffer"])


def fixed(p, state):
    import tensorflow as tf

    yield from _consume(p, tf.data.AUTOTUNE)
