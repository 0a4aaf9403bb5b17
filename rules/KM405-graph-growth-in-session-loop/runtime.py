"""Runtime scenario for KM405 (graph-growth-in-session-loop), run by `kmlint check --runtime`.

TF1-style code that creates ops inside the ``sess.run`` loop adds them to the
graph every iteration; ``tf.constant(batch)`` even copies the batch into the
graph.  The fixed variant builds the ops once (a placeholder fed per step).
"""

KIND = "slope"
PARAMS = {"iterations": 30, "batch_size": 64, "features": 64}


def setup(p):
    import numpy as np
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        placeholder = tf.compat.v1.placeholder(tf.float32, (None, p["features"]))
        total = tf.reduce_sum(placeholder * 2.0)
    session = tf.compat.v1.Session(graph=graph)
    batch = np.random.default_rng(0).random((p["batch_size"], p["features"]), dtype=np.float32)
    return graph, session, placeholder, total, batch


def bad(p, state):
    import tensorflow as tf

    graph, session, _, _, batch = state
    for _ in range(p["iterations"]):
        with graph.as_default():
            total = tf.reduce_sum(tf.constant(batch) * 2.0)
        session.run(total)
        yield


def fixed(p, state):
    graph, session, placeholder, total, batch = state
    for _ in range(p["iterations"]):
        session.run(total, feed_dict={placeholder: batch})
        yield
