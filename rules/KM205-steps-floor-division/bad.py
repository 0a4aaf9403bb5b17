import numpy as np
from tensorflow import keras

model = keras.models.load_model("classifier.keras")
x_test = np.load("x_test.npy")
y_test = np.load("y_test.npy")
x_val, y_val = np.load("x_val.npy"), np.load("y_val.npy")
batch_size = 64
num_samples = len(x_test)


def batches(x, y, size):
    """Yields every sample once per pass; the last batch is smaller."""
    while True:
        for start in range(0, len(x), size):
            yield x[start:start + size], y[start:start + size]


loss, acc = model.evaluate(batches(x_test, y_test, batch_size), steps=num_samples // batch_size)  # expect: KM205

predict_steps = num_samples // batch_size
probs = model.predict(batches(x_test, y_test, batch_size), steps=predict_steps)  # expect: KM205

history = model.fit(
    batches(x_test, y_test, batch_size),
    steps_per_epoch=num_samples // batch_size,
    validation_data=batches(x_val, y_val, batch_size),
    validation_steps=len(x_val) // batch_size,  # expect: KM205
    epochs=3,
)
legacy = model.predict_generator(batches(x_test, y_test, 32), steps=num_samples // 32)  # expect: KM205
