import tensorflow as tf

embedding = tf.keras.layers.Embedding(1000, 16)


@tf.function(reduce_retracing=True)  # expect: KM403
def encode(tokens):
    return embedding(tokens)


def pool(x):
    return tf.reduce_mean(x, axis=1)


fast_pool = tf.function(pool, reduce_retracing=True)  # expect: KM403
