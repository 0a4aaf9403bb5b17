import numpy as np
from tensorflow import keras

(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train = x_train / 255.0
paths = [f"batches/{i}.npy" for i in range(1000)]


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


class FileSequence(keras.utils.Sequence):
    """Holds only file paths and loads each batch from disk."""

    def __init__(self, paths, labels, batch_size=64, **kwargs):
        super().__init__(**kwargs)
        self.paths, self.labels = paths, labels
        self.batch_size = batch_size

    def __len__(self):
        return len(self.paths) // self.batch_size

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return np.stack([np.load(p) for p in self.paths[s]]), self.labels[s]


model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

# a Sequence that loads from disk per batch
model.fit(FileSequence(paths, y_train), workers=8, use_multiprocessing=True)
# in-memory arrays with threads (no multiprocessing) or a single worker
model.fit(ArraySequence(x_train, y_train), workers=8, use_multiprocessing=False)
model.fit(ArraySequence(x_train, y_train), workers=1, use_multiprocessing=True)
model.fit(ArraySequence(x_train, y_train), workers=8)
# small arrays: copying them is cheap
small = ArraySequence(np.zeros((1000, 32, 32, 3), dtype="float32"), np.zeros(1000))
model.fit(small, workers=8, use_multiprocessing=True)
