import tensorflow as tf
from tensorflow import keras


class ImageDataGenerator:
    """A project's own class that happens to share the name."""

    def __init__(self, folder):
        self.folder = folder


own = ImageDataGenerator("data/train")

# the Keras 3 way: a tf.data pipeline plus preprocessing layers
train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224), batch_size=32)
augment = keras.Sequential([
    keras.layers.Rescaling(1.0 / 255),
    keras.layers.RandomFlip("horizontal"),
    keras.layers.RandomRotation(0.05),
])
train_ds = train_ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
train_ds = train_ds.prefetch(tf.data.AUTOTUNE)

# ImageDataGenerator mentioned in a comment, a string and an attribute name
note = "ImageDataGenerator() was replaced"
config = {"loader": "ImageDataGenerator"}
