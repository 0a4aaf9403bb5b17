import tensorflow as tf
from tensorflow import keras

AUTOTUNE = tf.data.AUTOTUNE


def parse(record):
    features = {
        "x": tf.io.FixedLenFeature([64], tf.float32),
        "y": tf.io.FixedLenFeature([], tf.int64),
    }
    example = tf.io.parse_single_example(record, features)
    return example["x"], example["y"]


model = keras.Sequential([keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

# A quick experiment on a subset of a cached pipeline: the cache is never
# completed, TensorFlow throws it away and re-parses the records every epoch.
full = tf.data.TFRecordDataset(["train-0.tfrecord", "train-1.tfrecord"]).map(parse, num_parallel_calls=AUTOTUNE).take(2000).cache()
subset = full.batch(64)  # expect: KM102
val = tf.data.TFRecordDataset(["val.tfrecord"]).map(parse).take(500).cache().batch(64)  # expect: KM102
model.fit(subset, validation_data=val, epochs=20)

# A custom loop that reads a few warm-up batches every epoch.
warmup = (
    tf.data.TFRecordDataset(["train-0.tfrecord"])
    .map(parse)
    .batch(32)
    .take(10)
    .cache()  # expect: KM102
)
for epoch in range(3):
    for x, y in warmup:
        model.train_on_batch(x, y)
