import functools

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow import keras

from project.data import parse_record  # what it does is not visible here

AUTOTUNE = tf.data.AUTOTUNE


def decode(path):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    return tf.image.resize(image, (224, 224))


files = tf.data.Dataset.list_files("photos/*/*.jpg")

# cache(filename): on disk
on_disk = files.map(decode).cache("/tmp/photos.cache")
cache_path = "/scratch/photos"
also_on_disk = files.map(decode).cache(filename=cache_path)

# caching before the decoding map keeps only file names / encoded bytes
names_cached = files.cache().map(decode, num_parallel_calls=AUTOTUNE)

# take(n).cache() with a small n
preview = files.map(decode).take(100).cache()
few_batches = files.map(decode).batch(8).take(20).cache()

# data of known small size
(x_train, y_train), _ = keras.datasets.mnist.load_data()
mnist_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).cache()
tabular = np.zeros((5000, 20), dtype=np.float32)
tabular_ds = tf.data.Dataset.from_tensor_slices(tabular).batch(64).cache()
small_tfds = tfds.load("mnist", split="train").cache()

# text corpora from a directory are small once loaded
reviews = keras.utils.text_dataset_from_directory("aclImdb/train").cache()

# a single TFRecord file, and a parser this file does not show
one_file = tf.data.TFRecordDataset("validation.tfrecord").map(parse_record).cache()

# a generator whose length is asserted
def rows():
    for i in range(500):
        yield np.full((4,), i, dtype=np.float32)


bounded = tf.data.Dataset.from_generator(rows, output_signature=tf.TensorSpec((4,), tf.float32))
bounded = bounded.apply(tf.data.experimental.assert_cardinality(500)).cache()

# other things called cache
@functools.cache
def vocabulary():
    return {"a": 0}


memo = functools.lru_cache(maxsize=None)(decode)
session_cache = {}
session_cache.setdefault("x", 1)
