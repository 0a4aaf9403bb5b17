import numpy as np
from tensorflow import keras

x = np.random.rand(600, 20).astype("float32")
y = np.random.randint(0, 2, 600)
folds = np.array_split(np.arange(600), 10)


def build_model(units):
    model = keras.Sequential([
        keras.Input((20,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def run_trial(units):
    model = build_model(units)
    model.fit(x, y, epochs=2, verbose=0)
    return model.evaluate(x, y, verbose=0)


# bootstrap with the functional API, directly in the loop body: builds and compiles, no training
# (the autofix clear_session() at the top of the body is offered here: measured to stop the growth)
for seed in range(20):
    inputs = keras.Input((20,))
    outputs = keras.layers.Dense(1)(inputs)
    net = keras.Model(inputs, outputs)  # expect: KM204
    net.compile(optimizer="sgd", loss="mse")

# k-fold: one clear_session() before the loop does NOT free the models built inside it; each fold
# trains, so no fix is offered (clear_session() in the loop was measured not to stop the growth)
keras.backend.clear_session()
for fold, val_idx in enumerate(folds):
    model = build_model(32)  # expect: KM204
    train_idx = np.setdiff1d(np.arange(600), val_idx)
    model.fit(x[train_idx], y[train_idx], epochs=2, verbose=0)

# hyper-parameter trials through a per-trial function
scores = {}
for units in [8, 16, 32, 64, 128, 256]:
    scores[units] = run_trial(units)  # expect: KM204

# bootstrap with the functional API, directly in the loop body
for seed in range(20):
    inputs = keras.Input((20,))
    outputs = keras.layers.Dense(1)(inputs)
    net = keras.Model(inputs, outputs)  # expect: KM204
    net.compile(optimizer="sgd", loss="mse")


# clear_session() after the folds of a function nobody calls per trial (a
# one-off evaluation): the folds' models still pile up inside the loop
def cross_validate(units):
    results = []
    for fold in range(10):
        fold_model = build_model(units)  # expect: KM204
        fold_model.fit(x, y, epochs=2, verbose=0)
        results.append(fold_model.evaluate(x, y, verbose=0))
    keras.backend.clear_session()
    return results


print(cross_validate(32))
