import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input((None, 8)), tf.keras.layers.Dense(1)])
train_ds = tf.data.Dataset.from_tensor_slices(np.zeros((64, 10, 8), "float32")).batch(16)
sequence = np.random.rand(1, 200, 8).astype("float32")
EPOCHS = 30


@tf.function
def train_step(x, epoch, training=True):
    return tf.reduce_mean(model(x, training=training)) * tf.cast(epoch, tf.float32)


@tf.function(input_signature=[tf.TensorSpec([1, None, 8], tf.float32)])
def score_signature(x):
    return tf.reduce_sum(model(x))


@tf.function(reduce_retracing=True)
def score_relaxed(x):
    return tf.reduce_sum(model(x))


for epoch in range(EPOCHS):
    for x in train_ds:
        # tensors, not Python numbers
        train_step(x, tf.constant(epoch))
        train_step(x, tf.convert_to_tensor(epoch, dtype=tf.int64))
        # the same Python value on every call
        train_step(x, 3, training=True)

# Dataset.enumerate() counters are tensors
for step, x in train_ds.enumerate():
    train_step(x, step)

# so are tf.range values
for i in tf.range(10):
    train_step(sequence[:, :10], i)

# shapes change, but the function declares it
for length in range(1, 200):
    score_signature(sequence[:, :length])
    score_relaxed(sequence[:, :length])

# fixed-size windows keep their shape
for start in range(0, 190):
    train_step(sequence[:, start:start + 10], tf.constant(start))

# a tiny literal loop: at most a handful of traces
for epoch in range(3):
    train_step(sequence[:, :10], epoch)


# a tf.function calling another one inlines it: no retracing per value
@tf.function
def outer(x):
    total = 0.0
    for k in range(4):
        total += train_step(x, k)
    return total


# the same Python number on every successive call traces once
@tf.function
def power(x, k):
    return tf.cast(x, tf.float32) * tf.cast(k, tf.float32)


first = power(tf.zeros((2, 2)), 2)
again = power(tf.ones((2, 2)), 2)
