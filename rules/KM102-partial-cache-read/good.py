import tensorflow as tf
from tensorflow import keras


def parse(record):
    features = {
        "x": tf.io.FixedLenFeature([64], tf.float32),
        "y": tf.io.FixedLenFeature([], tf.int64),
    }
    example = tf.io.parse_single_example(record, features)
    return example["x"], example["y"]


model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
records = tf.data.TFRecordDataset(["train-0.tfrecord"]).map(parse)

# The correct order: take first, then cache what was taken.
subset = records.take(2000).cache().batch(64)
model.fit(subset, epochs=20)

# Peeking at a cached pipeline once is harmless (the partial cache is dropped,
# the next full pass builds it).
cached = records.cache()
for x, y in cached.take(1):
    print(x.shape, y)
first = next(iter(cached.take(3)))
print(list(cached.take(2).as_numpy_iterator()))

# A single evaluation pass reads the subset once: nothing is rebuilt.
model.evaluate(cached.batch(64).take(5))

# repeat() between cache and take: each pass over the cache completes it.
model.fit(cached.repeat().batch(64).take(100), epochs=5)

# take(n) with n covering the whole (small, known) data set completes the cache.
small = tf.data.Dataset.from_tensor_slices([0.1, 0.2, 0.3]).cache().take(10)
model.fit(small.batch(3), epochs=4)


# A class of this project with `cache` and `take` methods is not tf.data.
class Query:
    def cache(self):
        return self

    def take(self, n):
        return list(range(n))


rows = Query().cache().take(100)
for epoch in range(3):
    for row in rows:
        print(row)


# From a real recommender's synthetic input: the repeat between the cache and
# the take may run (training), and the take feeds a second cache that is
# completed after one element, so the first cache is read once, not per epoch.
def synthetic(elements, is_training, use_cached_data):
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    dataset = dataset.cache()
    if is_training:
        dataset = dataset.repeat()
    if use_cached_data:
        dataset = dataset.take(1).cache().repeat()
    return dataset.batch(8, drop_remainder=True)
