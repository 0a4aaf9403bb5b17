import numpy as np
import tensorflow as tf
from sklearn.model_selection import KFold
from tensorflow import keras

x = np.zeros((4096, 20), dtype=np.float32)
y = np.zeros((4096,), dtype=np.int32)
model = keras.Sequential([keras.layers.Dense(2)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

# Built once before the loop, iterated every epoch.
train = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(4096).batch(64)
for epoch in range(50):
    for xb, yb in train:
        model.train_on_batch(xb, yb)

# One dataset for all items, one predict call.
predictions = model.predict(tf.data.Dataset.from_tensor_slices(x).batch(256), verbose=0)

# k-fold cross-validation: each fold trains on different data, so it needs its own dataset.
for train_idx, val_idx in KFold(n_splits=10).split(x):
    fold_train = tf.data.Dataset.from_tensor_slices((x[train_idx], y[train_idx])).batch(64)
    fold_val = tf.data.Dataset.from_tensor_slices((x[val_idx], y[val_idx])).batch(64)
    model.fit(fold_train, validation_data=fold_val, epochs=3, verbose=0)

# A hyper-parameter sweep over batch sizes.
for batch_size in [16, 32, 64, 128, 256, 512]:
    swept = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    model.fit(swept, epochs=1, verbose=0)

# A tiny literal loop over the splits.
for name, (xs, ys) in [("train", (x, y)), ("test", (x[:100], y[:100]))]:
    model.evaluate(tf.data.Dataset.from_tensor_slices((xs, ys)).batch(64), verbose=0)

# Built lazily on the first iteration only.
cached = None
for epoch in range(50):
    if cached is None:
        cached = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
    model.fit(cached, epochs=1, verbose=0)

# A loop that writes shards does no training or inference.
for shard in range(16):
    part = tf.data.Dataset.from_tensor_slices(x[shard::16])
    part.save(f"shards/{shard}")

# One dataset per shard file, combined once: a comprehension, not a training loop.
shards = [tf.data.TFRecordDataset(f"records/{i}.tfrecord") for i in range(64)]
combined = tf.data.Dataset.sample_from_datasets(shards)
