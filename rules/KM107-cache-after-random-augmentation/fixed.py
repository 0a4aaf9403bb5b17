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


# tf.image.random_* in a def: the flips of epoch 1 are replayed forever.
train = paths.map(load).cache().map(augment)  # expect: KM107

# Keras random preprocessing layers applied in a lambda, cached after batching.
data_augmentation = keras.Sequential([
    layers.RandomFlip("horizontal"),
    layers.RandomRotation(0.1),
    layers.RandomZoom(0.1),
])
labeled = paths.map(lambda p: (load(p), 0))
labeled = labeled.cache().map(lambda x, y: (data_augmentation(x, training=True), y)).batch(32)  # expect: KM107


# Random noise from tf.random, split over statements.
def add_noise(image):
    return image + tf.random.normal(tf.shape(image), stddev=0.05)


noisy = paths.map(load)
noisy = noisy.cache().map(add_noise)

# one split of the dict `tfds.load` returns; a random draw guards a deterministic flip
import tensorflow_datasets as tfds

pets, pets_info = tfds.load("oxford_iiit_pet", with_info=True)


def load_pet(datapoint):
    image = tf.image.resize(datapoint["image"], (128, 128))
    if tf.random.uniform(()) > 0.5:
        image = tf.image.flip_left_right(image)
    return image


pet_train = pets["train"].cache().map(load_pet, num_parallel_calls=tf.data.AUTOTUNE)
pet_batches = pet_train.shuffle(1000).batch(8)  # expect: KM107


# a callable object of this file as the map function: its __call__ (and the
# method it calls) draws random crops and flips when built with train=True
class Preprocess:
    def __init__(self, size, train):
        self._size = size
        self._train = train

    def __call__(self, image, label):
        image = tf.cast(image, tf.float32)
        if self._train:
            image = tf.image.random_flip_left_right(image)
            image = self.jitter(image)
        return image, label

    def jitter(self, image):
        image = tf.image.resize_with_crop_or_pad(image, self._size + 8, self._size + 8)
        return tf.image.random_crop(image, size=[self._size, self._size, 3])


cifar_train = tfds.load("cifar10", split="train", as_supervised=True)
cifar_train = cifar_train.cache().map(Preprocess(32, train=True))  # expect: KM107
