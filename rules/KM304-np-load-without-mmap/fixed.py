import numpy as np
from tensorflow import keras

features = np.load("data/features.npy", mmap_mode="r")  # expect: KM304
labels = np.load("data/labels.npy", mmap_mode="r")

model = keras.Sequential([keras.Input((512,)), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

for start in range(0, len(features), 256):
    model.train_on_batch(features[start:start + 256], labels[start:start + 256])


class EmbeddingSequence(keras.utils.Sequence):
    def __init__(self, path, labels, batch_size=256, **kwargs):
        super().__init__(**kwargs)
        self.embeddings = np.load(path, mmap_mode="r")  # expect: KM304
        self.labels = labels
        self.batch_size = batch_size

    def __len__(self):
        return len(self.embeddings) // self.batch_size

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.embeddings[s], self.labels[s]
