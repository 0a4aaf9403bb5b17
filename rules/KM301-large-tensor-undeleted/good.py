import numpy as np
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

# small arrays
x_small = np.zeros((1000, 20), dtype=np.float32)
y_small = np.zeros((1000,), dtype=np.int32)
summary = x_small.mean()

# deleted before the heavy work
scratch = tf.random.normal((100000, 784))
checksum = float(tf.reduce_sum(scratch))
del scratch

# the training data itself: needed by fit
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train = x_train.astype("float32") / 255.0  # the uint8 array is dropped by the rebinding
model.fit(x_train.reshape(len(x_train), -1), y_train, epochs=1)

# needed again after the heavy work (directly or through a function called later)
x_eval = np.random.rand(20000, 784).astype("float32")
reference = tf.random.normal((50000, 784))
model.fit(x_small, y_small, epochs=1)
model.evaluate(x_eval, y_test[:20000])


def drift():
    return float(tf.reduce_mean(reference))  # called at the end of the file


# a view keeps the memory alive anyway: del would free nothing
pool = np.zeros((40000, 1000), dtype=np.float32)
holdout = pool[-5000:]
model.fit(x_small, y_small, epochs=1)
model.evaluate(holdout, np.zeros(5000))

# an object holds it for the whole training
class ArraySequence(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size):
        super().__init__()
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.batch_size

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]


images = np.zeros((60000, 784), dtype=np.float32)
sequence = ArraySequence(images, np.zeros(60000), 64)
model.fit(sequence, epochs=1)

# read lazily by the pipeline while it trains
table = np.zeros((100000, 512), dtype=np.float32)
index_ds = tf.data.Dataset.range(100000).map(lambda i: tf.gather(table, i)).batch(64)
model.predict(index_ds)

# unknown sizes
loaded = np.load("features.npy")
loaded_mean = loaded.mean()
model.fit(x_small, y_small)

# scikit-learn training is not Keras heavy work
matrix = np.random.rand(20000, 1000)
column_means = matrix.mean(axis=0)
LogisticRegression().fit(np.zeros((10, 2)), np.zeros(10))

# no heavy work after it
big = tf.random.normal((10000, 10000))
product = tf.matmul(big, big)


def main():
    local = tf.random.normal((100000, 784))  # function scope: freed on return
    print(local.shape)
    model.fit(x_small, y_small)


print("drift after all training:", drift())
print("evaluation inputs:", x_eval.shape)
