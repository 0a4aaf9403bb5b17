# Nothing here calls a Keras constructor: the model comes in as a parameter and
# is known by what is done with it (compile with Keras' own keywords, train_on_batch), as stage two must allow.
import numpy as np


def train(net, steps):
    net.compile("adam", "mse")
    history = []
    for step in range(steps):
        batch = np.random.rand(64, 10)
        loss = net.train_on_batch(batch, batch[:, 0])
        history.append(loss)
    return history


def score(classifier, rows):
    classifier.compile(optimizer="adam", loss="mse")
    data = np.random.rand(100000, 128)  # expect: KM302
    return classifier(data)
