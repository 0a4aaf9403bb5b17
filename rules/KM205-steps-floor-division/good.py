import math

import numpy as np
import tensorflow as tf
from tensorflow import keras

model = keras.models.load_model("classifier.keras")
x_test = np.load("x_test.npy")
y_test = np.load("y_test.npy")
batch_size = 64
num_samples = len(x_test)


def batches(x, y, size):
    while True:
        for start in range(0, len(x), size):
            yield x[start:start + size], y[start:start + size]


# training: dropping a partial batch per epoch is harmless
model.fit(batches(x_test, y_test, batch_size), steps_per_epoch=num_samples // batch_size, epochs=2)

# every batch counted
model.evaluate(batches(x_test, y_test, batch_size), steps=math.ceil(num_samples / batch_size))
model.predict(batches(x_test, y_test, batch_size), steps=num_samples // batch_size + 1)
model.predict(batches(x_test, y_test, batch_size), steps=int(np.ceil(num_samples / batch_size)))
model.predict(batches(x_test, y_test, batch_size), steps=-(-num_samples // batch_size))

# the iterator knows its length
gen = keras.preprocessing.image.ImageDataGenerator().flow(x_test, y_test, batch_size=batch_size)
model.predict(gen, steps=len(gen))

# known sizes that divide exactly: nothing is dropped
model.evaluate(batches(x_test, y_test, 100), steps=10000 // 100)

# the data set itself drops the remainder, so flooring matches it
exact = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(batch_size, drop_remainder=True)
model.evaluate(exact, steps=num_samples // batch_size)


class Runner:
    """A project's own evaluate method with a steps argument."""

    def evaluate(self, data, steps):
        return [data] * steps

    def run(self, data):
        return self.evaluate(data, steps=len(data) // 2)


estimator = tf.compat.v1.estimator.DNNClassifier(hidden_units=[10], feature_columns=[])
estimator.evaluate(input_fn=None, steps=num_samples // batch_size)  # not a Keras model
pages = num_samples // batch_size  # floor division elsewhere is fine


# An infinite generator that never yields a partial batch (random indices,
# or wrapping around before the end): Keras draws `validation_steps` batches
# from it, the floor drops nothing and `ceil` would count a batch twice.
def random_batches(x, y, size):
    while True:
        idx = np.random.randint(0, len(x), size)
        yield x[idx], y[idx]


def wrapping_batches(x, y, size):
    start = 0
    while True:
        if start + size > len(x):
            start = 0
        yield x[start:start + size], y[start:start + size]
        start += size


val_gen = wrapping_batches(x_test, y_test, batch_size)
model.fit(
    random_batches(x_test, y_test, batch_size),
    steps_per_epoch=num_samples // batch_size,
    validation_data=val_gen,
    validation_steps=num_samples // batch_size,
)
model.evaluate(random_batches(x_test, y_test, batch_size), steps=num_samples // batch_size)

# a count divided again: validating on a deliberate fraction of the batches each epoch
model.fit(
    batches(x_test, y_test, batch_size),
    steps_per_epoch=num_samples // batch_size,
    validation_data=batches(x_test, y_test, batch_size),
    validation_steps=num_samples // batch_size // 4,
)
batches_per_pass = num_samples // batch_size
model.evaluate(batches(x_test, y_test, batch_size), steps=batches_per_pass // 10)


# a generator that makes only full batches (`range(n // size)`) and starts a
# new shuffled pass when they are used up: the floor drops nothing
def full_batches(x, y, size):
    while True:
        order = np.random.permutation(len(x))
        num_batches = len(x) // size
        for i in range(num_batches):
            rows = order[i * size:(i + 1) * size]
            yield x[rows], y[rows]


model.fit(
    full_batches(x_test, y_test, batch_size),
    steps_per_epoch=num_samples // batch_size,
    validation_data=full_batches(x_test, y_test, batch_size),
    validation_steps=num_samples // batch_size,
)
# endless data batched across the pass boundary (`repeat()` before `batch()`): every
# batch is full, so there is no partial batch to drop and `ceil` would only count
# wrapped-around examples twice
looping = tf.data.Dataset.from_tensor_slices((x_test, y_test)).shuffle(1000).repeat().batch(batch_size)
model.fit(looping, steps_per_epoch=num_samples // batch_size, epochs=2,
          validation_data=looping, validation_steps=num_samples // batch_size)
eval_steps = num_samples // batch_size
model.evaluate(looping, steps=eval_steps)


# a generator that reshuffles every pass and yields only the full batches of it
# (a floor count of batches), then wraps: the floor drops nothing
def full_batches(x, y, size):
    while True:
        order = np.random.permutation(len(x))
        n_batches = len(x) // size
        for b in range(n_batches):
            idx = order[b * size:(b + 1) * size]
            yield x[idx], y[idx]


model.fit(full_batches(x_test, y_test, batch_size), steps_per_epoch=num_samples // batch_size,
          validation_data=full_batches(x_test, y_test, batch_size), validation_steps=num_samples // batch_size)
