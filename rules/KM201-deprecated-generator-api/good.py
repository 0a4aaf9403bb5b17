import numpy as np
from tensorflow import keras


def batches(x, y, size):
    while True:
        idx = np.random.randint(0, len(x), size)
        yield x[idx], y[idx]


class Trainer:
    """A project's own method that happens to share the old name."""

    def fit_generator(self, gen):
        return list(gen)

    def run(self, gen):
        return self.fit_generator(gen)


model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
x = np.zeros((512, 16), dtype="float32")
y = np.zeros((512,), dtype="int32")

model.fit(batches(x, y, 32), steps_per_epoch=16, epochs=2)
model.train_on_batch(x[:32], y[:32])
out = model.predict_on_batch(x[:32])
# model.fit_generator(...) in a comment is not code
text = "model.fit_generator(gen) in a string is not code"
