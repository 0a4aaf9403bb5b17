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


# successive calls with tensors of one shape trace once
@tf.function
def cube(x):
    return x ** 3


cube(tf.constant([[1.0, 2.0]]))
cube(tf.constant([[3.0, 4.0]]))
cube(tf.constant([[5.0, 6.0]]))


# a helper forwarding a tensor built from the loop's number: one trace
@tf.function
def scaled(x, k):
    return x * k


def apply_scaled(x, k):
    return scaled(x, k)


for k in range(64):
    apply_scaled(tf.zeros((2, 2)), tf.constant(k, tf.float32))

# a helper forwarding an image that keeps its shape
def repeat_scaled(image, times):
    for _ in range(times):
        image = scaled(image, 0.5)
    return image


frame = tf.zeros((1, 32, 32, 3))
for step in range(64):
    frame = frame + 1.0
    frame = repeat_scaled(frame, 3)
