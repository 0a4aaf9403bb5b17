import glob

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

paths = sorted(glob.glob("photos/*/*.jpg"))


def load_image(path):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    return tf.image.resize(image, (224, 224))


# The fix: shuffle the paths (cheap strings) before decoding, any buffer size.
ds = tf.data.Dataset.from_tensor_slices(paths)
ds = ds.shuffle(len(paths)).map(load_image).batch(32)

# Shuffling TFRecord file names before interleaving the records.
files = tf.data.Dataset.list_files("records/*.tfrecord").shuffle(1000)
records = files.interleave(tf.data.TFRecordDataset)

# A small buffer after decoding: 1000 images of 224x224x3 float32 = 0.6 GB.
small = tf.data.Dataset.from_tensor_slices(paths).map(load_image).shuffle(1000)

# Decoded elements of unknown size with a fixed buffer: nothing to estimate.
def decode_only(path):
    return tf.io.decode_png(tf.io.read_file(path))


unknown = tf.data.Dataset.from_tensor_slices(paths).map(decode_only).shuffle(2048)

# In-memory arrays: the shuffle buffer refers to data that is already in memory.
x_train = np.zeros((60000, 28, 28), dtype=np.uint8)
y_train = np.zeros((60000,), dtype=np.uint8)
arrays = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train))

# A small tfds data set shuffled whole: MNIST is about 55 MB decoded.
(mnist, info) = tfds.load("mnist", split="train", as_supervised=True, with_info=True)
mnist = mnist.cache().shuffle(info.splits["train"].num_examples)
mnist_whole = tfds.load("mnist", split="train").shuffle(60_000)

# Cached in memory first: the shuffle buffer shares the cached tensors (KM101 judges the cache).
cached = tf.data.Dataset.from_tensor_slices(paths).map(load_image).cache().shuffle(len(paths))

# Not tf.data: numpy shuffles an index array in place.
index = np.arange(len(paths))
np.random.shuffle(index)

# A tfds split list of a small data set with the buffer from `info.splits`:
# the whole mnist train split decoded is about 46 MB.
(digits_train, digits_val), digits_info = tfds.load("mnist", split=["train[:80%]", "train[80%:]"],
                                                    with_info=True, as_supervised=True)
digits_batches = digits_train.shuffle(digits_info.splits["train"].num_examples).batch(32)
