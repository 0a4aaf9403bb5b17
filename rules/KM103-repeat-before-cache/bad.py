import numpy as np
import tensorflow as tf
from tensorflow import keras


def load_example(path):
    image = tf.io.decode_png(tf.io.read_file(path), channels=1)
    image = tf.image.resize(image, (64, 64)) / 255.0
    label = tf.strings.to_number(tf.strings.split(path, "_")[-2], tf.int32)
    return image, label


model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

# Split over several statements: repeat() first, then cache().
train = tf.data.Dataset.list_files("digits/train/*.png", shuffle=True)
train = train.map(load_example, num_parallel_calls=tf.data.AUTOTUNE)
train = train.repeat()
train = train.cache()  # expect: KM103
train = train.batch(32).prefetch(tf.data.AUTOTUNE)
model.fit(train, steps_per_epoch=100, epochs=10)

# One expression; repeat(-1) is endless too.
features = np.zeros((5000, 32), dtype=np.float32)
stream = tf.data.Dataset.from_tensor_slices(features).repeat(-1).cache()  # expect: KM103
