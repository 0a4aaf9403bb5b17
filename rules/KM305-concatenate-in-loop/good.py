import time

import numpy as np
import tensorflow as tf

encoder = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(32)])
batches = [np.random.rand(128, 64).astype("float32") for _ in range(50)]

# collect in a list, concatenate once after the loop
parts = []
for batch in batches:
    parts.append(encoder.predict(batch, verbose=0))
embeddings = np.concatenate(parts, axis=0)

# a fresh concatenation per iteration (nothing grows)
for batch in batches:
    pair = np.concatenate([batch, batch], axis=1)

# a tiny literal loop
grid = np.zeros((0, 2))
for point in ([0, 0], [0, 1], [1, 0]):
    grid = np.vstack([grid, point])

# autoregressive decoding: the whole sequence is fed back every step
lm = tf.keras.Sequential([tf.keras.Input((None,)), tf.keras.layers.Dense(10)])
tokens = tf.zeros((1, 1))
for step in range(32):
    logits = lm(tokens)
    next_token = tf.cast(tf.argmax(logits[:, -1:], axis=-1), tf.float32)
    tokens = tf.concat([tokens, next_token], axis=1)

# a project's own `append` function
def append(a, b):
    return a + b


total = 0
for batch in batches:
    total = append(total, 1)

# rejection sampling: filled until full, a bounded handful of iterations
rng = np.random.default_rng(0)
accepted = np.empty((0,))
while accepted.shape[0] < 1000:
    draw = rng.normal(size=1000)
    accepted = np.append(accepted, draw[np.abs(draw) < 2.0])
samples = accepted[:1000]

# a known tiny result: 20 rows of 10 float64 values (1.8 kB in all)
grid = np.zeros((0, 10))
for i in range(20):
    grid = np.concatenate([grid, np.full((1, 10), float(i))])

# a timing log: each step adds one row of two numbers; even a long run builds
# kilobytes (a few numbers per iteration are not a memory problem)
timings = tf.zeros((0, 2), dtype=tf.float64)
for batch in tf.data.Dataset.range(100000):
    started = time.perf_counter()
    encoder(tf.zeros((1, 64)))
    elapsed = time.perf_counter() - started
    timings = tf.concat([timings, [(started, elapsed)]], axis=0)
