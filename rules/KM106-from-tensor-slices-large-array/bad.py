import numpy as np
import tensorflow as tf
from tensorflow import keras

# CIFAR-10 scaled in numpy: 50000x32x32x3 float64 = 1.2 GB.
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train = x_train / 255.0
train = tf.data.Dataset.from_tensor_slices((x_train, y_train))  # expect: KM106
train = train.shuffle(10_000).batch(128)

# Synthetic features: np.random.rand is float64, 200000x256 = 410 MB.
features = np.random.rand(200_000, 256)
labels = np.random.randint(0, 2, size=(200_000,))
synthetic = tf.data.Dataset.from_tensor_slices({"features": features, "label": labels})  # expect: KM106

# Even float32: 50000x1024 = 205 MB copied into the dataset.
embeddings = np.zeros((50_000, 1024), dtype=np.float32)
emb_ds = tf.data.Dataset.from_tensor_slices(embeddings).batch(256)  # expect: KM106
