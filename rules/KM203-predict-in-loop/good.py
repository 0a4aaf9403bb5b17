import unittest

import numpy as np
import tensorflow as tf
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import KFold
from tensorflow import keras

model = keras.models.load_model("classifier.keras")
x_test = np.load("x_test.npy")
x_val, y_val = np.load("x_val.npy"), np.load("y_val.npy")
test_ds = tf.data.Dataset.from_tensor_slices(x_test).batch(8)

# the right tools inside loops
for batch in test_ds:
    fast = model.predict_on_batch(batch)
    direct = model(batch, training=False)

# every call gets the whole data set
for epoch in range(20):
    model.fit(x_val, y_val, epochs=1, verbose=0)
    val_probs = model.predict(x_val, verbose=0)


def evaluate_all():
    return model.predict(x_test)


for epoch in range(3, 30):
    evaluate_all()

# k-fold cross-validation: each fold trains, then predicts its held-out part once
fold_scores = []
for train_idx, val_idx in KFold(n_splits=5).split(x_val):
    model.fit(x_val[train_idx], y_val[train_idx], epochs=1, verbose=0)
    fold_scores.append(model.predict(x_val[val_idx], verbose=0))

# tiny literal loops (test-time augmentation)
for k in range(3):
    shifted = model.predict(np.roll(x_test, k, axis=1))
for scale in (0.9, 1.0, 1.1):
    scaled = model.predict(x_test * scale)

# chunked inference of the whole data set: a handful of calls
chunks = [model.predict(x_test[start:start + 8192]) for start in range(0, len(x_test), 8192)]

# an ensemble: each model predicts the whole data set once
ensemble = [keras.models.load_model(f"member_{i}.keras") for i in range(8)]
votes = [member.predict(x_test) for member in ensemble]

# scikit-learn has predict too
forest = RandomForestClassifier().fit(x_val.reshape(len(x_val), -1), y_val)
for row in x_test.reshape(len(x_test), -1):
    forest.predict(row[None])


class Pipeline:
    """A project's own predict method."""

    def predict(self, item):
        return item


pipeline = Pipeline()
outputs = [pipeline.predict(item) for item in x_test]


# Peeking at one or two batches of a dataset is a bounded, tiny loop
# (found in the precision audit on tutorial notebooks).
peek_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(32)
test_images = x_test
for peek_images, peek_labels in peek_ds.take(1):
    peek_preds = model.predict(peek_images, verbose=0)
for first_image in test_images[:3]:
    model.predict(first_image[None], verbose=0)

# A short autoregressive decode loop: every step predicts on the whole data
# set and feeds the predictions back in as the next step's input.
tokens = np.zeros((len(x_test), 1), dtype="int32")
for step in range(10):
    step_probs = model.predict([x_test, tokens], verbose=0)
    next_tokens = step_probs[:, -1].argmax(axis=-1)
    tokens = np.concatenate([tokens, next_tokens[:, None]], axis=1)

# A decode loop over the whole batch, one step per position of the output
# sequence (its length is a dimension of the targets, not a count of examples).
targets = np.load("targets.npy")
max_output_length = targets.shape[1]
decoded = np.zeros((len(x_test), 1), dtype="int32")
for position in range(max_output_length):
    position_probs = model.predict([x_test, decoded], verbose=0)
    decoded = np.concatenate([decoded, position_probs[:, -1:].argmax(axis=-1)], axis=1)


# `ds.take(num)` where `num` is a parameter with a small default, and every
# call of the helper passes a small number
def show_predictions(dataset, num=1):
    for image, mask in dataset.take(num):
        shown = model.predict(image, verbose=0)


show_predictions(test_ds, 3)
show_predictions(test_ds)


# permutation importance: a column of the data set is shuffled in place, and
# every call predicts on the whole data set (not a buffer filled per batch)
def perturbation_rank(x, y):
    errors = []
    for column in range(x.shape[1]):
        hold = np.array(x[:, column])
        np.random.shuffle(x[:, column])
        errors.append(float(np.mean((model.predict(x, verbose=0) - y) ** 2)))
        x[:, column] = hold
    return errors


# a scoring function handed to a helper that calls it once, on the whole set
def score_all(x):
    return model.predict(x, verbose=0)


def report(scorer, data):
    print(scorer(data).mean())


report(score_all, x_test)

# A handful of cases named once (enumerate of a 4-element list): 4 calls.
strengths = [0.0, 0.05, 0.1, 0.2]
for i, strength in enumerate(strengths):
    noisy = x_val + strength * np.random.normal(size=x_val.shape).astype("float32")
    noisy_preds = model.predict(noisy[:8], verbose=0)


# A helper that shows a few batches: `take(count)` with a small default, and
# every call in the file passes a small count.
def show_some(dataset, count=1):
    for images, labels in dataset.take(count):
        shown = model.predict(images, verbose=0)


show_some(peek_ds)
show_some(peek_ds, 3)


# Decoding the whole data set together over an output length the code does not
# state: each step predicts on every input at once, so the calls are as few as
# the output is long.
def decode_all(inputs, out_len):
    decoded = np.zeros((len(inputs), 1), dtype="int32")
    for position in range(out_len):
        probs = model.predict([inputs, decoded], verbose=0)
        decoded = np.concatenate([decoded, probs[:, -1:].argmax(axis=-1)], axis=1)
    return decoded


encoded = x_test.reshape(len(x_test), -1)
decode_all(encoded, y_val.shape[1])


# A unit test looping over its channels: fixtures, not data

class ChannelwiseTest(unittest.TestCase):
    def test_channels_match(self):
        signal = np.random.rand(2, 100, x_test.shape[-1]).astype("float32")
        singles = [model.predict(signal[..., c:c + 1], verbose=0) for c in range(signal.shape[-1])]
        self.assertEqual(len(singles), signal.shape[-1])
