"""Stand-in data shared by the ``tf.data`` rule scenarios (rules/KM10x-*/runtime.py).
Runs only in the sandboxed child (imports TensorFlow lazily)."""


def decoded_bytes(p: dict, count: int) -> int:
    """Bytes of ``count`` decoded float32 images of the scenario's shape."""
    return count * p["height"] * p["width"] * p["channels"] * 4


def decode_fn(p: dict):
    """Index -> a float32 image tensor: stands in for reading and decoding an image file."""
    import tensorflow as tf

    shape = (p["height"], p["width"], p["channels"])
    return lambda i: tf.random.stateless_uniform(shape, seed=tf.stack([i, i]))
