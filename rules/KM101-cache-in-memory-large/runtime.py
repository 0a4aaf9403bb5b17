"""Runtime scenario for KM101 (cache-in-memory-large), run by `kmlint check --runtime`.

A pipeline decodes examples in a ``map`` (random tensors stand in for decoded
images).  ``cache()`` without a file name keeps every decoded example in
memory once the first epoch has passed: the process grows by about the
decoded size of the data.  The fixed variant caches before the decoding
``map`` (the file names or indices, which are small).  Caching to a file,
``cache(path)``, is the other fix; it is not measured here because writing
the file depends on the disk more than on the pipeline.
"""

KIND = "peak"
PARAMS = {"elements": 128, "height": 128, "width": 128, "channels": 3}


def data_bytes(p):
    return p["elements"] * p["height"] * p["width"] * p["channels"] * 4


def _decode_fn(p):
    import tensorflow as tf

    shape = (p["height"], p["width"], p["channels"])
    # stands in for reading and decoding an image file
    return lambda i: tf.random.stateless_uniform(shape, seed=tf.stack([i, i]))


def bad(p, state):
    import tensorflow as tf

    for _ in tf.data.Dataset.range(p["elements"]).map(_decode_fn(p)).cache():
        yield


def fixed(p, state):
    import tensorflow as tf

    for _ in tf.data.Dataset.range(p["elements"]).cache().map(_decode_fn(p)):
        yield
