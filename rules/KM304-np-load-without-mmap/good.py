import numpy as np
from tensorflow import keras

bundle_path = "data/bundle.bin"

# mmap_mode given
features = np.load("data/features.npy", mmap_mode="r")
labels = np.load("data/labels.npy", "r")
for start in range(0, len(features), 256):
    batch = features[start:start + 256], labels[start:start + 256]

# used whole
x_all = np.load("data/x.npy")
model = keras.Sequential([keras.Input((512,)), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="mse")
model.fit(x_all, np.zeros(len(x_all)), epochs=1)

# split once at top level: everything is read anyway
data = np.load("data/all.npy")
train, val = data[:50_000], data[50_000:]

# .npz archives cannot be memory-mapped
archive = np.load("data/arrays.npz")
for key in ("a", "b"):
    part = archive[key]
bundle = np.load(bundle_path)
for name in ("x", "y"):
    piece = bundle[name]
members = np.load(bundle_path)
for name in members.files:
    piece = members[name]

# pickled object arrays cannot be memory-mapped
ragged = np.load("data/ragged.npy", allow_pickle=True)
for i in range(len(ragged)):
    row = ragged[i]

# written in place: a read-only map would fail
scores = np.load("data/scores.npy")
for i in range(len(scores)):
    scores[i] = scores[i] * 2

# reassigned (shuffled) before batching: a full copy is made anyway
order = np.load("data/order.npy")
order = order[np.random.permutation(len(order))]
for i in range(0, len(order), 32):
    chunk = order[i:i + 32]

# an open file object cannot be memory-mapped (numpy needs the path)
with open("data/shard_0.npy", "rb") as handle:
    shard = np.load(handle)
for row in range(len(shard)):
    record = shard[row]
