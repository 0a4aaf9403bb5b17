import random

import numpy as np
import tensorflow as tf
from tensorflow import keras

(x_train, y_train), _ = keras.datasets.mnist.load_data()

# The correct order: cache, then shuffle every epoch.
train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).cache().shuffle(10_000).batch(128)

# A fixed order on purpose.
frozen = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10_000, reshuffle_each_iteration=False).cache()

# Shuffled again after the cache: the order still changes every epoch.
files = tf.data.Dataset.list_files("shards/*.tfrecord").shuffle(64)
records = files.interleave(tf.data.TFRecordDataset).cache()
records = records.shuffle(4096).batch(256)

# Python and numpy shuffles before the dataset exists are not Dataset.shuffle.
paths = ["a.png", "b.png", "c.png"]
random.shuffle(paths)
index = np.arange(len(x_train))
np.random.shuffle(index)
ordered = tf.data.Dataset.from_tensor_slices(paths).cache()

# shuffle on a sibling branch, not upstream of the cache.
base = tf.data.Dataset.from_tensor_slices((x_train, y_train))
shuffled = base.shuffle(1000)
cached = base.cache()
