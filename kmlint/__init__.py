"""kmlint: a linter for memory anti-patterns in TensorFlow/Keras code."""

__version__ = "0.1.0"
