"""A project module imported by good.py: tensors and models are created only when
its functions are called (or when it runs as a script), never on import."""

import tensorflow as tf


def class_weights():
    return tf.constant([1.0, 2.5, 0.7])


def build(width):
    return tf.keras.Sequential([tf.keras.Input((width,)), tf.keras.layers.Dense(1)])


if __name__ == "__main__":
    build(16).summary()
