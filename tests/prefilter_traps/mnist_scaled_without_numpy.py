# The classic float64 case never spells "numpy": the loader returns uint8
# arrays and `/ 255.0` makes them float64.
import keras

(x_train, y_train), _ = keras.datasets.mnist.load_data()
x_train = x_train / 255.0  # expect: KM302
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=1)
