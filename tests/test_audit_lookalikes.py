"""The look-alikes that the precision audit turned into good.py cases are clean
for the right reason: undo the one detail that makes each one fine and the rule
fires."""

from __future__ import annotations

import pytest

from kmlint.docs import dossier_dir
from kmlint.registry import get_rule
from tests.helpers import codes, lint, notebook


def _good(code: str) -> str:
    return (dossier_dir(get_rule(code)) / "good.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("code,before,after", [
    ("KM303", "tf.reduce_mean(tf.stack(saliency), axis=0)", "np.array(saliency)"),
    ("KM303", "        window = []\n", ""),
    ("KM303", "eval_mse.update_state(batch_losses, sample_weight=batch_sizes)", "print(batch_sizes)"),
    ("KM204", "self.heads.append(keras.Sequential([keras.layers.Dense(8), keras.layers.Dense(1)]))",
     "head = keras.Sequential([keras.layers.Dense(8)])"),
    ("KM204", "hidden = Block()(hidden)", "block = Block()"),
    ("KM204", "patience_cases = [0, 1, 2, 3]", "patience_cases = [0, 1, 2, 3, 4, 5, 6]"),
    ("KM305", "while accepted.shape[0] < 1000:", "for _ in range(100):"),
    ("KM304", "shard = np.load(handle)", "shard = np.load('data/shard_0.npy')"),
    ("KM302", "(2, 7, 3) if conv else (2, 3)", "(2, 7, 3) if conv else (20000000, 3)"),
])
def test_lookalike_is_clean_only_because_of_its_detail(code, before, after):
    good = _good(code)
    assert before in good
    assert codes(good, select=[code]) == []
    assert [c for _, c in codes(good.replace(before, after), select=[code])] == [code]


def test_rl_episode_lists_are_fine_through_the_tape_or_the_clear():
    good = _good("KM303")
    no_tape = good.replace("    with tf.GradientTape() as tape:\n        for t in range(50):",
                           "    if True:\n        for t in range(50):")
    assert codes(no_tape, select=["KM303"]) == []  # cleared every episode
    assert codes(no_tape.replace("    log_probs.clear()\n", ""), select=["KM303"]) != []


# Look-alikes of the audit sweep of issue 16 (eval/AUDIT.md): the detail that
# makes each one fine, undone, makes the rule fire again (one or more findings).
@pytest.mark.parametrize("code,before,after", [
    # repeat() before batch(): no partial batch exists; batch().repeat() ends each pass with one
    ("KM205", "shuffle(1000).repeat().batch(batch_size)", "shuffle(1000).batch(batch_size).repeat()"),
    # only full batches per pass (a floor count); a ceil count yields a partial last batch
    ("KM205", "n_batches = len(x) // size", "n_batches = math.ceil(len(x) / size)"),
    # a 4-element list named once; 8 elements are no longer a handful
    ("KM203", "strengths = [0.0, 0.05, 0.1, 0.2]", "strengths = [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]"),
    # take(count): every call passes a small count; one call with 300 makes it a real loop
    ("KM203", "show_some(peek_ds, 3)", "show_some(peek_ds, 300)"),
    # decoding the whole data set together; one sample decoded per call is per-item prediction
    ("KM203", "encoded = x_test.reshape(len(x_test), -1)", "encoded = x_test[0][np.newaxis]"),
    ("KM203", "encoded = x_test.reshape(len(x_test), -1)", "encoded = x_test[7:7 + 1].reshape(1, -1)"),
    # one gradient list entry per tower (2 towers); 16 towers are no longer a handful
    ("KM303", "num_towers = 2\n", "num_towers = 16\n"),
    # one row of two numbers per step; a whole encoded batch per step is a real array
    ("KM305", "[(started, elapsed)]", "encoder(tf.zeros((512, 64)))"),
    # two literal phases; a loop over 100 steps grows the graph every step
    ("KM405", 'enumerate(["test", "train"])', "enumerate(range(100))"),
    # unit-test fixtures sized by the test's cases; the same code outside a test is data
    ("KM302", "class DenseShapesTest(unittest.TestCase):", "class DenseShapes:"),
    ("KM203", "class ChannelwiseTest(unittest.TestCase):\n    def test_channels_match(self):",
     "class Channelwise:\n    def channels_match(self):"),
    ("KM204", "class WidthsTest(unittest.TestCase):\n    def test_widths(self):", "class Widths:\n    def widths(self):"),
    # two bootstrap models per trial, cleared before the trial returns; 50 splits are no longer a few
    ("KM204", "ShuffleSplit(n_splits=2, test_size=0.1)", "ShuffleSplit(n_splits=50, test_size=0.1)"),
    # a strategy over virtual CPUs targets no GPU; one GPU among its devices does
    ("KM501", 'devices=["cpu:0", "cpu:1"]', 'devices=["cpu:0", "gpu:0"]'),
    # the 10000-image test split is 63 MB as float64, under float64-min-bytes; CIFAR-10's is 246 MB
    ("KM302", "probe.evaluate(t_test / 255.0, t_test_labels)",
     "probe.evaluate(keras.datasets.cifar10.load_data()[1][0] / 255.0, t_test_labels)"),
])
def test_audit_lookalike_is_clean_only_because_of_its_detail(code, before, after):
    good = _good(code)
    assert before in good
    assert codes(good, select=[code]) == []
    found = [c for _, c in codes(good.replace(before, after), select=[code])]
    assert found and set(found) == {code}


KFOLD = """
import numpy as np
from tensorflow import keras

x, y = np.load("x.npy"), np.load("y.npy")
k = FOLDS
scores = []
for i in range(k):
    model = keras.Sequential([keras.Input((13,)), keras.layers.Dense(64), keras.layers.Dense(1)])
    model.compile("rmsprop", "mse")
    model.fit(x, y, epochs=5, verbose=0)
    scores.append(model.evaluate(x, y, verbose=0))
"""

FORECAST = """
import numpy as np
from tensorflow import keras

model = keras.models.load_model("forecaster.keras")
series = np.load("series.npy")[:1]
for step_ahead in range(STEPS):
    y_next = model.predict(series[:, step_ahead:])[:, np.newaxis, :]
    series = np.concatenate([series, y_next], axis=1)
"""


@pytest.mark.parametrize("source,code,few", [
    (KFOLD, "KM204", "only 4 iterations here"),
    (FORECAST, "KM203", "only 10 calls here"),
])
def test_short_known_loops_say_why_they_still_matter(source, code, few):
    """The audit judged 4-fold loops of small models (KM204) and a 10-step
    forecast (KM203) of little value: they are still reported (real code
    grows), and the message says the count and why it still matters; a
    long loop's message does not."""
    small = source.replace("FOLDS", "4").replace("STEPS", "10")
    found = [f for f in lint(small, select=[code]) if f.code == code]
    assert len(found) == 1 and few in found[0].message
    large = source.replace("FOLDS", "400").replace("STEPS", "1000")
    found = [f for f in lint(large, select=[code]) if f.code == code]
    assert len(found) == 1 and "only" not in found[0].message


def test_unclosed_session_in_a_notebook_says_why_it_matters():
    """The audit judged notebooks' one long-lived session of little value by
    the letter 'until the process exits': in a notebook the message says the
    kernel outlives the cells and a re-run opens another session."""
    cell = "import tensorflow.compat.v1 as tf\nsess = tf.Session()\nprint(sess.run(tf.constant(1)))\n"
    found = [f for f in lint(notebook(cell), path="demo.ipynb", select=["KM406"]) if f.code == "KM406"]
    assert len(found) == 1 and "kernel restarts" in found[0].message
    found = [f for f in lint(cell, select=["KM406"]) if f.code == "KM406"]
    assert len(found) == 1 and "process exits" in found[0].message
