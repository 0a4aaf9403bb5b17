import os

os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"  # expect: KM501

import numpy as np
import tensorflow as tf

x = np.random.rand(1024, 32).astype("float32")
y = np.random.rand(1024, 1).astype("float32")

strategy = tf.distribute.MirroredStrategy()
with strategy.scope():
    model = tf.keras.Sequential([tf.keras.Input((32,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")

with tf.device("/GPU:0"):
    model.fit(x, y, epochs=2, batch_size=64)
