import numpy as np
import tensorflow as tf
from tensorflow import keras

PREFETCH_BATCHES = 128

x = np.zeros((20000, 128, 128, 3), dtype=np.uint8)
y = np.zeros((20000,), dtype=np.int32)


def scale(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


train = tf.data.Dataset.from_tensor_slices((x, y)).map(scale).batch(64)
train = train.prefetch(tf.data.AUTOTUNE)  # expect: KM105

val = (
    tf.data.Dataset.from_tensor_slices((x[:2000], y[:2000]))
    .map(scale)
    .batch(64)
    .prefetch(buffer_size=tf.data.AUTOTUNE)  # expect: KM105
)

# image_dataset_from_directory yields batches of 32 already.
photos = keras.utils.image_dataset_from_directory("photos", image_size=(256, 256)).prefetch(tf.data.AUTOTUNE)  # expect: KM105
