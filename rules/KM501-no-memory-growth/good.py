# Look-alikes that do not target GPUs (RULES.md, change of 2026-12-04): GPU checks
# whose result is only printed, counted for a log, used to warn, or to pick a
# layer width; a device name only compared; a strategy in a library function
# that nothing runs.  Growth enabled in the file, by an environment variable or
# by a project helper is covered in tests/test_rules_devices.py.
import logging

import tensorflow as tf

print("Num GPUs available:", len(tf.config.list_physical_devices("GPU")))
logging.info("GPU found: %s", tf.test.is_gpu_available())

if not tf.config.list_physical_devices("GPU"):
    print("No GPU was detected. Neural nets can be very slow without a GPU.")

gpus = tf.config.experimental.list_physical_devices("GPU")
units = 1024 if gpus else 128
num_gpus = len(gpus)
print(f"training on {num_gpus} GPU(s)")

x = tf.random.uniform((8, 16))
print("on GPU #0:", x.device.endswith("GPU:0"))

model = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(units), tf.keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")


def get_strategy():
    # a library function: nothing in this file runs it
    return tf.distribute.MirroredStrategy(["/gpu:0", "/gpu:1"])


# a multi-device demo on virtual CPUs: every device given to the strategy is a CPU
cpu_strategy = tf.distribute.MirroredStrategy(devices=["cpu:0", "cpu:1"])
with cpu_strategy.scope():
    cpu_model = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(1)])
