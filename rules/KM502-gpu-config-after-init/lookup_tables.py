"""A project module imported by bad.py: it creates a tensor when imported, which
initialises the TensorFlow runtime of the importing script."""

import tensorflow as tf

CLASS_WEIGHTS = tf.constant([1.0, 2.5, 0.7])
