import numpy as np
import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

# never used, deleted only once training is over
noise = tf.random.normal((100000, 784))  # expect: KM301

# copied into the pipeline by from_tensor_slices, but still referenced
features = np.random.rand(50000, 784).astype("float32")  # expect: KM301
labels = np.random.randint(0, 10, size=(50000,))
train_ds = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(1024).batch(64)
print("features:", features.shape)

model.fit(train_ds, epochs=2)
del noise

# a custom training loop after the last use
embeddings = np.zeros((30000, 1024), dtype=np.float32)  # expect: KM301
centroid = embeddings.mean(axis=0)
optimizer = keras.optimizers.Adam()
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
for x_batch, y_batch in train_ds:
    with tf.GradientTape() as tape:
        loss = loss_fn(y_batch, model(x_batch, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
