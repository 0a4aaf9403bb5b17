import numpy as np
from tensorflow import keras


def batches(x, y, size):
    while True:
        idx = np.random.randint(0, len(x), size)
        yield x[idx], y[idx]


model = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
x = np.zeros((512, 16), dtype="float32")
y = np.zeros((512,), dtype="int32")

model.fit_generator(batches(x, y, 32), steps_per_epoch=16, epochs=2)  # expect: KM201
loss = model.evaluate_generator(batches(x, y, 32), steps=4)  # expect: KM201
preds = model.predict_generator(  # expect: KM201
    batches(x, y, 32),
    steps=4,
    workers=4,
    use_multiprocessing=True,
)
