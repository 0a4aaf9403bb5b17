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


# tfds split lists unpacked into names (issue 16, classes 1 and 11): 80% of
# cats_vs_dogs decoded is ~4.4 GB (catalog counts x the decoded example size)
(pets_train, pets_val), pets_info = tfds.load("cats_vs_dogs", split=["train[:80%]", "train[80%:]"],
                                              with_info=True, as_supervised=True)
pets_train = pets_train.cache().shuffle(1000).batch(32)  # expect: KM101

# the map's return shape is known: 9304 examples resized to 150x150x3 float32 = 2.5 GB
(pets_small, _) = tfds.load("cats_vs_dogs", split=["train[:40%]", "train[40%:]"], as_supervised=True)
pets_small = pets_small.map(lambda x, y: (tf.image.resize(x, (150, 150)), y))
pets_small = pets_small.cache().batch(32)  # expect: KM101

# multi_hot text vectors are as wide as the vocabulary: 20000 float32 = 80 kB per
# review, from a directory of unknown size (per-rule policy: >= 64 kB per example)
reviews = keras.utils.text_dataset_from_directory("aclImdb/train", batch_size=32)
vectorizer = keras.layers.TextVectorization(max_tokens=20000, output_mode="multi_hot")
vectorizer.adapt(reviews.map(lambda x, y: x))
bag_of_words = reviews.map(lambda x, y: (vectorizer(x), y), num_parallel_calls=4)
model = keras.Sequential([keras.layers.Dense(1)])
model.fit(bag_of_words.cache(), epochs=10)  # expect: KM101


# tfds splits indexed by name, mapped by a function whose return shape is known:
# 3680 examples of a 512x512x3 float32 image and a 128x128x1 mask = 11.8 GB
def load_pet(example):
    image = tf.image.resize(example["image"], (512, 512))
    mask = tf.image.resize(example["segmentation_mask"], (128, 128))
    image = tf.image.flip_left_right(image)
    return tf.cast(image, tf.float32) / 255.0, mask


pet_splits, pet_info = tfds.load("oxford_iiit_pet", with_info=True)
pet_train = pet_splits["train"].map(load_pet)
pet_train = pet_train.cache().shuffle(1000).batch(8)  # expect: KM101


# the cache sits in a helper; what its callers pass decides what it holds
# (issue 16, class 4): 80% of tf_flowers decoded is ~1.2 GB
def configure_for_performance(ds):
    ds = ds.cache()  # expect: KM101
    ds = ds.shuffle(buffer_size=1000)
    return ds.batch(32).prefetch(AUTOTUNE)


flower_train = tfds.load("tf_flowers", split="train[:80%]", as_supervised=True)
digits_val = tfds.load("mnist", split="test[:10%]", as_supervised=True)
flower_train = configure_for_performance(flower_train)
digits_val = configure_for_performance(digits_val)


# the records of a long list of TFRecord shards (a corpus): the list comes
# from a helper that names 1024 shard files
def shard_names(data_dir):
    return [f"{data_dir}/train-{i:05d}-of-01024" for i in range(1024)]


shards_ds = tf.data.Dataset.from_tensor_slices(shard_names("/data/imagenet"))
shards_ds = shards_ds.interleave(tf.data.TFRecordDataset)
shards_ds = shards_ds.cache()  # expect: KM101
