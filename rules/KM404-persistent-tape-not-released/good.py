import numpy as np
import tensorflow as tf

encoder = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(8)])
decoder = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(16)])
optimizer = tf.keras.optimizers.Adam()
train_ds = tf.data.Dataset.from_tensor_slices(np.zeros((128, 16), "float32")).batch(32)
variables = encoder.trainable_variables + decoder.trainable_variables

# deleted after the last gradient call
for x in train_ds:
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_mean(tf.square(decoder(encoder(x)) - x))
    g_enc = tape.gradient(loss, encoder.trainable_variables)
    g_dec = tape.gradient(loss, decoder.trainable_variables)
    del tape
    optimizer.apply_gradients(zip(g_enc + g_dec, variables))

# a non-persistent tape is released by its single gradient call
for x in train_ds:
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(decoder(encoder(x)) - x))
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients(zip(grads, variables))

# persistent=False spelled out
for x in train_ds:
    with tf.GradientTape(persistent=False) as tape:
        loss = tf.reduce_mean(decoder(encoder(x)))
    grads = tape.gradient(loss, variables)


# the tape dies with the function's frame when the function returns
def jacobians(batches):
    for x in batches:
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = encoder(x)
        return tape.jacobian(y, x)


# outside any loop
with tf.GradientTape(persistent=True) as once:
    out = decoder(encoder(tf.zeros((1, 16))))
first = once.gradient(out, encoder.trainable_variables)
second = once.gradient(out, decoder.trainable_variables)
