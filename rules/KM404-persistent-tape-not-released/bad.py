import numpy as np
import tensorflow as tf

encoder = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(8)])
decoder = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(16)])
enc_opt = tf.keras.optimizers.Adam()
dec_opt = tf.keras.optimizers.Adam()
train_ds = tf.data.Dataset.from_tensor_slices(np.zeros((128, 16), "float32")).batch(32)

for epoch in range(5):
    for x in train_ds:
        with tf.GradientTape(persistent=True) as tape:  # expect: KM404
            code = encoder(x, training=True)
            recon = decoder(code, training=True)
            rec_loss = tf.reduce_mean(tf.square(recon - x))
            code_loss = tf.reduce_mean(tf.square(code))
        enc_grads = tape.gradient(rec_loss + code_loss, encoder.trainable_variables)
        dec_grads = tape.gradient(rec_loss, decoder.trainable_variables)
        enc_opt.apply_gradients(zip(enc_grads, encoder.trainable_variables))
        dec_opt.apply_gradients(zip(dec_grads, decoder.trainable_variables))

for x in train_ds:
    tape = tf.GradientTape(persistent=True)  # expect: KM404
    with tape:
        y = decoder(encoder(x))
        loss = tf.reduce_mean(y)
        # gradients taken inside the with block: the fix goes after the block
        g1 = tape.gradient(loss, encoder.trainable_variables)
    g2 = tape.gradient(loss, decoder.trainable_variables)
    print(len(g1) + len(g2))
