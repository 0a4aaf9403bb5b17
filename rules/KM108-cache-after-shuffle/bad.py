import numpy as np
import tensorflow as tf
from tensorflow import keras

(x_train, y_train), _ = keras.datasets.mnist.load_data()

# Shuffled once, then cached: every epoch replays epoch 1's order.
train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10_000).cache()  # expect: KM108
train = train.batch(128).prefetch(tf.data.AUTOTUNE)


def build_pipeline(paths, labels):
    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    ds = ds.shuffle(len(paths))
    ds = ds.cache()  # expect: KM108
    return ds.batch(32)


files = np.array(["a.png", "b.png", "c.png"])
pipeline = build_pipeline(files, np.array([0, 1, 0]))
