import os

import numpy as np
from tensorflow import keras

(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train = x_train / 255.0  # float64: 1.2 GB
features = np.random.rand(200_000, 256)  # 410 MB


class ArraySequence(keras.utils.Sequence):
    def __init__(self, x, y, batch_size=64, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = x, y
        self.batch_size = batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]


def feature_batches(batch_size):
    while True:
        idx = np.random.randint(0, len(features), batch_size)
        yield features[idx], np.zeros(batch_size)


model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

train_seq = ArraySequence(x_train, y_train)
model.fit(train_seq, epochs=2, workers=8, use_multiprocessing=True)  # expect: KM207

# Keras 3: the workers are configured on the PyDataset itself
seq3 = ArraySequence(x_train, y_train, workers=os.cpu_count(), use_multiprocessing=True)  # expect: KM207

dense = keras.Sequential([keras.Input((256,)), keras.layers.Dense(1)])
dense.compile(optimizer="adam", loss="mse")
dense.fit(feature_batches(64), steps_per_epoch=100, workers=4, use_multiprocessing=True)  # expect: KM207
