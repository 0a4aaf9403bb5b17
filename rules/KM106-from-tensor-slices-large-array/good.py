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

# The loader through one more name, kept uint8 (cast lazily in `.map`), and a
# small float32 slice of it (1000x28x28 float32 = 3 MB).
fashion_mnist = keras.datasets.fashion_mnist
(f_images, f_labels), _ = fashion_mnist.load_data()
raw_ds = tf.data.Dataset.from_tensor_slices((f_images, f_labels)).map(lambda x, y: (tf.cast(x, tf.float32) / 255.0, y))
sample = f_images[:1000].astype("float32") / 255.0
sample_ds = tf.data.Dataset.from_tensor_slices(sample)


# A helper returning a small float64 array: 100x32x32x3 = 2.5 MB.
def first_hundred(images):
    return images[:100] / 255.0


preview_ds = tf.data.Dataset.from_tensor_slices(first_hundred(f_images))
