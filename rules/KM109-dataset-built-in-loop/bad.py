import numpy as np
import tensorflow as tf
from tensorflow import keras

x = np.zeros((4096, 20), dtype=np.float32)
y = np.zeros((4096,), dtype=np.int32)
model = keras.Sequential([keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
optimizer = keras.optimizers.Adam()
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

# The same pipeline rebuilt every epoch of a custom training loop.
for epoch in range(50):
    train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(4096).batch(64)  # expect: KM109
    for xb, yb in train:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

# One dataset per item for inference.
predictions = []
for row in x:
    single = tf.data.Dataset.from_tensors(row[None, :])  # expect: KM109
    predictions.append(model.predict(single, verbose=0))


# Through a helper called from the loop: the finding is at the call in the loop.
def batches():
    def gen():
        for i in range(0, len(x), 64):
            yield x[i:i + 64], y[i:i + 64]

    return tf.data.Dataset.from_generator(
        gen,
        output_signature=(tf.TensorSpec((None, 20), tf.float32), tf.TensorSpec((None,), tf.int32)),
    )


for epoch in range(20):
    model.fit(batches(), epochs=1, verbose=0)  # expect: KM109
