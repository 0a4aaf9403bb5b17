import numpy as np
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
x = np.zeros((64, 8), dtype="float32")  # expect: KM900
y = np.zeros((64, 1), dtype="float32")


def batches():
    while True:
        yield x, y


model.fit(x, y, epochs=1)  # expect: KM900
model.fit_generator(batches(), steps_per_epoch=2)  # noqa: KM201  # expect: KM900
preds = model.predict(x)  # expect: KM900
model.save("model.keras")  # expect: KM900
