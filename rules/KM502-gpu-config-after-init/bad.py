import numpy as np
import tensorflow as tf

# a project module (lookup_tables.py, next to this file) that creates a tensor when
# imported: the runtime is initialised from here on
import lookup_tables

tf.config.set_visible_devices(tf.config.list_physical_devices("GPU")[:1], "GPU")  # expect: KM502

features = np.random.rand(1000, 16).astype("float32")
train_ds = tf.data.Dataset.from_tensor_slices(features).batch(32)

gpus = tf.config.list_physical_devices("GPU")
for gpu in gpus:
    try:
        tf.config.experimental.set_memory_growth(gpu, True)  # expect: KM502
    except RuntimeError as e:
        print(e)


def configure_devices():
    tf.config.set_visible_devices(gpus[:1], "GPU")  # expect: KM502


def main():
    model = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(1)])
    configure_devices()
    model.compile(optimizer="adam", loss="mse")


if __name__ == "__main__":
    main()
