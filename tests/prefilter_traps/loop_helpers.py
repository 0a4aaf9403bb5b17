# Most calls that a rule reports here run in a loop only through helpers of
# this file (a method called on self from a comprehension, two levels of
# functions, a helper appending to a module-level list): stage two's loop view
# (SyntaxFacts.in_loops) must follow them.
import numpy as np
import tensorflow as tf
from tensorflow import keras


def build():
    net = keras.Sequential([keras.layers.Dense(8)])
    net.compile("adam", "mse")
    return net


def make_model():
    return build()


def search(trials):
    scores = []
    for trial in range(trials):
        candidate = make_model()  # expect: KM204
        scores.append(candidate.evaluate(np.zeros((4, 8)), np.zeros((4,)), verbose=0))
    return scores


class Scorer:
    def __init__(self, path):
        self.model = keras.models.load_model(path)

    def score_one(self, image):
        return self.model.predict(image[None])

    def score_all(self, images):
        return [self.score_one(image) for image in images]  # expect: KM203


def pipeline(files):
    return tf.data.Dataset.from_tensor_slices(files).batch(32)


def evaluate_folds(model, folds):
    for fold in range(folds):
        ds = pipeline(["a.tfrecord", "b.tfrecord"])  # expect: KM109
        model.evaluate(ds)


def train_step(model, optimizer, x, y, history):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


step = tf.function(train_step)


def fit(model, optimizer, dataset, epochs):
    losses = []
    for epoch in range(epochs):
        for x, y in dataset:
            loss = step(model, optimizer, x, y, losses)
            losses.append(loss)  # expect: KM303
    return losses


LOSSES = []


def record(model, x, y):
    loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    LOSSES.append(loss)


def train(model, dataset):
    for x, y in dataset:
        model.train_on_batch(x, y)
        record(model, x, y)  # expect: KM303

