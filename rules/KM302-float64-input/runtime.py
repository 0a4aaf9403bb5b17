"""Runtime scenario for KM302 (float64-input), run by `kmlint check --runtime`.

``images / 255.0`` on uint8 data gives a float64 array: eight times the raw
size, twice what the model needs, and Keras converts it to float32 again
when it is fed.  The fixed variant casts to float32 first and divides in place.
"""

KIND = "peak"
PARAMS = {"images": 2048, "height": 32, "width": 32, "channels": 3}


def data_bytes(p):
    return p["images"] * p["height"] * p["width"] * p["channels"] * 4


def setup(p):
    import keras
    import numpy as np

    images = np.random.default_rng(0).integers(0, 256, (p["images"], p["height"], p["width"], p["channels"]),
                                               dtype=np.uint8)
    model = keras.Sequential([keras.Input((p["height"], p["width"], p["channels"])),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
    for warm_up in (images[:512] / 255.0, images[:512].astype("float32") / 255.0):
        model.predict(warm_up, batch_size=256, verbose=0)  # trace both input types before the baseline
    return model, images


def bad(p, state):
    model, images = state
    x = images / 255.0
    yield
    model.predict(x, batch_size=256, verbose=0)
    yield


def fixed(p, state):
    model, images = state
    x = images.astype("float32")
    x /= 255.0  # in place: one float32 copy, never a float64 one
    yield
    model.predict(x, batch_size=256, verbose=0)
    yield
