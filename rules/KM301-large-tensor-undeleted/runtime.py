"""Runtime scenario for KM301 (large-tensor-undeleted), run by `kmlint check --runtime`.

A large tensor (``tf.random.normal``, standing in for noise, embeddings or a
raw table converted to a tensor) stays bound while the heavy work (training)
runs on a small tensor derived from it: the process holds both.  The fixed
variant deletes the large tensor after its last use.  The measured phase is
the heavy work; the baseline is the process before the large tensor existed.

Judged on TensorFlow's allocator bytes of live tensors (``get_memory_info``):
process memory (RSS) does not drop when a tensor is freed, because the
allocator keeps the pages, so RSS reads the same with and without ``del``
(issue 12: +1.2 GiB both ways for a 9000x9000 tensor).  Measured (TF 2.21,
CPU, 8192x1024 float32 = 32 MiB): peak +32.3 MiB of tensors during training
against +0.3 MiB with ``del``; the process's memory grew +113 MiB both ways.
"""

KIND = "peak"
PARAMS = {"rows": 8192, "features": 1024}


def data_bytes(p):
    return p["rows"] * p["features"] * 4


def _prepare(p):
    import tensorflow as tf

    raw = tf.random.normal((p["rows"], p["features"]), seed=0)
    x = tf.identity(raw[:, :8])
    y = tf.reduce_sum(x, axis=1, keepdims=True)
    return raw, x, y


def _train(x, y):
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=1024, verbose=0)


def bad(p, state):
    raw, x, y = _prepare(p)
    yield "start"
    _train(x, y)
    yield


def fixed(p, state):
    raw, x, y = _prepare(p)
    del raw
    yield "start"
    _train(x, y)
    yield
