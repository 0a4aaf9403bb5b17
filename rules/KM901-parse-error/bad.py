import numpy as np
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(1)])
x = np.zeros((64, 8), dtype="float32")
y = np.zeros((64, 1), dtype="float32")

history = model.fit(x, y epochs=3)  # expect: KM901
