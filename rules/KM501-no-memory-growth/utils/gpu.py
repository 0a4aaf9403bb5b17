"""The project's GPU helper, imported by good.py (growth enabled in another module)."""

import tensorflow as tf


def _enable_growth(gpus):
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)


def setup_gpu():
    gpus = tf.config.list_physical_devices("GPU")
    _enable_growth(gpus)
    return gpus
