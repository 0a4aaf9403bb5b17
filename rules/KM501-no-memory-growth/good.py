# Growth is enabled by a helper in another module of the same project
# (utils/gpu.py next to this file), imported and called here: that counts.
# Other ways that count (each tested on its own in tests/test_rules_devices.py):
#   tf.config.experimental.set_memory_growth(gpu, True)
#   os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
#   config.gpu_options.allow_growth = True / per_process_gpu_memory_fraction
#   tf.config.set_logical_device_configuration(gpu, [LogicalDeviceConfiguration(memory_limit=4096)])
import os

os.environ["CUDA_VISIBLE_DEVICES"] = "0,1"

import numpy as np
import tensorflow as tf

from utils.gpu import setup_gpu

setup_gpu()

x = np.random.rand(1024, 32).astype("float32")
y = np.random.rand(1024, 1).astype("float32")

strategy = tf.distribute.MirroredStrategy()
with strategy.scope():
    model = tf.keras.Sequential([tf.keras.Input((32,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")

with tf.device("/GPU:0"):
    model.fit(x, y, epochs=2, batch_size=64)
