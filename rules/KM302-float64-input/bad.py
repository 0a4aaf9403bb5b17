import numpy as np
import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

# dividing uint8 images by 255 gives float64
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_val = x_train[:20000].astype(float)  # expect: KM302
x_train = x_train / 255.0  # expect: KM302
model.fit(x_train, y_train, validation_data=(x_val, y_train[:20000]), epochs=1)

# random and zero-filled arrays default to float64
noise = np.random.rand(20000, 28, 28)  # expect: KM302
predictions = model.predict(noise)
rows = np.loadtxt("features.csv", delimiter=",")
features = np.array(rows, dtype=float)  # expect: KM302
tabular = tf.data.Dataset.from_tensor_slices((features, np.zeros(len(features)))).batch(32)


# a batch generator filling a float64 buffer
def batch_generator(images, labels, batch_size):
    while True:
        idx = np.random.randint(0, len(images), batch_size)
        batch = np.zeros((batch_size, 28, 28))  # expect: KM302
        batch[:] = images[idx]
        yield batch, labels[idx]


model.fit(batch_generator(x_test, y_test, 64), steps_per_epoch=10, epochs=1)


# found in the precision audit (tutorial scripts): the division hides behind a
# reshape or a tuple assignment
(flat_train, flat_labels), (flat_test, flat_test_labels) = keras.datasets.cifar10.load_data()
flat_train = np.reshape(flat_train, (-1, 3072)) / 255  # expect: KM302
pair_train, pair_test = flat_test / 255.0, flat_test_labels  # expect: KM302
dense = keras.Sequential([keras.Input((3072,)), keras.layers.Dense(10)])
dense.compile("adam", "sparse_categorical_crossentropy")
dense.fit(flat_train, flat_labels)
dense.predict(pair_train)


# the loader reached through one more name (issue 16, class 11): the module
# bound to a name, or the loader's result bound to a name and unpacked later
fashion = keras.datasets.fashion_mnist
(fx_train, fy_train), (fx_test, fy_test) = fashion.load_data()
fx_train = fx_train / 255.0  # expect: KM302
loaded = keras.datasets.mnist.load_data()
(mx_full, my_full), _ = loaded
mx_train = mx_full[:-5000] / 255.0  # expect: KM302
model.fit(fx_train, fy_train)
model.fit(mx_train, my_full[:-5000])


# float64 made inside a helper that returns a tuple (class 3): the helper's
# parameters take the call site's arrays
def normalize(train, test):
    train = train / 255.0  # expect: KM302
    test = test / 255.0
    return train, test


(cx_train, cy_train), (cx_test, cy_test) = keras.datasets.cifar10.load_data()
cx_train, cx_test = normalize(cx_train, cx_test)
cifar_ds = tf.data.Dataset.from_tensor_slices((cx_train, cy_train))


# np.zeros without a dtype, sized by len() of a known data set, in a helper
def multi_hot(sequences, dimension=10000):
    out = np.zeros((len(sequences), dimension))  # expect: KM302
    for i, seq in enumerate(sequences):
        out[i, seq] = 1.0
    return out


(reviews, review_labels), _ = keras.datasets.imdb.load_data(num_words=10000)
model.fit(multi_hot(reviews), review_labels)


# a custom training loop calling a subclassed model (issue 16, class 7)
class Autoencoder(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(784)

    def call(self, x):
        return self.dense(x)


(ae_train, _), _ = keras.datasets.mnist.load_data()
ae_train = np.reshape(ae_train, (-1, 784)) / 255.0  # expect: KM302
autoencoder = Autoencoder()
for step in range(1000):
    batch = ae_train[np.random.choice(ae_train.shape[0], 512)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(autoencoder(batch) - batch))
