import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow import keras

AUTOTUNE = tf.data.AUTOTUNE


def decode(path):
    image = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    return tf.image.resize(image, (224, 224)) / 255.0


# every decoded image of the folder kept in RAM
files = tf.data.Dataset.list_files("photos/*/*.jpg")
train_ds = files.map(decode, num_parallel_calls=AUTOTUNE).batch(32).cache().prefetch(AUTOTUNE)  # expect: KM101

# a directory loader decodes every file too
flowers = keras.utils.image_dataset_from_directory("flowers", image_size=(180, 180))
flowers = flowers.cache()  # expect: KM101

# a generator has no known length
def endless_batches():
    while True:
        yield np.random.rand(32, 100).astype("float32")


stream = tf.data.Dataset.from_generator(endless_batches, output_signature=tf.TensorSpec((32, 100), tf.float32))
stream = stream.cache()  # expect: KM101

# a known data set that is large once decoded
food = tfds.load("food101", split="train", as_supervised=True)
food = food.map(lambda image, label: (tf.image.resize(image, (224, 224)), label)).cache()  # expect: KM101

# TFRecord shards of a corpus
shards = tf.io.gfile.glob("gs://bucket/imagenet/train-*-of-01024")
records = tf.data.TFRecordDataset(shards, num_parallel_reads=AUTOTUNE).cache()  # expect: KM101

# an in-memory array over the threshold
clips = np.zeros((20000, 128, 128, 3), dtype=np.float32)
clip_ds = tf.data.Dataset.from_tensor_slices(clips).cache()  # expect: KM101

# audio decoded through tf.py_function
def load_wav(path):
    audio, _ = tf.audio.decode_wav(tf.io.read_file(path))
    return audio


speech = tf.data.Dataset.list_files("speech/*.wav")
speech = speech.map(lambda p: tf.py_function(load_wav, [p], tf.float32)).cache()  # expect: KM101
