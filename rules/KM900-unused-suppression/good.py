import os  # noqa  (a blanket noqa may serve other linters)

import numpy as np
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
y = np.zeros((200_000, 1), dtype="float32")


def batches(x):
    while True:
        yield x, y


# each suppression below silences a real finding
x = np.random.rand(len(y), 8)  # noqa: KM302
model.fit(x, y, epochs=1)
model.fit_generator(batches(x), steps_per_epoch=2)  # noqa: KM201
model.predict_generator(batches(x), steps=2)  # kmlint: ignore[KM201]
model.evaluate_generator(batches(x), steps=64 // 10)  # kmlint: ignore

# codes of other linters are not ours to judge
CACHE_DIR = os.environ.get("CACHE_DIR", "/tmp/a/very/long/path/that/goes/past/the/line/length/limit")  # noqa: E501
note = "# noqa: KM201 inside a string is not a comment"
