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


# take(1) of batches of a parameter's size: one batch, what a step holds anyway
def fake_data(dataset, batch_size):
    dataset = dataset.map(decode).batch(batch_size)
    return dataset.take(1).cache().repeat()


# a tfds split list of a small data set (mnist: 48000 x 784 bytes = 38 MB)
(digits_train, digits_val) = tfds.load("mnist", split=["train[:80%]", "train[80%:]"], as_supervised=True)
digits_train = digits_train.cache().shuffle(1000)

# integer token ids are short (output_sequence_length ints per review)
texts = keras.utils.text_dataset_from_directory("aclImdb/train")
ids = keras.layers.TextVectorization(max_tokens=20000, output_mode="int", output_sequence_length=200)
id_ds = texts.map(lambda x, y: (ids(x), y)).cache()

# a small vocabulary: 1000 multi_hot floats = 4 kB per review
small_vocab = keras.layers.TextVectorization(max_tokens=1000, output_mode="multi_hot")
small_ds = texts.map(lambda x, y: (small_vocab(x), y)).cache()

# the validation pipeline of unknown size (validation sets are a fraction of the
# training data; the per-example policy applies to the training data)
val_reviews = keras.utils.text_dataset_from_directory("aclImdb/val")
wide = keras.layers.TextVectorization(max_tokens=20000, output_mode="multi_hot")
val_vectors = val_reviews.map(lambda x, y: (wide(x), y))
classifier = keras.Sequential([keras.layers.Dense(1)])
classifier.fit(texts.map(lambda x, y: (wide(x), y)).cache("/scratch/train.cache"),
               validation_data=val_vectors.cache(), epochs=10)


# a helper that caches what its callers give it: here only small data
def configure_for_performance(ds):
    ds = ds.cache()
    return ds.shuffle(buffer_size=1000).batch(32)


small_mnist = configure_for_performance(tfds.load("mnist", split="train[:10%]"))


# the records of a handful of TFRecord files: a sample, not a corpus
few_shards = tf.data.Dataset.from_tensor_slices([f"sample-{i}.tfrecord" for i in range(4)])
few_shards = few_shards.interleave(tf.data.TFRecordDataset).cache()
