"""Runtime scenario for KM101 (cache-in-memory-large), run by `kmlint check --runtime`.

A pipeline decodes examples in a ``map`` (random tensors stand in for decoded
images).  ``cache()`` without a file name keeps every decoded example in
memory once the first epoch has passed: the process grows by about the
decoded size of the data.  The fixed variant caches before the decoding
``map`` (the file names or indices, which are small).  Caching to a file,
``cache(path)``, is the other fix; it is not measured here because writing
the file depends on the disk more than on the pipeline.
"""

from kmlint.runtime.scenario_data import decode_fn, decoded_bytes

KIND = "peak"
PARAMS = {"elements": 128, "height": 128, "width": 128, "channels": 3}


def data_bytes(p):
    return decoded_bytes(p, p["elements"])


def bad(p, state):
    import tensorflow as tf

    for _ in tf.data.Dataset.range(p["elements"]).map(decode_fn(p)).cache():
        yield


def fixed(p, state):
    import tensorflow as tf

    for _ in tf.data.Dataset.range(p["elements"]).cache().map(decode_fn(p)):
        yield
