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

# The loader through one more name, reshaped with `.shape[0]`, cast and scaled
# (issue 16, classes 3 and 11): 60000x28x28x1 float32 = 188 MB.
fashion_mnist = keras.datasets.fashion_mnist
(train_images, _), (test_images, _) = fashion_mnist.load_data()
train_images = train_images.reshape(train_images.shape[0], 28, 28, 1).astype("float32")
train_images = (train_images - 127.5) / 127.5
gan_ds = tf.data.Dataset.from_tensor_slices(train_images).shuffle(60000).batch(256)  # expect: KM106

# A slice of a channel-expanded float32 copy: 55000x28x28x1 float32 = 172 MB.
(full_images, full_labels), _ = keras.datasets.mnist.load_data()
full_images = full_images[..., np.newaxis].astype(np.float32) / 255.
train_part, train_part_labels = full_images[:-5000], full_labels[:-5000]
part_ds = tf.data.Dataset.from_tensor_slices((train_part, train_part_labels))  # expect: KM106


# Scaled inside a helper that returns a tuple: the CIFAR-10 test split is
# 10000x32x32x3 float64 = 246 MB.
def preprocess(x, y):
    return x / 255.0, y.astype("int32")


(cifar_train, cifar_labels), (cifar_test, cifar_test_labels) = keras.datasets.cifar10.load_data()
test_x, test_y = preprocess(cifar_test, cifar_test_labels)
test_ds = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(128)  # expect: KM106
