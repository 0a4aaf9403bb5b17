import unittest

import numpy as np
import tensorflow as tf
from sklearn.model_selection import ShuffleSplit
from tensorflow import keras

x = np.random.rand(600, 20).astype("float32")
y = np.random.randint(0, 2, 600)
folds = np.array_split(np.arange(600), 10)


def build_model(units):
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(units), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def run_trial(units):
    model = build_model(units)
    model.fit(x, y, epochs=2, verbose=0)
    score = model.evaluate(x, y, verbose=0)
    keras.backend.clear_session()  # at the end of the per-trial function: runs once per trial
    return score


# clear_session() inside the loop body
for fold, val_idx in enumerate(folds):
    keras.backend.clear_session()
    model = build_model(32)
    model.fit(x[val_idx], y[val_idx], epochs=2, verbose=0)

# the per-trial function clears the session itself
for units in [8, 16, 32, 64, 128, 256]:
    run_trial(units)

# tf.keras spelling, at the end of the body
for seed in range(20):
    net = build_model(4)
    net.fit(x, y, epochs=1, verbose=0)
    tf.keras.backend.clear_session()

# an ensemble: every model is kept on purpose
ensemble = []
for seed in range(10):
    member = build_model(8)
    ensemble.append(member)

# a comprehension building a fixed set of models
candidates = [build_model(u) for u in range(8, 64, 8)]

# a tiny literal loop (at most 5 iterations)
for units in (16, 32):
    small = build_model(units)

# one model built before the loop and trained inside it
model = build_model(16)
for epoch in range(10):
    model.fit(x, y, epochs=1, verbose=0)


class Sequential:
    """A project's own class that shares the name."""


for i in range(10):
    s = Sequential()


# --- look-alikes found in the precision audit (library and model-zoo code) ---

# a helper of keras.applications that is not a network
for kernel in range(3, 15, 2):
    pad = keras.applications.imagenet_utils.correct_pad(keras.Input((32, 32, 3)), kernel)


# sub-models composed into a bigger model: kept in a list, or called right away as a block
class MultiHead(keras.layers.Layer):
    def __init__(self, levels, **kwargs):
        super().__init__(**kwargs)
        self.heads = []
        for level in range(levels):
            self.heads.append(keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(1)]))


class Block(keras.Model):
    def call(self, x):
        return x


features = keras.Input((16,))
hidden = features
for depth in range(12):
    hidden = Block()(hidden)

# a loop over a short literal list bound to a name
patience_cases = [0, 1, 2, 3]
for patience in patience_cases:
    probe = keras.Sequential()


# an optimizer's objective that cross-validates each trial and clears the
# session before it returns: one trial's fold models are freed with the trial
def objective(units, dropout):
    fold_scores = []
    for train_idx, val_idx in np.array_split(np.arange(600), 10):
        fold_model = build_model(units)
        fold_model.fit(x[train_idx], y[train_idx], epochs=2, verbose=0)
        fold_scores.append(fold_model.evaluate(x[val_idx], y[val_idx], verbose=0))
    keras.backend.clear_session()
    return -float(np.mean(fold_scores))


def maximize(f, trials):
    return max(f(units=u, dropout=0.2) for u in trials)


best = maximize(f=objective, trials=[8, 16, 32])
# A unit test building one small model per parameter case

class WidthsTest(unittest.TestCase):
    def test_widths(self):
        for width in self.widths:
            probe = keras.Sequential([keras.Input((4,)), keras.layers.Dense(width)])
            self.assertEqual(probe.output_shape[-1], width)


# a per-trial function that bootstraps over two splits and clears the session
# before it returns: at most two models at a time, whatever the number of trials


def bootstrap_trial(units):
    scores = []
    for train_idx, val_idx in ShuffleSplit(n_splits=2, test_size=0.1).split(x):
        trial_model = build_model(units)
        trial_model.fit(x[train_idx], y[train_idx], epochs=2, verbose=0)
        scores.append(trial_model.evaluate(x[val_idx], y[val_idx], verbose=0))
    keras.backend.clear_session()
    return float(np.mean(scores))


for units in (8, 16, 32, 64, 128, 256, 512):
    bootstrap_trial(units)
