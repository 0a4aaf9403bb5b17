import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

paths = tf.data.Dataset.list_files("flowers/*/*.jpg")


def load(path):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    return tf.image.resize(image, (180, 180)) / 255.0


def augment(image):
    image = tf.image.random_flip_left_right(image)
    return tf.image.random_brightness(image, max_delta=0.2)


# The correct order: cache the deterministic part, augment after the cache.
train = paths.map(load).cache().map(augment)

# Cache after a deterministic map only.
normalized = paths.map(load).map(lambda x: (x - 0.5) * 2.0).cache()

# Stateless random ops with a fixed seed give the same result every epoch.
fixed_crop = paths.map(load).map(lambda x: tf.image.stateless_random_crop(x, (160, 160, 3), seed=(1, 2))).cache()

# A random layer called with training=False does nothing random.
flip = layers.RandomFlip("horizontal")
inference = paths.map(load).map(lambda x: flip(x, training=False)).cache()

# numpy randomness in a traced map function runs once, at trace time: a constant.
constant_jitter = paths.map(load).map(lambda x: x + np.random.uniform()).cache()

# The random op comes before an earlier cache, which is the one that decides.
twice = paths.map(load).cache().map(augment).batch(32)

# A random seed set in the program, not in the map.
tf.random.set_seed(42)
seeded = paths.map(load).cache()


# Keras random layers inside a model, not in the input pipeline.
model = keras.Sequential([layers.RandomFlip("horizontal"), layers.Conv2D(8, 3)])
pipeline = paths.map(load).cache().batch(32)


# a callable object whose random branch its constructor turns off
class Preprocess:
    def __init__(self, size, train):
        self._size = size
        self._train = train

    def __call__(self, image, label):
        image = tf.cast(image, tf.float32)
        if self._train:
            image = tf.image.random_flip_left_right(image)
        return image, label


test_images = tf.data.Dataset.from_tensor_slices((tf.zeros((10, 32, 32, 3)), tf.zeros(10)))
test_images = test_images.map(Preprocess(32, train=False)).cache()
