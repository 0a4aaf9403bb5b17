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


# Reshuffled after the cache inside a helper that receives the cached pipeline
# (from a real ImageNet input function): file order shuffled, records cached,
# then a record-level shuffle every epoch.
def process_record_dataset(dataset, shuffle_buffer):
    dataset = dataset.shuffle(buffer_size=shuffle_buffer)
    return dataset.batch(32)


def input_fn(filenames, is_training):
    dataset = tf.data.Dataset.from_tensor_slices(filenames)
    if is_training:
        dataset = dataset.shuffle(buffer_size=len(filenames))
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=10)
    dataset = dataset.cache()
    return process_record_dataset(dataset=dataset, shuffle_buffer=10_000)


# shuffle() and cache() in the two arms of one if/else.
def pick(dataset, train):
    if train:
        dataset = dataset.shuffle(1000)
    else:
        dataset = dataset.cache()
    return dataset
