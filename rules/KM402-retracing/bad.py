import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([tf.keras.Input((None, 8)), tf.keras.layers.Dense(1)])
optimizer = tf.keras.optimizers.SGD()
train_ds = tf.data.Dataset.from_tensor_slices(np.zeros((64, 10, 8), "float32")).batch(16)
sequence = np.random.rand(1, 200, 8).astype("float32")
EPOCHS = 30


@tf.function
def train_step(x, epoch, lr):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x, training=True)) * tf.cast(epoch, tf.float32)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.learning_rate.assign(lr)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


@tf.function
def scaled_step(x, step):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x, training=True)) * step  # a float32 tensor times the step
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


def score(x):
    return tf.reduce_sum(model(x))


fast_score = tf.function(score)

lr = 0.1
for epoch in range(EPOCHS):
    for x in train_ds:
        train_step(x, epoch, 0.1)  # expect: KM402
    for x in train_ds:
        train_step(x, tf.constant(epoch), lr)  # expect: KM402
    lr *= 0.95

for step in range(EPOCHS):
    for x in train_ds:
        scaled_step(x, step)  # expect: KM402

for length in range(1, 200):
    fast_score(sequence[:, :length])  # expect: KM402


# successive calls at module level (consecutive notebook cells, a script's
# steps): a new Python number traces another graph
@tf.function
def power(x, k):
    return tf.cast(x, tf.float32) * tf.cast(k, tf.float32)


squares = power(sequence, 2)
cubes = power(sequence, 3)  # expect: KM402

# successive calls with tensors of a new shape, or a Python list after a tensor
@tf.function
def cube(x):
    return x ** 3


cube(tf.constant([[1.0, 2.0]]))
cube(tf.constant([[3.0, 4.0], [5.0, 6.0]]))  # expect: KM402
cube(tf.constant(2.0))  # expect: KM402
cube([1.0, -1.0])  # expect: KM402


# a helper forwarding its parameter to a tf.function, called in a loop with a
# Python number that changes on every iteration (a notebook cell per step)
@tf.function
def ascent_step(image, index, rate):
    with tf.GradientTape() as tape:
        tape.watch(image)
        loss = tf.reduce_mean(model(image)[..., index])
    return image + rate * tape.gradient(loss, image)


def filter_pattern(index):
    image = tf.random.uniform((1, 10, 8))
    for _ in range(30):
        image = ascent_step(image, index, 10.0)
    return image


patterns = []
for filter_index in range(64):
    patterns.append(filter_pattern(filter_index))  # expect: KM402


# ... or with an image resized to a new shape one line earlier
def ascent_loop(image, iterations):
    for _ in range(iterations):
        image = ascent_step(image, 0, 0.01)
    return image


dream = tf.random.uniform((1, 64, 64, 8))
for octave_shape in [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (96, 96)]:
    dream = tf.image.resize(dream, octave_shape)
    dream = ascent_loop(dream, 20)  # expect: KM402
