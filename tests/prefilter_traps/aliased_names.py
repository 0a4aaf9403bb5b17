# Stage two of the prefilter resolves calls through import aliases: none of
# these calls spells the API name the rule looks for.
import numpy as np
from keras.models import Sequential as Seq
from numpy import concatenate as cat
from tensorflow import function as compiled

from keras import layers

features = np.zeros((1000, 32), dtype=np.float32)
collected = np.zeros((0, 32), dtype=np.float32)

for fold in range(10):
    net = Seq([layers.Dense(1)])  # expect: KM204
    net.compile("adam", "mse")
    net.fit(features, features[:, 0], epochs=1)

for step in range(100):
    collected = cat([collected, features[step : step + 1]])  # expect: KM305

for trial in range(100):
    scale = compiled(lambda t: t * 2.0)  # expect: KM401
    scale(features)
