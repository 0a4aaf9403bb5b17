import numpy as np
import tensorflow as tf
from tensorflow import keras

x = np.zeros((20000, 128, 128, 3), dtype=np.uint8)
y = np.zeros((20000,), dtype=np.int32)
AUTOTUNE = tf.data.AUTOTUNE

train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).prefetch(tf.data.AUTOTUNE)
val = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).prefetch(AUTOTUNE)
legacy = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).prefetch(tf.data.experimental.AUTOTUNE)
minus_one = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).prefetch(-1)

# A couple of batches ahead is plenty.
two = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).prefetch(2)

# Prefetching single elements before batching: 1000 small elements, not 1000 batches.
rows = tf.data.Dataset.from_tensor_slices(np.zeros((100000, 8), dtype=np.float32)).prefetch(1000).batch(256)

# Unbatched again before the prefetch.
flat = tf.data.Dataset.from_tensor_slices((x, y)).batch(64).unbatch().prefetch(256)

# image_dataset_from_directory with batch_size=None yields single images.
single = keras.utils.image_dataset_from_directory("photos", batch_size=None).prefetch(128)


# Not tf.data: a project cache with a prefetch method.
class PageCache:
    def batch(self, n):
        return self

    def prefetch(self, n):
        return self


pages = PageCache().prefetch(500)
