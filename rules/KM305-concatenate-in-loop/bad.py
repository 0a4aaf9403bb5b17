import numpy as np
import tensorflow as tf

encoder = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(32)])
batches = [np.random.rand(128, 64).astype("float32") for _ in range(50)]

embeddings = np.empty((0, 32), dtype=np.float32)
ids = np.array([], dtype=np.int64)
for i, batch in enumerate(batches):
    embeddings = np.concatenate([embeddings, encoder.predict(batch, verbose=0)], axis=0)  # expect: KM305
    ids = np.append(ids, np.arange(len(batch)) + i * 128)  # expect: KM305

outputs = None
for batch in batches:
    out = encoder(batch)
    outputs = out if outputs is None else tf.concat([outputs, out], axis=0)  # expect: KM305


class ReplayBuffer:
    def __init__(self):
        self.states = np.zeros((0, 64), dtype=np.float32)

    def add_episode(self, states):
        for s in states:
            self.states = np.vstack((self.states, s))  # expect: KM305
