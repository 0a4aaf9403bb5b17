import tensorflow as tf

embedding = tf.keras.layers.Embedding(1000, 16)


@tf.function(reduce_retracing=True)
def encode(tokens):
    return embedding(tokens)


def pool(x, experimental_relax_shapes=False):
    """A project's own function with a keyword of the same name is not tf.function."""
    return tf.reduce_mean(x, axis=1)


fast_pool = tf.function(pool, reduce_retracing=True)
pooled = pool(tf.ones((2, 3)), experimental_relax_shapes=True)
# tf.function(f, experimental_relax_shapes=True) in a comment is not code
