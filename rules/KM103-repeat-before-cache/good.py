import numpy as np
import tensorflow as tf

features = np.zeros((5000, 32), dtype=np.float32)
epochs = 10

# The correct order: cache one pass, then repeat it.
train = tf.data.Dataset.from_tensor_slices(features).cache().repeat()

# A bounded repeat is cached once it completes (it costs count copies, but ends).
three = tf.data.Dataset.from_tensor_slices(features).repeat(3).cache()
per_epoch = tf.data.Dataset.from_tensor_slices(features).repeat(epochs).cache()

# take() bounds the endless stream before the cache.
bounded = tf.data.Dataset.from_tensor_slices(features).repeat().take(20_000).cache()

# repeat() on a sibling branch of the same base is not upstream of the cache.
base = tf.data.Dataset.from_tensor_slices(features)
looped = base.repeat()
cached = base.cache()


# Not tf.data: a project class with the same method names.
class Buffer:
    def repeat(self):
        return self

    def cache(self):
        return self


b = Buffer().repeat().cache()
text = "ds.repeat().cache() in a string is not code"


# repeat() and cache() in mutually exclusive branches (from a real input pipeline):
# on no path does the cache follow the endless repeat.
def build(dataset, is_training, use_cache):
    if is_training and not use_cache:
        dataset = dataset.repeat()
    dataset = dataset.map(lambda x: x * 2.0)
    if use_cache:
        dataset = dataset.cache()
    return dataset


configured = build(tf.data.Dataset.from_tensor_slices(features), True, False)
