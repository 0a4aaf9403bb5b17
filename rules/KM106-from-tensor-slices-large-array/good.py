import glob

import numpy as np
import tensorflow as tf
from tensorflow import keras

# Raw uint8 images (154 MB) sliced as they are; the float cast happens lazily per batch.
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
train = tf.data.Dataset.from_tensor_slices((x_train, y_train))
train = train.batch(128).map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y))

# File paths and label vectors are small.
paths = sorted(glob.glob("photos/*.jpg"))
labels = np.zeros((len(paths),), dtype=np.int64)
files = tf.data.Dataset.from_tensor_slices((paths, labels))

# Index-based loading: only the indices go into the dataset.
indices = tf.data.Dataset.from_tensor_slices(np.arange(len(x_train)))

# Small float arrays: the MNIST test set scaled is 63 MB.
(_, _), (mnist_test, mnist_labels) = keras.datasets.mnist.load_data()
mnist_test = mnist_test / 255.0
test = tf.data.Dataset.from_tensor_slices((mnist_test, mnist_labels))

# A float label vector, even a long one, is small.
targets = np.zeros((1_000_000,), dtype=np.float32)
target_ds = tf.data.Dataset.from_tensor_slices(targets)

# Unknown shapes: no size-based finding.
def load_features(path):
    return np.load(path)


unknown = tf.data.Dataset.from_tensor_slices(load_features("features.npy"))
